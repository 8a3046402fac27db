// Package ssh is the SSH decoy. It imitates an OpenSSH server persona: the
// identification string, the KEXINIT algorithm lists in the real daemon's
// order (every algorithm implemented), sshd's replies to bad input, and
// its authentication bookkeeping. It records every password,
// keyboard-interactive answer and public key as an auth.attempt event,
// rejects them with sshd's delays unless the Accept hook allows them, and
// disconnects after MaxAuthTries failures. After an accepted login the
// Session hook serves session channels; without one, sftp uploads go to
// the quarantine and every other session ends at once with status 0.
//
// The persona data lives in persona.go; transport.go adapts it to the
// protocol implementation in package sshserver.
package ssh

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/fetch"
	"github.com/decnet/decnet/decoys/login"
	"github.com/decnet/decnet/decoys/quarantine"
	"github.com/decnet/decnet/decoys/ssh/sshserver"
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
	server  *sshserver.Config
	// quarantine keeps uploaded files; nil only hashes them.
	quarantine *quarantine.Store
	// seed derives the emulated shell's host; fetcher and recordingDir
	// come from decoys.Config.
	seed         []byte
	fetcher      *fetch.Fetcher
	recordingDir string

	// Accept decides whether a login succeeds: method is "password",
	// "keyboard-interactive" or "publickey", secret the password, answer
	// or public key blob. Nil, the default, rejects every login. Set it
	// before Serve.
	Accept func(user, method string, secret []byte) bool
	// AcceptFrom is Accept with the client's address, as the login
	// policy needs it; when set it is used instead of Accept.
	AcceptFrom func(source netip.Addr, user, method string, secret []byte) bool
	// PermitRootLogin is sshd's option of that name: "yes" lets Accept
	// admit root with a password; "prohibit-password", Debian's and
	// Ubuntu's default, rejects root password and keyboard-interactive
	// logins even when Accept allows them, at once and without the PAM
	// delay, as sshd does after PAM succeeded. Empty means "yes". Set it
	// before Serve.
	PermitRootLogin string
	// Session serves a session channel after a successful login. Nil runs
	// a placeholder that prints nothing and exits with status 0. Set it
	// before Serve.
	Session func(ctx context.Context, ch *sshserver.Channel)

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

	server, err := serverConfig(p, keys, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("create ssh decoy: %w", err)
	}

	log := cfg.Logger.With().
		Str(decoys.FieldService, ServiceName).
		Str(decoys.FieldDecky, cfg.Decky).
		Str(fieldPersona, p.id).
		Logger()
	for k := range cfg.Options {
		if !slices.Contains(login.Keys(), k) {
			return nil, fmt.Errorf("create ssh decoy: unknown option %q: want one of %v", k, login.Keys())
		}
	}
	svc := &Service{
		decky:        cfg.Decky,
		emitter:      cfg.Emitter,
		log:          log,
		limits:       cfg.Limits.WithDefaults(),
		metrics:      cfg.Metrics,
		persona:      p,
		keys:         keys,
		server:       server,
		quarantine:   cfg.Quarantine,
		seed:         cfg.Seed,
		fetcher:      cfg.Fetcher,
		recordingDir: cfg.RecordingDir,
		now:          time.Now,
		failureDelay: uniformDelay,
	}
	if err := svc.applyLoginPolicy(cfg.Options, cfg.Seed); err != nil {
		return nil, fmt.Errorf("create ssh decoy: %w", err)
	}
	return svc, nil
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
		Emitter: s.emitter,
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

