package ssh

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

// testSeed is a fixed 32-byte decky seed.
var testSeed = []byte("decnet ssh decoy test seed 00001")

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

// snapshot returns a copy of the events received so far.
func (r *recordingEmitter) snapshot() []*eventv1.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*eventv1.Event(nil), r.events...)
}

// ofKind returns the events of one kind, in order.
func (r *recordingEmitter) ofKind(kind string) []*eventv1.Event {
	var out []*eventv1.Event
	for _, ev := range r.snapshot() {
		if ev.GetKind() == kind {
			out = append(out, ev)
		}
	}
	return out
}

// waitFor blocks until n events of kind have arrived or 10 s pass. The
// limit only keeps a broken test from hanging; no assertion depends on it.
func (r *recordingEmitter) waitFor(t *testing.T, kind string, n int) []*eventv1.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := r.ofKind(kind); len(got) >= n {
			return got
		}
		select {
		case <-r.added:
		case <-deadline:
			t.Fatalf("got %d %s events, want %d; all events: %v", len(r.ofKind(kind)), kind, n, r.snapshot())
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
func startService(t testing.TB, adjust func(*Service)) *testService {
	t.Helper()
	emitter := newRecordingEmitter()
	svc, err := New(decoys.Config{
		Decky:   "decky-test",
		Seed:    testSeed,
		Emitter: emitter,
		Logger:  zerolog.Nop(),
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
