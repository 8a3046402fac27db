//go:build integration

package httpdecoy

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/decnet/decnet/decoys"
)

// TestCurlOverTLS posts a form login with curl over HTTP/2 and over
// HTTP/1.1 on TLS from 127.0.0.2, and checks both were captured exactly.
func TestCurlOverTLS(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	ts := startService(t, decoys.Config{Seed: []byte("curl-tls"), Options: tlsOptions()})
	base := "https://" + ts.addr

	for _, tc := range []struct{ flag, version, user, password string }{
		{"--http2", "2", "h2user", "pass word&2"},
		{"--http1.1", "1.1", "h1user", "p@ss:1"},
	} {
		out, err := exec.Command(curl, tc.flag, "-k", "--interface", "127.0.0.2", "-sS", "-o", "-", "-w", "\n%{http_version} %{http_code}",
			"--data-urlencode", "username="+tc.user, "--data-urlencode", "password="+tc.password, base+"/login").CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v: %s", tc.flag, err, out)
		}
		if !strings.HasSuffix(string(out), "\n"+tc.version+" 200") || !strings.Contains(string(out), "Invalid username or password") {
			t.Errorf("curl %s answer: %s", tc.flag, out)
		}
	}

	auths := ts.rec.waitKind(t, decoys.KindAuthAttempt, 2)
	for i, w := range []struct{ principal, secret string }{{"h2user", "pass word&2"}, {"h1user", "p@ss:1"}} {
		a := auths[i].GetAuthAttempt()
		if a.GetMechanism() != decoys.MechanismHTTPForm || a.GetPrincipal() != w.principal || string(a.GetSecret()) != w.secret {
			t.Errorf("attempt %d = %s %q %q", i, a.GetMechanism(), a.GetPrincipal(), a.GetSecret())
		}
		if src := auths[i].GetSource().GetAddress(); src != "127.0.0.2" {
			t.Errorf("attempt %d source %q", i, src)
		}
	}
	reqs := ts.rec.waitKind(t, decoys.KindHTTPRequest, 2)
	if p := reqs[0].GetHttpRequest().GetProtocol(); p != "HTTP/2.0" {
		t.Errorf("first request protocol %q, want HTTP/2.0", p)
	}
}

// sClient runs openssl s_client against addr with ALPN h2 and returns
// its output and the server's certificate.
func sClient(t *testing.T, openssl, addr string, extra ...string) (string, *x509.Certificate) {
	t.Helper()
	args := append([]string{"s_client", "-connect", addr, "-alpn", "h2,http/1.1", "-servername", "localhost"}, extra...)
	cmd := exec.Command(openssl, args...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl s_client: %v: %s", err, out)
	}
	block := regexp.MustCompile(`(?s)-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----`).Find(out)
	if block == nil {
		t.Fatalf("s_client printed no certificate: %s", out)
	}
	pb, _ := pem.Decode(block)
	if pb == nil {
		t.Fatalf("undecodable certificate: %s", block)
	}
	cert, err := x509.ParseCertificate(pb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), cert
}

// TestOpenSSLClient checks the handshake openssl s_client sees: ALPN h2,
// the decky's certificate, the same for one seed and different for two.
func TestOpenSSLClient(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	a1 := startService(t, decoys.Config{Decky: "web01", Seed: []byte("seed-a"), Options: tlsOptions()})
	a2 := startService(t, decoys.Config{Decky: "web01", Seed: []byte("seed-a"), Options: tlsOptions()})
	b := startService(t, decoys.Config{Decky: "db02", Seed: []byte("seed-b"), Options: tlsOptions()})

	out, ca1 := sClient(t, openssl, a1.addr)
	for _, want := range []string{"ALPN protocol: h2", "subject=CN = web01", "issuer=CN = web01", "Protocol  : TLSv1.3"} {
		if !strings.Contains(out, want) {
			t.Errorf("s_client output lacks %q:\n%s", want, out)
		}
	}
	if len(ca1.DNSNames) != 1 || ca1.DNSNames[0] != "web01" {
		t.Errorf("SAN %v, want web01", ca1.DNSNames)
	}
	_, ca2 := sClient(t, openssl, a2.addr)
	_, cb := sClient(t, openssl, b.addr)
	if !bytes.Equal(ca1.Raw, ca2.Raw) {
		t.Error("one seed served two certificates")
	}
	if bytes.Equal(ca1.Raw, cb.Raw) || cb.Subject.CommonName != "db02" || cb.DNSNames[0] != "db02" {
		t.Errorf("second decky's certificate: subject %q SAN %v", cb.Subject, cb.DNSNames)
	}

	out, _ = sClient(t, openssl, a1.addr, "-tls1_2")
	if !strings.Contains(out, "Protocol  : TLSv1.2") || !strings.Contains(out, "ALPN protocol: h2") {
		t.Errorf("TLS 1.2 handshake:\n%s", out)
	}
}

