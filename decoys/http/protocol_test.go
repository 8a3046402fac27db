package httpdecoy

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// The expected statuses were measured against nginx 1.22.1-9+deb12u12 and
// Apache 2.4 from Debian 12.
func TestRequestLineVersions(t *testing.T) {
	tests := []struct {
		line       string
		wantNginx  string
		wantApache string
	}{
		{"PRI * HTTP/2.0", "400", "400"},
		{"GET * HTTP/2.0", "400", "400"},
		{"GET * HTTP/1.1", "400", "400"},
		{"GET h:/x HTTP/2.0", "400", "400"},
		{"GET /nope HTTP/2.0", "505", "404"},
		{"GET /nope HTTP/2", "505", "400"},
		{"GET /nope HTTP/2x.0", "505", "400"},
		{"GET /nope HTTP/9.9", "505", "404"},
		{"GET /nope HTTP/10.0", "505", "400"},
		{"GET /%zz HTTP/2.0", "505", "400"},
		{"GET http://a/x HTTP/2.0", "505", "404"},
		{"GET /nope HTTP/01.1", "400", "400"},
		{"GET /nope HTTP/0.9", "400", "400"},
		{"GET /nope HTTP/1x.0", "400", "400"},
		{"GET /nope HTTP/1.01", "404", "400"},
		{"GET /nope HTTP/1.10", "404", "400"},
		{"GET /nope HTTP/1.999", "404", "400"},
		{"GET /nope HTTP/1.0001", "404", "400"},
		{"GET /nope HTTP/1.1000", "400", "400"},
		{"GET /nope HTTP/1.", "400", "400"},
		{"GET /nope HTTP/1.1 ", "404", "400"},
		{"GET /nope http/1.1", "400", "400"},
	}
	for _, tt := range tests {
		for _, p := range []struct{ persona, want string }{{PersonaNginx, tt.wantNginx}, {PersonaApache, tt.wantApache}} {
			t.Run(p.persona+"/"+tt.line, func(t *testing.T) {
				ts := startService(t, decoys.Config{Persona: p.persona})
				out := exchange(t, ts.addr, tt.line+"\r\nHost: a\r\nConnection: close\r\n\r\n")
				if !strings.HasPrefix(out, "HTTP/1.1 "+p.want+" ") {
					t.Errorf("response %.60q, want status %s", out, p.want)
				}
			})
		}
	}
}

func TestVersionWithoutHostApache(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaApache})
	out := exchange(t, ts.addr, "GET /nope HTTP/2.0\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 400 Bad Request\r\n") {
		t.Errorf("HTTP/2.0 without Host: %.60q, want 400", out)
	}
}

func TestOptionsAsteriskApache(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaApache})
	out := exchange(t, ts.addr, "OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	want := "HTTP/1.1 200 OK\r\nDate: " + testDate + "\r\nServer: Apache/2.4.58 (Ubuntu)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	if out != want {
		t.Errorf("OPTIONS * = %q, want %q", out, want)
	}
}

// readInterim sends raw and reports whether the first bytes the decoy
// sends are a 100 Continue; body, when set, follows the interim response
// or is sent at once when none is due.
func readInterim(t *testing.T, addr, raw, body string) (bool, string) {
	t.Helper()
	conn := dialFrom(t, "127.0.0.2", addr)
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	continued := false
	if body == "" {
		first, err := br.Peek(len("HTTP/1.1 100"))
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		continued = string(first) == "HTTP/1.1 100"
	} else {
		// Without a 100 the decoy waits for the body, so the test reads
		// the interim response only after a short pause when it is due.
		// No assertion depends on the pause: a 100 is checked once the
		// final response has arrived.
		if _, err := io.WriteString(conn, body); err != nil {
			t.Fatalf("write body: %v", err)
		}
	}
	rest, _ := io.ReadAll(br)
	if body != "" {
		continued = strings.HasPrefix(string(rest), "HTTP/1.1 100 Continue\r\n\r\n")
	}
	return continued, string(rest)
}

