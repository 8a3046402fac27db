// Package ratelimit holds the login rate limit shared by control plane
// replicas. The consumer interface is auth.Limiter; auth.TokenBucket is the
// in-process implementation and Redis the shared one.
package ratelimit

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/auth"
)

// DefaultRedisPrefix namespaces the limiter's keys in a shared Redis.
const DefaultRedisPrefix = "decnet:ratelimit:"

// defaultTimeout bounds one Redis round trip for a login attempt. A login
// already spends about 50 ms on the password hash; a Redis that takes a
// second is treated as down.
const defaultTimeout = time.Second

// gcra is the generic cell rate algorithm, with the same behaviour as
// auth.TokenBucket: a fresh key may make Burst attempts at once and earns
// one more every Interval; a refused attempt costs nothing. The key holds
// the theoretical arrival time (TAT) in milliseconds and expires when the
// bucket would be full again, so idle keys cost no memory.
//
// KEYS[1] key; ARGV[1] now (ms), ARGV[2] interval (ms), ARGV[3] burst.
// Returns 1 when allowed.
var gcra = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  tat = math.max(tonumber(stored), now)
end
local new_tat = tat + interval
if new_tat - burst * interval > now then
  return 0
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, new_tat - now))
return 1
`)

// RedisConfig configures a Redis limiter. Zero fields take the defaults.
type RedisConfig struct {
	// Client is the connection pool; the caller closes it.
	Client redis.UniversalClient
	// Prefix is prepended to every key. Default DefaultRedisPrefix.
	Prefix string
	// Burst and Interval size every key's bucket, as in
	// auth.TokenBucketConfig. Defaults 10 and 6 s.
	Burst    int
	Interval time.Duration
	// Timeout bounds one Redis call. Default 1 s.
	Timeout time.Duration
	// Now is the clock. Replicas' clocks should agree to well under
	// Interval; a replica running behind refuses early. Default time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Redis is an auth.Limiter shared by every replica that uses the same Redis
// server and prefix.
//
// When Redis fails, Allow falls back to an in-process auth.TokenBucket of
// the same size, so a Redis outage neither locks every administrator out
// nor lifts the limit: each replica then limits on its own.
type Redis struct {
	client   redis.UniversalClient
	prefix   string
	burst    int
	interval time.Duration
	timeout  time.Duration
	now      func() time.Time
	log      zerolog.Logger
	fallback *auth.TokenBucket
	// failing is set during a Redis outage, so that it is logged once.
	failing atomic.Bool
}

var _ auth.Limiter = (*Redis)(nil)

// NewRedis returns a Redis limiter.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("new redis limiter: nil client")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultRedisPrefix
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 10
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 6 * time.Second
	}
	if cfg.Interval < time.Millisecond {
		return nil, errors.New("new redis limiter: interval below one millisecond")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Redis{
		client:   cfg.Client,
		prefix:   cfg.Prefix,
		burst:    cfg.Burst,
		interval: cfg.Interval,
		timeout:  cfg.Timeout,
		now:      cfg.Now,
		log:      cfg.Logger.With().Str("component", "ratelimit").Logger(),
		fallback: auth.NewTokenBucket(auth.TokenBucketConfig{Burst: cfg.Burst, Interval: cfg.Interval, Now: cfg.Now}),
	}, nil
}

// Allow takes one attempt from key's bucket and reports whether there was
// one.
func (r *Redis) Allow(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()

	args := []any{
		strconv.FormatInt(r.now().UnixMilli(), 10),
		strconv.FormatInt(r.interval.Milliseconds(), 10),
		strconv.Itoa(r.burst),
	}
	allowed, err := gcra.Run(ctx, r.client, []string{r.prefix + key}, args...).Int()
	if err != nil {
		if !r.failing.Swap(true) {
			r.log.Warn().Err(err).Msg("shared rate limit unavailable, limiting per replica")
		}
		return r.fallback.Allow(key)
	}
	if r.failing.Swap(false) {
		r.log.Info().Msg("shared rate limit recovered")
	}
	return allowed == 1
}
