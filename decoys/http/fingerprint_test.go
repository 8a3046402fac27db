package httpdecoy

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
)

// A TLS handshake on the HTTPS decoy emits one client.fingerprinted
// event in the connection's session, with the suites the client offered.
func TestTLSClientFingerprint(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("s"), Options: tlsOptions()})
	client := tlsClient("h2", "http/1.1")
	client.ServerName = "web01.example"
	client.MaxVersion = tls.VersionTLS12
	client.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	client.CurvePreferences = []tls.CurveID{tls.CurveP256}

	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	conn, err := tls.DialWithDialer(d, "tcp", ts.addr, client)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if err := conn.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	closed := ts.rec.waitKind(t, decoys.KindConnectionClosed, 1)[0]

	fps := ts.rec.byKind(decoys.KindClientFingerprinted)
	if len(fps) != 1 {
		t.Fatalf("%d fingerprint events for one handshake, want 1", len(fps))
	}
	ev := fps[0]
	if ev.GetSessionId() == "" || ev.GetSessionId() != closed.GetSessionId() {
		t.Errorf("session %q, want the connection's %q", ev.GetSessionId(), closed.GetSessionId())
	}
	if src := ev.GetSource().GetAddress(); src != "127.0.0.2" {
		t.Errorf("source %q, want 127.0.0.2", src)
	}

	fp := ev.GetClientFingerprinted()
	fields := strings.Split(fp.GetJa3String(), ",")
	if len(fields) != 5 {
		t.Fatalf("ja3 string %q has %d fields, want 5", fp.GetJa3String(), len(fields))
	}
	if fields[0] != "771" {
		t.Errorf("ja3 version = %s, want 771", fields[0])
	}
	// crypto/tls ignores the order of CipherSuites and offers its own.
	if fields[1] != "49199-49200" {
		t.Errorf("ja3 ciphers = %s, want 49199-49200", fields[1])
	}
	if fields[3] != "23" {
		t.Errorf("ja3 curves = %s, want 23", fields[3])
	}
	if len(fp.GetJa3()) != 32 {
		t.Errorf("ja3 = %q, want an MD5", fp.GetJa3())
	}
	if ja4 := fp.GetJa4(); !strings.HasPrefix(ja4, "t12d02") || ja4[8:10] != "h2" {
		t.Errorf("ja4 = %s, want t12d02..h2", ja4)
	}
	if fp.GetSshClientVersion() != "" || fp.GetHassh() != "" {
		t.Errorf("ssh fields set on a TLS fingerprint: %v", fp)
	}
}

// Plain HTTP on the TLS port has no ClientHello and so no fingerprint.
func TestPlainHTTPOnTLSNoFingerprint(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("s"), Options: tlsOptions()})
	_ = exchange(t, ts.addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	ts.rec.waitKind(t, decoys.KindConnectionClosed, 1)
	if n := len(ts.rec.byKind(decoys.KindClientFingerprinted)); n != 0 {
		t.Errorf("%d fingerprint events without TLS, want 0", n)
	}
}
