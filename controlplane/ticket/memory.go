package ticket

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultMaxTickets bounds the live tickets of a Memory store that was
// given no bound.
const DefaultMaxTickets = 65536

// ErrFull is returned by Memory.Issue when MaxTickets unexpired tickets
// are outstanding.
var ErrFull = errors.New("too many outstanding tickets")

// MemoryConfig configures a Memory store. Zero fields take the defaults.
type MemoryConfig struct {
	// MaxTickets bounds the outstanding tickets. Default DefaultMaxTickets.
	MaxTickets int
	// Now is the clock for expiry. Default time.Now.
	Now func() time.Time
}

// Memory is the in-process Store.
type Memory struct {
	max int
	now func() time.Time

	mu      sync.Mutex
	tickets map[string]memoryTicket
}

type memoryTicket struct {
	value   string
	expires time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory store.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.MaxTickets <= 0 {
		cfg.MaxTickets = DefaultMaxTickets
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Memory{max: cfg.MaxTickets, now: cfg.Now, tickets: make(map[string]memoryTicket)}
}

// Issue returns a new ticket for value.
func (m *Memory) Issue(_ context.Context, value string, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("issue ticket: %w", ErrInvalidTTL)
	}
	ticket, key, err := newTicket()
	if err != nil {
		return "", err
	}

	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.tickets) >= m.max {
		m.sweep(now)
	}
	// Unlike a cache entry, a live ticket is never evicted: the holder
	// would be refused with no way to tell why.
	if len(m.tickets) >= m.max {
		return "", fmt.Errorf("issue ticket: %w", ErrFull)
	}
	m.tickets[key] = memoryTicket{value: value, expires: now.Add(ttl)}
	return ticket, nil
}

// Redeem returns the value of ticket and deletes it.
func (m *Memory) Redeem(_ context.Context, ticket string) (string, error) {
	key := keyOf(ticket)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tickets[key]
	if !ok {
		return "", ErrInvalid
	}
	delete(m.tickets, key)
	if !now.Before(t.expires) {
		return "", ErrInvalid
	}
	return t.value, nil
}

// sweep deletes expired tickets. The caller holds mu.
func (m *Memory) sweep(now time.Time) {
	for k, t := range m.tickets {
		if !now.Before(t.expires) {
			delete(m.tickets, k)
		}
	}
}
