package telnet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// testSeed is a fixed 32-byte decky seed.
var testSeed = []byte("decnet telnet decoy test seed 01")

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
// keeps a broken test from hanging; no assertion depends on it.
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

// testService is a Service serving on a loopback listener.
type testService struct {
	svc     *Service
	addr    string
	emitter *recordingEmitter
}

// startService starts a Service on 127.0.0.1:0 with no failure delay.
// adjust may change the Service before it serves.
func startService(t testing.TB, persona string, opts map[string]string, adjust func(*Service)) *testService {
	t.Helper()
	emitter := newRecordingEmitter()
	svc, err := New(decoys.Config{
		Decky:   "decky-test",
		Seed:    testSeed,
		Persona: persona,
		Emitter: emitter,
		Logger:  zerolog.Nop(),
		Options: opts,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	svc.failureDelay = func(delayRange) time.Duration { return 0 }
	if adjust != nil {
		adjust(svc)
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

// dialFrom connects to addr from the loopback source address src.
func dialFrom(t testing.TB, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// readUntil reads from conn until the bytes read end with suffix, the
// connection closes, or 10 s pass; it returns what it read.
func readUntil(t testing.TB, conn net.Conn, suffix string) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !bytes.HasSuffix(got, []byte(suffix)) {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return got
			}
			t.Fatalf("read until %q: %v after %q", suffix, err, got)
		}
	}
	return got
}

// mask replaces the parts of a transcript that differ between hosts by
// design: the kernel release, the host name and the pts number.
func mask(b []byte, hostnames ...string) string {
	s := string(b)
	if i := strings.Index(s, "\r\nLinux "); i >= 0 {
		if j := strings.Index(s[i:], ")\r\n\r\n"); j >= 0 {
			s = s[:i] + "\r\nLinux <release> (<host>) (pts/N)\r\n\r\n" + s[i+j+len(")\r\n\r\n"):]
		}
	}
	for _, h := range hostnames {
		s = strings.ReplaceAll(s, h+" login: ", "<host> login: ")
	}
	return s
}
