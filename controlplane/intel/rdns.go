package intel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Bounds of the RDNS provider.
const (
	// DefaultRDNSTimeout bounds the PTR query and the forward query of
	// one address, each.
	DefaultRDNSTimeout = 5 * time.Second
	// maxHostName is the longest presentation-format name without the
	// final dot (RFC 1035 section 2.3.4 allows 255 octets on the wire).
	maxHostName = 253
	// maxLabel is RFC 1035's limit on one label.
	maxLabel = 63
	// maxPTRNames bounds the names kept from one answer; an address
	// with more is unusual and the rest add nothing an analyst needs.
	maxPTRNames = 4
)

// RDNSConfig configures the reverse DNS provider.
type RDNSConfig struct {
	// Resolver answers the queries. Nil means net.DefaultResolver, the
	// system's; NewPinnedResolver sends every query to one server.
	Resolver Resolver
	// ForwardConfirm looks the first PTR name up again (A and AAAA, to
	// the same resolver) and records whether it leads back to the
	// address. Off, the provider sends the PTR query only.
	ForwardConfirm bool
	// Timeout bounds each query. Default DefaultRDNSTimeout.
	Timeout time.Duration
}

// RDNS looks up the PTR name of an attacker address. The name is set by
// whoever controls the address's reverse zone, often the attacker, so it
// is validated, shown as data and never contacted; its verdict is always
// unknown. The query itself reaches that zone's servers, which tells
// their owner that someone looked, so the provider is off unless the
// operator enables it.
type RDNS struct {
	resolver       Resolver
	forwardConfirm bool
	timeout        time.Duration
}

var _ Provider = (*RDNS)(nil)

// NewRDNS returns a reverse DNS provider.
func NewRDNS(cfg RDNSConfig) (*RDNS, error) {
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRDNSTimeout
	}
	return &RDNS{resolver: cfg.Resolver, forwardConfirm: cfg.ForwardConfirm, timeout: cfg.Timeout}, nil
}

// NewPinnedResolver returns a resolver that sends every query to server,
// an IP address and port such as 127.0.0.53:53, and to no other. The
// server is a literal so that finding it needs no lookup. The hosts
// file is still read first, as the Go resolver always does.
func NewPinnedResolver(server string) (*net.Resolver, error) {
	ap, err := netip.ParseAddrPort(server)
	if err != nil || ap.Port() == 0 {
		return nil, fmt.Errorf("%w: resolver %q is not an IP address and port", ErrInvalidConfig, server)
	}
	target := ap.String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, target)
		},
	}, nil
}

// Name returns "rdns".
func (*RDNS) Name() string { return "rdns" }

// Check looks up the PTR names of addr. A missing PTR record is a
// result, not an error.
func (r *RDNS) Check(ctx context.Context, addr netip.Addr) (Result, error) {
	addr = addr.Unmap()
	qctx, cancel := context.WithTimeout(ctx, r.timeout)
	raw, err := r.resolver.LookupAddr(qctx, addr.String())
	cancel()
	// The Go resolver drops malformed names and returns an error next
	// to the names it kept, which are still usable. When it dropped
	// them all, the response is treated as one that ptrNames rejects.
	if err != nil && len(raw) == 0 {
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			return Result{Verdict: VerdictUnknown, Reason: "no PTR record"}, nil
		case errors.As(err, &dnsErr) && strings.Contains(dnsErr.Err, "invalid names"):
		default:
			return Result{}, fmt.Errorf("ptr lookup: %w", err)
		}
	}

	names := ptrNames(raw)
	if len(names) == 0 {
		return invalidPTR, nil
	}
	ev := map[string]string{"ptr": names[0]}
	if other := joinWithin(names[1:], maxEvidenceText); other != "" {
		ev["ptr_other"] = other
	}
	res := Result{Verdict: VerdictUnknown, Reason: "PTR " + names[0], Evidence: ev}
	if r.forwardConfirm {
		confirmed := r.confirm(ctx, names[0], addr)
		ev["forward_confirmed"] = confirmed
		if confirmed == "true" {
			res.Reason += ", forward-confirmed"
		}
	}
	return res, nil
}

// confirm looks name up and returns "true" when addr is among its
// addresses, "false" when it is not or the name has none, and
// "unavailable" when the lookup failed.
func (r *RDNS) confirm(ctx context.Context, name string, addr netip.Addr) string {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	// The final dot makes the name absolute, so the resolver's search
	// domains are never appended to an attacker's name.
	ips, err := r.resolver.LookupNetIP(ctx, "ip", name+".")
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return "false"
		}
		return "unavailable"
	}
	for _, ip := range ips {
		if ip.Unmap() == addr {
			return "true"
		}
	}
	return "false"
}

// invalidPTR is the result for an answer without a valid name. The
// names themselves are not shown, since nothing vouches for them.
var invalidPTR = Result{Verdict: VerdictUnknown, Reason: "PTR record is not a valid host name", Evidence: map[string]string{"ptr_invalid": "true"}}

// ptrNames returns the valid names of raw, normalised, without
// duplicates, sorted, and at most maxPTRNames of them.
func ptrNames(raw []string) []string {
	var out []string
	for _, n := range raw {
		if v, ok := hostName(n); ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	if len(out) > maxPTRNames {
		out = out[:maxPTRNames]
	}
	return out
}

// joinWithin joins names with spaces, leaving out those that would take
// the text past limit bytes, so no name is shown cut.
func joinWithin(names []string, limit int) string {
	var b strings.Builder
	for _, n := range names {
		if b.Len() > 0 && b.Len()+1+len(n) <= limit {
			b.WriteByte(' ')
			b.WriteString(n)
		} else if b.Len() == 0 && len(n) <= limit {
			b.WriteString(n)
		}
	}
	return b.String()
}

// hostName validates a PTR name as a host name. A valid name has at
// least two labels of letters, digits and inner hyphens, each 1 to 63
// octets and 253 in all. Its last label is not all digits, so the name
// cannot be read as an address. hostName returns the name in lower case
// without the final dot.
func hostName(s string) (string, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > maxHostName {
		return "", false
	}
	s = strings.ToLower(s)
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if !validLabel(l) {
			return "", false
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", false
	}
	return s, true
}

func validLabel(l string) bool {
	if l == "" || len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := range len(l) {
		c := l[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
