// Package netguard keeps outbound connections that an untrusted party can
// aim (an attacker's wget in a decoy shell, an operator's webhook URL) away
// from the agent's own networks. It refuses loopback, private, link-local,
// cloud metadata, multicast, documentation and other special ranges, also
// in every IPv6 form that embeds an IPv4 address.
//
// The check happens where the connection is made: DialContext resolves a
// name once, checks every address, and connects to the checked IP itself,
// so a name that answers differently the second time (DNS rebinding)
// cannot slip a refused address in between check and connect.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrRefused is matched (errors.Is) by every refusal of the guard.
var ErrRefused = errors.New("address refused")

// RefusedError describes which destination was refused and why.
type RefusedError struct {
	// Host is the name or literal as requested. It is empty when only an
	// address was checked.
	Host string
	// Addr is the refused address, invalid when the host itself was
	// refused before any address was known (a non-canonical numeric form).
	Addr   netip.Addr
	Reason string
}

func (e *RefusedError) Error() string {
	switch {
	case e.Host != "" && e.Addr.IsValid() && e.Host != e.Addr.String():
		return fmt.Sprintf("refuse %q (%s): %s", e.Host, e.Addr, e.Reason)
	case e.Addr.IsValid():
		return fmt.Sprintf("refuse %s: %s", e.Addr, e.Reason)
	default:
		return fmt.Sprintf("refuse %q: %s", e.Host, e.Reason)
	}
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Guard checks destinations. The zero value refuses every special range and
// uses the system resolver and a plain dialer. Set its fields before first
// use and do not change them afterwards.
type Guard struct {
	// Resolver looks names up. Nil means net.DefaultResolver.
	Resolver Resolver
	// Dialer connects to checked addresses. Nil means a net.Dialer that
	// checks the address once more right before connect(2).
	Dialer Dialer
	// Allow lists prefixes that pass even though they lie in a refused
	// range, such as an operator's internal webhook receiver, or
	// 127.0.0.0/8 in tests. An IPv6 address that embeds an IPv4 address passes when the
	// embedded address does.
	Allow []netip.Prefix
	// AllowFunc, when set, replaces Allow and is asked on every check, so
	// the allowed prefixes may change while the guard is in use. It must
	// be safe for concurrent use and return a list it no longer changes.
	AllowFunc func() []netip.Prefix
}

type namedPrefix struct {
	prefix netip.Prefix
	reason string
}

func mustPrefixes(pairs ...string) []namedPrefix {
	out := make([]namedPrefix, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, namedPrefix{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

// Refused IPv4 ranges, from the IANA IPv4 special-purpose address registry
// (RFC 6890 and successors) plus multicast and the reserved class E.
var refused4 = mustPrefixes(
	"0.0.0.0/8", "this network",
	"10.0.0.0/8", "private",
	"100.64.0.0/10", "shared address space (CGNAT)",
	"127.0.0.0/8", "loopback",
	"169.254.0.0/16", "link-local (cloud metadata)",
	"172.16.0.0/12", "private",
	"192.0.0.0/24", "IETF protocol assignments",
	"192.0.2.0/24", "documentation",
	"192.88.99.0/24", "6to4 relay anycast",
	"192.168.0.0/16", "private",
	"198.18.0.0/15", "benchmarking",
	"198.51.100.0/24", "documentation",
	"203.0.113.0/24", "documentation",
	"224.0.0.0/4", "multicast",
	"240.0.0.0/4", "reserved",
)

// Refused IPv6 ranges that carry no IPv4 address. The more specific
// entries come first so the reason names them. Everything outside
// 2000::/3 is refused after these as well, since IANA allocates global
// unicast only there.
var refused6 = mustPrefixes(
	"::/128", "unspecified",
	"::1/128", "loopback",
	"64:ff9b:1::/48", "local-use NAT64",
	"100::/64", "discard-only",
	"2001::/23", "IETF protocol assignments",
	"2001:db8::/32", "documentation",
	"3fff::/20", "documentation",
	"fd00:ec2::254/128", "cloud metadata",
	"fc00::/7", "unique local",
	"fe80::/10", "link-local",
	"fec0::/10", "site-local",
	"ff00::/8", "multicast",
)

var (
	nat64Prefix         = netip.MustParsePrefix("64:ff9b::/96")
	sixToFourPrefix     = netip.MustParsePrefix("2002::/16")
	globalUnicastPrefix = netip.MustParsePrefix("2000::/3")
)

// Check returns a *RefusedError when addr may not be connected to. A zone
// is ignored: fe80::1%eth0 is refused as fe80::1 is.
func (g *Guard) Check(addr netip.Addr) error {
	if !addr.IsValid() {
		return &RefusedError{Reason: "invalid address"}
	}
	a := addr.WithZone("")
	if g.allowed(a) {
		return nil
	}
	refuse := func(reason string) error { return &RefusedError{Addr: addr, Reason: reason} }

	if a.Is4() {
		for _, p := range refused4 {
			if p.prefix.Contains(a) {
				return refuse(p.reason)
			}
		}
		return nil
	}

	if a.Is4In6() {
		return g.checkEmbedded(addr, a.Unmap(), "IPv4-mapped")
	}
	for _, p := range refused6 {
		if p.prefix.Contains(a) {
			return refuse(p.reason)
		}
	}
	b := a.As16()
	if nat64Prefix.Contains(a) {
		return g.checkEmbedded(addr, netip.AddrFrom4([4]byte(b[12:16])), "NAT64")
	}
	if !globalUnicastPrefix.Contains(a) {
		return refuse("not global unicast")
	}
	if sixToFourPrefix.Contains(a) {
		return g.checkEmbedded(addr, netip.AddrFrom4([4]byte(b[2:6])), "6to4")
	}
	return nil
}

// checkEmbedded refuses an IPv6 address whose embedded IPv4 address is
// refused, because a translator or relay would deliver it there.
func (g *Guard) checkEmbedded(addr, v4 netip.Addr, form string) error {
	var re *RefusedError
	if err := g.Check(v4); errors.As(err, &re) {
		return &RefusedError{Addr: addr, Reason: fmt.Sprintf("%s form of %s (%s)", form, v4, re.Reason)}
	}
	return nil
}

func (g *Guard) allowed(a netip.Addr) bool {
	allow := g.Allow
	if g.AllowFunc != nil {
		allow = g.AllowFunc()
	}
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
