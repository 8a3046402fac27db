// Package ingest receives event batches from the bridge server, stores them
// and publishes the newly stored ones to the live fan-out.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Log field keys.
const (
	fieldAgent      = "agent_id"
	fieldEvent      = "event_id"
	fieldReason     = "reason"
	fieldStored     = "stored"
	fieldDuplicates = "duplicates"
	fieldRejected   = "rejected"
)

// Rejection reasons, used as the "reason" label of the rejected counter.
const (
	ReasonInvalidID      = "invalid_id"
	ReasonMissingTime    = "missing_time"
	ReasonMissingKind    = "missing_kind"
	ReasonInvalidAddress = "invalid_source_address"
)

// Config holds the dependencies of an Ingester.
type Config struct {
	Store store.Store
	// Hub receives the events stored for the first time. Optional.
	Hub fanout.Broker
	// Registerer receives the ingest counters. Optional; nil registers
	// nothing.
	Registerer prometheus.Registerer
	Logger     zerolog.Logger
	// Now is the clock that stamps received_at. Defaults to time.Now.
	Now func() time.Time
	// Observe receives each batch of newly stored events after the
	// commit, for the workers that derive notices. It must not block.
	// Optional.
	Observe func([]*apiv1.StoredEvent)
}

// Ingester stores batches from the bridge server. It is safe for
// concurrent use.
type Ingester struct {
	store   store.Store
	hub     fanout.Broker
	observe func([]*apiv1.StoredEvent)
	log     zerolog.Logger
	now     func() time.Time

	stored     prometheus.Counter
	duplicates prometheus.Counter
	rejected   *prometheus.CounterVec

	// unknownAgents records agents already logged as not enrolled, so
	// that each one is logged once rather than per batch.
	unknownAgents sync.Map
}

// New returns an Ingester and registers its counters.
func New(cfg Config) (*Ingester, error) {
	if cfg.Store == nil {
		return nil, errors.New("new ingester: nil store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	in := &Ingester{
		store:   cfg.Store,
		hub:     cfg.Hub,
		observe: cfg.Observe,
		log:     cfg.Logger.With().Str("component", "ingest").Logger(),
		now:     cfg.Now,
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "decnet", Subsystem: "ingest", Name: "events_stored_total",
			Help: "Events stored for the first time.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "decnet", Subsystem: "ingest", Name: "events_duplicate_total",
			Help: "Events received again after they were stored, such as a batch resent after a lost acknowledgement.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "decnet", Subsystem: "ingest", Name: "events_rejected_total",
			Help: "Events dropped because they failed validation, by reason.",
		}, []string{"reason"}),
	}

	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{in.stored, in.duplicates, in.rejected} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register ingest metrics: %w", err)
			}
		}
	}
	return in, nil
}

// Ingest validates, stores and publishes one batch from the agent that the
// bridge authenticated as agentID. Invalid events are dropped, logged and
// counted as rejected, because resending them can never succeed; the valid
// ones are stored. When Ingest returns a nil error the stored events are
// durable and the bridge may acknowledge the whole batch. Each event's
// AgentId is replaced by agentID, so an agent cannot claim another's id.
func (in *Ingester) Ingest(ctx context.Context, agentID string, events []*eventv1.Event) (stored, duplicates int, err error) {
	if agentID == "" {
		return 0, 0, errors.New("ingest events: empty agent id")
	}
	log := in.log.With().Str(fieldAgent, agentID).Logger()

	valid := make([]*eventv1.Event, 0, len(events))
	rejected := 0
	for _, ev := range events {
		if reason := validate(ev); reason != "" {
			rejected++
			in.rejected.WithLabelValues(reason).Inc()
			log.Warn().Str(fieldEvent, ev.GetId()).Str(fieldReason, reason).Msg("rejected invalid event")
			continue
		}
		// The store keys events by the id's canonical lowercase text, so
		// an agent sending upper case still deduplicates.
		ev.Id = strings.ToLower(ev.Id)
		ev.AgentId = agentID
		valid = append(valid, ev)
	}

	now := in.now()
	if len(valid) > 0 {
		res, err := in.store.IngestEvents(ctx, agentID, valid, now)
		if err != nil {
			return 0, 0, fmt.Errorf("ingest events from agent %s: %w", agentID, err)
		}
		stored, duplicates = len(res.Stored), res.Duplicates
		in.stored.Add(float64(stored))
		in.duplicates.Add(float64(duplicates))
		if in.hub != nil {
			in.hub.Publish(res.Stored)
		}
		if in.observe != nil && len(res.Stored) > 0 {
			in.observe(res.Stored)
		}
	}

	in.touchAgent(ctx, log, agentID, now)
	log.Debug().Int(fieldStored, stored).Int(fieldDuplicates, duplicates).Int(fieldRejected, rejected).Msg("ingested batch")
	return stored, duplicates, nil
}

// touchTimeout bounds the last-seen update that follows a batch.
const touchTimeout = 5 * time.Second

// touchAgent records that the agent sent a batch. A failure here does not
// fail the batch, whose events are durable already, so it is logged.
func (in *Ingester) touchAgent(ctx context.Context, log zerolog.Logger, agentID string, now time.Time) {
	// The batch's context ends when the agent disconnects, which can be
	// right after its last batch; the timestamp is still worth writing.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), touchTimeout)
	defer cancel()
	err := in.store.TouchAgent(ctx, agentID, "", now)
	switch {
	case err == nil:
		in.unknownAgents.Delete(agentID)
	case errors.Is(err, store.ErrNotFound):
		if _, seen := in.unknownAgents.LoadOrStore(agentID, struct{}{}); !seen {
			log.Warn().Msg("events from an agent that is not enrolled")
		}
	default:
		log.Error().Err(err).Msg("update agent last-seen time failed")
	}
}

// validate returns why ev cannot be stored, or "" when it can.
func validate(ev *eventv1.Event) string {
	if ev == nil {
		return ReasonInvalidID
	}
	if _, err := uuid.Parse(ev.GetId()); err != nil || len(ev.GetId()) != 36 {
		// uuid.Parse also accepts braced and URN forms; the store keys
		// events by the canonical 36-character text.
		return ReasonInvalidID
	}
	if ev.GetTime() == nil || ev.GetTime().CheckValid() != nil {
		return ReasonMissingTime
	}
	if ev.GetKind() == "" {
		return ReasonMissingKind
	}
	if addr := ev.GetSource().GetAddress(); addr != "" {
		if _, err := netip.ParseAddr(addr); err != nil {
			return ReasonInvalidAddress
		}
	}
	return ""
}