// TestWhatWebApps runs whatweb against each login application and checks
// it names the product.
func TestWhatWebApps(t *testing.T) {
	whatweb, err := exec.LookPath("whatweb")
	if err != nil {
		t.Skip("whatweb is not installed")
	}
	tests := []struct {
		app     string
		persona string
		want    []string
	}{
		{AppWordPress, PersonaNginx, []string{"WordPress[6.4.3]", "nginx[1.22.1]"}},
		{AppGrafana, PersonaNginx, []string{"Grafana[10.2.3]"}},
		{AppPHPMyAdmin, PersonaApache, []string{"phpMyAdmin[5.2.1]", "Apache[2.4.58]"}},
		{AppOWA, PersonaIIS, []string{"Outlook-Web-App[15.2.1258.12]", "Microsoft-IIS[10.0]"}},
		{AppRouter, PersonaNginx, []string{"MikroTik"}},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: tt.persona, Seed: []byte("ww"), Options: map[string]string{OptionApp: tt.app}})
			out, err := exec.Command(whatweb, "--color=never", "--no-errors", "-a", "3", "http://"+ts.addr+"/").CombinedOutput()
			if err != nil {
				t.Fatalf("whatweb: %v: %s", err, out)
			}
			t.Logf("whatweb: %s", out)
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("whatweb output lacks %s:\n%s", w, out)
				}
			}
		})
	}
}

// TestAppLoginsCaptured posts each application's own login with curl and
// checks the exact principal and secret.
func TestAppLoginsCaptured(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	tests := []struct {
		app, path, contentType, body string
		mechanism, user, password    string
		wantText                     string
	}{
		{AppWordPress, "/wp-login.php", "", "log=admin&pwd=Winter2024%21&wp-submit=Log+In&testcookie=1", decoys.MechanismHTTPForm, "admin", "Winter2024!",
			"The password you entered for the username <strong>admin</strong> is incorrect."},
		{AppWordPress, "/wp-login.php", "", "log=nobody&pwd=x", decoys.MechanismHTTPForm, "nobody", "x",
			"The username <strong>nobody</strong> is not registered on this site."},
		{AppGrafana, "/login", "application/json", `{"user":"admin","password":"admin"}`, decoys.MechanismHTTPJSON, "admin", "admin",
			`"message":"Invalid username or password"`},
		{AppGrafana, "/api/login", "application/json", `{"user":"viewer","password":"p w"}`, decoys.MechanismHTTPJSON, "viewer", "p w", "password-auth.failed"},
		{AppPHPMyAdmin, "/index.php", "", "pma_username=root&pma_password=toor&server=1", decoys.MechanismHTTPForm, "root", "toor",
			"mysqli::real_connect(): (HY000/1045): Access denied for user 'root'@'localhost' (using password: YES)"},
		{AppOWA, "/owa/auth.owa", "", "destination=https%3A%2F%2Fmail%2Fowa%2F&flags=4&username=CORP%5Cjdoe&password=Spring%232024&isUtf8=1",
			decoys.MechanismHTTPForm, `CORP\jdoe`, "Spring#2024", "reason=2"},
		{AppRouter, "/cfg", "", "name=admin&password=", decoys.MechanismHTTPForm, "admin", "", "invalid user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.app+tt.path+"/"+tt.user, func(t *testing.T) {
			ts := startService(t, decoys.Config{Seed: []byte("apps"), Options: map[string]string{OptionApp: tt.app}})
			args := []string{"--interface", "127.0.0.2", "-sS", "-i", "--data-binary", tt.body, "http://" + ts.addr + tt.path}
			if tt.contentType != "" {
				args = append(args, "-H", "Content-Type: "+tt.contentType)
			}
			out, err := exec.Command(curl, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("curl: %v: %s", err, out)
			}
			if !strings.Contains(string(out), tt.wantText) {
				t.Errorf("answer lacks %q:\n%s", tt.wantText, out)
			}
			a := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt()
			if a.GetMechanism() != tt.mechanism || a.GetPrincipal() != tt.user || string(a.GetSecret()) != tt.password {
				t.Errorf("attempt %s %q %q, want %s %q %q", a.GetMechanism(), a.GetPrincipal(), a.GetSecret(), tt.mechanism, tt.user, tt.password)
			}
		})
	}
}

