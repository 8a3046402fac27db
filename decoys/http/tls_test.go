package httpdecoy

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

func tlsOptions(extra ...string) map[string]string {
	opts := map[string]string{OptionTLS: "true"}
	for i := 0; i+1 < len(extra); i += 2 {
		opts[extra[i]] = extra[i+1]
	}
	return opts
}

func TestDerivedCertificate(t *testing.T) {
	profile := tlsFor(nginx{}, "web01").profile
	a1, err := deriveCertificate([]byte("seed-a"), profile)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := deriveCertificate([]byte("seed-a"), profile)
	b, _ := deriveCertificate([]byte("seed-b"), profile)
	if !bytes.Equal(a1.Certificate[0], a2.Certificate[0]) {
		t.Error("one seed gave two certificates")
	}
	if bytes.Equal(a1.Certificate[0], b.Certificate[0]) {
		t.Error("two seeds gave one certificate")
	}
	if a1.Leaf.SerialNumber.Cmp(b.Leaf.SerialNumber) == 0 {
		t.Error("two seeds gave one serial")
	}

	c := a1.Leaf
	if c.Subject.String() != "CN=web01" || c.Issuer.String() != "CN=web01" {
		t.Errorf("subject %q issuer %q, want CN=web01 for both", c.Subject, c.Issuer)
	}
	if len(c.DNSNames) != 1 || c.DNSNames[0] != "web01" {
		t.Errorf("SAN %v", c.DNSNames)
	}
	if d := c.NotAfter.Sub(c.NotBefore); d != 3650*24*time.Hour {
		t.Errorf("validity %v, want 3650 days", d)
	}
	if c.BasicConstraintsValid && c.IsCA {
		t.Error("certificate is a CA")
	}
	if k, ok := c.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Errorf("public key %T, want RSA 2048", c.PublicKey)
	}
	if c.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("signature %v", c.SignatureAlgorithm)
	}
	var oids []string
	for _, e := range c.Extensions {
		oids = append(oids, e.Id.String())
	}
	// basicConstraints, subjectAltName, subjectKeyIdentifier: the order
	// openssl req writes for make-ssl-cert's template.
	if got := strings.Join(oids, " "); got != "2.5.29.19 2.5.29.17 2.5.29.14" {
		t.Errorf("extensions %s", got)
	}
	// CheckSignatureFrom would refuse a parent that is no CA, which the
	// snakeoil certificate is not either.
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("self-signature: %v", err)
	}
}

func TestIISCertificate(t *testing.T) {
	host := iisHostName("", []byte("seed-a"))
	if !strings.HasPrefix(host, "WIN-") || len(host) != 15 {
		t.Errorf("computer name %q", host)
	}
	if got := iisHostName("files01", nil); got != "FILES01" {
		t.Errorf("computer name of files01 = %q", got)
	}
	cert, err := deriveCertificate([]byte("seed-a"), tlsFor(iis{}, host).profile)
	if err != nil {
		t.Fatal(err)
	}
	if cn := cert.Leaf.Subject.CommonName; cn != "WMSvc-SHA2-"+host {
		t.Errorf("CN %q", cn)
	}
	if len(cert.Leaf.ExtKeyUsage) != 1 || cert.Leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("EKU %v", cert.Leaf.ExtKeyUsage)
	}
}

func TestOptionsRejected(t *testing.T) {
	for _, opts := range []map[string]string{
		{"tsl": "true"},
		{OptionTLS: "maybe"},
		{OptionHostname: "bad_name"},
	} {
		_, err := New(decoys.Config{Emitter: newRecorder(), Options: opts})
		if !errors.Is(err, ErrInvalidOption) {
			t.Errorf("options %v: %v, want ErrInvalidOption", opts, err)
		}
	}
	_, err := New(decoys.Config{Emitter: newRecorder(), Options: map[string]string{OptionApp: "joomla"}})
	if !errors.Is(err, ErrUnknownApp) {
		t.Errorf("unknown app: %v", err)
	}
}

