package ftp

import "net/netip"

// authorizer decides whether a login succeeds; decoys/login's Policy is
// the production one, and tests may supply their own.
type authorizer interface {
	Allow(source netip.Addr, principal string, secret []byte) bool
}
