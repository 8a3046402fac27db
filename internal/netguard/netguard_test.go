package netguard

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestCheckRefusesSpecialRanges(t *testing.T) {
	g := &Guard{}
	cases := []struct {
		addr   string
		reason string // substring of the refusal; "" means allowed
	}{
		// IPv4, one address inside each refused range and at its edges.
		{"0.0.0.0", "this network"},
		{"0.255.255.255", "this network"},
		{"10.0.0.1", "private"},
		{"10.255.255.255", "private"},
		{"100.64.0.0", "CGNAT"},
		{"100.127.255.255", "CGNAT"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"169.254.169.254", "metadata"},
		{"169.254.0.1", "link-local"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.0.0.8", "IETF"},
		{"192.0.2.1", "documentation"},
		{"192.88.99.1", "6to4 relay"},
		{"192.168.1.1", "private"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"198.51.100.7", "documentation"},
		{"203.0.113.9", "documentation"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "reserved"},
		// Public IPv4 just outside the refused ranges.
		{"1.1.1.1", ""},
		{"9.255.255.255", ""},
		{"11.0.0.0", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"126.255.255.255", ""},
		{"128.0.0.0", ""},
		{"169.253.255.255", ""},
		{"169.255.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"192.0.1.255", ""},
		{"192.0.3.0", ""},
		{"192.167.255.255", ""},
		{"192.169.0.0", ""},
		{"198.17.255.255", ""},
		{"198.20.0.0", ""},
		{"223.255.255.255", ""},

		// IPv6 without an embedded IPv4 address.
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"100::1", "discard"},
		{"2001::1", "IETF"},
		{"2001:1ff:ffff::1", "IETF"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"fc00::1", "unique local"},
		{"fdff:ffff::1", "unique local"},
		{"fd00:ec2::254", "metadata"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"febf::1", "link-local"},
		{"fec0::1", "site-local"},
		{"ff02::1", "multicast"},
		{"::127.0.0.1", "not global unicast"},
		{"64:ff9b:1::a00:1", "local-use NAT64"},
		{"4000::1", "not global unicast"},
		{"2001:200::1", ""},
		{"2606:4700:4700::1111", ""},
		{"2a00:1450:4001::1", ""},

		// IPv6 forms that carry an IPv4 address: judged by that address.
		{"::ffff:127.0.0.1", "IPv4-mapped form of 127.0.0.1 (loopback)"},
		{"::ffff:169.254.169.254", "IPv4-mapped form of 169.254.169.254"},
		{"::ffff:10.1.2.3", "IPv4-mapped"},
		{"::ffff:0.0.0.0", "IPv4-mapped"},
		{"::ffff:1.1.1.1", ""},
		{"64:ff9b::7f00:1", "NAT64 form of 127.0.0.1"},
		{"64:ff9b::a9fe:a9fe", "NAT64 form of 169.254.169.254"},
		{"64:ff9b::c0a8:101", "NAT64 form of 192.168.1.1"},
		{"64:ff9b::101:101", ""},
		{"2002:7f00:1::1", "6to4 form of 127.0.0.1"},
		{"2002:a00:1::", "6to4 form of 10.0.0.1"},
		{"2002:a9fe:a9fe:1::1", "6to4 form of 169.254.169.254"},
		{"2002:101:101::1", ""},
	}
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			err := g.Check(netip.MustParseAddr(tc.addr))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Check = %v, want allowed", err)
				}
				return
			}
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("Check = %v, want a refusal", err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Check = %q, want reason containing %q", err, tc.reason)
			}
		})
	}
}

func TestCheckRefusesInvalidAddress(t *testing.T) {
	if err := (&Guard{}).Check(netip.Addr{}); !errors.Is(err, ErrRefused) {
		t.Fatalf("Check(zero) = %v, want a refusal", err)
	}
}