func TestExpectContinuePolicy(t *testing.T) {
	tests := []struct {
		name     string
		persona  string
		raw      string
		body     string
		want100  bool
		wantNext string
	}{
		{"nginx app without body", PersonaNginx, "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", "", true, "HTTP/1.1 200 OK"},
		{"nginx app with zero length", PersonaNginx, "GET /login HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", "", true, "HTTP/1.1 200 OK"},
		{"nginx app with body", PersonaNginx, "POST /login HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n", "a=b", true, "HTTP/1.1 200 OK"},
		{"nginx http 1.0", PersonaNginx, "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", "", false, "HTTP/1.1 200 OK"},
		{"nginx other expectation", PersonaNginx, "GET / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\nConnection: close\r\n\r\n", "", false, "HTTP/1.1 200 OK"},
		{"nginx own 404", PersonaNginx, "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", "", false, "HTTP/1.1 404 Not Found"},
		{"nginx own 404 with body", PersonaNginx, "POST /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n", "a=b", false, "HTTP/1.1 404 Not Found"},
		{"nginx own 401", PersonaNginx, "GET /admin HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", "", false, "HTTP/1.1 401 Unauthorized"},
		{"apache app without body", PersonaApache, "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", "", false, "HTTP/1.1 200 OK"},
		{"apache 404 with body", PersonaApache, "POST /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n", "a=b", true, "HTTP/1.1 404 Not Found"},
		{"apache app with body", PersonaApache, "POST /login HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n", "a=b", true, "HTTP/1.1 200 OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: tt.persona})
			continued, rest := readInterim(t, ts.addr, tt.raw, tt.body)
			if continued != tt.want100 {
				t.Errorf("100 Continue sent = %v, want %v (%.80q)", continued, tt.want100, rest)
			}
			rest = strings.TrimPrefix(rest, "HTTP/1.1 100 Continue\r\n\r\n")
			if !strings.HasPrefix(rest, tt.wantNext+"\r\n") {
				t.Errorf("final response %.60q, want %s", rest, tt.wantNext)
			}
		})
	}
}

func TestExpectationFailedApache(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaApache, Decky: "files01"})
	out := exchange(t, ts.addr, "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: <foo>\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	body := "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n" +
		"<title>417 Expectation Failed</title>\n</head><body>\n<h1>Expectation Failed</h1>\n" +
		"<p>The expectation given in the Expect request-header\nfield could not be met by this server.\nThe client sent<pre>\n" +
		"    Expect: &lt;foo&gt;\n</pre>\n</p><p>Only the 100-continue expectation is supported.</p>\n" +
		"<hr>\n<address>Apache/2.4.58 (Ubuntu) Server at a Port 80</address>\n</body></html>\n"
	want := "HTTP/1.1 417 Expectation Failed\r\nDate: " + testDate + "\r\nServer: Apache/2.4.58 (Ubuntu)\r\nContent-Length: 470\r\n" +
		"Content-Type: text/html; charset=iso-8859-1\r\n\r\n" + body
	if !strings.HasPrefix(out, want) {
		t.Fatalf("417 response:\n%q\nwant\n%q", out, want)
	}
	if rest := out[len(want):]; !strings.HasPrefix(rest, "HTTP/1.1 404 Not Found\r\n") {
		t.Errorf("connection not kept after 417: %.60q", rest)
	}
}

func TestPersonaTimeouts(t *testing.T) {
	if got := (nginx{}).headerTimeout(); got != 60*time.Second {
		t.Errorf("nginx header timeout %v, want client_header_timeout 60s", got)
	}
	if got := (nginx{}).keepAliveTimeout(); got != 75*time.Second {
		t.Errorf("nginx keep-alive timeout %v, want 75s", got)
	}
	if got := (apache{}).headerTimeout(); got != 20*time.Second {
		t.Errorf("apache header timeout %v, want RequestReadTimeout header=20", got)
	}
	if got := (apache{}).keepAliveTimeout(); got != 5*time.Second {
		t.Errorf("apache keep-alive timeout %v, want 5s", got)
	}
}

