package bridge

import (
	"context"
	"math/rand/v2"
	"time"
)

// Reconnect backoff bounds: the first retry waits about 100 ms, so a
// control-plane restart costs little, and the wait doubles up to 30 s, so
// a fleet of agents does not hammer a control plane that is down.
const (
	defaultBackoffMin = 100 * time.Millisecond
	defaultBackoffMax = 30 * time.Second
)

// backoff computes exponential delays with jitter: each delay is drawn
// uniformly from [d/2, d], where d doubles from min up to max, so agents
// that lost the control plane at the same moment spread their retries.
type backoff struct {
	min, max time.Duration
	random   func() float64
	next     time.Duration
}

func newBackoff(min, max time.Duration, random func() float64) *backoff {
	return &backoff{min: min, max: max, random: random, next: min}
}

// delay returns the next delay and doubles the following one.
func (b *backoff) delay() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.max)
	half := d / 2
	return half + time.Duration(b.random()*float64(d-half))
}

// reset starts over from the minimum delay.
func (b *backoff) reset() {
	b.next = b.min
}

// sleep waits for d or until ctx ends. It is the default Sleep of
// ClientConfig.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func defaultRandom() float64 {
	return rand.Float64() //nolint:gosec // G404: reconnect jitter needs no cryptographic strength
}