// TestNginxTLSSideBySide starts the real nginx with TLS and HTTP/2 and a
// certificate made by make-ssl-cert's own template, and compares what a
// client sees: ALPN, protocol version, certificate layout. It logs the
// JA4S of both, which TLS.md records.
func TestNginxTLSSideBySide(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed")
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	template, err := os.ReadFile("/usr/share/ssl-cert/ssleay.cnf")
	if err != nil {
		t.Skip("ssl-cert is not installed")
	}

	dir := t.TempDir()
	cnf := strings.NewReplacer("@HostName@", "web01", "@SubjectAltName@", "DNS:web01").Replace(string(template))
	if err := os.WriteFile(filepath.Join(dir, "ssleay.cnf"), []byte(cnf), 0o600); err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "snakeoil.pem"), filepath.Join(dir, "snakeoil.key")
	if out, err := exec.Command(openssl, "req", "-config", filepath.Join(dir, "ssleay.cnf"), "-new", "-x509", "-days", "3650",
		"-nodes", "-sha256", "-out", certPath, "-keyout", keyPath).CombinedOutput(); err != nil {
		t.Fatalf("make snakeoil: %v: %s", err, out)
	}

	ts := startService(t, decoys.Config{Decky: "web01", Seed: []byte("side"), Options: tlsOptions()})
	// Debian 12's nginx.conf sets ssl_protocols TLSv1 to TLSv1.3 and
	// ssl_prefer_server_ciphers on; the site adds "listen ssl http2".
	oracle := startNginxTLS(t, bin, fmt.Sprintf(`ssl_certificate %s; ssl_certificate_key %s;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on;`, certPath, keyPath))

	for _, alpn := range [][]string{{"h2", "http/1.1"}, {"http/1.1"}, nil} {
		for _, maxVersion := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			name := fmt.Sprintf("alpn=%v/max=%x", alpn, maxVersion)
			real := handshake(t, oracle, alpn, maxVersion)
			decoy := handshake(t, ts.addr, alpn, maxVersion)
			if real.state.NegotiatedProtocol != decoy.state.NegotiatedProtocol || real.state.Version != decoy.state.Version {
				t.Errorf("%s: decoy ALPN %q version %x, nginx %q %x", name, decoy.state.NegotiatedProtocol, decoy.state.Version,
					real.state.NegotiatedProtocol, real.state.Version)
			}
			if maxVersion == tls.VersionTLS12 && real.state.CipherSuite != decoy.state.CipherSuite {
				t.Errorf("%s: decoy chose %s, nginx %s", name, tls.CipherSuiteName(decoy.state.CipherSuite), tls.CipherSuiteName(real.state.CipherSuite))
			}
			t.Logf("%s: JA4S nginx %s decoy %s", name, real.ja4s, decoy.ja4s)
		}
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		_, errReal := tlsDial(oracle, nil, v, v)
		_, errDecoy := tlsDial(ts.addr, nil, v, v)
		if (errReal == nil) != (errDecoy == nil) {
			t.Errorf("TLS %x: nginx err %v, decoy err %v", v, errReal, errDecoy)
		}
	}

	real := handshake(t, oracle, []string{"h2"}, tls.VersionTLS13).state.PeerCertificates[0]
	decoy := handshake(t, ts.addr, []string{"h2"}, tls.VersionTLS13).state.PeerCertificates[0]
	if certLayout(real) != certLayout(decoy) {
		t.Errorf("certificate layout\ndecoy: %s\nnginx: %s", certLayout(decoy), certLayout(real))
	}
	t.Logf("certificate layout: %s", certLayout(decoy))
}

// certLayout describes a certificate's fields without the values that
// differ per host.
func certLayout(c *x509.Certificate) string {
	var exts []string
	for _, e := range c.Extensions {
		exts = append(exts, fmt.Sprintf("%s critical=%v", e.Id, e.Critical))
	}
	// OpenSSL draws 159 random bits, so a serial has 150 or more
	// unless the draw was very unlucky.
	return fmt.Sprintf("v%d subject=%s issuer=%s sig=%s key=%s/%d serial159=%v days=%d exts=[%s] san=%v",
		c.Version, c.Subject, c.Issuer, c.SignatureAlgorithm, c.PublicKeyAlgorithm, keyBits(c),
		c.SerialNumber.BitLen() > 150 && c.SerialNumber.BitLen() <= 159, int(c.NotAfter.Sub(c.NotBefore).Hours()/24),
		strings.Join(exts, ", "), c.DNSNames)
}

