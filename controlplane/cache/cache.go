// Package cache holds short-lived values that every control plane replica
// may read: Memory serves one process, Redis serves replicas sharing a
// Redis server.
package cache

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors.
var (
	// ErrNotFound is returned by Get for a key that is absent or expired.
	ErrNotFound = errors.New("cache entry not found")
	// ErrInvalidTTL is returned by Set for a TTL that is not positive:
	// every entry expires, so a forgotten key cannot live forever.
	ErrInvalidTTL = errors.New("cache ttl must be positive")
)

// Cache stores byte values under string keys for a limited time.
//
// Values are copied in and out, so callers may reuse their slices.
type Cache interface {
	// Get returns the value of key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl, replacing any previous value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}
