// Package smtp is the SMTP decoy. It imitates a mail server persona
// (Postfix on Debian 12 by default, Exim 4.96 or Exchange 2019) on the
// wire: greeting, EHLO keywords, every reply text, error counting,
// pipelining, STARTTLS with a per-decky certificate, and SASL PLAIN, LOGIN
// and CRAM-MD5. Every credential is recorded as an auth.attempt and
// refused with the product's delay. Mail for the decky's own users is
// accepted, kept in the quarantine under the size limit and reported as
// mail.received; relaying is refused.
//
// The command engine (conn.go) follows Postfix's smtpd; persona.go holds
// the per-product data.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/mailbox"
	"github.com/decnet/decnet/decoys/ntlm"
	"github.com/decnet/decnet/decoys/quarantine"
	"github.com/decnet/decnet/decoys/tlsfp"
)

// ServiceName is the service name in events and logs.
const ServiceName = "smtp"

// Option keys read from decoys.Config.Options.
const (
	// OptionHostname overrides the seeded host name ("mail.example.com").
	OptionHostname = "hostname"
	// OptionUsers adds local users, comma separated, to the seeded ones.
	OptionUsers = "users"
	// OptionTLS set to "off" removes STARTTLS.
	OptionTLS = "tls"
)

// Log field keys of this package.
const (
	fieldPersona  = "persona"
	fieldAddress  = "address"
	fieldReason   = "reason"
	fieldHostname = "hostname"
)

// Service is the SMTP decoy of one decky. It implements decoys.Service.
type Service struct {
	decky      string
	emitter    decoys.Emitter
	log        zerolog.Logger
	limits     decoys.Limits
	metrics    *decoys.Metrics
	quarantine *quarantine.Store
	persona    persona
	id         identity
	ntlmTarget ntlm.Target
	users      map[string]bool
	tlsConfig  *tls.Config
	penalties  *penaltyTable
	commands   []command

	// inode is the base of the queue file inode numbers in queue ids.
	inode atomic.Uint64

	// now is the clock; tests replace it.
	now func() time.Time
	// sleep waits for a protocol delay; tests replace it.
	sleep func(ctx context.Context, d time.Duration)
	// delay draws a delay from a range; tests replace it.
	delay func(delayRange) time.Duration
}

var _ decoys.Service = (*Service)(nil)

// New returns the SMTP decoy for cfg. It fails on an unknown persona
// (ErrUnknownPersona), a missing emitter, a seed shorter than 16 bytes or
// an unknown option. Deriving the RSA key of the TLS certificate takes
// roughly 0.1 s (TestPerDeckyValues builds three services in 0.22 s on a
// 2-core VM), so New belongs at startup.
func New(cfg decoys.Config) (*Service, error) {
	p, err := lookupPersona(cfg.Persona)
	if err != nil {
		return nil, fmt.Errorf("create smtp decoy: %w", err)
	}
	if cfg.Emitter == nil {
		return nil, errors.New("create smtp decoy: missing emitter")
	}
	if len(cfg.Seed) < minSeedBytes {
		return nil, fmt.Errorf("create smtp decoy: seed has %d bytes, need at least %d", len(cfg.Seed), minSeedBytes)
	}
	for k := range cfg.Options {
		if k != OptionHostname && k != OptionUsers && k != OptionTLS {
			return nil, fmt.Errorf("create smtp decoy: unknown option %q (known: %s, %s, %s)", k, OptionHostname, OptionUsers, OptionTLS)
		}
	}
	hostname := cfg.Options[OptionHostname]
	if hostname != "" && (!validDomain(hostname) || strings.HasPrefix(hostname, "[")) {
		return nil, fmt.Errorf("create smtp decoy: option %s: invalid host name %q", OptionHostname, hostname)
	}
	id := newIdentity(cfg.Seed, hostname)

	users := make(map[string]bool)
	for _, u := range slices.Concat(debianAccounts, seededUsers(cfg.Seed), strings.Split(cfg.Options[OptionUsers], ",")) {
		if u = strings.ToLower(strings.TrimSpace(u)); u != "" {
			users[u] = true
		}
	}

	s := &Service{
		decky:      cfg.Decky,
		emitter:    cfg.Emitter,
		limits:     cfg.Limits.WithDefaults(),
		metrics:    cfg.Metrics,
		quarantine: cfg.Quarantine,
		persona:    p,
		id:         id,
		ntlmTarget: ntlm.TargetFor(cfg.Seed, mailbox.HostName(cfg.Decky)),
		users:      users,
		penalties:  newPenaltyTable(p.dovecotPenalty),
		now:        time.Now,
		sleep:      nil,
		delay: func(r delayRange) time.Duration {
			if r.max <= r.min {
				return r.min
			}
			return r.min + rand.N(r.max-r.min) //nolint:gosec // G404: a timing delay, not a secret
		},
	}
	s.sleep = s.sleepFor
	s.commands = commandTable(&s.persona)
	s.inode.Store(0x20000 + deriveUint(cfg.Seed, labelInode, 0, 0x7e0000))

	switch cfg.Options[OptionTLS] {
	case "", "on":
		cert, err := snakeoilCertificate(cfg.Seed, id.hostname)
		if err != nil {
			return nil, fmt.Errorf("create smtp decoy: %w", err)
		}
		s.tlsConfig = tlsfp.Capture(p.tlsConfig(cert))
	case "off":
	default:
		return nil, fmt.Errorf("create smtp decoy: option %s must be on or off, not %q", OptionTLS, cfg.Options[OptionTLS])
	}

	s.log = cfg.Logger.With().
		Str(decoys.FieldService, ServiceName).
		Str(decoys.FieldDecky, cfg.Decky).
		Str(fieldPersona, p.id).
		Logger()
	return s, nil
}

