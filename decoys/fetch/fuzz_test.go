package fetch

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/decnet/decnet/internal/netguard"
)

type oneAddrResolver struct{}

func (oneAddrResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
}

// offlineDialer connects nowhere. It fails the fuzz run when the guard
// passes it anything but an allowed IP literal.
type offlineDialer struct {
	t     *testing.T
	guard *netguard.Guard
}

func (d offlineDialer) DialContext(_ context.Context, _, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || d.guard.Check(ap.Addr()) != nil {
		d.t.Errorf("guard passed %q to the dialer", address)
	}
	return nil, errors.New("offline")
}

func FuzzFetchURL(f *testing.F) {
	for _, seed := range []string{
		"http://example.com/x.sh",
		"example.com:8080/bins/mips",
		"https://1.1.1.1/a?b=c#d",
		"ftp://example.com/x",
		"tftp://10.0.0.1/x",
		"http://2130706433/",
		"http://[::ffff:169.254.169.254]/",
		"  http://user:pw@host.example:99999/ ",
		"http://%31%32%37.0.0.1/",
		"HTTP://EXAMPLE.COM",
		"://x",
		"http://",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		g := &netguard.Guard{Resolver: oneAddrResolver{}}
		g.Dialer = offlineDialer{t: t, guard: g}
		fetcher := New(Options{Guard: g, DedupeWindow: -1})

		if u, err := parseURL(raw); err == nil {
			if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
				t.Fatalf("parseURL(%q) accepted %q", raw, u)
			}
		}
		res := fetcher.Fetch(t.Context(), "wget", raw)
		if res.Outcome != OutcomeFailed && res.Outcome != OutcomeRefused {
			t.Fatalf("offline fetch of %q: %+v", raw, res)
		}
		if res.Outcome == OutcomeRefused && !errors.Is(res.Err, netguard.ErrRefused) {
			t.Fatalf("refusal of %q without ErrRefused: %v", raw, res.Err)
		}
	})
}
