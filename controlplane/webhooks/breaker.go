package webhooks

import (
	"sync"
	"time"
)

// BreakerState is the state of a subscription's circuit breaker.
type BreakerState string

// Breaker states.
const (
	// BreakerClosed delivers normally.
	BreakerClosed BreakerState = "closed"
	// BreakerOpen sends every notice straight to the dead letters until
	// the cooldown ends.
	BreakerOpen BreakerState = "open"
	// BreakerHalfOpen lets one probe through: success closes the
	// breaker, failure opens it for another cooldown.
	BreakerHalfOpen BreakerState = "half-open"
)

// breaker counts consecutive failed attempts of one subscription. It is
// safe for concurrent use, since List reads it while the worker writes.
type breaker struct {
	threshold int
	cooldown  time.Duration

	mu       sync.Mutex
	state    BreakerState
	failures int
	openedAt time.Time
}

func newBreaker(threshold int, cooldown time.Duration) *breaker {
	return &breaker{threshold: threshold, cooldown: cooldown, state: BreakerClosed}
}

// allow reports whether a delivery may be attempted at now, and whether
// it is the half-open probe, which gets a single attempt.
func (b *breaker) allow(now time.Time) (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerOpen:
		if now.Sub(b.openedAt) < b.cooldown {
			return false, false
		}
		b.state = BreakerHalfOpen
		return true, true
	case BreakerHalfOpen:
		return true, true
	}
	return true, false
}

func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state = BreakerClosed
	b.failures = 0
}

// failure records a failed attempt and reports whether the breaker is
// open afterwards.
func (b *breaker) failure(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.state == BreakerHalfOpen || b.failures >= b.threshold {
		b.state = BreakerOpen
		b.openedAt = now
	}
	return b.state == BreakerOpen
}

// probeNow moves an open breaker to half-open, so an operator's replay
// after fixing the receiver is tried at once.
func (b *breaker) probeNow() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen {
		b.state = BreakerHalfOpen
	}
}

// snapshot returns the state as seen at now: an open breaker whose
// cooldown has ended is reported half-open, since the next notice probes.
func (b *breaker) snapshot(now time.Time) (BreakerState, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen && now.Sub(b.openedAt) >= b.cooldown {
		return BreakerHalfOpen, b.failures
	}
	return b.state, b.failures
}
