// Package ftp is the FTP decoy: a vsftpd, ProFTPD or Microsoft FTP
// Service persona that records every login and every command, serves a
// per-decky file tree over passive and active data connections, and keeps
// uploads in the quarantine. Active data connections go only to the
// address of the control connection's own peer.
package ftp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/login"
	"github.com/decnet/decnet/decoys/quarantine"
)

// ServiceName is the service name in every event of this decoy.
const ServiceName = "ftp"

// Option keys besides the login policy's ("login" and "credentials", see
// decoys/login).
const (
	// OptAnonymous "true" accepts anonymous logins (vsftpd's
	// anonymous_enable; Debian ships it off).
	OptAnonymous = "anonymous"
	// OptAnonymousUpload "true" lets anonymous logins store files in pub.
	OptAnonymousUpload = "anonymous_upload"
	// OptAdvertisedAddress is the IPv4 address put in 227 replies, for a
	// decky behind NAT (vsftpd's pasv_address).
	OptAdvertisedAddress = "advertised_address"
	// OptPasvMinPort and OptPasvMaxPort bound passive data ports.
	OptPasvMinPort = "pasv_min_port"
	OptPasvMaxPort = "pasv_max_port"
	// OptMaxUploadBytes caps one upload; the data connection is cut beyond
	// it. Default 256 MiB.
	OptMaxUploadBytes = "max_upload_bytes"
)

const defaultMaxUploadBytes = 256 << 20

// Timeouts of data connections, after vsftpd's defaults: accept_timeout
// and connect_timeout 60 s, data_connection_timeout 300 s without
// progress.
const (
	dataAcceptTimeout  = 60 * time.Second
	dataConnectTimeout = 60 * time.Second
	dataStallTimeout   = 300 * time.Second
)

// Caps on what one event carries.
const (
	maxEventLine = 1 << 10
	maxEventName = 1 << 10
	maxEventUser = 256
)

// Reasons in connection.closed.
const (
	reasonClientClosed = "client_closed"
	reasonQuit         = "quit"
	reasonTimeout      = "timeout"
	reasonLimit        = "limit"
	reasonAuth         = "auth_exhausted"
	reasonShutdown     = "shutdown"
	// reasonProtocol is a client that spoke another protocol, which
	// ProFTPD drops.
	reasonProtocol = "protocol_mismatch"
)

// Service is the FTP decoy. It implements decoys.Service.
type Service struct {
	decky      string
	emitter    decoys.Emitter
	log        zerolog.Logger
	limits     decoys.Limits
	metrics    *decoys.Metrics
	persona    *persona
	seed       seeder
	quarantine *quarantine.Store
	policy     authorizer
	uploads    *uploadStore
	// clients counts live control connections for STAT's "client count".
	clients atomic.Int64

	anonymous      bool
	anonUpload     bool
	advertised     netip.Addr
	pasvMin        int
	pasvMax        int
	maxUploadBytes int64

	// now stamps events and file times; tests replace it.
	now func() time.Time
	// acceptTimeout bounds the wait for a passive data connection; tests
	// shorten it.
	acceptTimeout time.Duration
	// failDelay returns the pause before a rejected login's reply; tests
	// replace it.
	failDelay func() time.Duration
	// tooLongPause is ProFTPD's pause after each over-long command read;
	// the fuzz target shortens it.
	tooLongPause time.Duration
}

var _ decoys.Service = (*Service)(nil)

// Keys returns the option keys New reads.
func Keys() []string {
	keys := append([]string{OptAnonymous, OptAnonymousUpload, OptAdvertisedAddress, OptPasvMinPort, OptPasvMaxPort,
		OptMaxUploadBytes}, login.Keys()...)
	sort.Strings(keys)
	return keys
}

