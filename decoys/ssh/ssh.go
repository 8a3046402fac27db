// Package ssh is the SSH decoy. It imitates an OpenSSH server persona up to
// and including authentication. It sends the persona's identification
// string and algorithm lists, replies to bad identification lines with
// sshd's texts, records every password, keyboard-interactive answer and
// public key as an auth.attempt event, rejects them with sshd's delays,
// and disconnects after MaxAuthTries failures.
//
// The persona data lives in persona.go; transport.go adapts it to
// golang.org/x/crypto/ssh and lists where that library differs from
// OpenSSH.
package ssh

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys"
)

// ServiceName is the service name in events and logs.
const ServiceName = "ssh"

// Log field keys of this package; the shared ones are in package decoys.
const (
	fieldPersona       = "persona"
	fieldClientVersion = "client_version"
	fieldReason        = "reason"
	fieldAddress       = "address"
	fieldBytesReceived = "bytes_received"
	fieldBytesSent     = "bytes_sent"
	fieldDuration      = "duration"
	fieldCause         = "cause"
)

// Service is the SSH decoy of one decky. It implements decoys.Service.
type Service struct {
	decky   string
	emitter decoys.Emitter
	log     zerolog.Logger
	limits  decoys.Limits
	metrics *decoys.Metrics
	persona persona
	keys    *hostKeys

	// now stamps events; tests replace it.
	now func() time.Time
	// failureDelay picks the delay before a wrong password is rejected;
	// tests shorten it.
	failureDelay func(delayRange) time.Duration
}

var _ decoys.Service = (*Service)(nil)

// New returns the SSH decoy for cfg. It fails on an unknown persona id
// (ErrUnknownPersona), a missing emitter, or a seed shorter than 16 bytes.
// Deriving the RSA host key takes about 0.3 s (BenchmarkDeriveHostKeys on
// a 2-core Xeon VM), so New belongs at startup, not per connection.
func New(cfg decoys.Config) (*Service, error) {
	p, err := lookupPersona(cfg.Persona)
	if err != nil {
		return nil, fmt.Errorf("create ssh decoy: %w", err)
	}
	if cfg.Emitter == nil {
		return nil, errors.New("create ssh decoy: missing emitter")
	}
	keys, err := deriveHostKeys(cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("create ssh decoy: %w", err)
	}

	log := cfg.Logger.With().
		Str(decoys.FieldService, ServiceName).
		Str(decoys.FieldDecky, cfg.Decky).
		Str(fieldPersona, p.id).
		Logger()
	return &Service{
		decky:        cfg.Decky,
		emitter:      cfg.Emitter,
		log:          log,
		limits:       cfg.Limits.WithDefaults(),
		metrics:      cfg.Metrics,
		persona:      p,
		keys:         keys,
		now:          time.Now,
		failureDelay: uniformDelay,
	}, nil
}

// Serve accepts SSH connections on ln until ctx ends, then returns nil. It
// returns an error only when ln fails for good.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info().Str(fieldAddress, ln.Addr().String()).Msg("ssh decoy serving")
	err := decoys.ServeConns(ctx, ln, decoys.ServeOptions{
		Limits:  s.limits,
		Logger:  s.log,
		Decky:   s.decky,
		Service: ServiceName,
		Metrics: s.metrics,
	}, s.handle)
	if err != nil {
		return fmt.Errorf("serve ssh on %s: %w", ln.Addr(), err)
	}
	s.log.Info().Str(fieldAddress, ln.Addr().String()).Msg("ssh decoy stopped")
	return nil
}

// handle serves one connection from accept to close and records its
// connection.opened and connection.closed events.
func (s *Service) handle(ctx context.Context, conn net.Conn) {
	started := s.now()
	metered := &meteredConn{Conn: conn, readTimeout: s.limits.ReadTimeout, writeTimeout: s.limits.WriteTimeout}
	session := decoys.NewSession(conn, s.decky, ServiceName, s.emitter)
	session.Now = s.now
	session.Opened()

	clientLine, reason, err := s.converse(ctx, metered, session)
	if ctx.Err() != nil {
		reason = reasonShutdown
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = reasonSessionTimeout
		}
	}
	session.Closed(started, metered.received.Load(), metered.sent.Load(), reason)

	s.log.Info().
		Str(decoys.FieldSource, conn.RemoteAddr().String()).
		Str(decoys.FieldSession, session.ID).
		Str(fieldClientVersion, string(clientLine)).
		Str(fieldReason, reason).
		Uint64(fieldBytesReceived, metered.received.Load()).
		Uint64(fieldBytesSent, metered.sent.Load()).
		Dur(fieldDuration, s.now().Sub(started)).
		AnErr(fieldCause, err).
		Msg("ssh connection closed")
}

// converse runs the identification exchange and the SSH handshake up to
// the end of authentication. It returns the client's identification line
// (nil if none was read) and why the connection ended.
func (s *Service) converse(ctx context.Context, conn *meteredConn, session *decoys.Session) ([]byte, string, error) {
	p := &s.persona
	// sshd sends its identification at once, before the client's, so
	// scanners that wait for the server to speak first see it.
	if _, err := conn.Write([]byte(p.banner + "\r\n")); err != nil {
		return nil, closeReason(err), fmt.Errorf("send identification: %w", err)
	}

	maxIdent := min(p.maxIdentBytes, s.limits.MaxLineBytes)
	buffered := bufio.NewReaderSize(conn, 4096)
	clientLine, err := readClientIdent(buffered, maxIdent)
	if err == nil {
		_, err = parseClientVersion(clientLine)
	}
	switch {
	case errors.Is(err, errInvalidIdent):
		_, _ = conn.Write([]byte(p.invalidIdentReply + "\r\n"))
		return clientLine, reasonInvalidIdent, err
	case errors.Is(err, errVersionMismatch):
		_, _ = conn.Write([]byte(p.versionMismatchReply + "\r\n"))
		return clientLine, reasonVersion, err
	case err != nil:
		return nil, closeReason(err), err
	}
	if len(clientLine) > maxTransportIdentBytes {
		return clientLine, reasonIdentTooLong, fmt.Errorf("client identification has %d bytes, transport reads at most %d", len(clientLine), maxTransportIdentBytes)
	}

	auth := &authRecorder{
		ctx:      ctx,
		session:  session,
		persona:  p,
		delay:    s.failureDelay,
		seenKeys: make(map[string]struct{}),
	}
	cfg := transportConfig(*p, s.keys, auth)
	sshConn, channels, requests, err := ssh.NewServerConn(newHandoffConn(conn, p.banner, clientLine, buffered), cfg)
	if err != nil {
		return clientLine, closeReason(err), err
	}

	// Unreachable while every login is rejected. Should a callback ever
	// accept one, the connection is closed at once.
	go ssh.DiscardRequests(requests)
	go func() {
		for ch := range channels {
			_ = ch.Reject(ssh.Prohibited, "")
		}
	}()
	_ = sshConn.Close()
	return clientLine, reasonServerClosed, errors.New("authentication accepted without a login policy")
}