func keyBits(c *x509.Certificate) int {
	if k, ok := c.PublicKey.(interface{ Size() int }); ok {
		return k.Size() * 8
	}
	return 0
}

type handshakeResult struct {
	state tls.ConnectionState
	ja4s  string
}

func handshake(t *testing.T, addr string, alpn []string, maxVersion uint16) handshakeResult {
	t.Helper()
	r, err := tlsDial(addr, alpn, tls.VersionTLS12, maxVersion)
	if err != nil {
		t.Fatalf("handshake with %s: %v", addr, err)
	}
	return r
}

// tlsDial handshakes with Go's client from 127.0.0.2, keeping the bytes
// the server sent to compute its JA4S.
func tlsDial(addr string, alpn []string, minVersion, maxVersion uint16) (handshakeResult, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return handshakeResult{}, err
	}
	defer raw.Close()
	rec := &recordingConn{Conn: raw}
	tc := tls.Client(rec, &tls.Config{InsecureSkipVerify: true, NextProtos: alpn, MinVersion: minVersion, MaxVersion: maxVersion}) //nolint:gosec // G402: self-signed by design
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		return handshakeResult{}, err
	}
	return handshakeResult{state: tc.ConnectionState(), ja4s: ja4s(rec.read.Bytes())}, nil
}

type recordingConn struct {
	net.Conn
	read bytes.Buffer
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Write(p[:n])
	return n, err
}

