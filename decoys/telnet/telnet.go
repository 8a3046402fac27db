// Package telnet is the Telnet decoy. It imitates a telnet server and the
// login program behind it: GNU inetutils telnetd with login(1) on Debian
// 12 (the default), BusyBox telnetd on an embedded device, or a Cisco IOS
// vty. It sends the persona's option negotiation, replies to the client's
// as the real server does, records every user name and password as an
// auth.attempt event, rejects them with the real program's delays and
// texts, and disconnects after the real number of tries.
//
// When the login policy accepts a login, the session continues in the
// emulated shell (decoys/shell), or for the Cisco persona in the
// emulated IOS EXEC (decoys/ios), where each enable password is an
// auth.attempt with the principal "enable" that the same policy decides.
// The recording (decoys/recording) starts there, with the login
// messages, and is sent as session.recorded when the connection ends.
// What came before, the login prompts and passwords, is in the
// auth.attempt events.
package telnet

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/fetch"
	"github.com/decnet/decnet/decoys/ios"
	"github.com/decnet/decnet/decoys/login"
	"github.com/decnet/decnet/decoys/recording"
	"github.com/decnet/decnet/decoys/shell"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ServiceName is the service name in events and logs.
const ServiceName = "telnet"

// Log field keys of this package; the shared ones are in package decoys.
const (
	fieldPersona       = "persona"
	fieldReason        = "reason"
	fieldAddress       = "address"
	fieldBytesReceived = "bytes_received"
	fieldBytesSent     = "bytes_sent"
	fieldDuration      = "duration"
	fieldCause         = "cause"
	fieldUser          = "user"
	fieldTermType      = "term_type"
)

// Option keys read from decoys.Config.Options.
const (
	// OptionHostname is the host name in prompts and the shell; empty
	// derives one from the seed.
	OptionHostname = "hostname"
	// OptionRecordingDir overrides the directory of live session
	// recordings, which is the agent's (decoys.Config.RecordingDir) by
	// default.
	OptionRecordingDir = "recording_dir"
)

// Shell is the session after a successful login; *shell.Shell implements
// it.
type Shell interface {
	Interactive(ctx context.Context, term io.ReadWriter) error
	Resize(width, height int)
	Motd(now, lastLogin time.Time, lastFrom string) string
}

// Authenticator decides whether a login succeeds.
type Authenticator func(source netip.Addr, user string, password []byte) bool

// shellFactory starts the shell of one session for user; its command
// lines and download requests become the session's events.
type shellFactory func(user string, session *decoys.Session) Shell

// Service is the Telnet decoy of one decky. It implements decoys.Service.
type Service struct {
	decky   string
	seed    []byte
	emitter decoys.Emitter
	log     zerolog.Logger
	limits  decoys.Limits
	metrics *decoys.Metrics
	persona *persona

	hostname      string
	kernelRelease string
	recordingDir  string

	allow    Authenticator
	newShell shellFactory
	fetcher  *fetch.Fetcher

	// pts numbers the pseudo-terminals of live sessions, as the kernel
	// hands out the lowest free one.
	ptsMu   sync.Mutex
	ptsUsed map[int]bool

	// lastLogins keeps pam_lastlog's record per user, bounded.
	lastMu     sync.Mutex
	lastLogins map[string]lastLogin

	now          func() time.Time
	failureDelay func(delayRange) time.Duration
	sleep        func(context.Context, time.Duration) error
}

type lastLogin struct {
	at   time.Time
	from string
	tty  string
}

// maxLastLogins bounds the lastlog map. Beyond it an arbitrary entry is
// dropped, which only makes a later login show no "Last login" line.
const maxLastLogins = 256

var _ decoys.Service = (*Service)(nil)

