package bus

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// SubjectPrefix is the first token of the subject of every decoy event:
// the emitter publishes on "event.<service>.<kind>", so "event.>" receives
// them all and "event.ssh.>" those of one service.
const SubjectPrefix = "event"

// unknownToken replaces an empty service or kind in a subject, since an
// empty token would make the subject invalid.
const unknownToken = "unknown"

// dropLogEvery is how often a full queue is logged: the first drop and then
// every dropLogEvery-th, so a flood of events cannot flood the log too.
const dropLogEvery = 1000

// defaultQueueSize holds about a second of events from a busy sensor
// (an estimate, not a measurement) while the publisher catches up.
const defaultQueueSize = 4096

// defaultQueueBytes bounds the encoded size of the queued events. An
// http.request event can reach about 40 KiB, so without a byte bound a
// full queue of large events would hold hundreds of MiB.
const defaultQueueBytes = 16 << 20

// EmitterConfig configures NewEmitter.
type EmitterConfig struct {
	// Bus receives the events. Required.
	Bus *Bus
	// QueueSize bounds the events waiting for Run. When it is full, Emit
	// drops. Zero selects 4096.
	QueueSize int
	// QueueBytes bounds the encoded size (proto.Size) of the queued
	// events. An event that would exceed it is dropped like one that
	// finds the queue full. Zero selects 16 MiB.
	QueueBytes int64
	// AgentID is stamped on events that carry none. The control plane
	// overwrites it with the id from the agent certificate, so it only
	// helps local subscribers.
	AgentID string
	// Registerer receives decnet_agent_events_emitted_total and
	// decnet_agent_events_dropped_total{stage="queue"}. Nil registers
	// nothing.
	Registerer prometheus.Registerer
	Logger     zerolog.Logger
}

// Emitter implements decoys.Emitter on top of a Bus. Emit never blocks: it
// queues the event or drops it and counts the drop. Run publishes the
// queued events from one goroutine.
type Emitter struct {
	bus     *Bus
	agentID string
	log     zerolog.Logger
	queue   chan queuedEvent
	running atomic.Bool

	// queuedBytes is the encoded size of the events in queue, at most
	// maxQueueBytes.
	queuedBytes   atomic.Int64
	maxQueueBytes int64

	dropped        atomic.Uint64
	droppedCounter prometheus.Counter
	emitted        prometheus.Counter
}

// NewEmitter returns an emitter. Call Run to start publishing.
func NewEmitter(cfg EmitterConfig) (*Emitter, error) {
	if cfg.Bus == nil {
		return nil, errors.New("create emitter: bus is nil")
	}
	if cfg.QueueSize < 0 || cfg.QueueBytes < 0 {
		return nil, errors.New("create emitter: queue size or queue bytes is negative")
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = defaultQueueSize
	}
	if cfg.QueueBytes == 0 {
		cfg.QueueBytes = defaultQueueBytes
	}

	dropped, err := RegisterDroppedCounter(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	emitted := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "decnet_agent_events_emitted_total",
		Help: "Events published on the agent bus.",
	})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(emitted); err != nil {
			return nil, err
		}
	}

	return &Emitter{
		bus:            cfg.Bus,
		agentID:        cfg.AgentID,
		log:            cfg.Logger.With().Str("component", "emitter").Logger(),
		queue:          make(chan queuedEvent, cfg.QueueSize),
		maxQueueBytes:  cfg.QueueBytes,
		droppedCounter: dropped.WithLabelValues(StageQueue),
		emitted:        emitted,
	}, nil
}

// queuedEvent is an event in the queue with its encoded size.
type queuedEvent struct {
	ev   *eventv1.Event
	size int64
}

// Emit queues ev for publication, or drops and counts it when the queue is
// full in events or in bytes. It never blocks and takes ownership of ev.
func (e *Emitter) Emit(ev *eventv1.Event) {
	if ev == nil {
		return
	}

	size := int64(proto.Size(ev))
	if e.queuedBytes.Add(size) > e.maxQueueBytes {
		e.queuedBytes.Add(-size)
		e.drop(ev)
		return
	}
	select {
	case e.queue <- queuedEvent{ev: ev, size: size}:
	default:
		e.queuedBytes.Add(-size)
		e.drop(ev)
	}
}

// drop counts ev as dropped and logs the first drop and every
// dropLogEvery-th.
func (e *Emitter) drop(ev *eventv1.Event) {
	n := e.dropped.Add(1)
	e.droppedCounter.Inc()
	if n == 1 || n%dropLogEvery == 0 {
		e.log.Warn().
			Uint64(fieldDropped, n).
			Str(fieldEventID, ev.GetId()).
			Msg("emitter queue full, event dropped")
	}
}

// Dropped returns the number of events dropped because the queue was full
// in events or in bytes.
func (e *Emitter) Dropped() uint64 {
	return e.dropped.Load()
}

// Run publishes queued events until ctx ends, then publishes what is still
// queued (at most QueueSize events) and returns nil. Events emitted after Run returns stay queued, or
// are dropped once the queue fills. Run may be called only once at a time.
func (e *Emitter) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("run emitter: already running")
	}
	defer e.running.Store(false)

	for {
		select {
		case q := <-e.queue:
			e.publish(q)
		case <-ctx.Done():
			e.drain()
			return nil
		}
	}
}

// drain publishes what is queued, at most one queue's worth, so emitters
// that keep emitting cannot hold up shutdown.
func (e *Emitter) drain() {
	for range cap(e.queue) {
		select {
		case q := <-e.queue:
			e.publish(q)
		default:
			return
		}
	}
}

func (e *Emitter) publish(q queuedEvent) {
	e.queuedBytes.Add(-q.size)
	ev := q.ev
	if ev.AgentId == "" {
		ev.AgentId = e.agentID
	}
	e.bus.Publish(Subject(ev), ev)
	e.emitted.Inc()
}

// Subject returns the subject an event is published on:
// "event.<service>.<kind>". The kind is dotted, so it spans one or more
// tokens. An empty service or kind becomes "unknown".
func Subject(ev *eventv1.Event) string {
	service, kind := ev.GetService(), ev.GetKind()
	if service == "" {
		service = unknownToken
	}
	if kind == "" {
		kind = unknownToken
	}
	return SubjectPrefix + "." + service + "." + kind
}
