package api

import (
	"context"
	"time"

	"connectrpc.com/connect"

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

	o, err := s.store.Overview(ctx, q)
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
