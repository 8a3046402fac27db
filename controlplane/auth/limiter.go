package auth

import (
	"net/netip"
	"sync"
	"time"
)

// Limiter decides whether a login attempt from a key (a source address) may
// proceed. The in-process TokenBucket serves one replica; replicas behind
// one load balancer need a shared implementation.
type Limiter interface {
	Allow(key string) bool
}

// TokenBucketConfig sizes a TokenBucket. Zero fields take the defaults.
type TokenBucketConfig struct {
	// Burst is how many attempts a fresh key may make at once. Default 10.
	Burst int
	// Interval is the time to earn one more attempt. Default 6 s, so a
	// guesser gets 10 attempts a minute once the burst is spent.
	Interval time.Duration
	// MaxKeys bounds the memory the table uses. Default 65536.
	MaxKeys int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// TokenBucket is an in-process Limiter with one token bucket per key.
type TokenBucket struct {
	burst    float64
	interval time.Duration
	maxKeys  int
	now      func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

var _ Limiter = (*TokenBucket)(nil)

// NewTokenBucket returns an empty TokenBucket.
func NewTokenBucket(cfg TokenBucketConfig) *TokenBucket {
	if cfg.Burst <= 0 {
		cfg.Burst = 10
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 6 * time.Second
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 65536
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &TokenBucket{
		burst:    float64(cfg.Burst),
		interval: cfg.Interval,
		maxKeys:  cfg.MaxKeys,
		now:      cfg.Now,
		buckets:  make(map[string]*bucket),
	}
}

// Allow takes one token from key's bucket and reports whether there was
// one.
func (l *TokenBucket) Allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()

	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.sweep(now)
		}
		if len(l.buckets) >= l.maxKeys {
			// NOTE: with the table full of active keys, new keys are
			// refused rather than let through untracked, so a flood from
			// many addresses also locks out logins from new ones until
			// buckets refill.
			return false
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}

	l.refill(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *TokenBucket) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+float64(elapsed)/float64(l.interval))
	}
	b.at = now
}

// sweep deletes full buckets, which behave exactly like absent ones.
func (l *TokenBucket) sweep(now time.Time) {
	for key, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, key)
		}
	}
}

// sourceKey maps a peer address ("host:port" or a bare host) to the rate
// limit key: the IPv4 address, or the /64 of an IPv6 address, because one
// IPv6 host usually controls a whole /64.
func sourceKey(peer string) string {
	addrPort, err := netip.ParseAddrPort(peer)
	var addr netip.Addr
	if err == nil {
		addr = addrPort.Addr()
	} else if addr, err = netip.ParseAddr(peer); err != nil {
		return peer
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		prefix, err := addr.Prefix(64)
		if err == nil {
			return prefix.String()
		}
	}
	return addr.String()
}