// ja4s computes the JA4S fingerprint (FoxIO's JA4+ specification) of the
// ServerHello at the start of stream: t, version, extension count, ALPN
// first and last character, cipher suite, and the truncated SHA-256 of
// the extension types in the order sent.
func ja4s(stream []byte) string {
	if len(stream) < 5 || stream[0] != 0x16 {
		return "none"
	}
	recLen := int(binary.BigEndian.Uint16(stream[3:5]))
	if len(stream) < 5+recLen {
		return "short"
	}
	hs := stream[5 : 5+recLen]
	if len(hs) < 4 || hs[0] != 2 {
		return "not-server-hello"
	}
	b := hs[4:]
	version := binary.BigEndian.Uint16(b[0:2])
	b = b[2+32:]
	b = b[1+int(b[0]):]
	cipher := binary.BigEndian.Uint16(b[0:2])
	b = b[3:]
	alpn := "00"
	var types []string
	if len(b) >= 2 {
		extLen := int(binary.BigEndian.Uint16(b[0:2]))
		b = b[2 : 2+extLen]
		for len(b) >= 4 {
			typ := binary.BigEndian.Uint16(b[0:2])
			l := int(binary.BigEndian.Uint16(b[2:4]))
			data := b[4 : 4+l]
			types = append(types, fmt.Sprintf("%04x", typ))
			switch typ {
			case 0x002b: // supported_versions
				version = binary.BigEndian.Uint16(data)
			case 0x0010: // ALPN: list length, name length, name
				if len(data) > 3 {
					name := data[3 : 3+int(data[2])]
					alpn = string(name[0]) + string(name[len(name)-1])
				}
			}
			b = b[4+l:]
		}
	}
	v := map[uint16]string{0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10"}[version]
	sum := sha256.Sum256([]byte(strings.Join(types, ",")))
	// The extension list follows the fingerprint in parentheses, so the
	// log shows what differs.
	return fmt.Sprintf("t%s%02d%s_%04x_%s (%s)", v, len(types), alpn, cipher, hex.EncodeToString(sum[:])[:12], strings.Join(types, ","))
}

// startNginxTLS runs nginx with an ssl http2 listener and extra TLS
// directives on a free loopback port.
func startNginxTLS(t *testing.T, bin, extra string) string {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  server {
    listen 127.0.0.1:%[2]d ssl http2;
    root %[1]s;
    %[3]s
  }
}
`, dir, port, extra)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		if conn, err := net.Dial("tcp", addr); err == nil {
			_ = conn.Close()
			return addr
		}
		if i == 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen: %s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNginxPlainHTTPOnTLSOracle compares the answer to plain HTTP on the
// TLS port with the real nginx's.
func TestNginxPlainHTTPOnTLSOracle(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed")
	}
	ts := startService(t, decoys.Config{Decky: "web01", Seed: []byte("side"), Options: tlsOptions()})
	cert, err := deriveCertificate([]byte("side"), tlsFor(nginx{}, "web01").profile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath := writePEM(t, dir, cert)
	oracle := startNginxTLS(t, bin, fmt.Sprintf("ssl_certificate %s; ssl_certificate_key %s;", certPath, keyPath))
	for _, raw := range []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET /nope HTTP/1.0\r\n\r\n", "GARBAGE\r\n\r\n"} {
		want := maskDate(fetchOne(t, oracle, raw, false))
		got := maskDate(fetchOne(t, ts.addr, raw, false))
		if got != want {
			t.Errorf("%q: decoy differs from nginx\ndecoy: %q\nnginx: %q", raw, got, want)
		}
	}
}

func writePEM(t *testing.T, dir string, cert tls.Certificate) (string, string) {
	t.Helper()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// TestApachePlainHTTPOnTLSOracle compares the answer to plain HTTP on the
// TLS port with Apache's mod_ssl.
func TestApachePlainHTTPOnTLSOracle(t *testing.T) {
	bin, err := exec.LookPath("apache2")
	if err != nil {
		t.Skip("apache2 is not installed")
	}
	v, _ := exec.Command(bin, "-v").CombinedOutput()
	banner := regexp.MustCompile(`Apache/2\.4\.\d+ \(Debian\)`).FindString(string(v))
	ts := startService(t, decoys.Config{Persona: PersonaApache, Decky: "files01", Seed: []byte("side"), Options: tlsOptions()})
	cert, err := deriveCertificate([]byte("side"), tlsFor(apache{}, "files01").profile)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := writePEM(t, t.TempDir(), cert)
	oracle := startApache(t, bin, "files01", ts.svc.portal.realm(), fmt.Sprintf(
		"LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\nLoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so\n"+
			"SSLEngine on\nSSLCertificateFile %s\nSSLCertificateKeyFile %s\n"+
			// Ubuntu's default-ssl site is <VirtualHost *:443>, whose
			// port the signature names.
			"ServerName files01:443\n", certPath, keyPath))
	if nmap, err := exec.LookPath("nmap"); err == nil && os.Getenv("DECNET_NMAP_ORACLE") != "" {
		_, port, _ := net.SplitHostPort(oracle)
		out, _ := exec.Command(nmap, "-sV", "-Pn", "-n", "-p", port, "127.0.0.1").CombinedOutput()
		t.Logf("nmap against real Apache with mod_ssl:\n%s", out)
	}
	for _, raw := range []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET /nope HTTP/1.0\r\n\r\n", "POST /login HTTP/1.1\r\nHost: a\r\n\r\n"} {
		want := maskDate(strings.ReplaceAll(fetchOne(t, oracle, raw, false), banner, apacheServer))
		got := maskDate(fetchOne(t, ts.addr, raw, false))
		if got != want {
			t.Errorf("%q: decoy differs from Apache\ndecoy:  %q\napache: %q", raw, got, want)
		}
	}
	// Bytes that are neither a handshake nor an HTTP method fail the
	// handshake: both close without an answer.
	for _, addr := range []string{oracle, ts.addr} {
		if out := exchange(t, addr, "GARBAGE\r\n\r\n"); out != "" {
			t.Errorf("%s answered garbage on the TLS port: %q", addr, out)
		}
	}
}

// TestApacheTLSSideBySide compares the Apache persona's TLS with Apache's
// mod_ssl as Ubuntu's default-ssl site sets it up (SSLProtocol all
// -SSLv3, no mod_http2), and logs the JA4S of both.
func TestApacheTLSSideBySide(t *testing.T) {
	bin, err := exec.LookPath("apache2")
	if err != nil {
		t.Skip("apache2 is not installed")
	}
	ts := startService(t, decoys.Config{Persona: PersonaApache, Decky: "files01", Seed: []byte("side"), Options: tlsOptions()})
	cert, err := deriveCertificate([]byte("side"), tlsFor(apache{}, "files01").profile)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := writePEM(t, t.TempDir(), cert)
	oracle := startApache(t, bin, "files01", ts.svc.portal.realm(), fmt.Sprintf(
		"LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\nLoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so\n"+
			"SSLEngine on\nSSLProtocol all -SSLv3\nSSLCertificateFile %s\nSSLCertificateKeyFile %s\n", certPath, keyPath))

	for _, alpn := range [][]string{{"h2", "http/1.1"}, nil} {
		for _, maxVersion := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			name := fmt.Sprintf("alpn=%v/max=%x", alpn, maxVersion)
			real := handshake(t, oracle, alpn, maxVersion)
			decoy := handshake(t, ts.addr, alpn, maxVersion)
			if real.state.NegotiatedProtocol != decoy.state.NegotiatedProtocol || real.state.Version != decoy.state.Version {
				t.Errorf("%s: decoy ALPN %q version %x, apache %q %x", name, decoy.state.NegotiatedProtocol, decoy.state.Version,
					real.state.NegotiatedProtocol, real.state.Version)
			}
			if real.state.CipherSuite != decoy.state.CipherSuite {
				t.Errorf("%s: decoy chose %s, apache %s", name, tls.CipherSuiteName(decoy.state.CipherSuite), tls.CipherSuiteName(real.state.CipherSuite))
			}
			t.Logf("%s: JA4S apache %s decoy %s", name, real.ja4s, decoy.ja4s)
		}
	}
}

// TestIISTLSFingerprint logs the IIS persona's JA4S; there is no real IIS
// to compare with here.
func TestIISTLSFingerprint(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaIIS, Seed: []byte("side"), Options: tlsOptions()})
	for _, alpn := range [][]string{{"h2", "http/1.1"}, nil} {
		r := handshake(t, ts.addr, alpn, tls.VersionTLS13)
		if r.state.Version != tls.VersionTLS12 {
			t.Errorf("IIS persona negotiated %x, want TLS 1.2", r.state.Version)
		}
		t.Logf("alpn=%v: JA4S decoy %s", alpn, r.ja4s)
	}
	if _, err := tlsDial(ts.addr, nil, tls.VersionTLS10, tls.VersionTLS10); err != nil {
		t.Errorf("TLS 1.0 refused: %v", err)
	}
}

// h2Preface returns the server's first SETTINGS frame and the window
// update after it, as "id=value" lists, the part of an HTTP/2 server's
// fingerprint a client sees before any request.
func h2Preface(t *testing.T, addr string) string {
	t.Helper()
	r, err := tlsDialRaw(addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer r.Close()
	if _, err := io.WriteString(r, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(r, r)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for len(parts) < 2 {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("read frame from %s: %v", addr, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			var s []string
			_ = f.ForeachSetting(func(st http2.Setting) error {
				s = append(s, fmt.Sprintf("%d=%d", st.ID, st.Val))
				return nil
			})
			parts = append(parts, "SETTINGS["+strings.Join(s, ",")+"]")
		case *http2.WindowUpdateFrame:
			parts = append(parts, fmt.Sprintf("WINDOW_UPDATE[%d]", f.Increment))
		}
	}
	return strings.Join(parts, " ")
}

func tlsDialRaw(addr string) (*tls.Conn, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}) //nolint:gosec // G402: self-signed by design
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c, nil
}

// TestNginxH2SettingsSideBySide compares the SETTINGS and connection
// window the decoy and nginx announce.
func TestNginxH2SettingsSideBySide(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed")
	}
	ts := startService(t, decoys.Config{Decky: "web01", Seed: []byte("side"), Options: tlsOptions()})
	cert, err := deriveCertificate([]byte("side"), tlsFor(nginx{}, "web01").profile)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := writePEM(t, t.TempDir(), cert)
	oracle := startNginxTLS(t, bin, fmt.Sprintf("ssl_certificate %s; ssl_certificate_key %s;", certPath, keyPath))
	real, decoy := h2Preface(t, oracle), h2Preface(t, ts.addr)
	t.Logf("nginx: %s", real)
	t.Logf("decoy: %s", decoy)
	// Go's server adds MAX_HEADER_LIST_SIZE, HEADER_TABLE_SIZE and
	// ENABLE_CONNECT_PROTOCOL and orders its settings itself; the values
	// nginx sends must still be there.
	for _, setting := range regexp.MustCompile(`\d+=\d+`).FindAllString(real, -1) {
		if !strings.Contains(decoy, setting) {
			t.Errorf("decoy SETTINGS lack nginx's %s", setting)
		}
	}
	if w := regexp.MustCompile(`WINDOW_UPDATE\[\d+\]`); w.FindString(real) != w.FindString(decoy) {
		t.Errorf("connection window: decoy %s, nginx %s", w.FindString(decoy), w.FindString(real))
	}
}
