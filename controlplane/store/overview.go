package store

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// OverviewQuery selects the window of an overview: Buckets buckets of
// width Bucket from Start, by event time, and the TopN busiest attackers
// and credentials in it. The caller checks the bounds.
type OverviewQuery struct {
	Start   time.Time
	Bucket  time.Duration
	Buckets int
	TopN    int
}

// End returns the end of the window, exclusive.
func (q OverviewQuery) End() time.Time {
	return q.Start.Add(time.Duration(q.Buckets) * q.Bucket)
}

// NewOverview returns an overview of q with its window set and every
// bucket zero, for a backend to fill in.
func NewOverview(q OverviewQuery) *apiv1.GetOverviewResponse {
	return &apiv1.GetOverviewResponse{
		WindowStart: timestamppb.New(q.Start),
		WindowEnd:   timestamppb.New(q.End()),
		Bucket:      durationpb.New(q.Bucket),
		Histogram:   make([]uint64, q.Buckets),
	}
}

// AddToBucket counts n events into bucket i of o and into its window
// total. A backend computes i from the event time; an index outside the
// window, which a rounding difference could produce, is dropped.
func AddToBucket(o *apiv1.GetOverviewResponse, i int64, n uint64) {
	if i < 0 || i >= int64(len(o.Histogram)) {
		return
	}
	o.Histogram[i] += n
	o.WindowEvents += n
}
