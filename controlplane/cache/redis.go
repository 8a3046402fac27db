package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix namespaces the cache's keys in a shared Redis.
const DefaultRedisPrefix = "decnet:cache:"

// RedisConfig configures a Redis cache.
type RedisConfig struct {
	// Client is the connection pool; the caller closes it.
	Client redis.UniversalClient
	// Prefix is prepended to every key. Default DefaultRedisPrefix.
	Prefix string
}

// Redis is a Cache on a Redis server, shared by every replica that uses
// the same server and prefix. Expiry is Redis's own, on the server clock.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

var _ Cache = (*Redis)(nil)

// NewRedis returns a Redis cache.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("new redis cache: nil client")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultRedisPrefix
	}
	return &Redis{client: cfg.Client, prefix: cfg.Prefix}, nil
}

// Get returns the value of key, or ErrNotFound.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	value, err := r.client.Get(ctx, r.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("get cache entry: %w", err)
	}
	return value, nil
}

// Set stores value under key for ttl, with millisecond precision.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("set cache entry: %w", ErrInvalidTTL)
	}
	// Redis rounds a TTL below one millisecond to zero and rejects it.
	ttl = max(ttl, time.Millisecond)
	if err := r.client.Set(ctx, r.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("set cache entry: %w", err)
	}
	return nil
}

// Delete removes key.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("delete cache entry: %w", err)
	}
	return nil
}
