//go:build integration

package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/ratelimit"
	"github.com/decnet/decnet/controlplane/ratelimit/ratelimittest"
	"github.com/decnet/decnet/internal/redistest"
)

func TestRedis(t *testing.T) {
	srv := redistest.Start(t)
	ratelimittest.Run(t, func(t *testing.T, cfg ratelimittest.Config) auth.Limiter {
		client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { _ = client.Close() })
		if err := client.FlushDB(context.Background()).Err(); err != nil {
			t.Fatalf("flush: %v", err)
		}
		l, err := ratelimit.NewRedis(ratelimit.RedisConfig{Client: client, Burst: cfg.Burst, Interval: cfg.Interval, Now: cfg.Now})
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// TestRedisShared checks that two limiters on one Redis, as two replicas
// have, share every key's bucket.
func TestRedisShared(t *testing.T) {
	srv := redistest.Start(t)
	now := func() time.Time { return time.Unix(1_700_000_000, 0) }
	newLimiter := func() *ratelimit.Redis {
		client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { _ = client.Close() })
		l, err := ratelimit.NewRedis(ratelimit.RedisConfig{Client: client, Burst: 4, Interval: time.Minute, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a, b := newLimiter(), newLimiter()
	for i := range 4 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if !l.Allow("10.0.0.1") {
			t.Fatalf("attempt %d within the shared burst refused", i+1)
		}
	}
	if a.Allow("10.0.0.1") || b.Allow("10.0.0.1") {
		t.Error("attempt after the shared burst allowed")
	}
}

// TestRedisFallback checks that a limiter whose Redis is gone still limits,
// on its own bucket.
func TestRedisFallback(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	now := func() time.Time { return time.Unix(1_700_000_000, 0) }
	l, err := ratelimit.NewRedis(ratelimit.RedisConfig{Client: client, Burst: 2, Interval: time.Minute, Now: now, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	got := []bool{l.Allow("k"), l.Allow("k"), l.Allow("k")}
	want := []bool{true, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("attempt %d with Redis down: Allow = %v, want %v", i+1, got[i], want[i])
		}
	}
}
