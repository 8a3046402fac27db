package tlsfp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func testCertificate(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tcpPair returns both ends of a loopback TCP connection. net.Pipe
// would deadlock: it has no buffer, and in a TLS 1.3 handshake both
// sides can write at the same time.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// handshakeOver runs one handshake between client and a captured copy of
// server over loopback TCP and returns what the sink received.
func handshakeOver(t *testing.T, server, client *tls.Config) ([]*eventv1.ClientFingerprint, tls.ConnectionState) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []*eventv1.ClientFingerprint
	)
	sink := Sink(func(fp *eventv1.ClientFingerprint) {
		mu.Lock()
		got = append(got, fp)
		mu.Unlock()
	})

	cs, cc := tcpPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	done := make(chan error, 1)
	go func() {
		done <- tls.Server(cs, Capture(server)).HandshakeContext(WithSink(ctx, sink))
	}()
	tc := tls.Client(cc, client)
	if err := tc.HandshakeContext(ctx); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got, tc.ConnectionState()
}

// A crypto/tls client limited to TLS 1.2 with chosen suites and curves
// yields one fingerprint that lists exactly those.
func TestCaptureGoClient(t *testing.T) {
	server := &tls.Config{Certificates: []tls.Certificate{testCertificate(t)}, NextProtos: []string{"h2"}}
	client := &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // the test server's certificate is throwaway
		ServerName:         "decoy.example",
		MaxVersion:         tls.VersionTLS12,
		CipherSuites:       []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		CurvePreferences:   []tls.CurveID{tls.CurveP384, tls.CurveP256},
		NextProtos:         []string{"h2", "http/1.1"},
	}

	got, _ := handshakeOver(t, server, client)
	if len(got) != 1 {
		t.Fatalf("%d fingerprints for one handshake, want 1", len(got))
	}
	fields := strings.Split(got[0].GetJa3String(), ",")
	if len(fields) != 5 {
		t.Fatalf("ja3 string %q has %d fields, want 5", got[0].GetJa3String(), len(fields))
	}
	if fields[0] != "771" {
		t.Errorf("ja3 version = %s, want 771", fields[0])
	}
	if fields[1] != "49195-49196" {
		t.Errorf("ja3 ciphers = %s, want 49195-49196", fields[1])
	}
	// crypto/tls ignores the order of CurvePreferences and sends the
	// groups in its internal preference order (Config documentation).
	if fields[3] != "23-24" {
		t.Errorf("ja3 curves = %s, want 23-24", fields[3])
	}
	if got[0].GetJa3() != md5Hex(got[0].GetJa3String()) {
		t.Errorf("ja3 %s is not the MD5 of %q", got[0].GetJa3(), got[0].GetJa3String())
	}
	if ja4 := got[0].GetJa4(); !strings.HasPrefix(ja4, "t12d02") || ja4[8:10] != "h2" {
		t.Errorf("ja4 = %s, want t12d02..h2", ja4)
	}
}

// A TLS 1.3 client that must retry with another key share still yields
// one fingerprint, and the server's existing callback still decides.
func TestCaptureHelloRetryAndChain(t *testing.T) {
	var called int
	server := &tls.Config{Certificates: []tls.Certificate{testCertificate(t)}}
	server.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		called++
		c := server.Clone()
		c.GetConfigForClient = nil
		c.CurvePreferences = []tls.CurveID{tls.CurveP384}
		return c, nil
	}
	client := &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // the test server's certificate is throwaway
		MinVersion:         tls.VersionTLS13,
		CurvePreferences:   []tls.CurveID{tls.X25519, tls.CurveP384},
	}

	got, state := handshakeOver(t, server, client)
	if !state.HelloRetryRequest {
		t.Fatal("handshake had no HelloRetryRequest")
	}
	if state.CurveID != tls.CurveP384 {
		t.Errorf("group = %v, want P-384 from the server's callback", state.CurveID)
	}
	if len(got) != 1 {
		t.Fatalf("%d fingerprints for one handshake, want 1", len(got))
	}
	if called != 1 {
		t.Errorf("server callback ran %d times, want 1", called)
	}
	if ja4 := got[0].GetJa4(); !strings.HasPrefix(ja4, "t13i") {
		t.Errorf("ja4 = %s, want t13i prefix", ja4)
	}
}

// A handshake whose context has no sink runs as before and emits
// nothing.
func TestCaptureWithoutSink(t *testing.T) {
	cs, cc := tcpPair(t)
	server := Capture(&tls.Config{Certificates: []tls.Certificate{testCertificate(t)}})
	done := make(chan error, 1)
	go func() { done <- tls.Server(cs, server).Handshake() }()
	client := tls.Client(cc, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // throwaway certificate
	if err := client.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
}
