package ratelimit_test

import (
	"testing"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/ratelimit/ratelimittest"
)

// TestTokenBucket runs the suite against the in-process implementation,
// which the Redis one must match.
func TestTokenBucket(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T, cfg ratelimittest.Config) auth.Limiter {
		return auth.NewTokenBucket(auth.TokenBucketConfig{Burst: cfg.Burst, Interval: cfg.Interval, Now: cfg.Now})
	})
}
