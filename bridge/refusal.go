package bridge

import (
	"crypto/tls"
	"errors"

	"github.com/quic-go/quic-go"
)

// Reasons why the control plane rejects an agent. The server wraps them
// into its handshake errors and renewal responses. The client maps what it
// receives back to them, so both sides log the same cause.
var (
	// ErrAgentRevoked means the agent was decommissioned.
	ErrAgentRevoked = errors.New("agent decommissioned: certificate revoked")
	// ErrAgentUnknown means the certificate is valid but the control plane
	// has no record of the agent, for example after its store was reset.
	ErrAgentUnknown = errors.New("agent unknown to the control plane")
	// ErrCertificateExpired means the agent certificate is past NotAfter.
	ErrCertificateExpired = errors.New("agent certificate expired")
	// ErrUnknownAuthority means the certificate does not chain to the
	// control plane's CA: the agent was enrolled with another one.
	ErrUnknownAuthority = errors.New("agent certificate not issued by the control plane's CA")
)

// Application error codes that name a refusal on a connection that is
// already established.
const (
	// codeAgentRevoked closes the live connection of a decommissioned
	// agent.
	codeAgentRevoked quic.ApplicationErrorCode = 8
	// codeCertificateExpired closes a connection whose certificate expired
	// without a renewal.
	codeCertificateExpired quic.ApplicationErrorCode = 9
)

// A rejected handshake can only end with a TLS alert: QUIC turns it into a
// CONNECTION_CLOSE with CRYPTO_ERROR 0x100+alert, and an application close
// sent during the handshake loses its code (RFC 9000, section 10.2.3).
// TLS has an alert for each refusal, so the server names the reason with
// it. The alert is the only detail the agent gets; the server logs the
// cause in full.
var refusalAlerts = []struct {
	reason error
	alert  tls.AlertError
}{
	{ErrAgentRevoked, 44},       // certificate_revoked
	{ErrCertificateExpired, 45}, // certificate_expired
	{ErrAgentUnknown, 46},       // certificate_unknown
	{ErrUnknownAuthority, 48},   // unknown_ca
}

// alertFor returns the TLS alert that carries the reason of err to the
// agent. crypto/tls sends a wrapped tls.AlertError in place of its generic
// bad_certificate.
func alertFor(err error) (tls.AlertError, bool) {
	for _, r := range refusalAlerts {
		if errors.Is(err, r.reason) {
			return r.alert, true
		}
	}
	return 0, false
}

// refusalReason maps a connection error the agent received to the reason
// the control plane gave, or nil when it gave none.
func refusalReason(err error) error {
	var appErr *quic.ApplicationError
	if errors.As(err, &appErr) && appErr.Remote {
		switch appErr.ErrorCode {
		case codeAgentRevoked:
			return ErrAgentRevoked
		case codeCertificateExpired:
			return ErrCertificateExpired
		}
		return nil
	}
	var tErr *quic.TransportError
	if errors.As(err, &tErr) && tErr.Remote && tErr.ErrorCode >= 0x100 && tErr.ErrorCode < 0x200 {
		alert := tls.AlertError(tErr.ErrorCode - 0x100)
		for _, r := range refusalAlerts {
			if r.alert == alert {
				return r.reason
			}
		}
	}
	return nil
}

// refusalMessages are the log messages of each refusal, distinct per
// reason so that alerts and searches can match them.
var refusalMessages = map[error]struct{ server, client string }{
	ErrAgentRevoked:       {"bridge handshake rejected: agent revoked", "bridge connection rejected: certificate revoked, agent decommissioned"},
	ErrCertificateExpired: {"bridge handshake rejected: certificate expired", "bridge connection rejected: certificate expired"},
	ErrAgentUnknown:       {"bridge handshake rejected: agent unknown", "bridge connection rejected: agent unknown to the control plane"},
	ErrUnknownAuthority:   {"bridge handshake rejected: certificate from an unknown CA", "bridge connection rejected: certificate not issued by this control plane's CA"},
}

func reasonOf(err error) error {
	for reason := range refusalMessages {
		if errors.Is(err, reason) {
			return reason
		}
	}
	return nil
}
