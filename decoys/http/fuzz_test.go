package httpdecoy

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzLimits = parseLimits{maxLine: 256, maxHeaderBytes: 1024, maxHeaders: 16}

func FuzzParseRequest(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
		"GET http://h:8080/x?y#z HTTP/1.0\r\n\r\n",
		"GET /\r\n",
		"\r\n\r\nGET /a/../b/%41 HTTP/1.1\nHost: [::1]:80\nX_Y: 1\nfoo\n\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"\x16\x03\x01\x00\xa5\x01\x00\x00",
		"GET / HTTP/9.9\r\n\r\n",
		"get / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range []persona{nginx{}, apache{serverName: "h"}} {
			br := bufio.NewReaderSize(bytes.NewReader(data), 64)
			req, err := parseRequest(br, p.dialect(), fuzzLimits)
			if req == nil {
				t.Fatal("parseRequest returned a nil request")
			}
			var perr *protocolError
			if errors.As(err, &perr) {
				if perr.status < 400 || perr.status > 505 {
					t.Fatalf("status %d out of range", perr.status)
				}
				// Every failure must have a page in both personas.
				resp := p.errorResponse(pageInfo{status: perr.status, variant: perr.variant, method: req.method, host: req.host})
				if resp.status != perr.status && perr.status != 505 {
					t.Fatalf("persona %s has no page for %d", p.id(), perr.status)
				}
				continue
			}
			if err != nil {
				continue
			}
			if req.method == "" || req.path == "" || req.path[0] != '/' {
				t.Fatalf("accepted request with method %q path %q", req.method, req.path)
			}
			if strings.Contains(req.path, "/../") || strings.HasSuffix(req.path, "/..") {
				t.Fatalf("path %q keeps a dot-dot segment", req.path)
			}
			if len(req.target) > fuzzLimits.maxLine {
				t.Fatalf("target of %d bytes passed the line limit", len(req.target))
			}
			if len(req.headers) > fuzzLimits.maxHeaders && p.dialect().maxHeaders > 0 {
				t.Fatalf("%d headers passed the count limit", len(req.headers))
			}
			body, err := readBody(br, req, 512)
			if err == nil && int64(len(body)) > 512 {
				t.Fatalf("body of %d bytes passed the cap", len(body))
			}
		}
	})
}

func FuzzParseAuthorization(f *testing.F) {
	for _, seed := range []string{
		"Basic YWRtaW46aHVudGVyMg==", "basic YWRtaW46", "Basic !!!", "Basic", "Bearer abc.def",
		"bearer  tok ", "Digest username=\"a\"", "", "Basic YQ", "NTLM TlRMTVNTUAAB",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		c, ok := parseAuthorization(value)
		if !ok {
			if c.mechanism != "" || c.secret != nil || c.principal != "" {
				t.Fatalf("rejected value returned credential %+v", c)
			}
			return
		}
		if c.mechanism != "http_basic" && c.mechanism != "http_bearer" {
			t.Fatalf("mechanism %q", c.mechanism)
		}
		if c.mechanism == "http_bearer" && c.principal != "" {
			t.Fatalf("bearer with principal %q", c.principal)
		}
		if len(c.secret) > len(value) || len(c.principal) > len(value) {
			t.Fatalf("credential larger than its header: %+v", c)
		}
		if got := capText(c.principal, maxEventField); !utf8.ValidString(got) {
			t.Fatalf("principal not made valid UTF-8: %q", got)
		}
	})
}

func FuzzParseForm(f *testing.F) {
	for _, seed := range []string{
		"username=admin&password=secret", "username=a%20b&password=%zz", "&&=&a", "password=p+q&username=",
		"username=%E2%82%AC&password=%", strings.Repeat("a=b&", 300),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fields := parseForm(body)
		if len(fields) > maxFormFields {
			t.Fatalf("%d fields passed the cap", len(fields))
		}
		for _, fl := range fields {
			if len(fl.name) > len(body) || len(fl.value) > len(body) {
				t.Fatalf("field larger than the body: %+v", fl)
			}
		}
		if !bytes.ContainsAny(body, "&=%+") && len(body) > 0 {
			if len(fields) != 1 || fields[0].name != string(body) || fields[0].value != "" {
				t.Fatalf("plain body %q parsed as %+v", body, fields)
			}
		}
	})
}

func TestParseFormFields(t *testing.T) {
	tests := []struct {
		body         string
		wantUser     string
		wantPassword string
	}{
		{"username=admin&password=secret", "admin", "secret"},
		{"password=p+q%21&username=root", "root", "p q!"},
		{"username=a&password=%zz", "a", "%zz"},
		{"username=&password=", "", ""},
		{"username=first&username=second&password=x", "first", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			fields := parseForm([]byte(tt.body))
			user, _ := formValue(fields, "username")
			password, _ := formValue(fields, "password")
			if user != tt.wantUser || password != tt.wantPassword {
				t.Errorf("got %q/%q, want %q/%q", user, password, tt.wantUser, tt.wantPassword)
			}
		})
	}
}

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"/", "/", true},
		{"/a/./b/../c", "/a/c", true},
		{"//admin", "/admin", true},
		{"/%61dmin", "/admin", true},
		{"/..", "", false},
		{"/a/../../b", "", false},
		{"/%2e%2e/x", "", false},
		{"/%zz", "", false},
		{"/%00", "", false},
		{"/%4", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := normalizePath(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("normalizePath(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
