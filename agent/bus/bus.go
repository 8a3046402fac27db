// Package bus is the agent's in-process event bus. Publishers hand events
// to it on NATS-style subjects (tokens separated by '.'), and subscribers
// receive the events whose subject matches their pattern, where '*' matches
// one token and '>' one or more trailing tokens. The Emitter puts the bus
// behind the non-blocking decoys.Emitter contract.
package bus

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Log field keys of this package.
const (
	fieldSubject = "subject"
	fieldPattern = "pattern"
	fieldPanic   = "panic"
	fieldDropped = "dropped"
	fieldEventID = "event_id"
)

// Handler receives one event. It runs on the publisher's goroutine, so it
// must return quickly, and it must treat ev as read-only because every
// matching subscriber receives the same value.
type Handler func(subject string, ev *eventv1.Event)

// Bus delivers published events to the matching subscribers, synchronously
// and in subscription order. It is safe for concurrent use.
type Bus struct {
	log zerolog.Logger

	// mu serialises Subscribe and unsubscribe. Publish reads subs without
	// it, so a handler may subscribe or unsubscribe without deadlocking.
	mu     sync.Mutex
	subs   atomic.Pointer[[]*subscription]
	nextID uint64
}

type subscription struct {
	id      uint64
	pattern string
	handler Handler
}

// New returns an empty bus.
func New(logger zerolog.Logger) *Bus {
	b := &Bus{log: logger.With().Str("component", "bus").Logger()}
	b.subs.Store(&[]*subscription{})
	return b
}

// Subscribe registers handler for the subjects that match pattern and
// returns the function that removes it. Calling that function more than
// once is harmless.
func (b *Bus) Subscribe(pattern string, handler Handler) (unsubscribe func(), err error) {
	if err := ValidatePattern(pattern); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	if handler == nil {
		return nil, fmt.Errorf("subscribe %q: handler is nil", pattern)
	}

	b.mu.Lock()
	defer b.mu.Unlock()

	b.nextID++
	sub := &subscription{id: b.nextID, pattern: pattern, handler: handler}
	old := *b.subs.Load()
	next := make([]*subscription, 0, len(old)+1)
	next = append(next, old...)
	next = append(next, sub)
	b.subs.Store(&next)

	var once sync.Once
	return func() { once.Do(func() { b.remove(sub.id) }) }, nil
}

func (b *Bus) remove(id uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()

	old := *b.subs.Load()
	next := make([]*subscription, 0, len(old))
	for _, s := range old {
		if s.id != id {
			next = append(next, s)
		}
	}
	b.subs.Store(&next)
}

// Publish calls every handler whose pattern matches subject. An invalid
// subject is logged and the event discarded, because a publisher bug must
// not reach subscribers that filter on well-formed subjects. A panicking
// handler is logged and the remaining handlers still run.
func (b *Bus) Publish(subject string, ev *eventv1.Event) {
	if err := ValidateSubject(subject); err != nil {
		b.log.Error().Err(err).Str(fieldEventID, ev.GetId()).Msg("publish rejected invalid subject")
		return
	}

	for _, s := range *b.subs.Load() {
		if Match(s.pattern, subject) {
			b.deliver(s, subject, ev)
		}
	}
}

func (b *Bus) deliver(s *subscription, subject string, ev *eventv1.Event) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error().
				Str(fieldPattern, s.pattern).
				Str(fieldSubject, subject).
				Str(fieldPanic, fmt.Sprint(r)).
				Msg("bus handler panicked")
		}
	}()
	s.handler(subject, ev)
}