// New returns the Telnet decoy for cfg. It fails on an unknown persona
// (ErrUnknownPersona), an unknown option key, a missing emitter or a seed
// shorter than 16 bytes.
func New(cfg decoys.Config) (*Service, error) {
	p, err := lookupPersona(cfg.Persona)
	if err != nil {
		return nil, fmt.Errorf("create telnet decoy: %w", err)
	}
	if cfg.Emitter == nil {
		return nil, errors.New("create telnet decoy: missing emitter")
	}
	if len(cfg.Seed) < 16 {
		return nil, fmt.Errorf("create telnet decoy: seed has %d bytes, need at least 16", len(cfg.Seed))
	}
	known := append([]string{OptionHostname, OptionRecordingDir}, login.Keys()...)
	for k := range cfg.Options {
		if !slices.Contains(known, k) {
			return nil, fmt.Errorf("create telnet decoy: unknown option %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	policy, err := login.Parse(cfg.Options, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("create telnet decoy: %w", err)
	}

	s := &Service{
		decky:        cfg.Decky,
		seed:         append([]byte(nil), cfg.Seed...),
		emitter:      cfg.Emitter,
		limits:       cfg.Limits.WithDefaults(),
		metrics:      cfg.Metrics,
		persona:      p,
		recordingDir: cfg.RecordingDir,
		fetcher:      cfg.Fetcher,
		allow:        policy.Allow,
		ptsUsed:      make(map[int]bool),
		lastLogins:   make(map[string]lastLogin),
		now:          time.Now,
		failureDelay: uniformDelay,
		sleep:        sleepContext,
	}
	if dir := cfg.Options[OptionRecordingDir]; dir != "" {
		s.recordingDir = dir
	}
	// Without a directory, recordings stay in memory.
	s.hostname = cfg.Options[OptionHostname]
	if p.shellOS != "" {
		s.newShell = s.startShell
	}
	if p.iosExec {
		s.newShell = s.startIOS
		if s.hostname == "" {
			s.hostname = ios.DefaultHostname(s.seed)
		}
	}
	if p.shellOS == shell.OSDebian12 {
		// The shell owns the host model, so the host name and kernel of
		// the banner come from its login message ("Linux <host> <release>
		// ..."), and the two always agree.
		probe := shell.New(shell.Config{Seed: s.seed, Hostname: s.hostname, User: "root"})
		if f := strings.Fields(probe.Motd(time.Now(), time.Time{}, "")); len(f) >= 3 && f[0] == "Linux" {
			s.hostname, s.kernelRelease = f[1], f[2]
		}
	}
	if s.hostname == "" {
		s.hostname = embeddedHostnames[pick(s.seed, "telnet hostname", len(embeddedHostnames))]
	}
	s.log = cfg.Logger.With().
		Str(decoys.FieldService, ServiceName).
		Str(decoys.FieldDecky, cfg.Decky).
		Str(fieldPersona, p.id).
		Logger()
	return s, nil
}

// embeddedHostnames are host names of the kind routers and cameras keep
// from their firmware.
var embeddedHostnames = []string{"OpenWrt", "router", "gateway", "LEDE", "dvr", "ipcam", "nvr", "AP", "modem", "Router"}

func pick(seed []byte, label string, n int) int {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte(label))
	return int(binary.BigEndian.Uint64(m.Sum(nil)) % uint64(n)) //nolint:gosec // G115: n is a small positive list length
}

// uniformDelay draws a delay from r.
func uniformDelay(r delayRange) time.Duration {
	if r.max <= r.min {
		return r.min
	}
	return r.min + rand.N(r.max-r.min) //nolint:gosec // G404: timing jitter, not a secret
}

// startShell starts the persona's shell: bash on Debian, BusyBox ash on
// the embedded device.
func (s *Service) startShell(user string, session *decoys.Session) Shell {
	return shell.New(shell.ForSession(shell.Config{
		OS:       s.persona.shellOS,
		Seed:     s.seed,
		Hostname: s.hostname,
		User:     user,
	}, session, "shell", s.fetcher))
}

// enablePrincipal is the principal of an auth.attempt for IOS's enable
// password, which belongs to no user.
const enablePrincipal = "enable"

// startIOS starts the IOS EXEC of the Cisco persona. Each password
// typed at enable's prompt is an auth.attempt the login policy decides,
// so "list" mode accepts the pair enable:<password>.
func (s *Service) startIOS(user string, session *decoys.Session) Shell {
	source, _ := netip.ParseAddr(session.Source.GetAddress())
	return ios.New(ios.Config{
		Seed:      s.seed,
		Hostname:  s.hostname,
		User:      user,
		Source:    source.String(),
		OnCommand: func(line string) { session.Command(strings.ToValidUTF8(line, "\uFFFD"), "shell") },
		// IOS copies from the network are reported, never fetched: the
		// fetcher speaks HTTP as wget and curl do, not as IOS.
		OnDownload: func(url string) {
			session.Download(&eventv1.DownloadRequested{Url: strings.ToValidUTF8(url, "\uFFFD"), Tool: "copy", Outcome: "not_fetched"})
		},
		Enable: func(password []byte) bool {
			ok := s.allow(source, enablePrincipal, password)
			outcome := eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
			if ok {
				outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
			}
			session.AuthAttempt(&eventv1.AuthAttempt{
				Principal:  enablePrincipal,
				SecretKind: decoys.SecretPlaintext,
				Mechanism:  decoys.MechanismTelnet,
				Secret:     password,
				Outcome:    outcome,
			})
			return ok
		},
		Now: s.now,
	})
}

// Serve accepts telnet connections on ln until ctx ends, then returns nil.
// It returns an error only when ln fails for good.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info().Str(fieldAddress, ln.Addr().String()).Msg("telnet decoy serving")
	err := decoys.ServeConns(ctx, ln, decoys.ServeOptions{
		Limits:  s.limits,
		Logger:  s.log,
		Decky:   s.decky,
		Service: ServiceName,
		Metrics: s.metrics,
		Emitter: s.emitter,
	}, s.handle)
	if err != nil {
		return fmt.Errorf("serve telnet on %s: %w", ln.Addr(), err)
	}
	s.log.Info().Str(fieldAddress, ln.Addr().String()).Msg("telnet decoy stopped")
	return nil
}

