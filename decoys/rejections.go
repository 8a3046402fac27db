package decoys

import (
	"net/netip"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// rejectInterval is the shortest time between two connection.rejected
// events for one source and service. It is short so that a flood shows in
// the event store while it lasts, and long so that it costs one event per
// source every few seconds, however many connections it makes.
const rejectInterval = 10 * time.Second

// maxRejectSources caps the sources a service tracks rejections for. A
// source is dropped one to two intervals after its last event. Beyond the
// cap, rejections are summed under one entry without an address, so neither
// memory nor events grow with the number of sources.
const maxRejectSources = 4096

// rejection is the state of one source: the time of its last event, the
// rejections since and the limit reached last.
type rejection struct {
	lastEmit time.Time
	pending  uint64
	reason   string
}

// rejectReporter turns connections rejected at accept into
// connection.rejected events, at most one per source per interval. The
// first rejection of a quiet source is reported at once. Later ones are
// summed until the next rejection after the interval, or Flush, reports them.
type rejectReporter struct {
	emitter     Emitter
	decky       string
	service     string
	destination *eventv1.Endpoint
	interval    time.Duration
	maxSources  int
	now         func() time.Time

	mu      sync.Mutex
	sources map[netip.Addr]*rejection
}

func newRejectReporter(emitter Emitter, decky, service string, destination *eventv1.Endpoint, now func() time.Time) *rejectReporter {
	return &rejectReporter{
		emitter:     emitter,
		decky:       decky,
		service:     service,
		destination: destination,
		interval:    rejectInterval,
		maxSources:  maxRejectSources,
		now:         now,
		sources:     make(map[netip.Addr]*rejection),
	}
}

// Rejected records one connection from source closed for reason.
func (r *rejectReporter) Rejected(source netip.Addr, reason string) {
	if r.emitter == nil {
		return
	}
	now := r.now()

	r.mu.Lock()
	e, ok := r.sources[source]
	if !ok {
		if len(r.sources) >= r.maxSources {
			// The zero address collects every source beyond the cap,
			// so the map holds at most maxSources+1 entries.
			source = netip.Addr{}
			e, ok = r.sources[source]
		}
		if !ok {
			e = &rejection{}
			r.sources[source] = e
		}
	}
	e.pending++
	e.reason = reason
	var ev *eventv1.Event
	if e.lastEmit.IsZero() || now.Sub(e.lastEmit) >= r.interval {
		ev = r.take(source, e, now)
	}
	r.mu.Unlock()

	if ev != nil {
		r.emitter.Emit(ev)
	}
}

// Flush reports the rejections whose interval has passed and drops the
// sources without a rejection for a whole interval. With final set it
// reports every pending rejection, because the service is stopping.
func (r *rejectReporter) Flush(final bool) {
	if r.emitter == nil {
		return
	}
	now := r.now()

	r.mu.Lock()
	var out []*eventv1.Event
	for source, e := range r.sources {
		due := now.Sub(e.lastEmit) >= r.interval
		switch {
		case e.pending > 0 && (due || final):
			out = append(out, r.take(source, e, now))
		case e.pending == 0 && due:
			delete(r.sources, source)
		}
	}
	r.mu.Unlock()

	for _, ev := range out {
		r.emitter.Emit(ev)
	}
}

// take builds the event for e's pending rejections and resets them. The
// caller holds r.mu.
func (r *rejectReporter) take(source netip.Addr, e *rejection, now time.Time) *eventv1.Event {
	ev := &eventv1.Event{
		Id:          NewEventID(),
		Time:        timestamppb.New(now),
		Decky:       r.decky,
		Service:     r.service,
		Kind:        KindConnectionRejected,
		Source:      &eventv1.Endpoint{},
		Destination: r.destination,
		Payload: &eventv1.Event_ConnectionRejected{ConnectionRejected: &eventv1.ConnectionRejected{
			Reason: e.reason,
			Count:  e.pending,
		}},
	}
	if source.IsValid() {
		ev.Source.Address = source.String()
	}
	e.lastEmit = now
	e.pending = 0
	return ev
}
