// Package fanouttest is the behaviour every fanout.Broker must show, run
// against each implementation.
package fanouttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/fanout"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Factory returns two brokers as two replicas would hold them, ready to
// carry events between each other. An in-process broker returns itself
// twice.
type Factory func(t *testing.T) (a, b fanout.Broker)

// receiveTimeout bounds the wait for an event that must arrive. It is a
// hang guard, not a latency assertion.
const receiveTimeout = 10 * time.Second

// Run runs the suite.
func Run(t *testing.T, newPair Factory) {
	t.Run("EveryReplicaOnce", func(t *testing.T) {
		a, b := newPair(t)
		chA, cancelA := a.Subscribe(0)
		defer cancelA()
		chB, cancelB := b.Subscribe(0)
		defer cancelB()

		tests := []struct {
			name string
			from fanout.Broker
		}{
			{"from a", a},
			{"from b", b},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				batch := events(tt.name, 3)
				tt.from.Publish(batch)
				// A duplicate of the batch would arrive before the marker.
				marker := events(tt.name+" marker", 1)
				tt.from.Publish(marker)
				want := append(batch, marker...)
				for sub, ch := range map[string]<-chan *apiv1.StoredEvent{"a": chA, "b": chB} {
					for i, w := range want {
						got := receive(t, ch)
						if got.GetEvent().GetId() != w.GetEvent().GetId() {
							t.Fatalf("subscriber on %s: event %d is %s, want %s", sub, i, got.GetEvent().GetId(), w.GetEvent().GetId())
						}
					}
				}
			})
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		a, _ := newPair(t)
		ch, cancel := a.Subscribe(1)
		cancel()
		cancel()
		if _, ok := <-ch; ok {
			t.Error("channel delivered an event after cancel")
		}
		// Publishing to no subscriber must not block or panic.
		a.Publish(events("after cancel", 2))
	})

	t.Run("SlowSubscriberDropped", func(t *testing.T) {
		a, _ := newPair(t)
		ch, cancel := a.Subscribe(1)
		defer cancel()
		a.Publish(events("overflow", 3))
		n := 0
		for range ch {
			n++
		}
		if n != 1 {
			t.Errorf("dropped subscriber received %d events before its channel closed, want 1", n)
		}
	})
}

func receive(t *testing.T, ch <-chan *apiv1.StoredEvent) *apiv1.StoredEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return ev
	case <-time.After(receiveTimeout):
		t.Fatalf("no event within %s", receiveTimeout)
		return nil
	}
}

func events(prefix string, n int) []*apiv1.StoredEvent {
	out := make([]*apiv1.StoredEvent, n)
	for i := range out {
		out[i] = &apiv1.StoredEvent{
			Event:      &eventv1.Event{Id: fmt.Sprintf("%s-%d", prefix, i), Kind: "auth.attempt"},
			AttackerId: "attacker-1",
		}
	}
	return out
}
