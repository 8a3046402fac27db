// Package topics is the control plane's in-process publisher: components
// publish messages on NATS-style subjects, such as agent.<id>.status, and
// subscribers receive those whose subject matches their pattern.
package topics

import (
	"fmt"
	"sync"

	"github.com/decnet/decnet/subject"
)

// Handler receives one message. It runs on the publisher's goroutine, so it
// must return quickly and must not call Publish.
type Handler[T any] func(subject string, msg T)

// Publisher delivers messages of type T to matching subscribers. The zero
// value is not usable; call New.
type Publisher[T any] struct {
	mu     sync.RWMutex
	nextID uint64
	subs   map[uint64]subscription[T]
}

type subscription[T any] struct {
	pattern string
	handler Handler[T]
}

// New returns a publisher without subscribers.
func New[T any]() *Publisher[T] {
	return &Publisher[T]{subs: map[uint64]subscription[T]{}}
}

// Subscribe registers handler for subjects matching pattern and returns a
// function that removes it.
func (p *Publisher[T]) Subscribe(pattern string, handler Handler[T]) (unsubscribe func(), err error) {
	if err := subject.ValidatePattern(pattern); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	id := p.nextID
	p.subs[id] = subscription[T]{pattern: pattern, handler: handler}
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.subs, id)
	}, nil
}

// Subscribers returns the number of current subscriptions, so a caller
// can tell when a component that subscribes in its Run is listening.
func (p *Publisher[T]) Subscribers() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.subs)
}

// Publish delivers msg to every subscriber whose pattern matches s, in no
// particular order, and returns after all handlers returned.
func (p *Publisher[T]) Publish(s string, msg T) error {
	if err := subject.Validate(s); err != nil {
		return fmt.Errorf("publish: %w", err)
	}

	p.mu.RLock()
	handlers := make([]Handler[T], 0, len(p.subs))
	for _, sub := range p.subs {
		if subject.Match(sub.pattern, s) {
			handlers = append(handlers, sub.handler)
		}
	}
	p.mu.RUnlock()

	for _, h := range handlers {
		h(s, msg)
	}
	return nil
}
