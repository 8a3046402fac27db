package imap

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/mailbox"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

var testNow = time.Date(2026, time.March, 4, 5, 6, 7, 0, time.UTC)

var testSeed = []byte("imap-test-seed-0123456789")

type testService struct {
	addr string
	rec  *recorder
	svc  *Service
}

func startService(t *testing.T, cfg decoys.Config) *testService {
	t.Helper()
	rec := &recorder{added: make(chan struct{}, 1)}
	cfg.Emitter = rec
	cfg.Logger = zerolog.Nop()
	if cfg.Decky == "" {
		cfg.Decky = "mail01"
	}
	if cfg.Seed == nil {
		cfg.Seed = testSeed
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	svc.now = func() time.Time { return testNow }
	svc.failDelay = func() time.Duration { return 0 }
	svc.penalty = mailbox.NewPenalty(hourlyClock())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v", err)
		}
	})
	return &testService{addr: ln.Addr().String(), rec: rec, svc: svc}
}

// client is a scripted protocol client.
type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dial(t *testing.T, src, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	// The deadline only guards against a hung test.
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &client{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	l, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read line: %v (have %q)", err, l)
	}
	return l
}

// expect reads one line per want and compares them, CRLF included.
func (c *client) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		if got := c.line(); got != w {
			c.t.Fatalf("got %q, want %q", got, w)
		}
	}
}

// expectBlock reads the lines of block, CRLF-terminated.
func (c *client) expectBlock(block string) {
	c.t.Helper()
	for _, l := range strings.SplitAfter(block, "\r\n") {
		if l != "" {
			c.expect(l)
		}
	}
}

// rest reads until the server closes.
func (c *client) rest() string {
	var b strings.Builder
	for {
		l, err := c.br.ReadString('\n')
		b.WriteString(l)
		if err != nil {
			return b.String()
		}
	}
}

func (c *client) startTLS() *tls.ConnectionState {
	c.t.Helper()
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // G402: the decoy's self-signed certificate
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("tls handshake: %v", err)
	}
	c.conn = tc
	c.br = bufio.NewReader(tc)
	st := tc.ConnectionState()
	return &st
}

type recorder struct {
	mu     sync.Mutex
	events []*eventv1.Event
	added  chan struct{}
}

func (r *recorder) Emit(ev *eventv1.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.added <- struct{}{}:
	default:
	}
}

func (r *recorder) byKind(kind string) []*eventv1.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*eventv1.Event
	for _, ev := range r.events {
		if ev.GetKind() == kind {
			out = append(out, ev)
		}
	}
	return out
}

func (r *recorder) waitKind(t *testing.T, kind string, n int) []*eventv1.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if evs := r.byKind(kind); len(evs) >= n {
			return evs
		}
		select {
		case <-r.added:
		case <-deadline:
			t.Fatalf("waited for %d %s events, have %d", n, kind, len(r.byKind(kind)))
		}
	}
}

type wantAuth struct {
	mechanism, principal, secret string
	accepted                     bool
}

func checkAuths(t *testing.T, rec *recorder, src string, want ...wantAuth) {
	t.Helper()
	got := rec.waitKind(t, decoys.KindAuthAttempt, len(want))
	if len(got) != len(want) {
		t.Fatalf("%d auth attempts, want %d", len(got), len(want))
	}
	for i, w := range want {
		a := got[i].GetAuthAttempt()
		outcome := eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
		if w.accepted {
			outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
		}
		if a.GetMechanism() != w.mechanism || a.GetPrincipal() != w.principal || string(a.GetSecret()) != w.secret || a.GetOutcome() != outcome {
			t.Errorf("attempt %d = %s %q %q %v, want %s %q %q %v", i, a.GetMechanism(), a.GetPrincipal(), a.GetSecret(), a.GetOutcome(),
				w.mechanism, w.principal, w.secret, outcome)
		}
		if s := got[i].GetSource().GetAddress(); s != src {
			t.Errorf("attempt %d from %s, want %s", i, s, src)
		}
	}
}

// hourlyClock advances an hour per reading, so every penalty has decayed
// by the next login and tests never wait for one.
func hourlyClock() func() time.Time {
	var mu sync.Mutex
	t := testNow
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Hour)
		return t
	}
}
