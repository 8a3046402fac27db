package intel

import (
	"context"
	"net/netip"
)

// Resolver answers the DNS queries of the RDNS provider. *net.Resolver
// implements it; tests pass one whose Dial reaches a server they run.
type Resolver interface {
	// LookupAddr returns the PTR names of addr.
	LookupAddr(ctx context.Context, addr string) ([]string, error)
	// LookupNetIP returns the addresses of host; network is "ip".
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}
