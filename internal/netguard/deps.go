package netguard

import (
	"context"
	"net"
	"net/netip"
)

// Resolver turns a host name into addresses. *net.Resolver satisfies it,
// and tests inject fakes so that no name is looked up for real.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer opens a connection to an address the guard has already checked.
// *net.Dialer satisfies it. The guard only ever passes it an IP literal
// with a port, never a name.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}
