package bridge

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/rs/zerolog"

	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	"github.com/decnet/decnet/pki"
)

// Renewal runs on a stream of its own per request (see bridge.proto), so
// it never waits behind batches in flight.

// renewTimeout bounds one renewal exchange on either side: a CA signature
// and a store write on the server.
const renewTimeout = 10 * time.Second

// Renewal schedule. An agent renews at about two thirds of its
// certificate's lifetime, so a third remains for retries; the jitter
// spreads agents enrolled together so they do not all renew at once.
const (
	renewFraction = 2.0 / 3
	renewJitter   = 1.0 / 15
	// minRenewRetry and maxRenewRetry bound the wait after a failed
	// renewal: a tenth of the remaining validity within these limits.
	minRenewRetry = 500 * time.Millisecond
	maxRenewRetry = 5 * time.Minute
)

// ErrInvalidRenewal is returned by a Renewer for a request it cannot sign,
// such as a malformed CSR or an unsupported key type.
var ErrInvalidRenewal = errors.New("invalid renewal request")

// errNotConnected means a renewal was due while the client had no
// connection. The renewal loop retries it.
var errNotConnected = errors.New("no bridge connection")

// Renewer issues a new certificate for a connected agent.
type Renewer interface {
	// Renew signs a certificate for agentID, which is the id of the
	// connection's verified certificate, using only the public key of the
	// PKCS #10 request. It returns the chain, leaf first, without the
	// root. An error wrapping ErrAgentRevoked, ErrAgentUnknown or
	// ErrInvalidRenewal refuses with that reason; others are internal.
	Renew(ctx context.Context, agentID string, csrDER []byte) ([]*x509.Certificate, error)
}

// serveStreams serves the streams the agent opens after the session
// stream until the connection ends: renewal streams one at a time, and
// the control stream, recognized by its first frame being a Heartbeat,
// in a goroutine of its own. expiry is reset to each new certificate's
// NotAfter.
func (s *Server) serveStreams(conn *quic.Conn, agentID string, expiry *time.Timer, log zerolog.Logger) {
	var control sync.WaitGroup
	defer control.Wait()

	for {
		stream, err := conn.AcceptStream(conn.Context())
		if err != nil {
			return
		}

		frame, err := readFirstFrame(stream)
		if hb := frame.GetHeartbeat(); err == nil && hb != nil {
			control.Add(1)
			go func() {
				defer control.Done()
				s.serveControl(conn, stream, agentID, hb, log)
			}()
			continue
		}
		s.serveRenewal(conn.Context(), stream, frame, err, agentID, expiry, log)
	}
}

// readFirstFrame reads the first frame of a stream within renewTimeout and
// clears the deadline again.
func readFirstFrame(stream *quic.Stream) (*bridgev1.AgentFrame, error) {
	if err := stream.SetDeadline(time.Now().Add(renewTimeout)); err != nil {
		return nil, fmt.Errorf("set stream deadline: %w", err)
	}
	var frame bridgev1.AgentFrame
	if err := ReadFrame(stream, &frame); err != nil {
		return nil, err
	}
	if err := stream.SetDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("clear stream deadline: %w", err)
	}
	return &frame, nil
}

// serveRenewal responds to a renewal stream, given its first frame or the
// error from reading it.
func (s *Server) serveRenewal(ctx context.Context, stream *quic.Stream, frame *bridgev1.AgentFrame, err error, agentID string, expiry *time.Timer, log zerolog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			log.Error().Str(fieldPanic, fmt.Sprint(r)).Msg("bridge renewal handler panicked")
			stream.CancelRead(quic.StreamErrorCode(codeInternalError))
			stream.CancelWrite(quic.StreamErrorCode(codeInternalError))
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, renewTimeout)
	defer cancel()
	if deadlineErr := stream.SetDeadline(time.Now().Add(renewTimeout)); deadlineErr != nil {
		stream.CancelRead(quic.StreamErrorCode(codeInternalError))
		stream.CancelWrite(quic.StreamErrorCode(codeInternalError))
		return
	}

	// The request is the stream's only frame.
	stream.CancelRead(quic.StreamErrorCode(codeNoError))
	if err == nil && frame.GetRenew() == nil {
		err = fmt.Errorf("read renewal: frame is %T", frame.GetFrame())
	}
	if err != nil {
		log.Warn().Err(err).Msg("bridge renewal stream failed")
		stream.CancelWrite(quic.StreamErrorCode(codeProtocolError))
		return
	}

	resp := s.renew(ctx, agentID, frame.GetRenew(), expiry, log)
	if err := WriteFrame(stream, resp); err != nil {
		log.Warn().Err(err).Msg("bridge renewal response failed")
		stream.CancelWrite(quic.StreamErrorCode(codeProtocolError))
		return
	}
	_ = stream.Close() // closes the send side after the response
}

