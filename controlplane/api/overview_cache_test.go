package api

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Calls for one window within the TTL share one store read, even when
// they arrive while it runs; another window or a failed read makes a new
// one. Each caller gets its own copy to mask.
func TestOverviewCacheSharesReads(t *testing.T) {
	var c overviewCache
	var reads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context, store.OverviewQuery) (*apiv1.GetOverviewResponse, error) {
		n := reads.Add(1)
		<-release
		return &apiv1.GetOverviewResponse{TotalEvents: uint64(n)}, nil
	}
	t0 := time.Unix(1_800_000_000, 0)
	q := store.OverviewQuery{Start: t0, Bucket: time.Hour, Buckets: 24, TopN: 10}

	var wg sync.WaitGroup
	got := make([]*apiv1.GetOverviewResponse, 10)
	for i := range got {
		wg.Go(func() {
			o, err := c.get(context.Background(), q, t0, load)
			if err != nil {
				t.Error(err)
			}
			got[i] = o
		})
	}
	// Let every caller reach the cache before the read finishes.
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d store reads for 10 concurrent calls, want 1", n)
	}
	for _, o := range got {
		if o.GetTotalEvents() != 1 {
			t.Errorf("call got %v, want the shared read", o)
		}
	}
	got[0].TotalEvents = 99
	if o, _ := c.get(context.Background(), q, t0.Add(time.Second), load); o.GetTotalEvents() != 1 || reads.Load() != 1 {
		t.Errorf("within the TTL: %v after %d reads, want the first read's copy", o, reads.Load())
	}
	other := q
	other.TopN = 5
	if o, _ := c.get(context.Background(), other, t0, load); o.GetTotalEvents() != 2 {
		t.Errorf("another window: %v, want its own read", o)
	}

	failing := func(context.Context, store.OverviewQuery) (*apiv1.GetOverviewResponse, error) {
		reads.Add(1)
		return nil, errors.New("store down")
	}
	q3 := q
	q3.Buckets = 3
	if _, err := c.get(context.Background(), q3, t0, failing); err == nil {
		t.Fatal("a failed read returned no error")
	}
	before := reads.Load()
	if o, err := c.get(context.Background(), q3, t0, func(ctx context.Context, q store.OverviewQuery) (*apiv1.GetOverviewResponse, error) {
		reads.Add(1)
		return &apiv1.GetOverviewResponse{TotalEvents: 7}, nil
	}); err != nil || o.GetTotalEvents() != 7 || reads.Load() != before+1 {
		t.Errorf("after a failure: %v, %v; a failed read must not be shared", o, err)
	}
}

// Past the TTL a call waits briefly for a new read and then takes the
// older one; calls meanwhile start no second read. Past the longest
// staleness, callers wait for the new read.
func TestOverviewCacheServesStaleWhileReading(t *testing.T) {
	c := overviewCache{staleWait: time.Millisecond}
	var reads atomic.Int32
	gate := make(chan struct{}, 10)
	load := func(context.Context, store.OverviewQuery) (*apiv1.GetOverviewResponse, error) {
		n := reads.Add(1)
		<-gate
		return &apiv1.GetOverviewResponse{TotalEvents: uint64(n)}, nil
	}
	t0 := time.Unix(1_800_000_000, 0)
	q := store.OverviewQuery{Start: t0, Bucket: time.Hour, Buckets: 24, TopN: 10}
	gate <- struct{}{}
	if o, err := c.get(context.Background(), q, t0, load); err != nil || o.GetTotalEvents() != 1 {
		t.Fatalf("first call: %v, %v", o, err)
	}

	// After the TTL one read starts, and the old read is returned.
	later := t0.Add(overviewTTL + time.Millisecond)
	for range 5 {
		if o, err := c.get(context.Background(), q, later, load); err != nil || o.GetTotalEvents() != 1 {
			t.Fatalf("stale call: %v, %v, want the first read at once", o, err)
		}
	}
	waitFor(t, func() bool { return reads.Load() == 2 })
	gate <- struct{}{}
	waitFor(t, func() bool {
		o, _ := c.get(context.Background(), q, later, load)
		return o.GetTotalEvents() == 2
	})
	if n := reads.Load(); n != 2 {
		t.Errorf("%d reads, want 2: calls during a read must not start another", n)
	}

	// Past the longest staleness the caller waits for a new read.
	gate <- struct{}{}
	if o, err := c.get(context.Background(), q, later.Add(overviewMaxStale+time.Minute), load); err != nil || o.GetTotalEvents() != 3 {
		t.Errorf("call past the longest staleness: %v, %v, want a new read", o, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A read that finishes within the stale wait is returned to the call
// that started it, so on a small store every call past the TTL sees
// current counts.
func TestOverviewCacheFastReadIsCurrent(t *testing.T) {
	var c overviewCache
	var reads atomic.Int32
	load := func(context.Context, store.OverviewQuery) (*apiv1.GetOverviewResponse, error) {
		return &apiv1.GetOverviewResponse{TotalEvents: uint64(reads.Add(1))}, nil
	}
	t0 := time.Unix(1_800_000_000, 0)
	q := store.OverviewQuery{Start: t0, Bucket: time.Hour, Buckets: 24, TopN: 10}
	for i, at := range []time.Time{t0, t0.Add(overviewTTL + time.Second), t0.Add(2*overviewTTL + 2*time.Second)} {
		if o, err := c.get(context.Background(), q, at, load); err != nil || o.GetTotalEvents() != uint64(i+1) {
			t.Errorf("call %d: %v, %v, want read %d", i, o, err, i+1)
		}
	}
}
