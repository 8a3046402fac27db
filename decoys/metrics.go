package decoys

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a connection is closed at accept, for the rejected counter.
const (
	RejectPerSource = "per_source_limit"
	RejectTotal     = "total_limit"
)

// Metrics counts decoy connections per decky and service. A nil *Metrics
// counts nothing, so tests and tools can leave it out.
type Metrics struct {
	accepted *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

// NewMetrics registers the decoy connection counters with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "decnet_decoy_connections_accepted_total",
			Help: "Connections a decoy accepted and served.",
		}, []string{"decky", "service"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "decnet_decoy_connections_rejected_total",
			Help: "Connections a decoy closed at accept because a connection limit was reached.",
		}, []string{"decky", "service", "reason"}),
	}
	for _, c := range []prometheus.Collector{m.accepted, m.rejected} {
		if err := reg.Register(c); err != nil {
			var exists prometheus.AlreadyRegisteredError
			if errors.As(err, &exists) {
				return nil, fmt.Errorf("register decoy metrics: already registered with this registry: %w", err)
			}
			return nil, fmt.Errorf("register decoy metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) countAccepted(decky, service string) {
	if m != nil {
		m.accepted.WithLabelValues(decky, service).Inc()
	}
}

func (m *Metrics) countRejected(decky, service, reason string) {
	if m != nil {
		m.rejected.WithLabelValues(decky, service, reason).Inc()
	}
}
