package export

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of the per-output record counter.
const (
	outcomeDelivered = "delivered"
	outcomeDropped   = "dropped"
	outcomeFailed    = "failed"
	// outcomeSuppressed records matched a suppression rule.
	outcomeSuppressed = "suppressed"
)

// metrics holds the Prometheus side of the output counters; a nil
// *metrics counts nothing.
type metrics struct {
	records *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	records := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "decnet",
		Subsystem: "export",
		Name:      "records_total",
		Help:      "Records per export output by outcome: delivered, dropped (queue full), failed (rejected or out of attempts), suppressed (matched a suppression rule).",
	}, []string{"output", "outcome"})
	if err := reg.Register(records); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
		records = are.ExistingCollector.(*prometheus.CounterVec)
	}
	return &metrics{records: records}, nil
}

func (m *metrics) add(output, outcome string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.records.WithLabelValues(output, outcome).Add(float64(n))
}
