package cache

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// DefaultMaxEntries bounds a Memory cache that was given no bound.
const DefaultMaxEntries = 65536

// MemoryConfig configures a Memory cache. Zero fields take the defaults.
type MemoryConfig struct {
	// MaxEntries bounds the number of entries. When a Set finds the cache
	// full, expired entries are removed, and if that frees nothing the
	// entry closest to expiry is evicted. Default DefaultMaxEntries.
	MaxEntries int
	// Now is the clock for expiry. Default time.Now.
	Now func() time.Time
}

// Memory is the in-process Cache.
type Memory struct {
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]entry
}

type entry struct {
	value   []byte
	expires time.Time
}

var _ Cache = (*Memory)(nil)

// NewMemory returns an empty Memory cache.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Memory{max: cfg.MaxEntries, now: cfg.Now, entries: make(map[string]entry)}
}

// Get returns the value of key, or ErrNotFound.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		return nil, ErrNotFound
	}
	if !now.Before(e.expires) {
		delete(m.entries, key)
		return nil, ErrNotFound
	}
	return slices.Clone(e.value), nil
}

// Set stores value under key for ttl.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("set cache entry: %w", ErrInvalidTTL)
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[key]; !ok && len(m.entries) >= m.max {
		m.makeRoom(now)
	}
	// A nil value is stored as empty, so Get distinguishes it from a miss.
	m.entries[key] = entry{value: append([]byte{}, value...), expires: now.Add(ttl)}
	return nil
}

// Delete removes key.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
	return nil
}

// makeRoom removes expired entries, or the one closest to expiry when none
// has expired. The caller holds mu. The scan is linear, which is fine for a
// rare event on a bounded map.
func (m *Memory) makeRoom(now time.Time) {
	var (
		oldestKey string
		oldest    time.Time
	)
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
			continue
		}
		if oldestKey == "" || e.expires.Before(oldest) {
			oldestKey, oldest = k, e.expires
		}
	}
	if len(m.entries) >= m.max {
		delete(m.entries, oldestKey)
	}
}
