package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// seqResolver returns the next of its answers on each lookup, the way a
// rebinding DNS server alternates between a public and an internal address.
type seqResolver struct {
	mu      sync.Mutex
	answers [][]netip.Addr
	hosts   []string
}

func (r *seqResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts = append(r.hosts, host)
	if len(r.answers) == 0 {
		return nil, errors.New("no more answers")
	}
	a := r.answers[0]
	r.answers = r.answers[1:]
	return a, nil
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// recordingDialer never connects. It records the address and returns a
// conn that has only a remote address.
type recordingDialer struct {
	mu     sync.Mutex
	dialed []string
	// remote, when set, is the peer the returned conn claims, as if a
	// proxy or NAT rule had sent the connection elsewhere.
	remote string
	conns  []*fakeConn
}

func (d *recordingDialer) DialContext(_ context.Context, _, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dialed = append(d.dialed, address)
	peer := address
	if d.remote != "" {
		peer = d.remote
	}
	c := &fakeConn{remote: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(peer))}
	d.conns = append(d.conns, c)
	return c, nil
}

type fakeConn struct {
	net.Conn // nil: any method other than those below would panic
	remote   net.Addr
	closed   bool
}

func (c *fakeConn) RemoteAddr() net.Addr { return c.remote }
func (c *fakeConn) Close() error         { c.closed = true; return nil }

func TestDialContextRebindingNeverReachesRefusedAddress(t *testing.T) {
	res := &seqResolver{answers: [][]netip.Addr{addrs("93.184.215.14"), addrs("127.0.0.1")}}
	dial := &recordingDialer{}
	g := &Guard{Resolver: res, Dialer: dial}

	conn, err := g.DialContext(t.Context(), "tcp", "rebind.example:80")
	if err != nil {
		t.Fatalf("first dial: %v", err)
	}
	if got := conn.RemoteAddr().String(); got != "93.184.215.14:80" {
		t.Fatalf("first dial reached %s", got)
	}

	_, err = g.DialContext(t.Context(), "tcp", "rebind.example:80")
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("second dial = %v, want a refusal", err)
	}
	if want := `refuse "rebind.example" (127.0.0.1): loopback`; err.Error() != want {
		t.Fatalf("second dial error = %q, want %q", err, want)
	}

	// The dialer saw the checked literal once and never a name.
	if len(dial.dialed) != 1 || dial.dialed[0] != "93.184.215.14:80" {
		t.Fatalf("dialled %q, want only the pinned public literal", dial.dialed)
	}
	if len(res.hosts) != 2 {
		t.Fatalf("resolved %d times, want once per dial", len(res.hosts))
	}
}

func TestDialContextRefusesNameWithAnyRefusedAddress(t *testing.T) {
	for _, answer := range [][]netip.Addr{
		addrs("93.184.215.14", "127.0.0.1"),
		addrs("10.0.0.1", "93.184.215.14"),
		addrs("2606:4700::1", "::ffff:169.254.169.254"),
		addrs("fd00:ec2::254"),
	} {
		dial := &recordingDialer{}
		g := &Guard{Resolver: &seqResolver{answers: [][]netip.Addr{answer}}, Dialer: dial}
		_, err := g.DialContext(t.Context(), "tcp", "mixed.example:443")
		if !errors.Is(err, ErrRefused) {
			t.Errorf("answer %v: dial = %v, want a refusal", answer, err)
		}
		if len(dial.dialed) != 0 {
			t.Errorf("answer %v: dialled %q", answer, dial.dialed)
		}
	}
}

func TestDialContextPinsEveryAddressAsLiteral(t *testing.T) {
	dial := &recordingDialer{}
	g := &Guard{
		Resolver: &seqResolver{answers: [][]netip.Addr{addrs("2606:4700::1111", "93.184.215.14")}},
		Dialer:   dial,
	}
	if _, err := g.DialContext(t.Context(), "tcp", "two.example:8443"); err != nil {
		t.Fatal(err)
	}
	if len(dial.dialed) != 1 || dial.dialed[0] != "[2606:4700::1111]:8443" {
		t.Fatalf("dialled %q", dial.dialed)
	}
}

func TestDialContextChecksConnectedPeer(t *testing.T) {
	dial := &recordingDialer{remote: "127.0.0.1:80"}
	g := &Guard{Resolver: &seqResolver{answers: [][]netip.Addr{addrs("93.184.215.14")}}, Dialer: dial}
	_, err := g.DialContext(t.Context(), "tcp", "nat.example:80")
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("dial = %v, want a refusal", err)
	}
	if len(dial.conns) != 1 || !dial.conns[0].closed {
		t.Fatal("the connection to the refused peer was not closed")
	}
}

func TestDialContextRefusesLiteralsWithoutResolving(t *testing.T) {
	for _, address := range []string{
		"127.0.0.1:80",
		"[::1]:80",
		"[::ffff:127.0.0.1]:80",
		"[64:ff9b::a9fe:a9fe]:80",
		"169.254.169.254:80",
		"2130706433:80",
		"0x7f.1:80",
		"017700000001:80",
		"127.1:80",
	} {
		res := &seqResolver{}
		dial := &recordingDialer{}
		g := &Guard{Resolver: res, Dialer: dial}
		_, err := g.DialContext(t.Context(), "tcp", address)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("%s: dial = %v, want a refusal", address, err)
		}
		if len(res.hosts) != 0 || len(dial.dialed) != 0 {
			t.Errorf("%s: resolved %q, dialled %q", address, res.hosts, dial.dialed)
		}
	}
}

func TestDialContextRejectsBadInput(t *testing.T) {
	g := &Guard{Resolver: &seqResolver{}, Dialer: &recordingDialer{}}
	for _, tc := range []struct{ network, address string }{
		{"unix", "/tmp/x"},
		{"tcp", "noport"},
		{"tcp", "host:http"},
		{"tcp", "host:70000"},
	} {
		if _, err := g.DialContext(t.Context(), tc.network, tc.address); err == nil {
			t.Errorf("DialContext(%q, %q) succeeded", tc.network, tc.address)
		}
	}
}

func TestDefaultDialerChecksBeforeConnect(t *testing.T) {
	// The socket is refused in its control hook, before connect(2), so
	// nothing is sent even to loopback.
	g := &Guard{}
	_, err := g.dialer().DialContext(t.Context(), "tcp", "127.0.0.1:9")
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("default dialer = %v, want a refusal", err)
	}
}

func TestDialContextRefusesLocalhostBySystemResolver(t *testing.T) {
	_, err := (&Guard{}).DialContext(t.Context(), "tcp", "localhost:9")
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("dial localhost = %v, want a refusal", err)
	}
}