// handle serves one connection from accept to close.
func (s *Service) handle(ctx context.Context, conn net.Conn) {
	started := s.now()
	metered := &meteredConn{Conn: conn, writeTimeout: s.limits.WriteTimeout}
	session := decoys.NewSession(conn, s.decky, ServiceName, s.emitter)
	session.Now = s.now
	session.Opened()

	pts := s.takePTS()
	defer s.releasePTS(pts)

	t := newTConn(metered, s.persona, s.limits.ReadTimeout)
	user, reason, err := s.converse(ctx, t, session, pts)
	if ctx.Err() != nil {
		reason = reasonShutdown
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = reasonSessionLimit
		}
	}
	session.Closed(started, metered.received.Load(), metered.sent.Load(), reason)

	s.log.Info().
		Str(decoys.FieldSource, conn.RemoteAddr().String()).
		Str(decoys.FieldSession, session.ID).
		Str(fieldUser, user).
		Str(fieldTermType, t.termType).
		Str(fieldReason, reason).
		Uint64(fieldBytesReceived, metered.received.Load()).
		Uint64(fieldBytesSent, metered.sent.Load()).
		Dur(fieldDuration, s.now().Sub(started)).
		AnErr(fieldCause, err).
		Msg("telnet connection closed")
}

// converse runs negotiation, login and, after a successful login, the
// shell. It returns the logged-in user and why the connection ended.
func (s *Service) converse(ctx context.Context, t *tconn, session *decoys.Session, pts int) (string, string, error) {
	if err := t.open(s.hostinfo(pts)); err != nil {
		return "", closeReason(err), err
	}
	// login(1) sets ECHO in the terminal's flags when it starts, which
	// undoes a DONT ECHO the client sent before.
	t.echoOff = false
	t.started = true
	source, _ := netip.ParseAddr(session.Source.GetAddress())
	user, reason, err := s.login(ctx, t, session, source)
	if user == "" {
		return "", reason, err
	}
	reason, err = s.runShell(ctx, t, session, user, source, pts)
	return user, reason, err
}