func (s *Server) renew(ctx context.Context, agentID string, req *bridgev1.RenewRequest, expiry *time.Timer, log zerolog.Logger) *bridgev1.ServerFrame {
	refuse := func(reason bridgev1.RenewErrorReason, msg string) *bridgev1.ServerFrame {
		return &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_RenewError{
			RenewError: &bridgev1.RenewError{Reason: reason, Message: msg},
		}}
	}
	if s.cfg.Renewer == nil {
		log.Warn().Msg("bridge renewal rejected: renewal not configured")
		return refuse(bridgev1.RenewErrorReason_RENEW_ERROR_REASON_UNAVAILABLE, "the control plane does not renew certificates")
	}

	chain, err := s.cfg.Renewer.Renew(ctx, agentID, req.GetCsr())
	if err == nil && len(chain) == 0 {
		err = errors.New("renewer returned no certificate")
	}
	if err != nil {
		reason, msg := renewRefusal(err)
		log.Warn().Err(err).Str(fieldReason, reason.String()).Msg("bridge renewal rejected")
		return refuse(reason, msg)
	}

	leaf := chain[0]
	expiry.Reset(leaf.NotAfter.Sub(s.cfg.Now()))
	ders := make([][]byte, len(chain))
	for i, c := range chain {
		ders[i] = c.Raw
	}
	log.Info().Str(fieldSerial, leaf.SerialNumber.Text(16)).Time(fieldNotAfter, leaf.NotAfter).Msg("bridge agent certificate renewed")
	return &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_Renewed{
		Renewed: &bridgev1.RenewResponse{CertificateChain: ders},
	}}
}

// renewRefusal maps a Renewer error to the reason and message sent to the
// agent. Internal causes go only to the server's log.
func renewRefusal(err error) (bridgev1.RenewErrorReason, string) {
	switch {
	case errors.Is(err, ErrAgentRevoked):
		return bridgev1.RenewErrorReason_RENEW_ERROR_REASON_REVOKED, ErrAgentRevoked.Error()
	case errors.Is(err, ErrAgentUnknown):
		return bridgev1.RenewErrorReason_RENEW_ERROR_REASON_UNKNOWN_AGENT, ErrAgentUnknown.Error()
	case errors.Is(err, ErrInvalidRenewal):
		return bridgev1.RenewErrorReason_RENEW_ERROR_REASON_BAD_REQUEST, err.Error()
	default:
		return bridgev1.RenewErrorReason_RENEW_ERROR_REASON_INTERNAL, "renewal failed on the control plane; see its log"
	}
}

// renewErrorFromFrame maps a refusal received by the agent to an error
// that wraps the matching sentinel.
func renewErrorFromFrame(e *bridgev1.RenewError) error {
	switch e.GetReason() {
	case bridgev1.RenewErrorReason_RENEW_ERROR_REASON_REVOKED:
		return fmt.Errorf("renewal rejected: %w", ErrAgentRevoked)
	case bridgev1.RenewErrorReason_RENEW_ERROR_REASON_UNKNOWN_AGENT:
		return fmt.Errorf("renewal rejected: %w", ErrAgentUnknown)
	case bridgev1.RenewErrorReason_RENEW_ERROR_REASON_BAD_REQUEST:
		return fmt.Errorf("renewal rejected: %w: %s", ErrInvalidRenewal, e.GetMessage())
	default:
		return fmt.Errorf("renewal rejected (%s): %s", e.GetReason(), e.GetMessage())
	}
}

