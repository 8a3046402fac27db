package httpdecoy

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm"
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
		for _, p := range []persona{nginx{}, apache{serverName: "h"}, iis{}} {
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
				resp := p.errorResponse(pageInfo{status: perr.status, variant: perr.variant, method: req.method, host: req.host, httpSys: p.dialect().httpSys})
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
		if c.mechanism != "http_basic" && c.mechanism != "http_bearer" && c.mechanism != decoys.MechanismHTTPDigest {
			t.Fatalf("mechanism %q", c.mechanism)
		}
		if c.mechanism == decoys.MechanismHTTPDigest && len(c.secret) > maxDigestBytes {
			t.Fatalf("digest secret of %d bytes passed the cap", len(c.secret))
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

func FuzzParseDigest(f *testing.F) {
	for _, seed := range []string{
		`username="dig", realm="r", nonce="n", uri="/admin", response="0123", algorithm=MD5, qop=auth, nc=00000001, cnonce="c"`,
		`username="a\"b",realm="x"`, `username*=UTF-8''J%C3%A4ger, algorithm=SHA-256`, `username=plain, ,,`,
		`username="unterminated`, `=x`, `a=b=c`, strings.Repeat(`k="v",`, 100), "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, credentials string) {
		params := parseDigest(credentials)
		if len(params) > maxDigestParams {
			t.Fatalf("%d params passed the cap", len(params))
		}
		for name, value := range params {
			if name == "" || name != strings.ToLower(name) {
				t.Fatalf("param name %q", name)
			}
			if len(value) > len(credentials) {
				t.Fatalf("param %q longer than its input", name)
			}
		}
		c := digestCredential(credentials)
		if c.mechanism != decoys.MechanismHTTPDigest || len(c.secret) > maxDigestBytes || len(c.secret) > len(credentials) {
			t.Fatalf("credential %+v", c)
		}
		switch c.secretKind {
		case decoys.SecretHTTPDigestMD5, decoys.SecretHTTPDigestSHA256, decoys.SecretHTTPDigestSHA512256:
		default:
			t.Fatalf("secret kind %q", c.secretKind)
		}
	})
}

func FuzzParseJSONLogin(f *testing.F) {
	for _, seed := range []string{
		`{"username":"u","password":"p"}`, `{"user":1234,"pwd":true}`, `{"login":{"x":1},"pass":null}`,
		`[1,2]`, `{"a":`, `{"email":"\u00e9","passwd":"\ud800"}`, strings.Repeat("[", 100), `{"x":` + strings.Repeat("[", 40) + `}`, "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fields := parseJSONLogin(body)
		if len(fields) > maxFormFields {
			t.Fatalf("%d fields passed the cap", len(fields))
		}
		for _, fl := range fields {
			// Decoding escapes can grow a value at most threefold (\ud800
			// becomes three bytes of U+FFFD from six).
			if len(fl.name) > 3*len(body) || len(fl.value) > 3*len(body) {
				t.Fatalf("field larger than the body: %+v", fl)
			}
		}
		pickLogin(fields)
	})
}

func TestParseDigest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"quoted and tokens", `username="dig", realm="Admin Area", nc=00000001, qop=auth`,
			map[string]string{"username": "dig", "realm": "Admin Area", "nc": "00000001", "qop": "auth"}},
		{"escaped quote", `username="a\"b\\c"`, map[string]string{"username": `a"b\c`}},
		{"upper-case names", `UserName="x",Realm=r`, map[string]string{"username": "x", "realm": "r"}},
		{"first of a repeat", `username="a", username="b"`, map[string]string{"username": "a"}},
		{"stops at unterminated quote", `realm="r", username="x`, map[string]string{"realm": "r"}},
		{"stops at a pair without =", `realm=r, junk, username=x`, map[string]string{"realm": "r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseDigest(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("parseDigest(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("param %q = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestParseJSONLogin(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		wantUser     string
		wantPassword string
		wantFound    bool
	}{
		{"username and password", `{"username":"u","password":"p"}`, "u", "p", true},
		{"alternative names", `{"email":"a@b.c","passwd":"x"}`, "a@b.c", "x", true},
		{"preferred name wins", `{"login":"second","username":"first","pwd":"1"}`, "first", "1", true},
		{"number password", `{"user":"u","pass":12345}`, "u", "12345", true},
		{"escapes decoded", `{"username":"\u00e9\n","password":"a\"b"}`, "é\n", `a"b`, true},
		{"nested object skipped", `{"username":{"x":"y"},"password":"p"}`, "", "p", true},
		{"null skipped", `{"username":null}`, "", "", false},
		{"not an object", `["username","password"]`, "", "", false},
		{"truncated keeps earlier members", `{"username":"u","password":`, "u", "", true},
		{"too deep", `{"username":"u","x":` + strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1) + `}`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, password, found := pickLogin(parseJSONLogin([]byte(tt.body)))
			if user != tt.wantUser || password != tt.wantPassword || found != tt.wantFound {
				t.Errorf("got %q/%q/%v, want %q/%q/%v", user, password, found, tt.wantUser, tt.wantPassword, tt.wantFound)
			}
		})
	}
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

func FuzzXMLRPCCredentials(f *testing.F) {
	for _, seed := range []string{
		"<methodCall><methodName>wp.getUsersBlogs</methodName><params><param><value><string>admin</string></value></param>" +
			"<param><value><string>pa&amp;ss</string></value></param></params></methodCall>",
		"<string>a</string><string>b</string><string>c</string>", "<string>", "<string>x</string", "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		user, password, ok := xmlrpcCredentials(body)
		if !ok && (user != "" || password != "") {
			t.Fatalf("no credential but %q/%q", user, password)
		}
		if len(user) > len(body) || len(password) > len(body) {
			t.Fatalf("credential longer than the body")
		}
	})
}

// FuzzNTLMAuthorization checks that an NTLM or Negotiate value yields
// either no message or one that starts with the NTLM signature and lies
// within the decoded token.
func FuzzNTLMAuthorization(f *testing.F) {
	for _, seed := range []string{
		"NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=", "Negotiate TlRMTVNTUAABAAAA", "Negotiate YIIB",
		"Negotiate oRcwFaISBBBOVExNU1NQAAMAAAAAAAAA", "NTLM !!!", "Basic YQ==", "ntlm", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		scheme, msg, _ := ntlmAuthorization(&request{authorization: []string{value}})
		if msg == nil {
			return
		}
		if !strings.EqualFold(scheme, "NTLM") && !strings.EqualFold(scheme, "Negotiate") {
			t.Fatalf("message under scheme %q", scheme)
		}
		if !bytes.HasPrefix(msg, []byte(ntlm.Signature)) || len(msg) > len(value) {
			t.Fatalf("message %q from %q", msg, value)
		}
	})
}