// hostinfo returns what telnetd prints before login(1) starts: for
// inetutils,
// "\r\nLinux <release> (<host>) (pts/N)\r\n\r\n" from uname(2).
func (s *Service) hostinfo(pts int) string {
	if !s.persona.inetutils {
		return ""
	}
	return "\r\nLinux " + s.kernelRelease + " (" + s.hostname + ") (pts/" + strconv.Itoa(pts) + ")\r\n\r\n"
}

// runShell runs the session after a successful login and records it.
func (s *Service) runShell(ctx context.Context, t *tconn, session *decoys.Session, user string, source netip.Addr, pts int) (string, error) {
	width, height := t.width, t.height
	if width == 0 || height == 0 {
		width, height = defaultTermWidth, defaultTermRows
	}
	termType := strings.ToLower(t.termType)
	if termType == "" {
		termType = defaultTermType
	}
	rec := recording.Start(recording.Options{Dir: s.recordingDir}, width, height, termType, s.now)
	defer func() { session.Recorded(rec.Close()) }()

	sh := s.newShell(user, session)
	sh.Resize(width, height)
	t.onResize = func(w, h int) {
		sh.Resize(w, h)
		rec.Resize(w, h)
	}

	t.rawMode()
	term := rec.Wrap(&terminal{t: t})
	now := s.now()
	if _, err := io.WriteString(term, toCRLF(sh.Motd(now, time.Time{}, "")+s.lastLogLine(user, source, pts, now))); err != nil {
		return closeReason(err), err
	}
	if err := sh.Interactive(ctx, term); err != nil {
		return closeReason(err), err
	}
	return reasonShellExit, nil
}

// lastLogLine is pam_lastlog's line for user, and records this login.
// BusyBox login keeps no such record.
func (s *Service) lastLogLine(user string, source netip.Addr, pts int, now time.Time) string {
	if !s.persona.inetutils {
		return ""
	}
	s.lastMu.Lock()
	defer s.lastMu.Unlock()
	prev, ok := s.lastLogins[user]
	if len(s.lastLogins) >= maxLastLogins {
		for k := range s.lastLogins {
			delete(s.lastLogins, k)
			break
		}
	}
	s.lastLogins[user] = lastLogin{at: now, from: source.String(), tty: "pts/" + strconv.Itoa(pts)}
	if !ok {
		return ""
	}
	return "Last login: " + prev.at.UTC().Format("Mon Jan _2 15:04:05 MST 2006") + " from " + prev.from + " on " + prev.tty + "\n"
}

func (s *Service) takePTS() int {
	s.ptsMu.Lock()
	defer s.ptsMu.Unlock()
	n := 0
	for s.ptsUsed[n] {
		n++
	}
	s.ptsUsed[n] = true
	return n
}

func (s *Service) releasePTS(n int) {
	s.ptsMu.Lock()
	defer s.ptsMu.Unlock()
	delete(s.ptsUsed, n)
}

// toCRLF turns the LF line ends of login messages into the CR LF a pty
// sends.
func toCRLF(s string) string {
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// terminal is the shell's view of the connection: data bytes in, terminal
// output out in NVT form.
type terminal struct {
	t *tconn
}

func (r *terminal) Read(p []byte) (int, error) {
	for len(r.t.in) == 0 {
		if err := r.t.fill(time.Time{}); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.t.in)
	r.t.in = r.t.in[n:]
	return n, nil
}

func (r *terminal) Write(p []byte) (int, error) {
	if err := r.t.writeText(string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
