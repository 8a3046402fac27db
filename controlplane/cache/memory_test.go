package cache_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/cache"
	"github.com/decnet/decnet/controlplane/cache/cachetest"
)

// fakeClock is a clock that moves only on Advance.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemory(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) (cache.Cache, func(time.Duration)) {
		clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
		return cache.NewMemory(cache.MemoryConfig{Now: clock.Now}), clock.Advance
	})
}

func TestMemoryBound(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c := cache.NewMemory(cache.MemoryConfig{MaxEntries: 2, Now: clock.Now})

	if err := c.Set(ctx, "soon", []byte("1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "late", []byte("2"), time.Hour); err != nil {
		t.Fatal(err)
	}
	// The cache is full: the entry closest to expiry makes room.
	if err := c.Set(ctx, "new", []byte("3"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "soon"); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("Get of the evicted entry: %v, want ErrNotFound", err)
	}
	for _, key := range []string{"late", "new"} {
		if _, err := c.Get(ctx, key); err != nil {
			t.Errorf("Get %s: %v", key, err)
		}
	}
}