// New returns the FTP decoy for cfg. It fails on a missing emitter, an
// unknown persona (ErrUnknownPersona) or a bad option.
func New(cfg decoys.Config) (*Service, error) {
	if cfg.Emitter == nil {
		return nil, errors.New("create ftp decoy: missing emitter")
	}
	p, err := newPersona(cfg.Persona)
	if err != nil {
		return nil, fmt.Errorf("create ftp decoy: %w", err)
	}
	for k := range cfg.Options {
		if !slices.Contains(Keys(), k) {
			return nil, fmt.Errorf("create ftp decoy: unknown option %q (known: %s)", k, strings.Join(Keys(), ", "))
		}
	}
	policy, err := login.Parse(cfg.Options, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("create ftp decoy: %w", err)
	}

	s := &Service{
		decky:          cfg.Decky,
		emitter:        cfg.Emitter,
		log:            cfg.Logger.With().Str(decoys.FieldService, ServiceName).Str(decoys.FieldDecky, cfg.Decky).Logger(),
		limits:         cfg.Limits.WithDefaults(),
		metrics:        cfg.Metrics,
		persona:        p,
		seed:           seeder{seed: cfg.Seed},
		quarantine:     cfg.Quarantine,
		policy:         policy,
		uploads:        newUploadStore(),
		maxUploadBytes: defaultMaxUploadBytes,
		now:            time.Now,
		acceptTimeout:  dataAcceptTimeout,
		tooLongPause:   proftpdTooLongPause,
	}
	s.failDelay = func() time.Duration {
		lo, hi := s.persona.failDelay[0], s.persona.failDelay[1]
		if hi <= lo {
			return lo
		}
		return lo + rand.N(hi-lo) //nolint:gosec // G404: a timing delay, not a secret
	}
	if err := s.parseOptions(cfg.Options); err != nil {
		return nil, fmt.Errorf("create ftp decoy: %w", err)
	}
	return s, nil
}

func (s *Service) parseOptions(opts map[string]string) error {
	var err error
	if s.anonymous, err = parseBool(opts, OptAnonymous); err != nil {
		return err
	}
	if s.anonUpload, err = parseBool(opts, OptAnonymousUpload); err != nil {
		return err
	}
	if v := opts[OptAdvertisedAddress]; v != "" {
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Unmap().Is4() {
			return fmt.Errorf("parse option %s: %q is not an IPv4 address", OptAdvertisedAddress, v)
		}
		s.advertised = a.Unmap()
	}
	if s.pasvMin, err = parsePort(opts, OptPasvMinPort); err != nil {
		return err
	}
	if s.pasvMax, err = parsePort(opts, OptPasvMaxPort); err != nil {
		return err
	}
	if (s.pasvMin == 0) != (s.pasvMax == 0) || s.pasvMin > s.pasvMax {
		return fmt.Errorf("parse options %s and %s: set both, min not above max", OptPasvMinPort, OptPasvMaxPort)
	}
	if v := opts[OptMaxUploadBytes]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("parse option %s: %q is not a positive byte count", OptMaxUploadBytes, v)
		}
		s.maxUploadBytes = n
	}
	return nil
}

func parseBool(opts map[string]string, key string) (bool, error) {
	switch opts[key] {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("parse option %s: %q is not true or false", key, opts[key])
}

func parsePort(opts map[string]string, key string) (int, error) {
	v := opts[key]
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1024 || n > 65535 {
		return 0, fmt.Errorf("parse option %s: %q is not a port from 1024 to 65535", key, v)
	}
	return n, nil
}

// Serve accepts control connections from ln until ctx ends; see
// decoys.ServeConns.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info().Str("persona", s.persona.id).Str("address", ln.Addr().String()).Msg("ftp decoy serving")
	err := decoys.ServeConns(ctx, ln, decoys.ServeOptions{
		Limits:  s.limits,
		Logger:  s.log,
		Decky:   s.decky,
		Service: ServiceName,
		Metrics: s.metrics,
		Emitter: s.emitter,
	}, s.handleConn)
	if err != nil {
		return fmt.Errorf("serve ftp decoy: %w", err)
	}
	return nil
}

func (s *Service) handleConn(ctx context.Context, conn net.Conn) {
	sess := decoys.NewSession(conn, s.decky, ServiceName, s.emitter)
	sess.Now = s.now
	started := s.now()
	sess.Opened()

	c := newControl(s, conn, sess)
	c.clientsAtStart = s.clients.Add(1)
	defer s.clients.Add(-1)
	reason := c.serve(ctx)
	c.closeData()

	sess.Closed(started, c.conn.received, c.conn.sent, reason)
	s.log.Debug().Str(decoys.FieldSession, sess.ID).Str(decoys.FieldSource, conn.RemoteAddr().String()).
		Str("reason", reason).Msg("ftp connection closed")
}

// idleTimeout is the product's idle timeout, capped by the agent's read
// limit.
func (s *Service) idleTimeout() time.Duration {
	return min(s.persona.idleTimeout, s.limits.ReadTimeout)
}

// countingConn counts the control connection's bytes.
type countingConn struct {
	net.Conn
	received, sent uint64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.received += uint64(n) //nolint:gosec // G115: n is never negative
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.sent += uint64(n) //nolint:gosec // G115: n is never negative
	return n, err
}

func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
