// Package fanout delivers newly stored events to live subscribers, such as
// the API's event streams. Hub is the in-process implementation; a
// multi-replica deployment puts another Broker behind the same interface.
package fanout

import (
	"sync"
	"sync/atomic"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Hub is the in-process Broker.
type Hub struct {
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	dropped atomic.Uint64
}

type subscriber struct {
	ch chan *apiv1.StoredEvent
}

var _ Broker = (*Hub)(nil)

// New returns a Hub with no subscribers.
func New() *Hub {
	return &Hub{subs: make(map[*subscriber]struct{})}
}

// Publish sends evs, in order, to every subscriber that has room for them
// and drops the others.
func (h *Hub) Publish(evs []*apiv1.StoredEvent) {
	if len(evs) == 0 {
		return
	}

	// The lock is held while sending so that a cancel cannot close a
	// channel during a send. Every send is non-blocking, so the hold is
	// short.
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if !sub.offer(evs) {
			delete(h.subs, sub)
			close(sub.ch)
			h.dropped.Add(1)
		}
	}
}

// offer sends evs without blocking and reports whether all fitted.
func (s *subscriber) offer(evs []*apiv1.StoredEvent) bool {
	for _, ev := range evs {
		select {
		case s.ch <- ev:
		default:
			return false
		}
	}
	return true
}

// Subscribe registers a subscriber with room for buffer events, or
// DefaultBuffer when buffer is not positive.
func (h *Hub) Subscribe(buffer int) (<-chan *apiv1.StoredEvent, func()) {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	sub := &subscriber{ch: make(chan *apiv1.StoredEvent, buffer)}

	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()

	cancel := func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		// A dropped subscriber is gone from the map and its channel is
		// closed already.
		if _, ok := h.subs[sub]; ok {
			delete(h.subs, sub)
			close(sub.ch)
		}
	}
	return sub.ch, cancel
}

// Subscribers returns the number of current subscribers.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Dropped returns how many subscribers were dropped for falling behind
// since the Hub was created.
func (h *Hub) Dropped() uint64 {
	return h.dropped.Load()
}

// dropAll drops every subscriber, as if each had fallen behind. A broker
// that may have missed events calls it, so subscribers catch up through
// the event list instead of showing a silent gap.
func (h *Hub) dropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		delete(h.subs, sub)
		close(sub.ch)
		h.dropped.Add(1)
	}
}
