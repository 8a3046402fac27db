package httpdecoy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// testNow is the clock of every test service, so Date headers are fixed.
var testNow = time.Date(2026, time.March, 4, 5, 6, 7, 0, time.UTC)

const testDate = "Wed, 04 Mar 2026 05:06:07 GMT"

// Pages captured from nginx 1.22.1-9+deb12u12 on Debian 12.
const (
	nginx400Page = "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n" +
		"<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
	nginx404Page = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n" +
		"<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
	nginxHeaderTooLargePage = "<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n<body>\r\n" +
		"<center><h1>400 Bad Request</h1></center>\r\n<center>Request Header Or Cookie Too Large</center>\r\n" +
		"<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
)

type testService struct {
	addr string
	rec  *recorder
	svc  *Service
}

func startService(t *testing.T, cfg decoys.Config) *testService {
	t.Helper()
	rec := newRecorder()
	cfg.Emitter = rec
	cfg.Logger = zerolog.Nop()
	if cfg.Decky == "" {
		cfg.Decky = "web01"
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	svc.now = func() time.Time { return testNow }
	svc.failDelay = func() time.Duration { return 0 }

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v", err)
		}
	})
	return &testService{addr: ln.Addr().String(), rec: rec, svc: svc}
}

// dialFrom connects to addr from the loopback source address src.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// exchange sends raw bytes from 127.0.0.2 and returns everything the decoy
// sends until it closes the connection.
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	conn := dialFrom(t, "127.0.0.2", addr)
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	// The deadline only guards against a hung test.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read until close: %v (got %q)", err, out)
	}
	// Closing ends the decoy's lingering close at once.
	_ = conn.Close()
	return string(out)
}

func splitResponse(t *testing.T, raw string) (head, body string) {
	t.Helper()
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("response without end of head: %q", raw)
	}
	return head, body
}

func TestNewUnknownPersona(t *testing.T) {
	_, err := New(decoys.Config{Persona: "iis-10", Emitter: newRecorder()})
	if !errors.Is(err, ErrUnknownPersona) {
		t.Fatalf("New with unknown persona: got %v, want ErrUnknownPersona", err)
	}
	if !strings.Contains(err.Error(), PersonaNginx) {
		t.Errorf("error %q does not list the known personas", err)
	}
}

func TestNewMissingEmitter(t *testing.T) {
	if _, err := New(decoys.Config{}); err == nil {
		t.Fatal("New without emitter: got nil error")
	}
}