// Hostname returns the host name the decoy announces.
func (s *Service) Hostname() string { return s.id.hostname }

// Serve accepts SMTP connections on ln until ctx ends, then returns nil.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info().Str(fieldAddress, ln.Addr().String()).Str(fieldHostname, s.id.hostname).Msg("smtp decoy serving")
	err := decoys.ServeConns(ctx, ln, decoys.ServeOptions{
		Limits:  s.limits,
		Logger:  s.log,
		Decky:   s.decky,
		Service: ServiceName,
		Metrics: s.metrics,
		Emitter: s.emitter,
	}, s.handle)
	if err != nil {
		return fmt.Errorf("serve smtp on %s: %w", ln.Addr(), err)
	}
	s.log.Info().Str(fieldAddress, ln.Addr().String()).Msg("smtp decoy stopped")
	return nil
}

func (s *Service) handle(ctx context.Context, nc net.Conn) {
	started := s.now()
	idle := min(s.persona.idleTimeout, s.limits.ReadTimeout)
	metered := &meteredConn{Conn: nc, readTimeout: idle, writeTimeout: s.limits.WriteTimeout}
	sess := decoys.NewSession(nc, s.decky, ServiceName, s.emitter)
	sess.Now = s.now
	sess.Opened()

	peer := netip.Addr{}
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		peer = ap.Addr().Unmap()
	}
	p := s.persona
	c := &conn{
		ctx:     ctx,
		s:       s,
		p:       &p,
		sess:    sess,
		metered: metered,
		host:    hostView{identity: s.id, peer: peer, now: s.now()},
	}
	c.setStream(metered)
	reason := c.serve()
	if c.msg != nil {
		c.msg.discard()
	}

	sess.Closed(started, metered.received.Load(), metered.sent.Load(), reason)
	s.log.Debug().Str(decoys.FieldSession, sess.ID).Str(decoys.FieldSource, nc.RemoteAddr().String()).
		Str(fieldReason, reason).Msg("smtp connection closed")
}

// isUser reports whether local names a mailbox or alias here. Postfix
// folds case for the lookup and strips an address extension after the
// recipient_delimiter "+".
func (s *Service) isUser(local string) bool {
	local = strings.ToLower(local)
	if i := strings.IndexByte(local, '+'); i > 0 && !s.persona.noDelimiter {
		local = local[:i]
	}
	return s.users[local]
}