// tlsClient connects from 127.0.0.2 and trusts any certificate.
func tlsClient(alpn ...string) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, NextProtos: alpn} //nolint:gosec // G402: the decoy's certificate is self-signed by design
}

func TestTLSNegotiation(t *testing.T) {
	tests := []struct {
		name      string
		persona   string
		opts      map[string]string
		wantALPN  string
		wantMaxV  uint16
		wantCNPre string
	}{
		{"nginx", PersonaNginx, tlsOptions(), "h2", tls.VersionTLS13, "web01"},
		{"nginx without h2", PersonaNginx, tlsOptions(OptionHTTP2, "false"), "http/1.1", tls.VersionTLS13, "web01"},
		{"apache", PersonaApache, tlsOptions(), "http/1.1", tls.VersionTLS13, "web01"},
		{"apache with h2", PersonaApache, tlsOptions(OptionHTTP2, "true"), "h2", tls.VersionTLS13, "web01"},
		{"iis", PersonaIIS, tlsOptions(), "h2", tls.VersionTLS12, "WMSvc-SHA2-WEB01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: tt.persona, Seed: []byte("s"), Options: tt.opts})
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
			conn, err := tls.DialWithDialer(d, "tcp", ts.addr, tlsClient("h2", "http/1.1"))
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer conn.Close()
			st := conn.ConnectionState()
			if st.NegotiatedProtocol != tt.wantALPN || st.Version != tt.wantMaxV {
				t.Errorf("ALPN %q version %x, want %q %x", st.NegotiatedProtocol, st.Version, tt.wantALPN, tt.wantMaxV)
			}
			if cn := st.PeerCertificates[0].Subject.CommonName; cn != tt.wantCNPre {
				t.Errorf("CN %q, want %q", cn, tt.wantCNPre)
			}
		})
	}
}

func TestHTTP2FormLogin(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("s"), Options: tlsOptions()})
	// HTTP/2 only, so a fallback to HTTP/1.1 fails the dial rather
	// than passing unnoticed.
	var protocols http.Protocols
	protocols.SetHTTP2(true)
	tr := &http.Transport{
		Protocols: &protocols,
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := &tls.Dialer{NetDialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}, Config: tlsClient("h2")}
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}

	form := url.Values{"username": {"admin"}, "password": {"h2 secret"}}
	resp, err := client.PostForm("https://"+ts.addr+"/login", form)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || resp.Header.Get("Server") != nginxServer {
		t.Errorf("proto %d status %d server %q", resp.ProtoMajor, resp.StatusCode, resp.Header.Get("Server"))
	}
	if !bytes.Contains(body, []byte("Invalid username or password")) {
		t.Errorf("body %q", body)
	}

	a := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt()
	if a.GetMechanism() != decoys.MechanismHTTPForm || a.GetPrincipal() != "admin" || string(a.GetSecret()) != "h2 secret" {
		t.Errorf("attempt %s %q %q", a.GetMechanism(), a.GetPrincipal(), a.GetSecret())
	}
	r := ts.rec.waitKind(t, decoys.KindHTTPRequest, 1)[0].GetHttpRequest()
	if r.GetProtocol() != "HTTP/2.0" || r.GetMethod() != "POST" || r.GetTarget() != "/login" || r.GetStatus() != 200 {
		t.Errorf("event %v", r)
	}

	resp, err = client.Get("https://" + ts.addr + "/nope")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 404 || string(body) != nginx404Page || resp.Header.Get("Content-Length") != "153" {
		t.Errorf("404 over h2: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

func TestPlainHTTPOnTLSPort(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("s"), Options: tlsOptions()})
	head, body := splitResponse(t, exchange(t, ts.addr, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	if !strings.HasPrefix(head, "HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\n") || !strings.HasSuffix(head, "Connection: close") {
		t.Errorf("head %q", head)
	}
	if !strings.Contains(body, "<center>The plain HTTP request was sent to HTTPS port</center>") {
		t.Errorf("body %q", body)
	}
}
