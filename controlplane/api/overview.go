package api

import (
	"context"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Bounds of an overview window. A window of more buckets than
// maxOverviewBuckets would draw bars narrower than a pixel on any screen,
// and a month is the longest view the overview is for: the Events page
// searches further back.
const (
	defaultOverviewWindow = 24 * time.Hour
	defaultOverviewBucket = time.Hour
	maxOverviewWindow     = 31 * 24 * time.Hour
	minOverviewBucket     = time.Minute
	maxOverviewBuckets    = 1000
	defaultOverviewTopN   = 10
	maxOverviewTopN       = 100
)

// GetOverview returns the overview statistics. The window ends with the
// bucket that holds the current time, aligned to multiples of the bucket
// width, so two calls within one bucket return the same buckets.
func (s *eventService) GetOverview(ctx context.Context, req *connect.Request[apiv1.GetOverviewRequest]) (*connect.Response[apiv1.GetOverviewResponse], error) {
	procedure := req.Spec().Procedure
	q, err := overviewQuery(req.Msg, s.now())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}

	o, err := s.overviews.get(ctx, q, s.now(), s.store.Overview)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	if masksSecrets(ctx) {
		for _, c := range o.GetTopCredentials() {
			c.Secret, c.SecretMasked = nil, true
		}
	}
	return connect.NewResponse(o), nil
}

// overviewQuery checks the request's bounds and places its window at now.
func overviewQuery(req *apiv1.GetOverviewRequest, now time.Time) (store.OverviewQuery, error) {
	window, bucket := defaultOverviewWindow, defaultOverviewBucket
	if req.GetWindow() != nil {
		if err := req.GetWindow().CheckValid(); err != nil {
			return store.OverviewQuery{}, invalidArgument("window is not a valid duration")
		}
		if d := req.GetWindow().AsDuration(); d != 0 {
			window = d
		}
	}
	if req.GetBucket() != nil {
		if err := req.GetBucket().CheckValid(); err != nil {
			return store.OverviewQuery{}, invalidArgument("bucket is not a valid duration")
		}
		if d := req.GetBucket().AsDuration(); d != 0 {
			bucket = d
		}
	}
	switch {
	case window < 0 || window > maxOverviewWindow:
		return store.OverviewQuery{}, invalidArgument("window must be positive and at most 31 days")
	case bucket < minOverviewBucket:
		return store.OverviewQuery{}, invalidArgument("bucket must be at least one minute")
	case bucket > window:
		return store.OverviewQuery{}, invalidArgument("bucket must not be longer than window")
	}
	// A window that is not a whole number of buckets gets one more, so it
	// covers at least what was asked for.
	buckets := int((window + bucket - 1) / bucket)
	if buckets > maxOverviewBuckets {
		return store.OverviewQuery{}, invalidArgument("window must hold at most 1000 buckets")
	}

	topN := int(req.GetTopN())
	switch {
	case topN <= 0:
		topN = defaultOverviewTopN
	case topN > maxOverviewTopN:
		topN = maxOverviewTopN
	}

	end := now.UTC().Truncate(bucket).Add(bucket)
	return store.OverviewQuery{
		Start:   end.Add(-time.Duration(buckets) * bucket),
		Bucket:  bucket,
		Buckets: buckets,
		TopN:    topN,
	}, nil
}

// overviewTTL is how long one store read of an overview serves the calls
// for the same window. Every open dashboard reloads its overview when
// events arrive, and each read counts and groups the whole window. Under
// an attack, sharing the read for a couple of seconds keeps that cost
// constant however many dashboards are open.
const overviewTTL = 2 * time.Second

// overviewLoadTimeout bounds a shared read, which no single caller's
// context may cancel for the others.
const overviewLoadTimeout = 30 * time.Second

// overviewCache shares overview reads among concurrent and closely
// following calls for the same query. Entries are unmasked; callers mask
// their own copy for their role.
type overviewCache struct {
	mu      sync.Mutex
	entries map[store.OverviewQuery]*overviewEntry
}

type overviewEntry struct {
	done chan struct{}
	at   time.Time
	resp *apiv1.GetOverviewResponse
	err  error
}

// get returns a copy of the overview of q: from a read started less than
// overviewTTL before now, waiting for it if it is still running, or from
// a new read through load.
func (c *overviewCache) get(ctx context.Context, q store.OverviewQuery, now time.Time,
	load func(context.Context, store.OverviewQuery) (*apiv1.GetOverviewResponse, error),
) (*apiv1.GetOverviewResponse, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[store.OverviewQuery]*overviewEntry{}
	}
	e := c.entries[q]
	fresh := e != nil && now.Sub(e.at) < overviewTTL
	if fresh {
		select {
		case <-e.done:
			fresh = e.err == nil
		default: // still loading: wait for it
		}
	}
	if !fresh {
		for k, old := range c.entries {
			if now.Sub(old.at) >= overviewTTL {
				delete(c.entries, k)
			}
		}
		e = &overviewEntry{done: make(chan struct{}), at: now}
		c.entries[q] = e
		c.mu.Unlock()
		loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), overviewLoadTimeout)
		e.resp, e.err = load(loadCtx, q)
		cancel()
		close(e.done)
	} else {
		c.mu.Unlock()
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if e.err != nil {
		return nil, e.err
	}
	return proto.CloneOf(e.resp), nil
}
