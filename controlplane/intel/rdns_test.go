package intel

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer is a tiny authoritative DNS server on a loopback UDP port.
// It answers PTR, A and AAAA questions from its maps, NXDOMAIN for
// anything else, and records every question it gets.
type dnsServer struct {
	conn net.PacketConn
	ptr  map[string][]string
	ip   map[string][]netip.Addr

	mu    sync.Mutex
	asked []string
}

func newDNSServer(t *testing.T, ptr map[string][]string, ip map[string][]netip.Addr) *dnsServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: conn, ptr: ptr, ip: ip}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.serve()
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		<-done
	})
	return s
}

func (s *dnsServer) addr() string { return s.conn.LocalAddr().String() }

func (s *dnsServer) questions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.asked)
}

func (s *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, ok := s.answer(buf[:n]); ok {
			_, _ = s.conn.WriteTo(out, from)
		}
	}
}

func (s *dnsServer) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := strings.ToLower(q.Name.String())
	s.mu.Lock()
	s.asked = append(s.asked, q.Type.String()+" "+name)
	s.mu.Unlock()

	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	rr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	found := false
	switch q.Type {
	case dnsmessage.TypePTR:
		for _, target := range s.ptr[name] {
			rr.Type = dnsmessage.TypePTR
			// Raw names let the test serve what a hostile zone would.
			var tn dnsmessage.Name
			tn.Length = uint8(copy(tn.Data[:], target)) //nolint:gosec // G115: test names are short
			_ = b.PTRResource(rr, dnsmessage.PTRResource{PTR: tn})
			found = true
		}
	case dnsmessage.TypeA, dnsmessage.TypeAAAA:
		for _, a := range s.ip[name] {
			switch {
			case q.Type == dnsmessage.TypeA && a.Is4():
				_ = b.AResource(rr, dnsmessage.AResource{A: a.As4()})
			case q.Type == dnsmessage.TypeAAAA && a.Is6():
				_ = b.AAAAResource(rr, dnsmessage.AAAAResource{AAAA: a.As16()})
			}
		}
		found = len(s.ip[name]) > 0
	}
	if !found {
		// Rebuild with NXDOMAIN and no answers.
		rh.RCode = dnsmessage.RCodeNameError
		b = dnsmessage.NewBuilder(nil, rh)
		_ = b.StartQuestions()
		_ = b.Question(q)
	}
	out, err := b.Finish()
	return out, err == nil
}

