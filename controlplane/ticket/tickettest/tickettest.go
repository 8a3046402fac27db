// Package tickettest is the behaviour every ticket.Store must show, run
// against each implementation.
package tickettest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/ticket"
)

// Factory returns an empty store and a function that moves its clock
// forward by at least d: a fake clock's Advance, or a sleep for a store
// that expires tickets on a real clock.
type Factory func(t *testing.T) (s ticket.Store, advance func(d time.Duration))

// Run runs the suite.
func Run(t *testing.T, newStore Factory) {
	ctx := context.Background()

	t.Run("RedeemOnce", func(t *testing.T) {
		s, _ := newStore(t)
		tk := mustIssue(t, s, "session-1", time.Hour)
		got, err := s.Redeem(ctx, tk)
		if err != nil {
			t.Fatalf("Redeem: %v", err)
		}
		if got != "session-1" {
			t.Errorf("Redeem = %q, want session-1", got)
		}
		if _, err := s.Redeem(ctx, tk); !errors.Is(err, ticket.ErrInvalid) {
			t.Errorf("second Redeem: %v, want ErrInvalid", err)
		}
	})

	t.Run("Distinct", func(t *testing.T) {
		s, _ := newStore(t)
		a := mustIssue(t, s, "a", time.Hour)
		b := mustIssue(t, s, "b", time.Hour)
		if a == b {
			t.Fatal("two issues returned the same ticket")
		}
		for tk, want := range map[string]string{b: "b", a: "a"} {
			if got, err := s.Redeem(ctx, tk); err != nil || got != want {
				t.Errorf("Redeem = %q, %v; want %q", got, err, want)
			}
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		s, _ := newStore(t)
		tk := mustIssue(t, s, "v", time.Hour)
		for _, bad := range []string{"", "not-a-ticket", tk + "x", tk[:len(tk)-1]} {
			if _, err := s.Redeem(ctx, bad); !errors.Is(err, ticket.ErrInvalid) {
				t.Errorf("Redeem(%q): %v, want ErrInvalid", bad, err)
			}
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		s, advance := newStore(t)
		short := mustIssue(t, s, "short", 50*time.Millisecond)
		long := mustIssue(t, s, "long", time.Hour)
		advance(100 * time.Millisecond)
		if _, err := s.Redeem(ctx, short); !errors.Is(err, ticket.ErrInvalid) {
			t.Errorf("Redeem after the TTL: %v, want ErrInvalid", err)
		}
		if got, err := s.Redeem(ctx, long); err != nil || got != "long" {
			t.Errorf("Redeem of the unexpired ticket = %q, %v", got, err)
		}
	})

	t.Run("InvalidTTL", func(t *testing.T) {
		s, _ := newStore(t)
		if _, err := s.Issue(ctx, "v", 0); !errors.Is(err, ticket.ErrInvalidTTL) {
			t.Errorf("Issue with ttl 0: %v, want ErrInvalidTTL", err)
		}
	})

	t.Run("ConcurrentRedeem", func(t *testing.T) {
		s, _ := newStore(t)
		tk := mustIssue(t, s, "v", time.Hour)
		const racers = 16
		var (
			wg sync.WaitGroup
			mu sync.Mutex
			ok int
		)
		for range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Redeem(ctx, tk); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Errorf("%d of %d concurrent redemptions succeeded, want 1", ok, racers)
		}
	})
}

func mustIssue(t *testing.T, s ticket.Store, value string, ttl time.Duration) string {
	t.Helper()
	tk, err := s.Issue(context.Background(), value, ttl)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if tk == "" {
		t.Fatal("Issue returned an empty ticket")
	}
	return tk
}
