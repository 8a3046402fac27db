package smtp

import (
	"bufio"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// testSeed is a fixed 32-byte decky seed.
var testSeed = []byte("decnet smtp decoy test seed 0001")

// recordingEmitter stores every event it receives.
type recordingEmitter struct {
	mu     sync.Mutex
	events []*eventv1.Event
	added  chan struct{}
}

func newRecordingEmitter() *recordingEmitter {
	return &recordingEmitter{added: make(chan struct{}, 1)}
}

func (r *recordingEmitter) Emit(ev *eventv1.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.added <- struct{}{}:
	default:
	}
}

func (r *recordingEmitter) ofKind(kind string) []*eventv1.Event {
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

// waitFor blocks until n events of kind have arrived. The 20 s limit only
// keeps a broken test from hanging.
func (r *recordingEmitter) waitFor(t testing.TB, kind string, n int) []*eventv1.Event {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if got := r.ofKind(kind); len(got) >= n {
			return got
		}
		select {
		case <-r.added:
		case <-deadline:
			t.Fatalf("got %d %s events, want %d", len(r.ofKind(kind)), kind, n)
		}
	}
}

type testService struct {
	svc     *Service
	addr    string
	emitter *recordingEmitter
}

// startService serves a decoy on 127.0.0.1:0. Protocol delays are off
// unless keepDelays is set. adjust changes the Service before it serves.
func startService(t testing.TB, cfg decoys.Config, keepDelays bool, adjust ...func(*Service)) *testService {
	t.Helper()
	emitter := newRecordingEmitter()
	if cfg.Seed == nil {
		cfg.Seed = testSeed
	}
	if cfg.Decky == "" {
		cfg.Decky = "decky-test"
	}
	cfg.Emitter = emitter
	cfg.Logger = zerolog.Nop()

	svc, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !keepDelays {
		svc.sleep = func(context.Context, time.Duration) {}
	}
	for _, f := range adjust {
		f(svc)
	}

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
	return &testService{svc: svc, addr: ln.Addr().String(), emitter: emitter}
}

// client is a raw SMTP client for tests.
type client struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

func dialFrom(t testing.TB, source, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, source, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &client{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// readReply reads one complete reply (up to a line "NNN text"), or what
// arrives before the connection closes, marked "<EOF>".
func (c *client) readReply(timeout time.Duration) string {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	var b strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			if err == io.EOF || strings.Contains(err.Error(), "reset") {
				b.WriteString("<EOF>")
			} else {
				b.WriteString("<" + err.Error() + ">")
			}
			return b.String()
		}
		if len(line) >= 4 && line[3] == ' ' || len(line) < 4 {
			return b.String()
		}
	}
}

func (c *client) send(s string) {
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// exchange sends s and reads one reply.
func (c *client) exchange(s string) string {
	c.send(s)
	return c.readReply(10 * time.Second)
}

var (
	postfixQueueID = regexp.MustCompile(`queued as ([0-9A-F]{5}[0-9A-F]{5,8})\r\n`)
)