// queueID returns a Postfix short queue id: the microseconds of the
// current second as five hex digits, then the queue file's inode number
// in hex. Inode numbers grow by small random steps from a seeded base,
// as files are created in the queue.
func (s *Service) queueID() string {
	inode := s.inode.Add(1 + rand.Uint64N(40)) //nolint:gosec // G404: a plausible inode step, not a secret
	return fmt.Sprintf("%05X%X", s.now().Nanosecond()/1000, inode)
}

// penaltyTable imitates Dovecot's authentication penalty (auth-penalty.c
// and anvil's penalty.c), kept per client address across connections.
// Each failure raises the address's penalty by one, up to four, unless the
// same user and password failed recently. A lookup first lets the penalty
// decay with the time since the last raise. The next attempt waits 2 s
// doubled per penalty point, at most 15 s. The table keeps at most
// penaltyMaxEntries addresses.
type penaltyTable struct {
	enabled bool
	now     func() time.Time

	mu      sync.Mutex
	entries map[netip.Addr]*penaltyEntry
}

type penaltyEntry struct {
	penalty   int
	last      time.Time
	checksums []uint32
}

// Dovecot's constants: AUTH_PENALTY_INIT_SECS, AUTH_PENALTY_MAX_SECS,
// AUTH_PENALTY_MAX_PENALTY, and the number of recent credential checksums
// anvil keeps per address.
const (
	penaltyInitSecs   = 2
	penaltyMaxSecs    = 15
	penaltyMax        = 4
	penaltyChecksums  = 8
	penaltyExpiry     = (penaltyInitSecs + 4 + 8 + penaltyMaxSecs) * time.Second
	penaltyMaxEntries = 4096
)

func newPenaltyTable(enabled bool) *penaltyTable {
	return &penaltyTable{enabled: enabled, now: time.Now, entries: make(map[netip.Addr]*penaltyEntry)}
}

func penaltySecs(p int) time.Duration {
	secs := penaltyInitSecs
	for range p {
		secs *= 2
	}
	return time.Duration(min(secs, penaltyMaxSecs)) * time.Second
}

// lookup returns the address's current penalty after decay and the wait
// it imposes.
func (t *penaltyTable) lookup(addr netip.Addr) (int, time.Duration) {
	if t == nil || !t.enabled {
		return 0, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[addr]
	if !ok {
		return 0, 0
	}
	p := e.penalty
	elapsed := t.now().Sub(e.last)
	for drop := penaltyMax; p > 0; drop-- {
		if elapsed < penaltySecs(drop) {
			break
		}
		p--
	}
	if p == 0 {
		return 0, 0
	}
	return p, penaltySecs(p)
}

// fail records a failure from addr whose lookup gave penalty p. checksum
// identifies the user and password (0 when the mechanism has no
// password, as with CRAM-MD5).
func (t *penaltyTable) fail(addr netip.Addr, p int, checksum uint32) {
	if t == nil || !t.enabled {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	e, ok := t.entries[addr]
	if !ok {
		if len(t.entries) >= penaltyMaxEntries {
			for a, old := range t.entries {
				if now.Sub(old.last) > penaltyExpiry {
					delete(t.entries, a)
				}
			}
			if len(t.entries) >= penaltyMaxEntries {
				return
			}
		}
		e = &penaltyEntry{}
		t.entries[addr] = e
	}
	value := min(p+1, penaltyMax)
	if checksum != 0 && slices.Contains(e.checksums, checksum) {
		e.penalty = value - 1
		return
	}
	if checksum != 0 {
		e.checksums = append(e.checksums, checksum)
		if len(e.checksums) > penaltyChecksums {
			e.checksums = e.checksums[1:]
		}
	}
	e.penalty = value
	e.last = now
}

// meteredConn counts bytes and pushes the deadlines forward before every
// read and write, so a silent client times out after readTimeout.
type meteredConn struct {
	net.Conn
	readTimeout  time.Duration
	writeTimeout time.Duration

	received atomic.Uint64
	sent     atomic.Uint64
}

func (c *meteredConn) Read(p []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(c.readTimeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	c.received.Add(uint64(n)) //nolint:gosec // G115: n is never negative
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	if err := c.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	c.sent.Add(uint64(n)) //nolint:gosec // G115: n is never negative
	return n, err
}