func TestLoginFormPost(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("seed-1")})

	client := &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext,
	}}
	t.Cleanup(client.CloseIdleConnections)

	form := url.Values{"username": {"admin"}, "password": {"s3cr3t pass"}}
	resp, err := client.PostForm("http://"+ts.addr+"/login", form)
	if err != nil {
		t.Fatalf("post form: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()

	if resp.StatusCode != 200 {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
	if !bytes.Contains(body, []byte("Invalid username or password")) {
		t.Errorf("body lacks the failure message: %s", body)
	}
	if got := resp.Header.Get("Server"); got != "nginx/1.22.1" {
		t.Errorf("Server = %q", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/html; charset=UTF-8" {
		t.Errorf("Content-Type = %q", got)
	}

	auths := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)
	a := auths[0].GetAuthAttempt()
	want := sha256.Sum256([]byte("s3cr3t pass"))
	if a.GetPrincipal() != "admin" {
		t.Errorf("principal = %q, want admin", a.GetPrincipal())
	}
	if string(a.GetSecret()) != "s3cr3t pass" {
		t.Errorf("secret = %q", a.GetSecret())
	}
	if !bytes.Equal(a.GetSecretSha256(), want[:]) {
		t.Errorf("secret_sha256 = %x, want %x", a.GetSecretSha256(), want)
	}
	if a.GetMechanism() != decoys.MechanismHTTPForm {
		t.Errorf("mechanism = %q", a.GetMechanism())
	}
	if a.GetSecretKind() != decoys.SecretPlaintext {
		t.Errorf("secret_kind = %q", a.GetSecretKind())
	}
	if a.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED {
		t.Errorf("outcome = %v", a.GetOutcome())
	}
	if auths[0].GetService() != ServiceName || auths[0].GetDecky() != "web01" {
		t.Errorf("service/decky = %q/%q", auths[0].GetService(), auths[0].GetDecky())
	}
	if auths[0].GetSource().GetAddress() != "127.0.0.2" {
		t.Errorf("source = %q, want 127.0.0.2", auths[0].GetSource().GetAddress())
	}

	reqs := ts.rec.waitKind(t, decoys.KindHTTPRequest, 1)
	r := reqs[0].GetHttpRequest()
	if r.GetMethod() != "POST" || r.GetTarget() != "/login" || r.GetProtocol() != "HTTP/1.1" {
		t.Errorf("request line = %q %q %q", r.GetMethod(), r.GetTarget(), r.GetProtocol())
	}
	if r.GetStatus() != 200 {
		t.Errorf("status = %d", r.GetStatus())
	}
	if r.GetBodySize() != uint64(len(form.Encode())) {
		t.Errorf("body_size = %d, want %d", r.GetBodySize(), len(form.Encode()))
	}
	if r.GetHost() != ts.addr {
		t.Errorf("host = %q, want %q", r.GetHost(), ts.addr)
	}
	if reqs[0].GetSessionId() != auths[0].GetSessionId() {
		t.Error("auth.attempt and http.request carry different session ids")
	}
}

func TestLoginPageGet(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("seed-1")})
	raw := exchange(t, ts.addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	head, body := splitResponse(t, raw)

	wantHead := "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: " + testDate + "\r\nContent-Type: text/html; charset=UTF-8\r\n" +
		"Transfer-Encoding: chunked\r\nConnection: close\r\nCache-Control: no-store, no-cache, must-revalidate\r\nPragma: no-cache"
	if head != wantHead {
		t.Errorf("head:\n%q\nwant\n%q", head, wantHead)
	}
	page := string(ts.svc.portal.loginPage(false))
	if want := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(page), page); body != want {
		t.Errorf("chunked body mismatch:\n%q", body)
	}
	if !strings.Contains(page, `<form method="post" action="/login">`) || !strings.Contains(page, `name="password"`) {
		t.Error("login page lacks the form")
	}
	if !strings.Contains(page, "<title>"+ts.svc.portal.title+"</title>") {
		t.Error("login page lacks the portal title")
	}
}

func TestAuthorizationHeaders(t *testing.T) {
	tests := []struct {
		name          string
		target        string
		authorization string
		wantStatus    string
		wantMechanism string
		wantPrincipal string
		wantSecret    string
	}{
		{"basic on admin", "/admin", "Basic YWRtaW46aHVudGVyMg==", "401 Unauthorized", decoys.MechanismHTTPBasic, "admin", "hunter2"},
		{"basic on login", "/login", "Basic cm9vdDp0b29y", "401 Unauthorized", decoys.MechanismHTTPBasic, "root", "toor"},
		{"basic password with colon", "/admin", "basic " + b64("u:p:q"), "401 Unauthorized", decoys.MechanismHTTPBasic, "u", "p:q"},
		{"basic without colon", "/admin", "Basic " + b64("lonely"), "401 Unauthorized", decoys.MechanismHTTPBasic, "lonely", ""},
		{"basic malformed", "/admin", "Basic !!not-base64!!", "401 Unauthorized", decoys.MechanismHTTPBasic, "", "!!not-base64!!"},
		{"basic on root", "/", "Basic " + b64("a:b"), "200 OK", decoys.MechanismHTTPBasic, "a", "b"},
		{"bearer", "/api", "Bearer eyJhbGciOi.token", "404 Not Found", decoys.MechanismHTTPBearer, "", "eyJhbGciOi.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{Seed: []byte("seed-1")})
			raw := exchange(t, ts.addr, "GET "+tt.target+" HTTP/1.1\r\nHost: x\r\nAuthorization: "+tt.authorization+"\r\nConnection: close\r\n\r\n")
			if !strings.HasPrefix(raw, "HTTP/1.1 "+tt.wantStatus+"\r\n") {
				t.Fatalf("status line of %q, want %s", raw, tt.wantStatus)
			}
			if strings.HasPrefix(tt.wantStatus, "401") {
				want := "WWW-Authenticate: Basic realm=\"" + ts.svc.portal.realm() + "\"\r\n"
				if !strings.Contains(raw, "Connection: close\r\n"+want) {
					t.Errorf("WWW-Authenticate missing or out of order: %q", raw)
				}
			}

			a := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt()
			if a.GetMechanism() != tt.wantMechanism {
				t.Errorf("mechanism = %q, want %q", a.GetMechanism(), tt.wantMechanism)
			}
			if a.GetPrincipal() != tt.wantPrincipal {
				t.Errorf("principal = %q, want %q", a.GetPrincipal(), tt.wantPrincipal)
			}
			if string(a.GetSecret()) != tt.wantSecret {
				t.Errorf("secret = %q, want %q", a.GetSecret(), tt.wantSecret)
			}
			sum := sha256.Sum256([]byte(tt.wantSecret))
			if !bytes.Equal(a.GetSecretSha256(), sum[:]) {
				t.Errorf("secret_sha256 = %x, want %x", a.GetSecretSha256(), sum)
			}
		})
	}
}