func newTestRDNS(t *testing.T, srv *dnsServer, confirm bool) *RDNS {
	t.Helper()
	res, err := NewPinnedResolver(srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewRDNS(RDNSConfig{Resolver: res, ForwardConfirm: confirm})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRDNSReportsPTRName(t *testing.T) {
	srv := newDNSServer(t, map[string][]string{
		"7.100.51.198.in-addr.arpa.": {"Scanner-7.Example.NET."},
	}, nil)
	p := newTestRDNS(t, srv, false)

	r, err := p.Check(t.Context(), netip.MustParseAddr("198.51.100.7"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != VerdictUnknown || r.Reason != "PTR scanner-7.example.net" {
		t.Fatalf("result = %+v", r)
	}
	if r.Evidence["ptr"] != "scanner-7.example.net" || len(r.Evidence) != 1 {
		t.Fatalf("evidence = %v", r.Evidence)
	}
	if got := srv.questions(); !slices.Equal(got, []string{"TypePTR 7.100.51.198.in-addr.arpa."}) {
		t.Fatalf("questions = %v, want the PTR query only", got)
	}
}

func TestRDNSNoRecordIsAResult(t *testing.T) {
	srv := newDNSServer(t, nil, nil)
	p := newTestRDNS(t, srv, true)

	r, err := p.Check(t.Context(), netip.MustParseAddr("2001:db8::1"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != VerdictUnknown || r.Reason != "no PTR record" || r.Evidence != nil {
		t.Fatalf("result = %+v", r)
	}
	want := "TypePTR 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
	if got := srv.questions(); !slices.Equal(got, []string{want}) {
		t.Fatalf("questions = %v", got)
	}
}

func TestRDNSForwardConfirm(t *testing.T) {
	srv := newDNSServer(t, map[string][]string{
		"7.100.51.198.in-addr.arpa.": {"host.example.net."},
		"8.100.51.198.in-addr.arpa.": {"liar.example.org."},
		"9.100.51.198.in-addr.arpa.": {"gone.example.org."},
	}, map[string][]netip.Addr{
		"host.example.net.": {netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8::7")},
		"liar.example.org.": {netip.MustParseAddr("203.0.113.1")},
	})
	p := newTestRDNS(t, srv, true)

	for _, tc := range []struct {
		addr, confirmed, reason string
	}{
		{"198.51.100.7", "true", "PTR host.example.net, forward-confirmed"},
		{"198.51.100.8", "false", "PTR liar.example.org"},
		{"198.51.100.9", "false", "PTR gone.example.org"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			r, err := p.Check(t.Context(), netip.MustParseAddr(tc.addr))
			if err != nil {
				t.Fatal(err)
			}
			if r.Evidence["forward_confirmed"] != tc.confirmed || r.Reason != tc.reason {
				t.Fatalf("result = %+v", r)
			}
		})
	}
	for _, q := range srv.questions() {
		if strings.HasPrefix(q, "TypeA") && !strings.Contains(q, "example.") {
			t.Fatalf("forward query %q for a name no PTR gave", q)
		}
	}
}

func TestRDNSHostileNames(t *testing.T) {
	srv := newDNSServer(t, map[string][]string{
		// A PTR that spells another address must not confirm itself.
		"1.113.0.203.in-addr.arpa.": {"203.0.113.1."},
		"2.113.0.203.in-addr.arpa.": {"localhost."},
		"3.113.0.203.in-addr.arpa.": {"-bad.example.com.", "ok.example.com.", "b.example.com.", "a.example.com.", "c.example.com.", "d.example.com."},
		"4.113.0.203.in-addr.arpa.": {"under_score.example.com."},
	}, map[string][]netip.Addr{
		"localhost.": {netip.MustParseAddr("203.0.113.2")},
	})
	p := newTestRDNS(t, srv, true)

	for _, tc := range []struct {
		addr      string
		ptr       string
		other     string
		confirmed string
	}{
		{"203.0.113.1", "", "", ""},
		{"203.0.113.2", "", "", ""},
		{"203.0.113.3", "a.example.com", "b.example.com c.example.com d.example.com", "false"},
		{"203.0.113.4", "", "", ""},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			r, err := p.Check(t.Context(), netip.MustParseAddr(tc.addr))
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict != VerdictUnknown {
				t.Fatalf("verdict %s, want unknown", r.Verdict)
			}
			if r.Evidence["ptr"] != tc.ptr || r.Evidence["ptr_other"] != tc.other || r.Evidence["forward_confirmed"] != tc.confirmed {
				t.Fatalf("evidence = %v", r.Evidence)
			}
			if tc.ptr == "" && (r.Evidence["ptr_invalid"] != "true" || r.Reason != "PTR record is not a valid host name") {
				t.Fatalf("result = %+v", r)
			}
		})
	}
	for _, q := range srv.questions() {
		if strings.Contains(q, "localhost") || strings.Contains(q, "TypeA 203.0.113.1") {
			t.Fatalf("forward query %q for an invalid name", q)
		}
	}
}

func TestRDNSResolverFailureIsUnavailable(t *testing.T) {
	p, err := NewRDNS(RDNSConfig{Resolver: failingResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Check(t.Context(), netip.MustParseAddr("198.51.100.7"))
	if err == nil || errorCategory(err) != "unavailable" {
		t.Fatalf("err = %v, category %q", err, errorCategory(err))
	}
}

type failingResolver struct{}

func (failingResolver) LookupAddr(context.Context, string) ([]string, error) {
	return nil, &net.DNSError{Err: "server misbehaving", IsTemporary: true}
}

func (failingResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, errors.New("not reached")
}

func TestRDNSThroughEnricher(t *testing.T) {
	srv := newDNSServer(t, map[string][]string{
		"7.100.51.198.in-addr.arpa.": {"scanner.example.net."},
	}, nil)
	e, err := New(Config{Providers: []Provider{newTestRDNS(t, srv, false)}, LookupNonPublic: true, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rep, err := e.Lookup(t.Context(), netip.MustParseAddr("198.51.100.7"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict != VerdictUnknown || len(rep.Results) != 1 || rep.Results[0].Provider != "rdns" || rep.Results[0].Evidence["ptr"] != "scanner.example.net" {
			t.Fatalf("report = %+v", rep)
		}
	}
	if got := len(srv.questions()); got != 1 {
		t.Fatalf("%d queries, want 1: the second lookup comes from the cache", got)
	}
}

func TestPinnedResolverWantsAnAddress(t *testing.T) {
	for _, bad := range []string{"", "dns.example.com:53", "127.0.0.1", "127.0.0.1:0"} {
		if _, err := NewPinnedResolver(bad); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewPinnedResolver(%q) = %v, want ErrInvalidConfig", bad, err)
		}
	}
}

func TestHostNameRules(t *testing.T) {
	long := strings.Repeat("a", 63)
	for in, want := range map[string]string{
		"Host.Example.COM.":                      "host.example.com",
		"a-b.c0.example":                         "a-b.c0.example",
		long + ".example.com":                    long + ".example.com",
		strings.Repeat("a", 64) + ".example.com": "",
		strings.Repeat(long+".", 4)[:254] + "x":  "",
		"localhost":                              "",
		"203.0.113.1":                            "",
		"1.2.3.4.in-addr.arpa":                   "1.2.3.4.in-addr.arpa",
		"-a.example.com":                         "",
		"a-.example.com":                         "",
		"a..example.com":                         "",
		"a.example.com\n":                        "",
		"ex\u00e4mple.com":                       "",
		"<script>.example.com":                   "",
		"under_score.example.com":                "",
		".":                                      "",
	} {
		got, ok := hostName(in)
		if got != want || ok != (want != "") {
			t.Errorf("hostName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
