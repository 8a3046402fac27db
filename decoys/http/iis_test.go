package httpdecoy

import (
	"strconv"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
)

// The lengths are those of the same pages in published IIS 10 and
// HTTP.sys transcripts.
func TestIISPageLengths(t *testing.T) {
	p := iis{}
	for status, want := range map[int]int{404: 1245, 405: 1293, 500: 1208, 401: 1293, 403: 1233} {
		if got := len(p.errorResponse(pageInfo{status: status}).body); got != want {
			t.Errorf("custom error %d is %d bytes, want %d", status, got, want)
		}
	}
	for variant, want := range map[string]int{variantNone: 311, variantInvalidHostname: 334, variantInvalidURL: 324} {
		if got := len(p.errorResponse(pageInfo{status: 400, variant: variant, httpSys: true}).body); got != want {
			t.Errorf("HTTP.sys 400 %q is %d bytes, want %d", variant, got, want)
		}
	}
}

func TestIISResponses(t *testing.T) {
	iisHead := func(status, contentType string, length int, extra string) string {
		return "HTTP/1.1 " + status + "\r\n" + extra + "Content-Type: " + contentType + "\r\nServer: Microsoft-IIS/10.0\r\n" +
			"X-Powered-By: ASP.NET\r\nDate: " + testDate + "\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(length)
	}
	httpSysHead := func(length int) string {
		return "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=us-ascii\r\nServer: Microsoft-HTTPAPI/2.0\r\n" +
			"Date: " + testDate + "\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(length)
	}
	tests := []struct {
		name     string
		raw      string
		wantHead string
		wantBody string
	}{
		{"not found", "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", iisHead("404 Not Found", "text/html", 1245, ""), "404 - File or directory not found."},
		{"not found 1.0", "GET /nope HTTP/1.0\r\n\r\n", iisHead("404 Not Found", "text/html", 1245, ""), ""},
		{"trace", "TRACE / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", iisHead("405 Method Not Allowed", "text/html", 1293, "Allow: GET, HEAD, OPTIONS, TRACE\r\n"), "405 - HTTP verb used"},
		{"missing host", "GET / HTTP/1.1\r\n\r\n", httpSysHead(334), "<h2>Bad Request - Invalid Hostname</h2>"},
		{"bad host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", httpSysHead(334), "HTTP Error 400. The request hostname is invalid."},
		{"garbage", "GARBAGE\r\n\r\n", httpSysHead(311), "HTTP Error 400. The request is badly formed."},
		{"bad escape", "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", httpSysHead(324), "Bad Request - Invalid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: PersonaIIS})
			head, body := splitResponse(t, exchange(t, ts.addr, tt.raw))
			if head != tt.wantHead {
				t.Errorf("head:\n%q\nwant\n%q", head, tt.wantHead)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body lacks %q: %q", tt.wantBody, body)
			}
		})
	}
}

func TestIISVersion(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaIIS})
	out := exchange(t, ts.addr, "GET / HTTP/2.0\r\nHost: a\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/html; charset=us-ascii\r\nServer: Microsoft-HTTPAPI/2.0\r\n") {
		t.Errorf("HTTP/2.0 request line: %.120q", out)
	}
}

func TestIISKeepAlive(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaIIS})
	out := exchange(t, ts.addr, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	first, _, _ := strings.Cut(out, "\r\n\r\n")
	if strings.Contains(first, "Connection:") {
		t.Errorf("kept-alive response names the connection: %q", first)
	}
	if n := strings.Count(out, "HTTP/1.1 404 Not Found\r\n"); n != 2 {
		t.Errorf("%d responses on one connection, want 2", n)
	}
}

func TestIISPortal(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaIIS})
	head, _ := splitResponse(t, exchange(t, ts.addr, "GET / HTTP/1.0\r\n\r\n"))
	want := "HTTP/1.1 200 OK\r\nCache-Control: no-store, no-cache, must-revalidate\r\nPragma: no-cache\r\nContent-Type: text/html; charset=UTF-8\r\n" +
		"Server: Microsoft-IIS/10.0\r\nX-Powered-By: ASP.NET\r\nDate: " + testDate + "\r\nConnection: close\r\nContent-Length: "
	if !strings.HasPrefix(head, want) {
		t.Errorf("head:\n%q\nwant prefix\n%q", head, want)
	}
}
