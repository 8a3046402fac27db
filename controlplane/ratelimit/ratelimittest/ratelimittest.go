// Package ratelimittest is the behaviour every auth.Limiter must show, run
// against each implementation.
package ratelimittest

import (
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/auth"
)

// Config is the size every Factory's limiter must have.
type Config struct {
	Burst    int
	Interval time.Duration
	Now      func() time.Time
}

// Factory returns a fresh limiter of cfg's size on cfg's clock.
type Factory func(t *testing.T, cfg Config) auth.Limiter

// clock is a fake clock that moves only when a case sets now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// Run runs the suite.
func Run(t *testing.T, newLimiter Factory) {
	t.Run("Burst", func(t *testing.T) {
		c := &clock{now: time.Unix(1_700_000_000, 0)}
		l := newLimiter(t, Config{Burst: 3, Interval: time.Minute, Now: c.Now})
		for i := range 3 {
			if !l.Allow("10.0.0.1") {
				t.Fatalf("attempt %d within the burst refused", i+1)
			}
		}
		if l.Allow("10.0.0.1") {
			t.Error("attempt after the burst allowed")
		}
		// Refused attempts cost nothing; a key's bucket is its own.
		if l.Allow("10.0.0.1") {
			t.Error("second attempt after the burst allowed")
		}
		if !l.Allow("10.0.0.2") {
			t.Error("another key refused")
		}
	})

	t.Run("Refill", func(t *testing.T) {
		c := &clock{now: time.Unix(1_700_000_000, 0)}
		l := newLimiter(t, Config{Burst: 2, Interval: time.Minute, Now: c.Now})
		tests := []struct {
			advance time.Duration
			allowed []bool
		}{
			{0, []bool{true, true, false}},
			{30 * time.Second, []bool{false}},
			{30 * time.Second, []bool{true, false}},
			{2 * time.Minute, []bool{true, true, false}},
			{10 * time.Minute, []bool{true, true, false}},
		}
		for i, tt := range tests {
			c.now = c.now.Add(tt.advance)
			for j, want := range tt.allowed {
				if got := l.Allow("k"); got != want {
					t.Errorf("step %d attempt %d: Allow = %v, want %v", i, j, got, want)
				}
			}
		}
	})
}
