package bus

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of the stage label of DroppedMetricName.
const (
	// StageQueue counts events dropped because the emitter queue was full.
	StageQueue = "queue"
	// StageSpool counts events the spool lost: rejected appends and
	// unacknowledged events deleted with the oldest segment.
	StageSpool = "spool"
)

// DroppedMetricName is the counter of events the agent lost, labelled by
// the stage that lost them.
const DroppedMetricName = "decnet_agent_events_dropped_total"

// RegisterDroppedCounter returns the agent-wide dropped-events counter
// registered with reg. The emitter and the spool both count into it under
// different stage labels, so the first caller registers it and later
// callers receive the collector already registered. A nil reg returns an
// unregistered counter.
func RegisterDroppedCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: DroppedMetricName,
		Help: "Events the agent dropped before they reached the control plane, by stage.",
	}, []string{"stage"})
	if reg == nil {
		return c, nil
	}

	err := reg.Register(c)
	if err == nil {
		return c, nil
	}

	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing, nil
		}
	}
	return nil, fmt.Errorf("register %s: %w", DroppedMetricName, err)
}
