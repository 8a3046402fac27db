//go:build integration

package httpdecoy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// TestCurlLoginAndBasic drives the decoy with the real curl from source
// 127.0.0.3: a form post to /login and a Basic header to /admin.
func TestCurlLoginAndBasic(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	ts := startService(t, decoys.Config{Seed: []byte("curl-seed")})
	base := "http://" + ts.addr

	out, err := exec.Command(curl, "--interface", "127.0.0.3", "-sS", "-o", "-", "-w", "\n%{http_code}",
		"--data-urlencode", "username=admin", "--data-urlencode", "password=hunter2!", base+"/login").CombinedOutput()
	if err != nil {
		t.Fatalf("curl form post: %v: %s", err, out)
	}
	if !strings.HasSuffix(string(out), "\n200") || !strings.Contains(string(out), "Invalid username or password") {
		t.Errorf("form post answer: %s", out)
	}

	out, err = exec.Command(curl, "--interface", "127.0.0.3", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
		"-u", "root:toor", base+"/admin").CombinedOutput()
	if err != nil {
		t.Fatalf("curl basic: %v: %s", err, out)
	}
	if string(out) != "401" {
		t.Errorf("basic answer status %s, want 401", out)
	}

	auths := ts.rec.waitKind(t, decoys.KindAuthAttempt, 2)
	want := []struct{ mechanism, principal, secret string }{
		{decoys.MechanismHTTPForm, "admin", "hunter2!"},
		{decoys.MechanismHTTPBasic, "root", "toor"},
	}
	for i, w := range want {
		a := auths[i].GetAuthAttempt()
		if a.GetMechanism() != w.mechanism || a.GetPrincipal() != w.principal || string(a.GetSecret()) != w.secret {
			t.Errorf("attempt %d = %s %q %q, want %s %q %q", i, a.GetMechanism(), a.GetPrincipal(), a.GetSecret(), w.mechanism, w.principal, w.secret)
		}
		if src := auths[i].GetSource().GetAddress(); src != "127.0.0.3" {
			t.Errorf("attempt %d source %q, want 127.0.0.3", i, src)
		}
	}
	reqs := ts.rec.waitKind(t, decoys.KindHTTPRequest, 2)
	if ua := reqs[0].GetHttpRequest().GetUserAgent(); !strings.HasPrefix(ua, "curl/") {
		t.Errorf("user agent %q", ua)
	}
}

