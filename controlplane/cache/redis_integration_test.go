//go:build integration

package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/decnet/decnet/controlplane/cache"
	"github.com/decnet/decnet/controlplane/cache/cachetest"
	"github.com/decnet/decnet/internal/redistest"
)

func TestRedis(t *testing.T) {
	srv := redistest.Start(t)
	cachetest.Run(t, func(t *testing.T) (cache.Cache, func(time.Duration)) {
		client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { _ = client.Close() })
		if err := client.FlushDB(context.Background()).Err(); err != nil {
			t.Fatalf("flush: %v", err)
		}
		c, err := cache.NewRedis(cache.RedisConfig{Client: client})
		if err != nil {
			t.Fatal(err)
		}
		// Redis expires keys on its own clock, so time moves by sleeping.
		return c, time.Sleep
	})
}
