package apidoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/decnet/decnet/controlplane/auth"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	Mount(mux.Handle)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// registeredProcedure is the role and read-only flag of one procedure, read
// from the compiled descriptors without the package's own code.
type registeredProcedure struct {
	role     string
	readOnly bool
}

func registeredProcedures(t *testing.T) map[string]registeredProcedure {
	t.Helper()
	roles := map[apiv1.Access]string{
		apiv1.Access_ACCESS_PUBLIC:  "public",
		apiv1.Access_ACCESS_VIEWER:  "viewer",
		apiv1.Access_ACCESS_ANALYST: "analyst",
		apiv1.Access_ACCESS_ADMIN:   "admin",
	}

	out := make(map[string]registeredProcedure)
	protoregistry.GlobalFiles.RangeFilesByPackage("decnet.api.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				md := sd.Methods().Get(j)
				opts := md.Options().(*descriptorpb.MethodOptions)
				role, ok := roles[proto.GetExtension(opts, apiv1.E_Access).(apiv1.Access)]
				if !ok {
					role = "none"
				}
				path := "/" + string(sd.FullName()) + "/" + string(md.Name())
				out[path] = registeredProcedure{
					role:     role,
					readOnly: opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS,
				}
			}
		}
		return true
	})
	// A guard against the registry being empty because nothing linked the
	// generated package in: then every comparison below would pass.
	if len(out) < 40 {
		t.Fatalf("protoregistry has %d procedures of decnet.api.v1, want the whole API", len(out))
	}
	return out
}

func TestJSONListsEveryProcedure(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv, JSONPath)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", JSONPath, resp.StatusCode)
	}

	var doc Reference
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decode %s: %v", JSONPath, err)
	}
	served := make(map[string]Procedure)
	for _, s := range doc.Services {
		for _, p := range s.Procedures {
			served[p.Path] = p
		}
	}

	want := registeredProcedures(t)
	for path, reg := range want {
		p, ok := served[path]
		if !ok {
			t.Errorf("%s is registered but not in the reference", path)
			continue
		}
		if p.Role != reg.role || p.ReadOnly != reg.readOnly {
			t.Errorf("%s: role %q, read-only %v; descriptors say %q, %v", path, p.Role, p.ReadOnly, reg.role, reg.readOnly)
		}
		if want := auth.ScopeOf(path); p.Scope != want {
			t.Errorf("%s: scope %q, the interceptor requires %q", path, p.Scope, want)
		}
	}
	for path := range served {
		if _, ok := want[path]; !ok {
			t.Errorf("%s is in the reference but not registered", path)
		}
	}
}

func TestJSONMarksEverySecret(t *testing.T) {
	ref, err := decode(referenceJSON)
	if err != nil {
		t.Fatal(err)
	}

	// Every debug_redact field of a documented message, from the
	// descriptors.
	secrets := 0
	for _, m := range ref.Messages {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(m.FullName))
		if err != nil {
			t.Fatalf("find %s: %v", m.FullName, err)
		}
		fields := d.(protoreflect.MessageDescriptor).Fields()
		for _, f := range m.Fields {
			fd := fields.ByName(protoreflect.Name(f.Name))
			redact := fd.Options().(*descriptorpb.FieldOptions).GetDebugRedact()
			if f.Secret != redact {
				t.Errorf("%s.%s: secret %v, debug_redact %v", m.FullName, f.Name, f.Secret, redact)
			}
			if redact {
				secrets++
				if f.SecretNote == "" {
					t.Errorf("%s.%s: secret without a note", m.FullName, f.Name)
				}
			}
		}
	}
	if secrets == 0 {
		t.Fatal("no secret field found, expected several in the API")
	}

	tests := []struct {
		message, field, note string
	}{
		{"decnet.api.v1.LoginRequest", "password", "write-only: sent in requests, never returned"},
		{"decnet.api.v1.LoginResponse", "token", "returned only by AuthService.Login"},
		{"decnet.api.v1.WebhookSettings", "url", "write-only: sent in requests, never returned"},
		{"decnet.api.v1.CreateTokenResponse", "install_command", "returned only by TokenService.CreateToken"},
	}
	for _, tt := range tests {
		if got := findField(t, ref, tt.message, tt.field).SecretNote; got != tt.note {
			t.Errorf("%s.%s note = %q, want %q", tt.message, tt.field, got, tt.note)
		}
	}
}

func TestExampleProcedures(t *testing.T) {
	ref, err := decode(referenceJSON)
	if err != nil {
		t.Fatal(err)
	}
	if p := findProcedure(t, ref, loginProcedure); p.Role != "public" {
		t.Errorf("the login example calls %s, role %q, want public", loginProcedure, p.Role)
	}
	// The page also shows the example with GET, which only read-only
	// procedures accept. Its body uses the request's filter and pageSize.
	p := findProcedure(t, ref, exampleProcedure)
	if !p.ReadOnly || p.ServerStreaming {
		t.Errorf("the example calls %s, read-only %v, streaming %v; want a read-only unary call", exampleProcedure, p.ReadOnly, p.ServerStreaming)
	}
	for _, name := range []string{"filter", "page_size"} {
		findField(t, ref, p.Request, name)
	}
	if got := findField(t, ref, "decnet.api.v1.EventFilter", "service").JSONName; got != "service" {
		t.Errorf("EventFilter.service JSON name = %q", got)
	}
}

