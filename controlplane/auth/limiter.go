package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Limiter decides whether a login attempt counted against a key (a source
// address, or a user name) may proceed. The in-process TokenBucket serves
// one replica; replicas behind one load balancer need a shared
// implementation.
type Limiter interface {
	Allow(key string) bool
}

// allowAttempt takes one attempt from the source's bucket and then one
// from the user name's, and reports whether both had one. The user name's
// bucket stops a password spray that rotates source addresses against one
// account. It is consulted whether or not the user exists, before any
// store lookup, so a refusal looks the same for every name and for either
// limit.
//
// The source is checked first, and a refused source takes nothing from the
// user's bucket. So one address alone cannot drain it past its own burst,
// and user-name keys, which anyone can invent, are created no faster than
// the source limits allow.
func (a *Authenticator) allowAttempt(source, username string) bool {
	if !a.limiter.Allow(sourceKey(source)) {
		return false
	}
	return a.limiter.Allow(usernameKey(username))
}

// usernameKeyPrefix keeps user-name keys apart from source keys, which
// are IP addresses or /64 prefixes and so never start with it.
const usernameKeyPrefix = "user:"

// usernameKey maps a user name, as typed by the caller, to its rate limit
// key. The name is folded to lower case, so that case variants share one
// bucket. It is hashed, so that every key has the same small size however
// long the name, and a shared limiter such as Redis never stores user
// names in clear.
func usernameKey(username string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(username)))
	// 128 bits of the hash: collisions between real names are negligible.
	return usernameKeyPrefix + hex.EncodeToString(sum[:16])
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