func TestAllowListPassesRefusedRanges(t *testing.T) {
	g := &Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("fd12::/16")}}
	for addr, want := range map[string]bool{
		"127.0.0.1":        true,
		"127.0.0.2":        true,
		"::ffff:127.0.0.1": true,
		"64:ff9b::7f00:1":  true,
		"fd12::5":          true,
		"::1":              false,
		"10.0.0.1":         false,
		"169.254.169.254":  false,
		"fd13::5":          false,
		"8.8.4.4":          true,
	} {
		err := g.Check(netip.MustParseAddr(addr))
		if got := err == nil; got != want {
			t.Errorf("Check(%s) = %v, want allowed=%v", addr, err, want)
		}
	}
}

func TestCheckURLRefusesLiteralAndNumericForms(t *testing.T) {
	// Loopback is allowed here so the test shows the numeric forms are
	// refused for their form, not for the address they decode to.
	allowLoopback := &Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	strict := &Guard{}
	cases := []struct {
		raw            string
		strictRefused  bool
		allowedRefused bool
	}{
		{"http://127.0.0.1/", true, false},
		{"http://127.0.0.1:8080/x", true, false},
		{"http://[::ffff:127.0.0.1]/", true, false},
		{"http://[::ffff:7f00:1]/", true, false},
		{"http://[0:0:0:0:0:ffff:127.0.0.1]/", true, false},
		{"http://[::1]/", true, true},
		{"http://[fe80::1%25eth0]/", true, true},
		{"http://169.254.169.254/latest/meta-data/", true, true},
		{"http://[fd00:ec2::254]/", true, true},
		{"http://2130706433/", true, true},
		{"http://0x7f.1/", true, true},
		{"http://0x7F000001/", true, true},
		{"http://017700000001/", true, true},
		{"http://0177.0.0.1/", true, true},
		{"http://127.1/", true, true},
		{"http://127.0.0.1./", true, true},
		{"http://127.000.000.001/", true, true},
		{"http://1.1.1.01/", true, true},
		{"http://example.0x/", true, true},
		{"http://example.123/", true, true},
		{"http:///path", true, true},
		// Names pass CheckURL; DialContext resolves and checks them.
		{"http://example.com/", false, false},
		{"http://localhost/", false, false},
		{"http://deadbeef.cafe/", false, false},
		{"http://0x7f.example/", false, false},
		{"http://1.2.3.4.example/", false, false},
		{"http://8.8.8.8/", false, false},
		{"https://[2606:4700:4700::1111]:443/", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			u, err := url.Parse(tc.raw)
			if err != nil {
				t.Fatalf("url.Parse: %v", err)
			}
			if err := strict.CheckURL(u); errors.Is(err, ErrRefused) != tc.strictRefused {
				t.Errorf("strict CheckURL = %v, want refused=%v", err, tc.strictRefused)
			}
			if err := allowLoopback.CheckURL(u); errors.Is(err, ErrRefused) != tc.allowedRefused {
				t.Errorf("loopback-allowing CheckURL = %v, want refused=%v", err, tc.allowedRefused)
			}
		})
	}
}

func TestCheckHostRefusesMalformedIPv6(t *testing.T) {
	// url.Parse rejects these, but a host can reach the guard by other
	// paths (a dial address, a webhook configuration).
	for _, host := range []string{"::ffff:127.0.0.01", "[::1", "fe80::1%", "1::2::3", "[]", ""} {
		if err := (&Guard{}).CheckHost(host); !errors.Is(err, ErrRefused) {
			t.Errorf("CheckHost(%q) = %v, want a refusal", host, err)
		}
	}
}

func TestRefusedErrorNamesHostAndAddress(t *testing.T) {
	err := (&Guard{}).CheckHost("[::ffff:127.0.0.1]")
	want := `refuse "[::ffff:127.0.0.1]" (::ffff:127.0.0.1): IPv4-mapped form of 127.0.0.1 (loopback)`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
	err = (&Guard{}).CheckHost("0x7f.1")
	if want := `refuse "0x7f.1": non-canonical numeric host`; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}
