package ticket

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix namespaces the tickets' keys in a shared Redis.
const DefaultRedisPrefix = "decnet:ticket:"

// RedisConfig configures a Redis store.
type RedisConfig struct {
	// Client is the connection pool; the caller closes it.
	Client redis.UniversalClient
	// Prefix is prepended to every key. Default DefaultRedisPrefix.
	Prefix string
}

// Redis is a Store on a Redis server (6.2 or later, for GETDEL), shared by
// every replica that uses the same server and prefix.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Redis store.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("new redis ticket store: nil client")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultRedisPrefix
	}
	return &Redis{client: cfg.Client, prefix: cfg.Prefix}, nil
}

// Issue returns a new ticket for value. Expiry is on the Redis server's
// clock, with millisecond precision.
func (r *Redis) Issue(ctx context.Context, value string, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("issue ticket: %w", ErrInvalidTTL)
	}
	ticket, key, err := newTicket()
	if err != nil {
		return "", err
	}
	if err := r.client.Set(ctx, r.prefix+key, value, max(ttl, time.Millisecond)).Err(); err != nil {
		return "", fmt.Errorf("issue ticket: %w", err)
	}
	return ticket, nil
}

// Redeem returns the value of ticket and deletes it in one step, so two
// replicas cannot both redeem it.
func (r *Redis) Redeem(ctx context.Context, ticket string) (string, error) {
	value, err := r.client.GetDel(ctx, r.prefix+keyOf(ticket)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", ErrInvalid
	case err != nil:
		return "", fmt.Errorf("redeem ticket: %w", err)
	}
	return value, nil
}
