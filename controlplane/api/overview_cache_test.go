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
// they arrive while it runs; a later call, another window or a failed
// read makes a new one. Each caller gets its own copy to mask.
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
	if o, _ := c.get(context.Background(), q, t0.Add(overviewTTL), load); o.GetTotalEvents() != 2 {
		t.Errorf("after the TTL: %v, want a new read", o)
	}
	other := q
	other.TopN = 5
	if o, _ := c.get(context.Background(), other, t0.Add(overviewTTL), load); o.GetTotalEvents() != 3 {
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
