package tftp

import (
	"context"
	"net"
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

func startService(t testing.TB, cfg decoys.Config) *testService {
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
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.ServePacket(ctx, pc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServePacket: %v", err)
		}
	})
	return &testService{svc: svc, rec: rec, addr: pc.LocalAddr().String()}
}

// exchange sends pkt from source and returns the first reply and the
// port it came from; nil means no reply within wait.
func exchange(t *testing.T, source, addr string, pkt []byte, wait time.Duration) ([]byte, *net.UDPConn, *net.UDPAddr) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(source)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteToUDP(pkt, to); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 70000)
	n, from, err := conn.ReadFromUDP(buf)
	if err != nil {
		return nil, conn, nil
	}
	return buf[:n], conn, from
}
