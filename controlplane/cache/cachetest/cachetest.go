// Package cachetest is the behaviour every cache.Cache must show, run
// against each implementation.
package cachetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/cache"
)

// Factory returns an empty cache and a function that moves its clock
// forward by at least d: a fake clock's Advance, or a sleep for a cache
// that expires entries on a real clock.
type Factory func(t *testing.T) (c cache.Cache, advance func(d time.Duration))

// Run runs the suite.
func Run(t *testing.T, newCache Factory) {
	ctx := context.Background()

	t.Run("SetGet", func(t *testing.T) {
		c, _ := newCache(t)
		tests := []struct {
			name  string
			value []byte
		}{
			{"text", []byte("hello")},
			{"binary", []byte{0, 1, 2, 0xff}},
			{"empty", []byte{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := c.Set(ctx, tt.name, tt.value, time.Hour); err != nil {
					t.Fatalf("Set: %v", err)
				}
				got, err := c.Get(ctx, tt.name)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if !bytes.Equal(got, tt.value) {
					t.Errorf("Get = %x, want %x", got, tt.value)
				}
			})
		}
	})

	t.Run("Missing", func(t *testing.T) {
		c, _ := newCache(t)
		if _, err := c.Get(ctx, "absent"); !errors.Is(err, cache.ErrNotFound) {
			t.Errorf("Get of an absent key: %v, want ErrNotFound", err)
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		c, _ := newCache(t)
		mustSet(t, c, "k", "first", time.Hour)
		mustSet(t, c, "k", "second", time.Hour)
		if got := mustGet(t, c, "k"); got != "second" {
			t.Errorf("Get = %q, want the second value", got)
		}
	})

	t.Run("CopiesValue", func(t *testing.T) {
		c, _ := newCache(t)
		value := []byte("abc")
		if err := c.Set(ctx, "k", value, time.Hour); err != nil {
			t.Fatal(err)
		}
		value[0] = 'X'
		got, err := c.Get(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		got[1] = 'Y'
		if again := mustGet(t, c, "k"); again != "abc" {
			t.Errorf("stored value changed to %q through a caller's slice", again)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		c, _ := newCache(t)
		mustSet(t, c, "k", "v", time.Hour)
		if err := c.Delete(ctx, "k"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrNotFound) {
			t.Errorf("Get after Delete: %v, want ErrNotFound", err)
		}
		if err := c.Delete(ctx, "k"); err != nil {
			t.Errorf("Delete of an absent key: %v", err)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		c, advance := newCache(t)
		mustSet(t, c, "short", "v", 50*time.Millisecond)
		mustSet(t, c, "long", "v", time.Hour)
		if got := mustGet(t, c, "short"); got != "v" {
			t.Fatalf("Get before expiry = %q", got)
		}
		advance(100 * time.Millisecond)
		if _, err := c.Get(ctx, "short"); !errors.Is(err, cache.ErrNotFound) {
			t.Errorf("Get after the TTL: %v, want ErrNotFound", err)
		}
		if got := mustGet(t, c, "long"); got != "v" {
			t.Errorf("Get of the unexpired key = %q", got)
		}
	})

	t.Run("InvalidTTL", func(t *testing.T) {
		c, _ := newCache(t)
		for _, ttl := range []time.Duration{0, -time.Second} {
			if err := c.Set(ctx, "k", []byte("v"), ttl); !errors.Is(err, cache.ErrInvalidTTL) {
				t.Errorf("Set with ttl %s: %v, want ErrInvalidTTL", ttl, err)
			}
		}
	})
}

func mustSet(t *testing.T, c cache.Cache, key, value string, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), key, []byte(value), ttl); err != nil {
		t.Fatalf("Set %s: %v", key, err)
	}
}

func mustGet(t *testing.T, c cache.Cache, key string) string {
	t.Helper()
	v, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	return string(v)
}
