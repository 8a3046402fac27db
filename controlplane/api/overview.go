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
// for the same window before a new read starts. Every open dashboard
// reloads its overview when events arrive, and each read counts and
// groups the whole window. Under an attack, sharing the read keeps that
// cost constant however many dashboards are open.
const overviewTTL = 2 * time.Second

// overviewReadShare bounds the time overview reads of one window take.
// A new read starts no sooner than this many times the last read's
// duration after it ended. So on a store where a read takes seconds,
// reads use at most a fifth of one connection and of a core.
const overviewReadShare = 4

// overviewMaxStale is the oldest overview returned while a newer read
// runs, unless reads take so long that their spacing is longer. Past
// it, callers wait for the read. A dashboard's counts may lag by this
// much, but its live event list does not.
const overviewMaxStale = time.Minute

// overviewStaleWait is how long a call waits for a running read before
// it takes the older overview. Reads of a small store finish within it,
// so there every call gets current counts. On a store large enough that
// a read takes longer, calls stop queueing behind it.
const overviewStaleWait = time.Second

// overviewLoadTimeout bounds a shared read, which no single caller's
// context may cancel for the others.
const overviewLoadTimeout = 30 * time.Second

// overviewCache shares overview reads among concurrent and closely
// following calls for the same query. At most one read per query runs
// at a time. A new one starts no sooner than overviewReadShare times the
// last one's duration, so on a large store overview reads neither queue
// behind each other nor take the database's cores from other calls. Entries
// are unmasked; callers mask their own copy for their role.
type overviewCache struct {
	mu      sync.Mutex
	entries map[store.OverviewQuery]*overviewEntry
	// staleWait replaces overviewStaleWait when set (in tests).
	staleWait time.Duration
}

type overviewEntry struct {
	// resp is the newest successful read, finished at doneAt after
	// taking took; nil before the first one.
	resp   *apiv1.GetOverviewResponse
	doneAt time.Time
	took   time.Duration
	// loading is open while a read runs, and err is what the last
	// finished read returned.
	loading chan struct{}
	err     error
}

// get returns a copy of the overview of q. A read that finished within
// overviewTTL (or overviewReadShare times the time it took, if longer)
// is returned at once. Otherwise a single new read starts and get waits
// for it. If an older read within overviewMaxStale exists, get waits at
// most overviewStaleWait and then returns the older one.
func (c *overviewCache) get(ctx context.Context, q store.OverviewQuery, now time.Time,
	load func(context.Context, store.OverviewQuery) (*apiv1.GetOverviewResponse, error),
) (*apiv1.GetOverviewResponse, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[store.OverviewQuery]*overviewEntry{}
	}
	for k, old := range c.entries {
		if k != q && old.loading == nil && now.Sub(old.doneAt) >= overviewMaxStale {
			delete(c.entries, k)
		}
	}
	e := c.entries[q]
	if e == nil {
		e = &overviewEntry{}
		c.entries[q] = e
	}
	age := now.Sub(e.doneAt)
	if e.resp == nil || age >= max(overviewTTL, overviewReadShare*e.took) {
		c.startLoad(ctx, q, e, now, load)
	}
	current, wait, took := e.resp, e.loading, e.took
	c.mu.Unlock()
	if wait == nil { // current is fresh
		return proto.CloneOf(current), nil
	}
	fallback := current
	if age >= max(overviewMaxStale, (overviewReadShare+1)*took) {
		fallback = nil
	}

	var timeout <-chan time.Time
	if fallback != nil {
		staleWait := overviewStaleWait
		if c.staleWait > 0 {
			staleWait = c.staleWait
		}
		timer := time.NewTimer(staleWait)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case <-wait:
	case <-timeout:
		return proto.CloneOf(fallback), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	resp, err := e.resp, e.err
	c.mu.Unlock()
	switch {
	case err == nil:
		return proto.CloneOf(resp), nil
	case fallback != nil:
		return proto.CloneOf(fallback), nil
	default:
		return nil, err
	}
}

// startLoad starts a read of q into e unless one is running. The caller
// holds c.mu. The read's end is placed at now plus the time it took, so
// the cache's clock stays the one its callers pass in.
func (c *overviewCache) startLoad(ctx context.Context, q store.OverviewQuery, e *overviewEntry, now time.Time,
	load func(context.Context, store.OverviewQuery) (*apiv1.GetOverviewResponse, error),
) {
	if e.loading != nil {
		return
	}
	done := make(chan struct{})
	e.loading = done
	loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), overviewLoadTimeout)
	go func() {
		defer cancel()
		began := time.Now()
		resp, err := load(loadCtx, q)
		took := time.Since(began)
		c.mu.Lock()
		e.err = err
		if err == nil {
			e.resp, e.doneAt, e.took = resp, now.Add(took), took
		}
		e.loading = nil
		c.mu.Unlock()
		close(done)
	}()
}