// ClientCertificate holds the certificate an agent presents. Renewal
// replaces it atomically; the next handshake presents the new one, and a
// live connection keeps running on the one it was established with.
type ClientCertificate struct {
	cert atomic.Pointer[tls.Certificate]
}

// NewClientCertificate returns a holder of cert, whose Leaf must be set.
func NewClientCertificate(cert *tls.Certificate) *ClientCertificate {
	h := &ClientCertificate{}
	h.cert.Store(cert)
	return h
}

// Load returns the current certificate.
func (h *ClientCertificate) Load() *tls.Certificate { return h.cert.Load() }

// Store replaces the current certificate.
func (h *ClientCertificate) Store(cert *tls.Certificate) { h.cert.Store(cert) }

// GetClientCertificate is the tls.Config callback that presents the
// current certificate.
func (h *ClientCertificate) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return h.cert.Load(), nil
}

// RenewalConfig enables certificate renewal in a Client.
type RenewalConfig struct {
	// Certificate is the holder whose GetClientCertificate the client's
	// TLSConfig uses. Renewal replaces its content. Required.
	Certificate *ClientCertificate
	// Roots verify a renewed chain before it is used. Required.
	Roots *x509.CertPool
	// Persist, if set, stores the new certificate and key before the
	// client uses them, so that a restart picks them up. A failure is
	// logged and the new certificate is used anyway: the old one on disk
	// stays valid until it expires.
	Persist func(cert *tls.Certificate) error
	// Now is the clock of the schedule. Nil means time.Now.
	Now func() time.Time
}

// renewalTime returns when to renew leaf: renewFraction of its lifetime
// plus or minus renewJitter, with random in [0, 1). The lifetime counts
// from the issue time, not from NotBefore, which the CA backdates by
// pki.Backdate. For a certificate of a few seconds the backdating would
// otherwise dominate.
func renewalTime(leaf *x509.Certificate, random float64) time.Time {
	issued := leaf.NotBefore.Add(pki.Backdate)
	if !issued.Before(leaf.NotAfter) {
		issued = leaf.NotBefore
	}
	lifetime := leaf.NotAfter.Sub(issued)
	fraction := renewFraction - renewJitter + 2*renewJitter*random
	return issued.Add(time.Duration(float64(lifetime) * fraction))
}

// renewRetryDelay returns the wait after a failed renewal.
func renewRetryDelay(leaf *x509.Certificate, now time.Time, expired time.Duration) time.Duration {
	remaining := leaf.NotAfter.Sub(now)
	if remaining <= 0 {
		// Only a live connection can renew, and an expired certificate
		// cannot open one: retry rarely.
		return expired
	}
	return min(max(remaining/10, minRenewRetry), maxRenewRetry)
}

