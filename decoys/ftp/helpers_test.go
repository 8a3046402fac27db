package ftp

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// recorder is an Emitter that keeps every event for assertions.
type recorder struct {
	mu     sync.Mutex
	events []*eventv1.Event
	added  chan struct{}
}

func newRecorder() *recorder { return &recorder{added: make(chan struct{}, 1)} }

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

// waitKind waits until n events of kind were recorded. The deadline only
// guards against a hung test.
func (r *recorder) waitKind(t *testing.T, kind string, n int) []*eventv1.Event {
	t.Helper()
	deadline := time.After(20 * time.Second)
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

type testService struct {
	svc  *Service
	rec  *recorder
	addr string
}

// startService serves the decoy on a loopback port with no login delay.
func startService(t *testing.T, cfg decoys.Config) *testService {
	t.Helper()
	return startServiceOn(t, cfg, "127.0.0.1")
}

// startServiceOn serves the decoy on a free port of the loopback address
// host with no login delay.
func startServiceOn(t *testing.T, cfg decoys.Config, host string) *testService {
	t.Helper()
	rec := newRecorder()
	cfg.Emitter = rec
	cfg.Logger = zerolog.Nop()
	if cfg.Seed == nil {
		cfg.Seed = []byte("test-seed")
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	svc.failDelay = func() time.Duration { return 0 }
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testService{svc: svc, rec: rec, addr: ln.Addr().String()}
}

// client is a raw FTP control connection.
type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialFrom(t *testing.T, source, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, source, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &client{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// reply reads one complete reply, multi-line ones included, with its
// CR LF endings.
func (c *client) reply() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	var out strings.Builder
	first := ""
	for {
		line, err := c.br.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			if out.Len() == 0 {
				return "<EOF>"
			}
			return out.String() + "<EOF>"
		}
		if first == "" {
			first = line
			if len(line) >= 4 && line[3] == ' ' {
				return out.String()
			}
			continue
		}
		if len(line) >= 4 && line[:3] == first[:3] && line[3] == ' ' {
			return out.String()
		}
	}
}

func (c *client) cmd(line string) string {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatalf("write %q: %v", line, err)
	}
	return c.reply()
}
