package httpdecoy

import (
	"sync"
	"testing"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// recorder is an Emitter that keeps every event for assertions.
type recorder struct {
	mu     sync.Mutex
	events []*eventv1.Event
	added  chan struct{}
}

func newRecorder() *recorder {
	return &recorder{added: make(chan struct{}, 1)}
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

// byKind returns the recorded events of kind, in emission order.
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

// waitKind waits until n events of kind were recorded and returns them.
// The deadline only guards against a hung test.
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