func TestHTML(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv, HTMLPath)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", HTMLPath, resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}

	checkBalanced(t, body)
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}

	ids := make(map[string]int)
	var fragments, stylesheets []string
	var text strings.Builder
	for n := range doc.Descendants() {
		switch n.Type {
		case html.TextNode:
			text.WriteString(n.Data)
		case html.ElementNode:
			// The dashboard's policy rejects scripts and inline styles.
			if n.Data == "script" || n.Data == "style" {
				t.Errorf("page has a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				switch {
				case a.Key == "style" || strings.HasPrefix(a.Key, "on"):
					t.Errorf("<%s> has an inline %s attribute", n.Data, a.Key)
				case a.Key == "id":
					ids[a.Val]++
				case a.Key == "href" && strings.HasPrefix(a.Val, "#"):
					fragments = append(fragments, a.Val[1:])
				case a.Key == "href" && n.Data == "link":
					stylesheets = append(stylesheets, a.Val)
				case a.Key == "href" || a.Key == "src":
					if !strings.HasPrefix(a.Val, "/") {
						t.Errorf("<%s %s=%q> leaves the origin", n.Data, a.Key, a.Val)
					}
				}
			}
		}
	}

	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q appears %d times", id, n)
		}
	}
	for _, f := range fragments {
		if ids[f] == 0 {
			t.Errorf("link #%s has no target", f)
		}
	}
	if len(stylesheets) != 1 || stylesheets[0] != CSSPath {
		t.Errorf("stylesheets = %q, want only %s", stylesheets, CSSPath)
	}

	// Every procedure has its section, named by its path, with its role.
	for path, reg := range registeredProcedures(t) {
		if anchor := procedureAnchor(path); ids[anchor] != 1 {
			t.Errorf("no section with id %s", anchor)
		}
		if !strings.Contains(text.String(), path) {
			t.Errorf("path %s never shown", path)
		}
		if !strings.Contains(string(body), `<span class="role role-`+reg.role+`">`) {
			t.Errorf("role %s never shown", reg.role)
		}
	}
	for _, want := range []string{"Authorization: Bearer", "gRPC-Web", "curl --cacert ca.crt", exampleProcedure, "write-only: sent in requests, never returned"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("page text lacks %q", want)
		}
	}
}

// checkBalanced fails unless every element the page opens is closed in
// order, which html.Parse alone would repair silently.
func checkBalanced(t *testing.T, page []byte) {
	t.Helper()
	void := map[string]bool{"meta": true, "link": true, "br": true, "hr": true, "img": true, "input": true, "wbr": true}
	var open []string
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				t.Fatalf("tokenize page: %v", z.Err())
			}
			if len(open) > 0 {
				t.Fatalf("unclosed elements at the end: %v", open)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !void[string(name)] {
				open = append(open, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				t.Fatalf("</%s> closes %v", name, open)
			}
			open = open[:len(open)-1]
		case html.SelfClosingTagToken:
			name, _ := z.TagName()
			if !void[string(name)] {
				t.Fatalf("<%s/> is not a void element", name)
			}
		}
	}
}

func TestServe(t *testing.T) {
	srv := newServer(t)

	tests := []struct {
		method, path string
		status       int
		contentType  string
	}{
		{http.MethodGet, HTMLPath, http.StatusOK, "text/html; charset=utf-8"},
		{http.MethodGet, JSONPath, http.StatusOK, "application/json"},
		{http.MethodGet, CSSPath, http.StatusOK, "text/css; charset=utf-8"},
		{http.MethodHead, JSONPath, http.StatusOK, "application/json"},
		{http.MethodPost, JSONPath, http.StatusMethodNotAllowed, "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}

			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != contentSecurityPolicy {
				t.Errorf("Content-Security-Policy = %q", got)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if tt.method == http.MethodHead && len(body) != 0 {
				t.Errorf("HEAD returned %d body bytes", len(body))
			}
			if tt.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestServeRevalidates(t *testing.T) {
	srv := newServer(t)
	resp, _ := get(t, srv, JSONPath)
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q; want a validator and no-cache", etag, resp.Header.Get("Cache-Control"))
	}

	req, err := http.NewRequest(http.MethodGet, srv.URL+JSONPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("If-None-Match", etag)
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation status = %d, want 304", resp.StatusCode)
	}
}

func TestHandlerOtherPaths(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/", "/api/reference/", "/api/reference.html", "/api/referencex"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
}

func TestNewHandlerRejectsBadDocuments(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"truncated", `{"package": "decnet.api.v1", "services": [`},
		{"unknown key", `{"package": "decnet.api.v1", "procedures": []}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newHandler([]byte(tt.doc), referenceCSS); err == nil {
				t.Error("newHandler accepted the document")
			}
		})
	}
}
