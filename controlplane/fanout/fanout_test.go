package fanout

import (
	"fmt"
	"sync"
	"testing"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func events(ids ...string) []*apiv1.StoredEvent {
	out := make([]*apiv1.StoredEvent, 0, len(ids))
	for _, id := range ids {
		out = append(out, &apiv1.StoredEvent{Event: &eventv1.Event{Id: id}})
	}
	return out
}

// drain reads what is buffered in ch without blocking and reports whether
// ch is closed.
func drain(ch <-chan *apiv1.StoredEvent) (ids []string, closed bool) {
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return ids, true
			}
			ids = append(ids, ev.GetEvent().GetId())
		default:
			return ids, false
		}
	}
}

func TestHubDeliversInOrder(t *testing.T) {
	h := New()
	a, cancelA := h.Subscribe(10)
	defer cancelA()
	b, cancelB := h.Subscribe(10)
	defer cancelB()

	h.Publish(events("1", "2"))
	h.Publish(events("3"))

	for name, ch := range map[string]<-chan *apiv1.StoredEvent{"a": a, "b": b} {
		ids, closed := drain(ch)
		if fmt.Sprint(ids) != "[1 2 3]" {
			t.Errorf("subscriber %s received %v, want [1 2 3]", name, ids)
		}
		if closed {
			t.Errorf("subscriber %s channel closed, want open", name)
		}
	}
}

func TestHubDropsSlowSubscriber(t *testing.T) {
	h := New()
	slow, cancelSlow := h.Subscribe(2)
	defer cancelSlow()
	fast, cancelFast := h.Subscribe(10)
	defer cancelFast()

	h.Publish(events("1", "2", "3"))

	ids, closed := drain(slow)
	if !closed {
		t.Error("slow subscriber's channel is open, want closed")
	}
	if fmt.Sprint(ids) != "[1 2]" {
		t.Errorf("slow subscriber received %v before the drop, want [1 2]", ids)
	}
	if got := h.Dropped(); got != 1 {
		t.Errorf("Dropped() = %d, want 1", got)
	}
	if got := h.Subscribers(); got != 1 {
		t.Errorf("Subscribers() = %d, want 1", got)
	}

	ids, closed = drain(fast)
	if closed || fmt.Sprint(ids) != "[1 2 3]" {
		t.Errorf("fast subscriber received %v (closed %v), want [1 2 3] and open", ids, closed)
	}

	// Cancelling after the drop does not close the channel twice.
	cancelSlow()
}

func TestHubCancel(t *testing.T) {
	h := New()
	ch, cancel := h.Subscribe(0)
	if cap(ch) != DefaultBuffer {
		t.Errorf("buffer = %d, want DefaultBuffer %d", cap(ch), DefaultBuffer)
	}
	cancel()
	cancel()

	if _, closed := drain(ch); !closed {
		t.Error("channel open after cancel, want closed")
	}
	if got := h.Subscribers(); got != 0 {
		t.Errorf("Subscribers() = %d after cancel, want 0", got)
	}
	h.Publish(events("1"))
	if got := h.Dropped(); got != 0 {
		t.Errorf("Dropped() = %d, want 0: a cancelled subscriber is not dropped", got)
	}
}

func TestHubConcurrentPublishAndCancel(t *testing.T) {
	h := New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ch, cancel := h.Subscribe(4)
			for range 50 {
				h.Publish(events(fmt.Sprint(i)))
				drain(ch)
			}
			cancel()
		})
	}
	wg.Wait()
	if got := h.Subscribers(); got != 0 {
		t.Errorf("Subscribers() = %d after all cancelled, want 0", got)
	}
}
