package controlplane

import (
	"context"
	"net"
	"slices"
	"testing"

	"github.com/rs/zerolog"
)

// TestServerCertificateNamesAdvertisedBridge checks that the hosts of the
// advertised bridge addresses, which agents dial, are in the server
// certificate, each once.
func TestServerCertificateNamesAdvertisedBridge(t *testing.T) {
	s, err := New(context.Background(), Config{
		DataDir:         t.TempDir(),
		APIListen:       "127.0.0.1:0",
		AgentListen:     "127.0.0.1:0",
		BridgeListen:    "127.0.0.1:0",
		AdvertiseBridge: []string{"gw.decnet.test:7443", "192.0.2.10:7443", "127.0.0.1:7443"},
		PlainHTTP:       true,
		Logger:          zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.closeAll)

	cert, err := s.issueServerCertificate()
	if err != nil {
		t.Fatalf("issueServerCertificate: %v", err)
	}
	leaf := cert.Leaf
	if !slices.Contains(leaf.DNSNames, "gw.decnet.test") {
		t.Errorf("DNSNames = %v, want gw.decnet.test among them", leaf.DNSNames)
	}
	count := func(ip string) int {
		n := 0
		for _, got := range leaf.IPAddresses {
			if got.Equal(net.ParseIP(ip)) {
				n++
			}
		}
		return n
	}
	for _, ip := range []string{"192.0.2.10", "127.0.0.1"} {
		if n := count(ip); n != 1 {
			t.Errorf("IPAddresses = %v: %s appears %d times, want once", leaf.IPAddresses, ip, n)
		}
	}
}
