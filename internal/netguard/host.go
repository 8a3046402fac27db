package netguard

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
)

// CheckURL refuses a URL whose host is a refused IP literal or a numeric
// form that is not a canonical dotted quad. Names pass: they are checked
// when DialContext resolves them.
func (g *Guard) CheckURL(u *url.URL) error {
	if u == nil {
		return &RefusedError{Reason: "no URL"}
	}
	return g.CheckHost(u.Hostname())
}

// CheckHost is CheckURL for a bare host: a name, an IPv4 literal, or an
// IPv6 literal with or without brackets and zone.
func (g *Guard) CheckHost(host string) error {
	_, err := g.hostLiteral(host)
	return err
}

// hostLiteral returns the address of an IP literal host (checked), or an
// invalid Addr for a name that still has to be resolved.
func (g *Guard) hostLiteral(host string) (netip.Addr, error) {
	h := host
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	if h == "" {
		return netip.Addr{}, &RefusedError{Host: host, Reason: "empty host"}
	}
	if addr, err := netip.ParseAddr(h); err == nil {
		if err := g.Check(addr); err != nil {
			var re *RefusedError
			if errors.As(err, &re) {
				re.Host = host
			}
			return netip.Addr{}, err
		}
		return addr, nil
	}
	// A colon or zone can only belong to an IPv6 literal, and this one is
	// malformed. Resolvers differ on what they make of it.
	if strings.ContainsAny(h, ":%[]") {
		return netip.Addr{}, &RefusedError{Host: host, Reason: "malformed IPv6 literal"}
	}
	if endsInNumber(h) {
		return netip.Addr{}, &RefusedError{Host: host, Reason: "non-canonical numeric host"}
	}
	return netip.Addr{}, nil
}

// endsInNumber follows the WHATWG URL standard's test for a host that is
// meant as an IPv4 address: its last label (ignoring one trailing dot) is
// decimal digits or 0x-prefixed hex. The getaddrinfo of glibc 2.36 reads
// such hosts as addresses (2130706433, 0x7f.1, 017700000001 and 127.1 all
// resolve to 127.0.0.1). A canonical dotted quad never reaches this test,
// and no top-level domain is numeric, so refusing every such host costs
// nothing and leaves no parser disagreement to exploit.
func endsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		return strings.Trim(last[2:], "0123456789abcdefABCDEF") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}
