package intel

import (
	"context"
	"net/netip"
	"time"
)

// Provider returns a verdict on one address. Built-ins: GreyNoise, AbuseIPDB,
// ThreatFox, Feodo (a List), DROP (a List) and RDNS. Check returns the verdict
// with Provider left empty (the Enricher fills it), or an error that
// wraps one of the package's sentinels where one applies.
type Provider interface {
	// Name is a short stable identifier such as "greynoise". It keys the
	// Enricher's per-provider state and appears in every Result.
	Name() string
	Check(ctx context.Context, addr netip.Addr) (Result, error)
}

// Refresher is a provider that keeps a downloaded copy of its data. The
// Enricher's Run calls Refresh once at start and then every
// RefreshInterval.
type Refresher interface {
	Refresh(ctx context.Context) error
	RefreshInterval() time.Duration
}