// resetIfUnread makes the coming close of conn send a TCP reset when the
// client sent more than the identification line. sshd reads that line a
// byte at a time and exits with the rest unread, so its kernel sends a
// reset. A plain close here ends with a FIN instead, which detectors that
// send a banner followed by junk (Kippo's line feeds, two banners) can
// tell apart.
func resetIfUnread(conn net.Conn, buffered *bufio.Reader) {
	if buffered.Buffered() == 0 {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
}

// converse runs the identification exchange and the SSH handshake up to
// the end of authentication. It returns the client's identification line
// (nil if none was read) and why the connection ended.
func (s *Service) converse(ctx context.Context, conn *meteredConn, session *decoys.Session) ([]byte, string, error) {
	p := &s.persona
	// sshd.c arms the LoginGraceTime alarm before
	// kex_exchange_identification, so the grace period runs from accept
	// and also ends a client that sends its identification one byte at a
	// time. The alarm sends nothing because sshd just exits.
	accepted := time.Now()
	grace := newGraceTimer(conn, p.loginGraceTime)

	// sshd sends its identification at once, before the client's, so
	// scanners that wait for the server to speak first see it.
	if _, err := conn.Write([]byte(p.banner + "\r\n")); err != nil {
		if grace.stop() {
			return nil, reasonTimeout, fmt.Errorf("%w: %w", sshserver.ErrLoginGraceTime, err)
		}
		return nil, closeReason(err), fmt.Errorf("send identification: %w", err)
	}

	maxIdent := min(p.maxIdentBytes, s.limits.MaxLineBytes)
	buffered := bufio.NewReaderSize(conn, 4096)
	clientLine, err := readClientIdent(buffered, maxIdent)
	if err == nil {
		_, err = parseClientVersion(clientLine)
	}
	if grace.stop() {
		return nil, reasonTimeout, fmt.Errorf("%w: %w", sshserver.ErrLoginGraceTime, err)
	}
	switch {
	case errors.Is(err, errInvalidIdent):
		_, _ = conn.Write([]byte(p.invalidIdentReply + "\r\n"))
		resetIfUnread(conn.Conn, buffered)
		return clientLine, reasonInvalidIdent, err
	case errors.Is(err, errVersionMismatch):
		_, _ = conn.Write([]byte(p.versionMismatchReply + "\r\n"))
		resetIfUnread(conn.Conn, buffered)
		return clientLine, reasonVersion, err
	case err != nil:
		return nil, closeReason(err), err
	}

	auth := &authRecorder{
		ctx:                ctx,
		session:            session,
		persona:            p,
		delay:              s.failureDelay,
		accept:             s.acceptFor(conn.RemoteAddr()),
		rootPasswordDenied: s.PermitRootLogin != "" && s.PermitRootLogin != "yes",
		seenKeys:           make(map[string]struct{}),
	}
	cfg := *s.server
	cfg.ServerVersion = p.banner
	cfg.Algorithms = personaAlgorithms(*p)
	cfg.MaxAuthTries = p.maxAuthTries
	cfg.Auth = auth.auth
	cfg.Session = s.Session
	if cfg.Session == nil {
		cfg.Session = func(ctx context.Context, ch *sshserver.Channel) {
			s.shellSession(session, auth.user)(ctx, ch)
		}
	}
	cfg.Now = s.now
	cfg.OnForward = func(meta *sshserver.ConnMeta, f sshserver.Forward) {
		session.Forward(forwardEvent(f))
	}
	cfg.OnKexInit = func(meta *sshserver.ConnMeta) {
		session.Fingerprinted(sshFingerprint(meta.ClientVersion, meta.ClientAlgorithms))
	}
	if p.keyboardInteractive && !slices.Contains(cfg.AuthMethods, sshserver.MethodKeyboardInteractive) {
		cfg.AuthMethods = append(slices.Clone(cfg.AuthMethods), sshserver.MethodKeyboardInteractive)
	}
	// The key exchange and authentication get what is left of the grace
	// period.
	if p.loginGraceTime > 0 {
		cfg.LoginGraceTime = p.loginGraceTime - time.Since(accepted)
		if cfg.LoginGraceTime <= 0 {
			return clientLine, reasonTimeout, sshserver.ErrLoginGraceTime
		}
	}
	err = sshserver.ServeConn(ctx, conn, buffered, clientLine, &cfg)
	return clientLine, closeReason(err), err
}

// acceptFor returns the accept decision for one connection from remote,
// or nil when no hook is set.
func (s *Service) acceptFor(remote net.Addr) func(user, method string, secret []byte) bool {
	if s.AcceptFrom == nil {
		return s.Accept
	}
	var source netip.Addr
	if tcp, ok := remote.(*net.TCPAddr); ok {
		source = tcp.AddrPort().Addr().Unmap()
	}
	return func(user, method string, secret []byte) bool {
		return s.AcceptFrom(source, user, method, secret)
	}
}

// graceTimer is the login grace alarm of the identification exchange.
type graceTimer struct {
	timer *time.Timer
}

// newGraceTimer arms a timer that closes conn after d. A d of zero or
// less sets no limit.
func newGraceTimer(conn net.Conn, d time.Duration) *graceTimer {
	if d <= 0 {
		return &graceTimer{}
	}
	return &graceTimer{timer: time.AfterFunc(d, func() { _ = conn.Close() })}
}

// stop disarms the timer and reports whether it had already closed the
// connection.
func (g *graceTimer) stop() bool {
	return g.timer != nil && !g.timer.Stop()
}