func b64(s string) string {
	return base64Encode([]byte(s))
}

func TestRequestEventHeaders(t *testing.T) {
	ts := startService(t, decoys.Config{})
	raw := "GET /nope?q=1 HTTP/1.1\r\nUser-Agent: probe/1.0\r\nHost: Example.test:8080\r\nX-Zeta: 1\r\nAccept: */*\r\n" +
		"X_Under: ignored\r\nX-Alpha:  spaced  \r\nConnection: close\r\n\r\n"
	out := exchange(t, ts.addr, raw)
	if !strings.HasPrefix(out, "HTTP/1.1 404 Not Found\r\n") {
		t.Fatalf("response %q", out)
	}

	r := ts.rec.waitKind(t, decoys.KindHTTPRequest, 1)[0].GetHttpRequest()
	want := [][2]string{
		{"User-Agent", "probe/1.0"}, {"Host", "Example.test:8080"}, {"X-Zeta", "1"}, {"Accept", "*/*"},
		{"X_Under", "ignored"}, {"X-Alpha", "spaced"}, {"Connection", "close"},
	}
	if len(r.GetHeaders()) != len(want) {
		t.Fatalf("got %d headers, want %d: %v", len(r.GetHeaders()), len(want), r.GetHeaders())
	}
	for i, h := range r.GetHeaders() {
		if h.GetName() != want[i][0] || h.GetValue() != want[i][1] {
			t.Errorf("header %d = %q: %q, want %q: %q", i, h.GetName(), h.GetValue(), want[i][0], want[i][1])
		}
	}
	if r.GetTarget() != "/nope?q=1" || r.GetHost() != "Example.test:8080" || r.GetUserAgent() != "probe/1.0" || r.GetStatus() != 404 {
		t.Errorf("event = %v", r)
	}
}

func TestRequestEventCaps(t *testing.T) {
	ts := startService(t, decoys.Config{})
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: x\r\n")
	for i := range 80 {
		fmt.Fprintf(&b, "X-%d: \xff%d\r\n", i, i)
	}
	b.WriteString("Connection: close\r\n\r\n")
	exchange(t, ts.addr, b.String())

	r := ts.rec.waitKind(t, decoys.KindHTTPRequest, 1)[0].GetHttpRequest()
	if len(r.GetHeaders()) != maxEventHeaders {
		t.Errorf("event carries %d headers, want %d", len(r.GetHeaders()), maxEventHeaders)
	}
	if v := r.GetHeaders()[1].GetValue(); v != "\uFFFD0" {
		t.Errorf("invalid UTF-8 not replaced: %q", v)
	}
}

