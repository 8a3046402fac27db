package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// inetAton is an independent reading of C's inet_aton: one to four parts,
// each decimal, 0x-hex or 0-octal, the last filling the remaining bytes.
// The getaddrinfo of glibc 2.36 accepts such hosts as addresses.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, 0, 4)
	for _, p := range parts {
		base, digits := 10, p
		switch {
		case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
			base, digits = 16, p[2:]
		case len(p) >= 2 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var n uint64
	for i, v := range vals {
		if i == len(vals)-1 {
			if v >= 1<<(8*(5-len(vals))) {
				return netip.Addr{}, false
			}
			n |= v
			break
		}
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func TestInetAtonOracle(t *testing.T) {
	for in, want := range map[string]string{
		"2130706433":   "127.0.0.1",
		"0x7f.1":       "127.0.0.1",
		"017700000001": "127.0.0.1",
		"127.1":        "127.0.0.1",
		"10.0x10000":   "10.1.0.0",
		"1.2.3.4":      "1.2.3.4",
	} {
		got, ok := inetAton(in)
		if !ok || got.String() != want {
			t.Errorf("inetAton(%q) = %v %v, want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"1.2.3.4.5", "256.1", "1.2.3.256", "0x", "a.b", ""} {
		if _, ok := inetAton(in); ok {
			t.Errorf("inetAton(%q) accepted", in)
		}
	}
}

// publicResolver resolves every name to one public address.
type publicResolver struct{}

func (publicResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return addrs("93.184.215.14"), nil
}

// checkHostInvariants asserts what must hold for any host, whatever the
// parser made of it.
func checkHostInvariants(t *testing.T, host string, hostErr error) {
	g := &Guard{}
	if v4, ok := inetAton(host); ok && hostErr == nil {
		if host != v4.String() {
			t.Fatalf("numeric host %q (%s) passed in a non-canonical form", host, v4)
		}
		if g.Check(v4) != nil {
			t.Fatalf("numeric host %q passed though %s is refused", host, v4)
		}
	}
	bare := host
	if len(bare) >= 2 && bare[0] == '[' && bare[len(bare)-1] == ']' {
		bare = bare[1 : len(bare)-1]
	}
	if a, err := netip.ParseAddr(bare); err == nil && g.Check(a) != nil && hostErr == nil {
		t.Fatalf("literal %q passed though refused", host)
	}

	// The dial path must agree and must only ever dial checked literals.
	dial := &recordingDialer{}
	dg := &Guard{Resolver: publicResolver{}, Dialer: dial}
	_, dialErr := dg.DialContext(t.Context(), "tcp", net.JoinHostPort(bare, "80"))
	if hostErr != nil && len(dial.dialed) != 0 {
		t.Fatalf("host %q refused by CheckHost but dialled %q", host, dial.dialed)
	}
	for _, d := range dial.dialed {
		ap, err := netip.ParseAddrPort(d)
		if err != nil || g.Check(ap.Addr()) != nil {
			t.Fatalf("host %q dialled %q", host, d)
		}
	}
	if dialErr == nil && len(dial.dialed) != 1 {
		t.Fatalf("host %q connected after %d dials", host, len(dial.dialed))
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, seed := range []string{
		"http://example.com/x.sh",
		"http://2130706433/",
		"http://0x7f.1/",
		"http://017700000001/",
		"http://127.1:8080/",
		"http://[::ffff:127.0.0.1]/",
		"http://[fe80::1%25eth0]:80/",
		"http://[64:ff9b::a9fe:a9fe]/",
		"https://user:pw@1.1.1.1:443/a?b#c",
		"http://%31%32%37.0.0.1/",
		"http://\uff11\uff12\uff17.0.0.1/",
		"//host",
		"http://1.2.3.4.5/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		err = (&Guard{}).CheckURL(u)
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Fatalf("CheckURL(%q) = %v, not a refusal", raw, err)
		}
		checkHostInvariants(t, u.Hostname(), err)
	})
}

func FuzzCheckHost(f *testing.F) {
	for _, seed := range []string{
		"example.com", "127.0.0.1", "0x7f.1", "2130706433", "[::1]", "::ffff:10.0.0.1",
		"fe80::1%eth0", "127.0.0.1 x", "1.1.1.1", "2606:4700::1", "a..b", "0X.1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, host string) {
		err := (&Guard{}).CheckHost(host)
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Fatalf("CheckHost(%q) = %v, not a refusal", host, err)
		}
		checkHostInvariants(t, host, err)
	})
}
