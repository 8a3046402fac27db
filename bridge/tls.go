package bridge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/rs/zerolog"
)

// Handshake rejection reasons.
var (
	// ErrNoClientCertificate is the reason a handshake without a client
	// certificate is rejected.
	ErrNoClientCertificate = errors.New("no client certificate")
	// errNoClientCAs guards against a configuration that would verify
	// client certificates against the system roots.
	errNoClientCAs = errors.New("tls config has no client CAs")
)

// serverTLS wraps the caller's server TLS configuration so that every
// rejected client certificate is logged with the remote address.
//
// crypto/tls rejects a missing or untrusted client certificate before any
// callback runs, so nothing could log it. The wrapper therefore asks only
// for a certificate (tls.RequestClientCert) and performs the verification
// that tls.RequireAndVerifyClientCert does itself in VerifyConnection:
// a certificate must be present and chain to ClientCAs for client
// authentication. The caller's VerifyPeerCertificate and VerifyConnection
// still run after it, and the agent id must be readable. The handshake
// then checks the client's CertificateVerify signature as usual, so
// possession of the key is still proven.
//
// Each refusal reason (see refusal.go) is logged with its own message and
// reaches the agent as its own TLS alert.
type serverTLS struct {
	base      *tls.Config
	agentID   func(*x509.Certificate) (string, error)
	authorize func(ctx context.Context, agentID string) error
	log       zerolog.Logger
}

// authorizeTimeout bounds the store lookup of one handshake.
const authorizeTimeout = 5 * time.Second

func newServerTLS(base *tls.Config, agentID func(*x509.Certificate) (string, error), authorize func(context.Context, string) error, log zerolog.Logger) (*tls.Config, error) {
	if base == nil {
		return nil, errors.New("tls config is nil")
	}
	if base.GetConfigForClient == nil {
		if err := checkClientAuth(base); err != nil {
			return nil, err
		}
	}

	w := &serverTLS{base: base, agentID: agentID, authorize: authorize, log: log}
	cfg := w.harden(base, nil)
	// Every handshake goes through GetConfigForClient, which is where
	// the remote address is known.
	cfg.GetConfigForClient = w.configForClient
	return cfg, nil
}

func checkClientAuth(cfg *tls.Config) error {
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		return fmt.Errorf("tls config client auth is %v, want RequireAndVerifyClientCert", cfg.ClientAuth)
	}
	if cfg.ClientCAs == nil {
		return errNoClientCAs
	}
	return nil
}

func (w *serverTLS) configForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	var remote net.Addr
	if hello.Conn != nil {
		remote = hello.Conn.RemoteAddr()
	}

	src := w.base
	if w.base.GetConfigForClient != nil {
		cfg, err := w.base.GetConfigForClient(hello)
		if err != nil {
			w.logRejected(remote, "", err)
			return nil, err
		}
		if cfg != nil {
			src = cfg
		}
	}
	if err := checkClientAuth(src); err != nil {
		w.logRejected(remote, "", err)
		return nil, err
	}
	return w.harden(src, remote), nil
}

// harden returns a copy of src that verifies clients in VerifyConnection.
func (w *serverTLS) harden(src *tls.Config, remote net.Addr) *tls.Config {
	cfg := src.Clone()
	cfg.MinVersion = tls.VersionTLS13
	cfg.NextProtos = []string{ALPN}
	cfg.ClientAuth = tls.RequestClientCert
	// A resumed session would skip the certificate checks below, and a
	// revoked agent must be refused on its next handshake.
	cfg.SessionTicketsDisabled = true
	cfg.GetConfigForClient = nil
	cfg.VerifyPeerCertificate = nil
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		agentID, err := w.verify(src, cs)
		if err == nil {
			return nil
		}
		w.logRejected(remote, agentID, err)
		if alert, ok := alertFor(err); ok {
			// crypto/tls sends the first tls.AlertError it finds in the
			// error instead of bad_certificate. The alert's text is left
			// out of the message.
			return fmt.Errorf("%w%.0w", err, alert)
		}
		return err
	}
	return cfg
}

// verify checks the client certificate and returns the agent id once it is
// known, for the log.
func (w *serverTLS) verify(src *tls.Config, cs tls.ConnectionState) (string, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", ErrNoClientCertificate
	}

	now := time.Now()
	if src.Time != nil {
		now = src.Time()
	}
	intermediates := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		intermediates.AddCert(c)
	}
	leaf := cs.PeerCertificates[0]
	// The id is read before the chain is verified only to name the agent
	// in the log of a rejection.
	agentID, idErr := w.agentID(leaf)
	if idErr != nil {
		agentID = ""
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         src.ClientCAs,
		Intermediates: intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		err = classifyVerifyError(err, leaf, now)
		if errors.Is(err, ErrUnknownAuthority) {
			// Anyone can write an agent id into a certificate of their own.
			agentID = ""
		}
		return agentID, fmt.Errorf("verify client certificate: %w", err)
	}

	if src.VerifyPeerCertificate != nil {
		raw := make([][]byte, len(cs.PeerCertificates))
		for i, c := range cs.PeerCertificates {
			raw[i] = c.Raw
		}
		if err := src.VerifyPeerCertificate(raw, chains); err != nil {
			return agentID, err
		}
	}

	if idErr != nil {
		return "", fmt.Errorf("read agent id from client certificate: %w", idErr)
	}
	if w.authorize != nil {
		ctx, cancel := context.WithTimeout(context.Background(), authorizeTimeout)
		err := w.authorize(ctx, agentID)
		cancel()
		if err != nil {
			return agentID, fmt.Errorf("authorize agent %s: %w", agentID, err)
		}
	}

	if src.VerifyConnection != nil {
		cs.VerifiedChains = chains
		if err := src.VerifyConnection(cs); err != nil {
			return agentID, err
		}
	}
	return agentID, nil
}

// classifyVerifyError adds the refusal reason to a chain verification
// error when there is one.
func classifyVerifyError(err error, leaf *x509.Certificate, now time.Time) error {
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) && invalid.Reason == x509.Expired && now.After(leaf.NotAfter) {
		return fmt.Errorf("%w: %w", ErrCertificateExpired, err)
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return fmt.Errorf("%w: %w", ErrUnknownAuthority, err)
	}
	return err
}

func (w *serverTLS) logRejected(remote net.Addr, agentID string, reason error) {
	ev := w.log.Warn().Err(reason)
	if remote != nil {
		ev = ev.Str(fieldRemote, remote.String())
	}
	if agentID != "" {
		ev = ev.Str(fieldAgentID, agentID)
	}
	msg := "bridge handshake rejected"
	if r := reasonOf(reason); r != nil {
		msg = refusalMessages[r].server
	}
	ev.Msg(msg)
}