func TestMalformedRequestsNginx(t *testing.T) {
	long := strings.Repeat("a", 9000)
	tests := []struct {
		name       string
		raw        string
		wantStatus string
		wantBody   string
	}{
		{"garbage", "GARBAGE\r\n\r\n", "400 Bad Request", nginx400Page},
		{"tls client hello without newline", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "400 Bad Request", nginx400Page},
		{"lowercase method", "get / HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request", nginx400Page},
		{"missing host", "GET / HTTP/1.1\r\n\r\n", "400 Bad Request", nginx400Page},
		{"duplicate host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400 Bad Request", nginx400Page},
		{"space in header name", "GET / HTTP/1.1\r\nHost: a\r\nfo o: 1\r\n\r\n", "400 Bad Request", nginx400Page},
		{"folded header", "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "400 Bad Request", nginx400Page},
		{"bad escape", "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", "400 Bad Request", nginx400Page},
		{"above root", "GET /../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", "400 Bad Request", nginx400Page},
		{"invalid content length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", "400 Bad Request", nginx400Page},
		{"chunked with length", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "400 Bad Request", nginx400Page},
		{"bad chunk size", "POST /login HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", "400 Bad Request", nginx400Page},
		{"version 2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", "505 HTTP Version Not Supported", ""},
		{"gzip transfer coding", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Not Implemented", ""},
		{"request line too long", "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n", "414 Request-URI Too Large", ""},
		{"header line too long", "GET / HTTP/1.1\r\nHost: a\r\nX-A: " + long + "\r\n\r\n", "400 Bad Request", nginxHeaderTooLargePage},
		{"header block too large", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-B: "+strings.Repeat("b", 7000)+"\r\n", 6) + "\r\n", "400 Bad Request", nginxHeaderTooLargePage},
		{"body over cap", "POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 70000\r\n\r\n", "413 Request Entity Too Large", ""},
		{"chunked body over cap", "POST /login HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n" + strings.Repeat("c", 65536) + "\r\n10\r\n" + strings.Repeat("d", 16) + "\r\n0\r\n\r\n", "413 Request Entity Too Large", ""},
		{"trace", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", "405 Not Allowed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{})
			raw := exchange(t, ts.addr, tt.raw)
			head, body := splitResponse(t, raw)
			if !strings.HasPrefix(head, "HTTP/1.1 "+tt.wantStatus+"\r\nServer: nginx/1.22.1\r\nDate: "+testDate+"\r\nContent-Type: text/html\r\n") {
				t.Errorf("head = %q, want status %s and nginx header order", head, tt.wantStatus)
			}
			if !strings.HasSuffix(head, "\r\nConnection: close") {
				t.Errorf("head %q does not end with Connection: close", head)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if !strings.Contains(head, fmt.Sprintf("Content-Length: %d\r\n", len(body))) {
				t.Errorf("Content-Length does not match the body of %d bytes: %q", len(body), head)
			}
		})
	}
}

func TestServesAfterMalformedInput(t *testing.T) {
	ts := startService(t, decoys.Config{})
	for _, raw := range []string{"\x00\x01\x02\r\n\r\n", "GET / HTTP/1.1\r\nHost: \x00\r\n\r\n", strings.Repeat("A", 20000)} {
		exchange(t, ts.addr, raw)
	}
	out := exchange(t, ts.addr, "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 404 Not Found\r\n") {
		t.Fatalf("decoy stopped serving after malformed input: %q", out)
	}
}

func TestHTTP09(t *testing.T) {
	ts := startService(t, decoys.Config{})
	if out := exchange(t, ts.addr, "GET /nope\r\n"); out != nginx404Page {
		t.Errorf("HTTP/0.9 404 = %q, want the bare page", out)
	}
	if out := exchange(t, ts.addr, "POST /\r\n"); out != nginx400Page {
		t.Errorf("HTTP/0.9 POST = %q, want the bare 400 page", out)
	}
	r := ts.rec.waitKind(t, decoys.KindHTTPRequest, 2)[0].GetHttpRequest()
	if r.GetProtocol() != "HTTP/0.9" || r.GetStatus() != 404 {
		t.Errorf("event protocol %q status %d", r.GetProtocol(), r.GetStatus())
	}
}

func TestBareLineFeedsNginx(t *testing.T) {
	ts := startService(t, decoys.Config{})
	out := exchange(t, ts.addr, "GET /nope HTTP/1.1\nHost: x\nConnection: close\n\n")
	if !strings.HasPrefix(out, "HTTP/1.1 404 Not Found\r\n") {
		t.Errorf("nginx accepts bare LF, got %q", out)
	}
}

func TestPipelinedRequests(t *testing.T) {
	ts := startService(t, decoys.Config{})
	out := exchange(t, ts.addr, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /b HTTP/1.1\r\nHost: a\r\n\r\n"+
		"POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 25\r\n\r\nusername=u1&password=p%21"+
		"GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")

	br := bufio.NewReader(strings.NewReader(out))
	for i, want := range []struct {
		method string
		status int
		conn   string
	}{{"GET", 404, "keep-alive"}, {"HEAD", 404, "keep-alive"}, {"POST", 200, "keep-alive"}, {"GET", 404, "close"}} {
		resp, err := http.ReadResponse(br, &http.Request{Method: want.method})
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		// ReadResponse removes "Connection: close" and sets Close.
		if resp.StatusCode != want.status || resp.Close != (want.conn == "close") {
			t.Errorf("response %d: status %d close %v, want %d %q", i, resp.StatusCode, resp.Close, want.status, want.conn)
		}
		if want.conn != "close" && resp.Header.Get("Connection") != want.conn {
			t.Errorf("response %d: Connection %q, want %q", i, resp.Header.Get("Connection"), want.conn)
		}
	}
	a := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt()
	if a.GetPrincipal() != "u1" || string(a.GetSecret()) != "p!" {
		t.Errorf("pipelined form credential = %q/%q", a.GetPrincipal(), a.GetSecret())
	}
	if n := len(ts.rec.waitKind(t, decoys.KindHTTPRequest, 4)); n != 4 {
		t.Errorf("%d http.request events, want 4", n)
	}
}

func TestKeepAliveRequestCapApache(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaApache})
	var b strings.Builder
	for range 102 {
		b.WriteString("GET /nope HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
	}
	out := exchange(t, ts.addr, b.String())

	br := bufio.NewReader(strings.NewReader(out))
	for i := 1; i <= 101; i++ {
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if i <= 100 {
			if want := fmt.Sprintf("timeout=5, max=%d", 101-i); resp.Header.Get("Keep-Alive") != want {
				t.Fatalf("response %d: Keep-Alive %q, want %q", i, resp.Header.Get("Keep-Alive"), want)
			}
			continue
		}
		if !resp.Close || resp.Header.Get("Keep-Alive") != "" {
			t.Errorf("response 101: close %v, Keep-Alive %q; want a closing answer", resp.Close, resp.Header.Get("Keep-Alive"))
		}
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Errorf("decoy answered past the request cap: %q", rest)
	}
	closed := ts.rec.waitKind(t, decoys.KindConnectionClosed, 1)[0].GetConnectionClosed()
	if closed.GetReason() != reasonLimit {
		t.Errorf("close reason %q, want %q", closed.GetReason(), reasonLimit)
	}
}

func TestApachePages(t *testing.T) {
	sig := "<hr>\n<address>Apache/2.4.58 (Ubuntu) Server at "
	tests := []struct {
		name     string
		raw      string
		wantHead string
		wantBody string
	}{
		{
			"not found",
			"GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"HTTP/1.1 404 Not Found\r\nDate: " + testDate + "\r\nServer: Apache/2.4.58 (Ubuntu)\r\nContent-Length: 303\r\nConnection: close\r\nContent-Type: text/html; charset=iso-8859-1",
			"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n" +
				"<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n" + sig + "a Port 80</address>\n</body></html>\n",
		},
		{
			"bad request names the server",
			"GARBAGE\r\n\r\n",
			"HTTP/1.1 400 Bad Request\r\nDate: " + testDate + "\r\nServer: Apache/2.4.58 (Ubuntu)\r\nContent-Length: 339\r\nConnection: close\r\nContent-Type: text/html; charset=iso-8859-1",
			"",
		},
		{
			"unknown method",
			"FOO / HTTP/1.1\r\nHost: x\r\n\r\n",
			"HTTP/1.1 501 Not Implemented\r\nDate: " + testDate + "\r\nServer: Apache/2.4.58 (Ubuntu)\r\nAllow: %ALLOW%\r\nContent-Length: 309\r\nConnection: close\r\nContent-Type: text/html; charset=iso-8859-1",
			"",
		},
		{
			"bare line feed",
			"GET / HTTP/1.1\nHost: x\n\n",
			"HTTP/1.1 400 Bad Request\r\nDate: " + testDate + "\r\nServer: Apache/2.4.58 (Ubuntu)\r\nContent-Length: 339\r\nConnection: close\r\nContent-Type: text/html; charset=iso-8859-1",
			"",
		},
		{
			"admin",
			"GET /admin HTTP/1.1\r\nHost: a:8080\r\nConnection: close\r\n\r\n",
			"HTTP/1.1 401 Unauthorized\r\nDate: " + testDate + "\r\nServer: Apache/2.4.58 (Ubuntu)\r\nWWW-Authenticate: Basic realm=\"%REALM%\"\r\nContent-Length: 490\r\nConnection: close\r\nContent-Type: text/html; charset=iso-8859-1",
			"",
		},
		{
			"body over cap",
			"POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 70000\r\n\r\n",
			"HTTP/1.1 413 Request Entity Too Large\r\nDate: " + testDate + "\r\nServer: Apache/2.4.58 (Ubuntu)\r\nConnection: close\r\nContent-Type: text/html; charset=iso-8859-1",
			"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: PersonaApache, Decky: "files01"})
			head, body := splitResponse(t, exchange(t, ts.addr, tt.raw))
			wantHead := strings.ReplaceAll(tt.wantHead, "%REALM%", ts.svc.portal.realm())
			wantHead = strings.ReplaceAll(wantHead, "%ALLOW%", ts.svc.persona.(apache).allow)
			if head != wantHead {
				t.Errorf("head:\n%q\nwant\n%q", head, wantHead)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("body:\n%q\nwant\n%q", body, tt.wantBody)
			}
			if tt.name == "bad request names the server" && !strings.Contains(body, sig+"files01 Port 80</address>") {
				t.Errorf("400 page does not name the decky: %q", body)
			}
		})
	}
}

