// Package pop3 is the POP3 decoy. It imitates Dovecot 2.3 as Debian 12
// ships it (the default persona), Courier's pop3d 1.0 as Debian 12 ships
// it, or the POP3 service of Exchange 2019:
// banner, CAPA, STLS with a per-decky certificate, the login commands
// (USER/PASS, APOP, AUTH PLAIN and LOGIN, and AUTH NTLM for Exchange)
// with the product's replies, delays and limits, and, once the login
// policy accepts a login, a mailbox generated from the decky seed. Every
// login attempt becomes an auth.attempt event.
//
// Like a stock Debian Dovecot (disable_plaintext_auth = yes), the decoy
// refuses plain-text logins until STLS; the password an impatient client
// sends anyway is still recorded. The option disable_plaintext_auth = no
// turns that off. The Courier persona follows Debian's Courier instead
// (POP3_TLS_REQUIRED=0): plain-text logins are accepted unless the option
// is set to yes.
package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/login"
	"github.com/decnet/decnet/decoys/mailbox"
	"github.com/decnet/decnet/decoys/ntlm"
	"github.com/decnet/decnet/decoys/tlsfp"
)

// ServiceName is the service name in events and logs.
const ServiceName = "pop3"

// Option keys besides the login policy's.
const (
	// OptionDisablePlaintextAuth is Dovecot's setting of that name:
	// "yes" or "no"; the default is the persona's Debian default (yes
	// but for Courier).
	OptionDisablePlaintextAuth = "disable_plaintext_auth"
	// OptionAuthMechanisms lists the SASL mechanisms offered, as
	// Dovecot's auth_mechanisms: any of "plain", "login", "apop"
	// separated by spaces; Debian's default is "plain".
	OptionAuthMechanisms = "auth_mechanisms"
)

// Dovecot's auth_failure_delay is 2 s. Debian 12's Dovecot rejected four
// wrong passwords in a row after 2.01, 6.01, 10.02 and 17.02 s: the
// delay plus the source's penalty (mailbox.Penalty) of 0, 4, 8 and 15 s.
const (
	failDelayMin = 2000 * time.Millisecond
	failDelayMax = 2030 * time.Millisecond
)

// loginTimeout is MASTER_LOGIN_TIMEOUT_SECS: a client that has not logged
// in after 3 minutes is disconnected.
const loginTimeout = 3 * time.Minute

// maxEventLine caps a command line in a command event.
const maxEventLine = 1024

// Close reasons in connection.closed.
const (
	reasonClientClosed = "client_closed"
	reasonQuit         = "quit"
	reasonTimeout      = "timeout"
	reasonTooManyBad   = "too_many_bad_commands"
	reasonBufferFull   = "input_buffer_full"
	reasonTLSFailed    = "tls_failed"
	reasonShutdown     = "shutdown"
)

// Service is the POP3 decoy of one decky. It implements decoys.Service.
type Service struct {
	decky string
	host  string
	seed  []byte
	// ntlmTarget names the server in the CHALLENGE of AUTH NTLM.
	ntlmTarget ntlm.Target
	emitter    decoys.Emitter
	log        zerolog.Logger
	limits     decoys.Limits
	metrics    *decoys.Metrics
	persona    *persona
	tls        *tls.Config
	policy     *login.Policy
	penalty    *mailbox.Penalty

	disablePlaintext bool
	mechanisms       []string // upper case, in configured order

	// now stamps events and dates; failDelay picks the pause before a
	// rejection; tests replace both.
	now       func() time.Time
	failDelay func() time.Duration
}

var _ decoys.Service = (*Service)(nil)

// New returns the POP3 decoy for cfg. It fails on an unknown persona
// (ErrUnknownPersona), a missing emitter, a seed shorter than 16 bytes or
// an unknown or invalid option. Deriving the TLS key takes about 0.1 s.
func New(cfg decoys.Config) (*Service, error) {
	p, err := lookupPersona(cfg.Persona)
	if err != nil {
		return nil, fmt.Errorf("create pop3 decoy: %w", err)
	}
	if cfg.Emitter == nil {
		return nil, errors.New("create pop3 decoy: missing emitter")
	}
	if err := checkOptions(cfg.Options); err != nil {
		return nil, fmt.Errorf("create pop3 decoy: %w", err)
	}
	policy, err := login.Parse(cfg.Options, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("create pop3 decoy: %w", err)
	}
	disable, err := parseYesNo(cfg.Options, OptionDisablePlaintextAuth, !p.plaintextDefault)
	if err != nil {
		return nil, fmt.Errorf("create pop3 decoy: %w", err)
	}
	mechs, err := parseMechanisms(cfg.Options[OptionAuthMechanisms])
	if err != nil {
		return nil, fmt.Errorf("create pop3 decoy: %w", err)
	}

	host := mailbox.HostName(cfg.Decky)
	cert, err := mailbox.Certificate(cfg.Seed, host)
	if err != nil {
		return nil, fmt.Errorf("create pop3 decoy: %w", err)
	}

	return &Service{
		decky:      cfg.Decky,
		host:       host,
		seed:       slices.Clone(cfg.Seed),
		ntlmTarget: ntlm.TargetFor(cfg.Seed, host),
		emitter:    cfg.Emitter,
		log: cfg.Logger.With().Str(decoys.FieldService, ServiceName).
			Str(decoys.FieldDecky, cfg.Decky).Str("persona", p.id).Logger(),
		limits:  cfg.Limits.WithDefaults(),
		metrics: cfg.Metrics,
		persona: p,
		// Dovecot 2.3.19's ssl_min_protocol default is TLSv1.2.
		tls:              tlsfp.Capture(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}),
		policy:           policy,
		penalty:          mailbox.NewPenalty(time.Now),
		disablePlaintext: disable,
		mechanisms:       mechs,
		now:              time.Now,
		failDelay: func() time.Duration {
			if p.fixedFailDelay > 0 {
				return p.fixedFailDelay
			}
			return failDelayMin + rand.N(failDelayMax-failDelayMin) //nolint:gosec // G404: a timing delay, not a secret
		},
	}, nil
}

// Serve accepts connections from ln until ctx ends; see decoys.ServeConns.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info().Str("address", ln.Addr().String()).Msg("pop3 decoy serving")
	err := decoys.ServeConns(ctx, ln, decoys.ServeOptions{
		Limits:  s.limits,
		Logger:  s.log,
		Decky:   s.decky,
		Service: ServiceName,
		Metrics: s.metrics,
		Emitter: s.emitter,
	}, s.handle)
	if err != nil {
		return fmt.Errorf("serve pop3 on %s: %w", ln.Addr(), err)
	}
	return nil
}

func checkOptions(opts map[string]string) error {
	known := append(login.Keys(), OptionDisablePlaintextAuth, OptionAuthMechanisms)
	for k := range opts {
		if !slices.Contains(known, k) {
			return fmt.Errorf("unknown option %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	return nil
}

func parseYesNo(opts map[string]string, key string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(opts[key])) {
	case "":
		return def, nil
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, fmt.Errorf("option %s: %q is not yes or no", key, opts[key])
}

func parseMechanisms(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return []string{"PLAIN"}, nil
	}
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' }) {
		m := strings.ToUpper(f)
		switch m {
		case "PLAIN", "LOGIN", "APOP":
		default:
			return nil, fmt.Errorf("option %s: unsupported mechanism %q (want plain, login, apop)", OptionAuthMechanisms, f)
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}
