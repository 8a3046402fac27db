package ticket_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/ticket"
	"github.com/decnet/decnet/controlplane/ticket/tickettest"
)

// fakeClock is a clock that moves only on Advance.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemory(t *testing.T) {
	tickettest.Run(t, func(t *testing.T) (ticket.Store, func(time.Duration)) {
		clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
		return ticket.NewMemory(ticket.MemoryConfig{Now: clock.Now}), clock.Advance
	})
}

func TestMemoryFull(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := ticket.NewMemory(ticket.MemoryConfig{MaxTickets: 1, Now: clock.Now})

	if _, err := s.Issue(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Issue(ctx, "b", time.Minute); !errors.Is(err, ticket.ErrFull) {
		t.Fatalf("Issue over the bound: %v, want ErrFull", err)
	}
	// Once the first ticket expired, its slot is free again.
	clock.Advance(time.Minute)
	if _, err := s.Issue(ctx, "b", time.Minute); err != nil {
		t.Errorf("Issue after expiry: %v", err)
	}
}