func TestPerSourceLimit(t *testing.T) {
	ts := startService(t, decoys.Config{Limits: decoys.Limits{MaxConnsPerSource: 2}})

	// Two idle connections from 127.0.0.2 use up its share; the accept
	// loop has registered each once it emitted connection.opened.
	dialFrom(t, "127.0.0.2", ts.addr)
	dialFrom(t, "127.0.0.2", ts.addr)
	ts.rec.waitKind(t, decoys.KindConnectionOpened, 2)

	over := dialFrom(t, "127.0.0.2", ts.addr)
	_, _ = io.WriteString(over, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	_ = over.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, _ := io.ReadAll(over); len(got) != 0 {
		t.Errorf("connection over the per-source limit was answered: %q", got)
	}

	other := dialFrom(t, "127.0.0.3", ts.addr)
	_, _ = io.WriteString(other, "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	_ = other.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(other)
	if !strings.HasPrefix(string(got), "HTTP/1.1 404 Not Found\r\n") {
		t.Errorf("another source was not served: %q", got)
	}
}

func TestConnectionEvents(t *testing.T) {
	ts := startService(t, decoys.Config{})
	exchange(t, ts.addr, "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")

	opened := ts.rec.waitKind(t, decoys.KindConnectionOpened, 1)[0]
	closed := ts.rec.waitKind(t, decoys.KindConnectionClosed, 1)[0]
	if opened.GetSessionId() != closed.GetSessionId() {
		t.Error("opened and closed carry different session ids")
	}
	c := closed.GetConnectionClosed()
	if c.GetReason() != reasonServerClosed {
		t.Errorf("reason = %q, want %q", c.GetReason(), reasonServerClosed)
	}
	if c.GetBytesSent() == 0 || c.GetBytesReceived() == 0 {
		t.Errorf("byte counts %d/%d", c.GetBytesReceived(), c.GetBytesSent())
	}
}

func TestExpectContinue(t *testing.T) {
	ts := startService(t, decoys.Config{})
	conn := dialFrom(t, "127.0.0.2", ts.addr)
	_, _ = io.WriteString(conn, "POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 21\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("interim response %q, %v", line, err)
	}
	_, _ = io.WriteString(conn, "username=a&password=b")
	_, _ = br.ReadString('\n')
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("final response %v, %v", resp, err)
	}
	if a := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt(); a.GetPrincipal() != "a" {
		t.Errorf("principal %q", a.GetPrincipal())
	}
}

func TestApacheAllowPerDecky(t *testing.T) {
	a := newApache("h", []byte("seed-a")).allow
	if a != newApache("h", []byte("seed-a")).allow {
		t.Error("same seed gave two Allow orders")
	}
	if got := strings.Split(a, ","); len(got) != 4 || !slices.Contains(got, "GET") || !slices.Contains(got, "POST") ||
		!slices.Contains(got, "OPTIONS") || !slices.Contains(got, "HEAD") {
		t.Errorf("Allow %q is not a permutation of GET,POST,OPTIONS,HEAD", a)
	}
	orders := map[string]bool{}
	for i := range 20 {
		orders[newApache("h", []byte{byte(i)}).allow] = true
	}
	if len(orders) < 2 {
		t.Errorf("20 seeds gave only %d Allow order", len(orders))
	}
}

func TestPortalPerDecky(t *testing.T) {
	a1 := newPortal([]byte("seed-a"), "decky-a")
	a2 := newPortal([]byte("seed-a"), "decky-a")
	b := newPortal([]byte("seed-b"), "decky-b")
	if a1 != a2 {
		t.Errorf("same seed gave %v and %v", a1, a2)
	}
	if a1 == b {
		t.Errorf("different seeds gave the same portal %v", a1)
	}
}

func base64Encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