// renewLoop renews the certificate on schedule until ctx ends.
func (c *Client) renewLoop(ctx context.Context) {
	r := c.cfg.Renewal
	for {
		leaf := r.Certificate.Load().Leaf
		at := renewalTime(leaf, c.cfg.Random())
		c.log.Debug().Time("renew_at", at).Time(fieldNotAfter, leaf.NotAfter).Msg("bridge certificate renewal scheduled")
		if err := c.cfg.Sleep(ctx, at.Sub(r.Now())); err != nil {
			return
		}

		for {
			err := c.renewOnce(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			c.metrics.renewFailures.Inc()
			level, msg := zerolog.WarnLevel, "bridge certificate renewal failed"
			if errors.Is(err, ErrAgentRevoked) {
				level, msg = zerolog.ErrorLevel, "bridge certificate renewal rejected: certificate revoked, agent decommissioned"
			}
			c.log.WithLevel(level).Err(err).Time(fieldNotAfter, leaf.NotAfter).Msg(msg)
			if err := c.cfg.Sleep(ctx, renewRetryDelay(leaf, r.Now(), c.cfg.BackoffMax)); err != nil {
				return
			}
		}
	}
}

// renewOnce renews over the current connection with a new key.
func (c *Client) renewOnce(ctx context.Context) error {
	conn := c.conn.Load()
	if conn == nil {
		return errNotConnected
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate agent key: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		return fmt.Errorf("create certificate signing request: %w", err)
	}

	chain, err := c.requestRenewal(ctx, conn, csr)
	if err != nil {
		return err
	}
	cert, err := c.checkRenewed(chain, key)
	if err != nil {
		return err
	}

	r := c.cfg.Renewal
	if r.Persist != nil {
		if err := r.Persist(cert); err != nil {
			c.log.Error().Err(err).Msg("bridge renewed certificate not saved: a restart uses the previous one")
		}
	}
	r.Certificate.Store(cert)
	c.metrics.renewals.Inc()
	c.log.Info().Str(fieldSerial, cert.Leaf.SerialNumber.Text(16)).Time(fieldNotAfter, cert.Leaf.NotAfter).Msg("bridge certificate renewed")
	return nil
}

func (c *Client) requestRenewal(ctx context.Context, conn *quic.Conn, csr []byte) ([][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, renewTimeout)
	defer cancel()
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("open renewal stream: %w", err)
	}
	defer stream.CancelRead(quic.StreamErrorCode(codeNoError))
	if err := stream.SetDeadline(time.Now().Add(renewTimeout)); err != nil {
		stream.CancelWrite(quic.StreamErrorCode(codeNoError))
		return nil, fmt.Errorf("set renewal deadline: %w", err)
	}

	if err := WriteFrame(stream, &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_Renew{Renew: &bridgev1.RenewRequest{Csr: csr}}}); err != nil {
		stream.CancelWrite(quic.StreamErrorCode(codeNoError))
		return nil, fmt.Errorf("send renewal: %w", err)
	}
	if err := stream.Close(); err != nil {
		return nil, fmt.Errorf("send renewal: %w", err)
	}

	var frame bridgev1.ServerFrame
	if err := ReadFrame(stream, &frame); err != nil {
		return nil, fmt.Errorf("read renewal response: %w", err)
	}
	switch f := frame.GetFrame().(type) {
	case *bridgev1.ServerFrame_Renewed:
		return f.Renewed.GetCertificateChain(), nil
	case *bridgev1.ServerFrame_RenewError:
		return nil, renewErrorFromFrame(f.RenewError)
	default:
		return nil, fmt.Errorf("read renewal response: frame is %T", frame.GetFrame())
	}
}

// checkRenewed verifies the new chain before it replaces the current
// certificate: it chains to the roots for client authentication, carries
// the new key, and names the same agent.
func (c *Client) checkRenewed(ders [][]byte, key crypto.Signer) (*tls.Certificate, error) {
	if len(ders) == 0 {
		return nil, errors.New("check renewed certificate: empty chain")
	}
	certs := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("check renewed certificate: parse certificate %d: %w", i, err)
		}
		certs[i] = cert
	}
	leaf := certs[0]

	intermediates := x509.NewCertPool()
	for _, cert := range certs[1:] {
		intermediates.AddCert(cert)
	}
	r := c.cfg.Renewal
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         r.Roots,
		Intermediates: intermediates,
		CurrentTime:   r.Now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return nil, fmt.Errorf("check renewed certificate: %w", err)
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, errors.New("check renewed certificate: public key does not match the requested key")
	}
	oldID, err := pki.AgentIDFromCertificate(r.Certificate.Load().Leaf)
	if err != nil {
		return nil, fmt.Errorf("check renewed certificate: %w", err)
	}
	newID, err := pki.AgentIDFromCertificate(leaf)
	if err != nil {
		return nil, fmt.Errorf("check renewed certificate: %w", err)
	}
	if newID != oldID {
		return nil, fmt.Errorf("check renewed certificate: issued for agent %s, want %s", newID, oldID)
	}
	return &tls.Certificate{Certificate: ders, PrivateKey: key, Leaf: leaf}, nil
}