// TestNginxOracle compares the decoy's responses with the real nginx 1.22.1
// started by hand on a loopback port: status line, header order, and body
// bytes, with only the Date value masked.
func TestNginxOracle(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed; install nginx-light under a policy-rc.d that exits 101")
	}
	if v, _ := exec.Command(bin, "-v").CombinedOutput(); !strings.Contains(string(v), "nginx/1.22.1") {
		t.Skipf("nginx is %s, the persona is 1.22.1", strings.TrimSpace(string(v)))
	}

	ts := startService(t, decoys.Config{Seed: []byte("oracle-seed")})
	oracle := startNginx(t, bin, ts.svc.portal.realm(), "")

	long := strings.Repeat("a", 9000)
	probes := []struct {
		name string
		raw  string
		// untilClose reads to the end of the connection (HTTP/0.9).
		untilClose bool
	}{
		{name: "not found", raw: "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "not found 1.0", raw: "GET /nope HTTP/1.0\r\n\r\n"},
		{name: "not found 1.0 keep-alive", raw: "GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{name: "head", raw: "HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "msie padding", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)\r\n\r\n"},
		{name: "bare line feeds", raw: "GET /nope HTTP/1.1\nHost: x\n\n"},
		{name: "garbage", raw: "GARBAGE\r\n\r\n"},
		{name: "tls hello", raw: "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"},
		{name: "lowercase method", raw: "get / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "version 2.0", raw: "GET / HTTP/2.0\r\nHost: x\r\n\r\n"},
		{name: "missing host", raw: "GET / HTTP/1.1\r\n\r\n"},
		{name: "invalid host", raw: "GET /nope HTTP/1.1\r\nHost: a/b\r\n\r\n"},
		{name: "bad escape", raw: "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "long uri", raw: "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "long header", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: " + long + "\r\n\r\n"},
		{name: "gzip coding", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"},
		{name: "body too large", raw: "POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 70000\r\n\r\n"},
		{name: "trace", raw: "TRACE /nope HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "admin", raw: "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "admin with basic", raw: "GET /admin HTTP/1.1\r\nHost: a\r\nAuthorization: Basic cm9vdDp0b29y\r\n\r\n"},
		{name: "http 0.9", raw: "GET /nope\r\n", untilClose: true},
		{name: "h2c preface", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{name: "asterisk 2.0", raw: "GET * HTTP/2.0\r\nHost: a\r\n\r\n"},
		{name: "options asterisk", raw: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "bad escape 2.0", raw: "GET /%zz HTTP/2.0\r\nHost: a\r\n\r\n"},
		{name: "scheme without slashes 2.0", raw: "GET h:/x HTTP/2.0\r\nHost: a\r\n\r\n"},
		{name: "version 2", raw: "GET /nope HTTP/2\r\nHost: a\r\n\r\n"},
		{name: "version 2x.0", raw: "GET /nope HTTP/2x.0\r\nHost: a\r\n\r\n"},
		{name: "version 10.0", raw: "GET /nope HTTP/10.0\r\nHost: a\r\n\r\n"},
		{name: "version 01.1", raw: "GET /nope HTTP/01.1\r\nHost: a\r\n\r\n"},
		{name: "version 0.9", raw: "GET /nope HTTP/0.9\r\nHost: a\r\n\r\n"},
		{name: "version 1x.0", raw: "GET /nope HTTP/1x.0\r\nHost: a\r\n\r\n"},
		{name: "version 1.01", raw: "GET /nope HTTP/1.01\r\nHost: a\r\n\r\n"},
		{name: "version 1.10", raw: "GET /nope HTTP/1.10\r\nHost: a\r\n\r\n"},
		{name: "version 1.999", raw: "GET /nope HTTP/1.999\r\nHost: a\r\n\r\n"},
		{name: "version 1.0001", raw: "GET /nope HTTP/1.0001\r\nHost: a\r\n\r\n"},
		{name: "version 1.1000", raw: "GET /nope HTTP/1.1000\r\nHost: a\r\n\r\n"},
		{name: "version 1.10 without host", raw: "GET /nope HTTP/1.10\r\n\r\n"},
		{name: "version trailing space", raw: "GET /nope HTTP/1.1 \r\nHost: a\r\n\r\n"},
		{name: "version lower case", raw: "GET /nope http/1.1\r\nHost: a\r\n\r\n"},
		{name: "expect on 404", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"},
		{name: "expect on 401", raw: "GET /admin HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"},
		{name: "unknown expectation", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: foo\r\n\r\n"},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			want := maskDate(fetchOne(t, oracle, p.raw, p.untilClose))
			got := maskDate(fetchOne(t, ts.addr, p.raw, p.untilClose))
			if got != want {
				t.Errorf("decoy differs from nginx\ndecoy: %q\nnginx: %q", got, want)
			}
		})
	}
}

var dateLine = regexp.MustCompile(`(?m)^Date: [^\r]*\r$`)

func maskDate(s string) string { return dateLine.ReplaceAllString(s, "Date: *\r") }

var allowLine = regexp.MustCompile(`(?m)^Allow: ([^\r]*)\r$`)

// maskAllow sorts the methods of an Allow header, whose order Apache takes
// from a hash table seeded at random per process.
func maskAllow(s string) string {
	return allowLine.ReplaceAllStringFunc(s, func(line string) string {
		methods := strings.Split(allowLine.FindStringSubmatch(line)[1], ",")
		slices.Sort(methods)
		return "Allow: " + strings.Join(methods, ",") + "\r"
	})
}

// fetchOne sends raw and reads one response, framed by its Content-Length,
// or everything up to the close when untilClose is set or no length is
// sent.
func fetchOne(t *testing.T, addr, raw string, untilClose bool) string {
	t.Helper()
	conn := dialFrom(t, "127.0.0.3", addr)
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	if untilClose {
		out, _ := io.ReadAll(br)
		return string(out)
	}

	var head strings.Builder
	length := -1
	for {
		line, err := br.ReadString('\n')
		head.WriteString(line)
		if err != nil {
			t.Fatalf("read head: %v (have %q)", err, head.String())
		}
		if name, value, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ": "); ok && strings.EqualFold(name, "Content-Length") {
			length, _ = strconv.Atoi(value)
		}
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	if strings.HasPrefix(raw, "HEAD ") {
		return head.String()
	}
	if length < 0 {
		rest, _ := io.ReadAll(br)
		return head.String() + string(rest)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatalf("read body: %v", err)
	}
	return head.String() + string(body)
}

// startNginx runs nginx in the foreground on a free loopback port with a
// configuration in a temporary directory and returns its address. Extra
// is added to the server block.
func startNginx(t *testing.T, bin, realm, extra string) string {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	if err := os.MkdirAll(filepath.Join(dir, "html"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte("nobody:$apr1$x$xxxxxxxxxxxxxxxxxxxxxx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path %[1]s/body;
  keepalive_timeout 65;
  client_max_body_size 64k;
  server {
    listen 127.0.0.1:%[2]d;
    root %[1]s/html;
    location = /admin { auth_basic "%[3]s"; auth_basic_user_file %[1]s/htpasswd; }
    %[4]s
  }
}
`, dir, port, realm, extra)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			_ = conn.Close()
			return addr
		}
		if i == 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestApacheOracle compares the Apache persona with the Apache 2.4 that
// Debian ships, configured as Ubuntu 24.04 configures it (ServerTokens OS,
// ServerSignature On, TraceEnable Off). Debian's banner is replaced by the
// persona's before comparing, since only the version string differs.
func TestApacheOracle(t *testing.T) {
	bin, err := exec.LookPath("apache2")
	if err != nil {
		t.Skip("apache2 is not installed; install it under a policy-rc.d that exits 101")
	}
	v, _ := exec.Command(bin, "-v").CombinedOutput()
	banner := regexp.MustCompile(`Apache/2\.4\.\d+ \(Debian\)`).FindString(string(v))
	if banner == "" {
		t.Skipf("apache2 -v gave %q, want an Apache 2.4 from Debian", v)
	}

	ts := startService(t, decoys.Config{Persona: PersonaApache, Decky: "files01", Seed: []byte("oracle-seed")})
	oracle := startApache(t, bin, "files01", ts.svc.portal.realm(), "")

	long := strings.Repeat("a", 9000)
	probes := []struct {
		name       string
		raw        string
		untilClose bool
	}{
		{name: "not found", raw: "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "not found with port", raw: "GET /nope HTTP/1.1\r\nHost: a:8080\r\nConnection: keep-alive\r\n\r\n"},
		{name: "not found 1.0", raw: "GET /nope HTTP/1.0\r\n\r\n"},
		{name: "not found 1.0 keep-alive", raw: "GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{name: "absolute target", raw: "GET http://example.com/nope HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "head", raw: "HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "garbage", raw: "GARBAGE\r\n\r\n"},
		{name: "unknown method", raw: "FOO / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "invalid method", raw: "G@T / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "bare line feeds", raw: "GET / HTTP/1.1\nHost: x\n\n"},
		{name: "missing host", raw: "GET / HTTP/1.1\r\n\r\n"},
		{name: "duplicate host", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
		{name: "bad escape", raw: "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "long uri", raw: "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "long header", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: " + long + "\r\n\r\n"},
		{name: "too many headers", raw: "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-N: a\r\n", 120) + "\r\n"},
		{name: "gzip coding", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"},
		{name: "body too large", raw: "POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 70000\r\n\r\n"},
		{name: "trace", raw: "TRACE /nope HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "admin", raw: "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "http 0.9", raw: "GET /nope\r\n", untilClose: true},
		{name: "h2c preface", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{name: "asterisk 2.0", raw: "GET * HTTP/2.0\r\nHost: a\r\n\r\n"},
		{name: "options asterisk", raw: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "options asterisk close", raw: "OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
		{name: "version 2.0", raw: "GET /nope HTTP/2.0\r\nHost: a\r\n\r\n"},
		{name: "version 2.0 without host", raw: "GET /nope HTTP/2.0\r\n\r\n"},
		{name: "version 9.9", raw: "GET /nope HTTP/9.9\r\nHost: a\r\n\r\n"},
		{name: "version 2", raw: "GET /nope HTTP/2\r\nHost: a\r\n\r\n"},
		{name: "version 10.0", raw: "GET /nope HTTP/10.0\r\nHost: a\r\n\r\n"},
		{name: "version 01.1", raw: "GET /nope HTTP/01.1\r\nHost: a\r\n\r\n"},
		{name: "version 0.9", raw: "GET /nope HTTP/0.9\r\nHost: a\r\n\r\n"},
		{name: "version 1.01", raw: "GET /nope HTTP/1.01\r\nHost: a\r\n\r\n"},
		{name: "version 1.10", raw: "GET /nope HTTP/1.10\r\nHost: a\r\n\r\n"},
		{name: "version trailing space", raw: "GET /nope HTTP/1.1 \r\nHost: a\r\n\r\n"},
		{name: "expect on 404", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"},
		{name: "unknown expectation", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: <foo>\r\n\r\n"},
		{name: "unknown expectation 1.0", raw: "GET /nope HTTP/1.0\r\nExpect: foo\r\n\r\n"},
		{name: "expectation list", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\n\r\n"},
		{name: "repeated expectation", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n"},
		{name: "empty expectation", raw: "GET /nope HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n"},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			want := maskAllow(maskDate(strings.ReplaceAll(fetchOne(t, oracle, p.raw, p.untilClose), banner, apacheServer)))
			got := maskAllow(maskDate(fetchOne(t, ts.addr, p.raw, p.untilClose)))
			if got != want {
				t.Errorf("decoy differs from Apache\ndecoy:  %q\napache: %q", got, want)
			}
		})
	}
}

// startApache runs Apache in the foreground (-X) on a free loopback port
// with a configuration in a temporary directory and returns its address.
// Extra is appended to the configuration.
func startApache(t *testing.T, bin, serverName, realm, extra string) string {
	t.Helper()
	dir := t.TempDir()
	// Apache's children run as www-data and must reach the document root.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	for _, sub := range []string{"html", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte("nobody:$apr1$x$xxxxxxxxxxxxxxxxxxxxxx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	modules := "/usr/lib/apache2/modules"
	conf := fmt.Sprintf(`ServerRoot %[1]s
Listen 127.0.0.1:%[2]d
PidFile %[1]s/httpd.pid
LoadModule mpm_event_module %[5]s/mod_mpm_event.so
LoadModule authz_core_module %[5]s/mod_authz_core.so
LoadModule authz_user_module %[5]s/mod_authz_user.so
LoadModule authn_core_module %[5]s/mod_authn_core.so
LoadModule authn_file_module %[5]s/mod_authn_file.so
LoadModule auth_basic_module %[5]s/mod_auth_basic.so
LoadModule mime_module %[5]s/mod_mime.so
LoadModule reqtimeout_module %[5]s/mod_reqtimeout.so
User www-data
Group www-data
ErrorLog %[1]s/logs/error.log
TypesConfig /etc/mime.types
ServerName %[3]s
ServerAdmin webmaster@localhost
ServerTokens OS
ServerSignature On
TraceEnable Off
LimitRequestBody 65536
DocumentRoot %[1]s/html
<Directory />
  AllowOverride None
</Directory>
<Directory %[1]s/html>
  Require all granted
</Directory>
<Location /admin>
  AuthType Basic
  AuthName "%[4]s"
  AuthUserFile %[1]s/htpasswd
  Require valid-user
</Location>
RequestReadTimeout header=20-40,minrate=500
RequestReadTimeout body=10,minrate=500
%[6]s
`, dir, port, serverName, realm, modules, extra)
	confPath := filepath.Join(dir, "httpd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-X", "-f", confPath)
	cmd.Env = append(os.Environ(), "APACHE_RUN_DIR="+dir, "APACHE_LOCK_DIR="+dir)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start apache2: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			_ = conn.Close()
			return addr
		}
		if i == 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
			t.Fatalf("apache2 did not listen on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startFastCGI serves a stand-in for PHP-FPM on a free loopback port, so
// that nginx passes the login paths to an application as the persona's
// site does. It returns the address for fastcgi_pass.
func startFastCGI(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		_ = fcgi.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			_, _ = io.WriteString(w, "login page\n")
		}))
	}()
	return ln.Addr().String()
}

// TestNginxOracleExpectContinue checks when nginx sends its interim 100
// Continue: for a request passed to the FastCGI application, with or
// without a body, and never for its own error pages. Only the first
// bytes are compared, since the application's page differs.
func TestNginxOracleExpectContinue(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed")
	}
	ts := startService(t, decoys.Config{Seed: []byte("oracle-seed")})
	fcgiAddr := startFastCGI(t)
	app := fmt.Sprintf("fastcgi_pass %s; include /etc/nginx/fastcgi_params;", fcgiAddr)
	oracle := startNginx(t, bin, ts.svc.portal.realm(),
		"location = / { "+app+" }\n    location = /login { "+app+" }")

	probes := []struct{ name, raw string }{
		{"app get", "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"},
		{"app zero length", "GET /login HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
		{"app head", "HEAD / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nConnection: close\r\n\r\n"},
		{"app post", "POST /login HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"},
		{"app http 1.0", "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"},
		{"app other expectation", "GET / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\nConnection: close\r\n\r\n"},
		{"own 404", "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"},
		{"own 404 with body", "POST /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"},
		{"own 401", "GET /admin HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"},
	}
	firstLine := func(addr, raw string) string {
		conn := dialFrom(t, "127.0.0.3", addr)
		if _, err := io.WriteString(conn, raw); err != nil {
			t.Fatalf("write: %v", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return line
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			// A server that waits for the body without sending 100 gets
			// it after the pause a client would make; the status line
			// read then is the final one in both.
			want := firstLine(oracle, p.raw)
			got := firstLine(ts.addr, p.raw)
			if got != want {
				t.Errorf("first line: decoy %q, nginx %q", got, want)
			}
		})
	}
}

// TestOracleHeaderTimeout shortens the header timeout of the real daemons
// to one second and the decoy's through Limits.ReadTimeout, and compares
// what each sends before it closes a silent or incomplete request.
func TestOracleHeaderTimeout(t *testing.T) {
	probes := []struct{ name, raw string }{
		{"partial line", "GET / HT"},
		{"line without headers", "GET /nope HTTP/1.1\r\n"},
		{"partial header", "GET /nope HTTP/1.1\r\nHost: a\r\nX-A: b"},
		{"after kept-alive request", "GET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\n"},
	}
	untilClose := func(addr, raw string) string {
		conn := dialFrom(t, "127.0.0.3", addr)
		if _, err := io.WriteString(conn, raw); err != nil {
			t.Fatalf("write: %v", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		out, err := io.ReadAll(conn)
		if err != nil {
			t.Fatalf("read until close: %v (got %q)", err, out)
		}
		return string(out)
	}
	limits := decoys.Limits{ReadTimeout: time.Second}

	t.Run("nginx", func(t *testing.T) {
		bin, err := exec.LookPath("nginx")
		if err != nil {
			t.Skip("nginx is not installed")
		}
		ts := startService(t, decoys.Config{Seed: []byte("oracle-seed"), Limits: limits})
		oracle := startNginx(t, bin, ts.svc.portal.realm(), "client_header_timeout 1s;")
		for _, p := range probes {
			t.Run(p.name, func(t *testing.T) {
				want := maskDate(untilClose(oracle, p.raw))
				got := maskDate(untilClose(ts.addr, p.raw))
				if got != want {
					t.Errorf("decoy differs from nginx\ndecoy: %q\nnginx: %q", got, want)
				}
			})
		}
	})
	t.Run("apache", func(t *testing.T) {
		bin, err := exec.LookPath("apache2")
		if err != nil {
			t.Skip("apache2 is not installed")
		}
		v, _ := exec.Command(bin, "-v").CombinedOutput()
		banner := regexp.MustCompile(`Apache/2\.4\.\d+ \(Debian\)`).FindString(string(v))
		ts := startService(t, decoys.Config{Persona: PersonaApache, Decky: "files01", Seed: []byte("oracle-seed"), Limits: limits})
		oracle := startApache(t, bin, "files01", ts.svc.portal.realm(), "RequestReadTimeout header=1")
		for _, p := range probes {
			t.Run(p.name, func(t *testing.T) {
				want := maskDate(strings.ReplaceAll(untilClose(oracle, p.raw), banner, apacheServer))
				got := maskDate(untilClose(ts.addr, p.raw))
				if got != want {
					t.Errorf("decoy differs from Apache\ndecoy:  %q\napache: %q", got, want)
				}
			})
		}
	})
}
