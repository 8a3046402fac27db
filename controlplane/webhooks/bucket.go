package webhooks

import "time"

// bucket is a token bucket of deliveries per minute. A fresh bucket is
// full, so a quiet subscription can send a burst of perMinute at once.
// Only the subscription's worker uses it.
type bucket struct {
	perMinute int
	tokens    float64
	last      time.Time
}

func newBucket(perMinute int, now time.Time) *bucket {
	return &bucket{perMinute: perMinute, tokens: float64(perMinute), last: now}
}

// take spends a token at now when one is there and returns zero;
// otherwise it returns how long until one is, and spends nothing.
func (b *bucket) take(now time.Time) time.Duration {
	if b.perMinute <= 0 {
		return 0
	}
	rate := float64(b.perMinute) / float64(time.Minute)
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(b.perMinute), b.tokens+float64(elapsed)*rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	wait := time.Duration((1 - b.tokens) / rate)
	if wait <= 0 {
		wait = time.Nanosecond
	}
	return wait
}