// TestHeaderTimeout shortens the timeouts through Limits.ReadTimeout,
// which caps the persona's own.
func TestHeaderTimeout(t *testing.T) {
	apache408 := "HTTP/1.1 408 Request Timeout\r\nDate: " + testDate + "\r\nServer: Apache/2.4.58 (Ubuntu)\r\nContent-Length: 334\r\n" +
		"Connection: close\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n" +
		"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n" +
		"<title>408 Request Timeout</title>\n</head><body>\n<h1>Request Timeout</h1>\n" +
		"<p>Server timeout waiting for the HTTP request from the client.</p>\n" +
		"<hr>\n<address>Apache/2.4.58 (Ubuntu) Server at files01 Port 80</address>\n</body></html>\n"
	tests := []struct {
		name      string
		persona   string
		raw       string
		want      string
		wantEvent bool
	}{
		{"nginx silent", PersonaNginx, "", "", false},
		{"nginx partial line", PersonaNginx, "GET / HT", "", true},
		{"nginx partial header", PersonaNginx, "GET /nope HTTP/1.1\r\nHost: a\r\nX-A: b", "", true},
		{"apache silent", PersonaApache, "", "", false},
		{"apache partial line", PersonaApache, "GET / HT", "", true},
		{"apache line without headers", PersonaApache, "GET /nope HTTP/1.1\r\n", apache408, true},
		{"apache partial header", PersonaApache, "GET /nope HTTP/1.1\r\nHost: a\r\nX-A: b", apache408, true},
		{"apache after kept-alive request", PersonaApache, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\n", apache408, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: tt.persona, Decky: "files01", Limits: decoys.Limits{ReadTimeout: 300 * time.Millisecond}})
			out := exchange(t, ts.addr, tt.raw)
			if i := strings.LastIndex(out, "HTTP/1.1 408"); i > 0 {
				out = out[i:]
			} else if strings.HasPrefix(out, "HTTP/1.1 404") {
				out = ""
			}
			if out != tt.want {
				t.Errorf("response %q, want %q", out, tt.want)
			}
			closed := ts.rec.waitKind(t, decoys.KindConnectionClosed, 1)[0].GetConnectionClosed()
			if closed.GetReason() != reasonTimeout {
				t.Errorf("close reason %q, want %q", closed.GetReason(), reasonTimeout)
			}
			reqs := ts.rec.byKind(decoys.KindHTTPRequest)
			if got := len(reqs) > 0; got != tt.wantEvent {
				t.Fatalf("http.request recorded = %v, want %v", got, tt.wantEvent)
			}
			if tt.want != "" {
				if st := reqs[len(reqs)-1].GetHttpRequest().GetStatus(); st != 408 {
					t.Errorf("event status %d, want 408", st)
				}
			}
		})
	}
}

func TestRespondBeforeBodyNginx(t *testing.T) {
	ts := startService(t, decoys.Config{})
	conn := dialFrom(t, "127.0.0.2", ts.addr)
	_, _ = io.WriteString(conn, "POST /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)

	// The 404 arrives while the body is still unsent.
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 404 Not Found\r\n" {
		t.Fatalf("first line %q, %v; want the 404 before the body", line, err)
	}
	_, _ = io.WriteString(conn, "abcGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	rest, _ := io.ReadAll(br)
	if n := strings.Count(string(rest), "HTTP/1.1 404 Not Found\r\n"); n != 1 {
		t.Errorf("%d further 404 responses, want 1 for the request after the body: %q", n, rest)
	}

	reqs := ts.rec.waitKind(t, decoys.KindHTTPRequest, 2)
	if size := reqs[0].GetHttpRequest().GetBodySize(); size != 3 {
		t.Errorf("discarded body_size %d, want 3", size)
	}
	if target := reqs[1].GetHttpRequest().GetTarget(); target != "/nope" {
		t.Errorf("second request target %q, want /nope", target)
	}
}

func TestUnmetExpectClosesApache(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaApache})
	out := exchange(t, ts.addr, "GET /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
	head, _ := splitResponse(t, out)
	if !strings.Contains(head, "\r\nConnection: close\r\n") {
		t.Errorf("head %q lacks Connection: close", head)
	}
	if n := strings.Count(out, "HTTP/1.1 404"); n != 1 {
		t.Errorf("%d responses, want 1 before the close", n)
	}
}
