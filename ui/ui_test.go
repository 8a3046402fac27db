package ui

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

const (
	testIndex = `<!doctype html><div id="root"></div>`
	testJS    = `console.log("dashboard")`
	testCSS   = `body{color:#fff}`
	testIcon  = `<svg xmlns="http://www.w3.org/2000/svg"/>`
)

// testBuild mimics the layout of a Vite build under dist/.
func testBuild() fstest.MapFS {
	return fstest.MapFS{
		"dist/index.html":               {Data: []byte(testIndex)},
		"dist/favicon.svg":              {Data: []byte(testIcon)},
		"dist/assets/index-Cz8Vlakx.js": {Data: []byte(testJS)},
		"dist/assets/index-BLKm4QH.css": {Data: []byte(testCSS)},
		"dist/assets/_chunk-D1a2b3.js":  {Data: []byte(testJS)},
	}
}

func startServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func doRequest(t *testing.T, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, url, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, url, err)
	}
	return resp, string(body)
}

func TestHandlerServesBuild(t *testing.T) {
	h, err := newHandler(testBuild(), "dist")
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	srv := startServer(t, h)

	tests := []struct {
		name        string
		path        string
		wantStatus  int
		wantType    string
		wantCache   string
		wantBody    string
		wantETagSet bool
	}{
		{"root", "/", http.StatusOK, "text/html; charset=utf-8", "no-cache", testIndex, true},
		{"index by name", "/index.html", http.StatusOK, "text/html; charset=utf-8", "no-cache", testIndex, true},
		{"client route", "/attackers/0190a5b2", http.StatusOK, "text/html; charset=utf-8", "no-cache", testIndex, true},
		{"client route with dots", "/attackers/by-address/192.0.2.7", http.StatusOK, "text/html; charset=utf-8", "no-cache", testIndex, true},
		{"cleaned path", "/assets/../index.html", http.StatusOK, "text/html; charset=utf-8", "no-cache", testIndex, true},
		{"hashed script", "/assets/index-Cz8Vlakx.js", http.StatusOK, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", testJS, false},
		{"hashed stylesheet", "/assets/index-BLKm4QH.css", http.StatusOK, "text/css; charset=utf-8", "public, max-age=31536000, immutable", testCSS, false},
		{"underscore chunk", "/assets/_chunk-D1a2b3.js", http.StatusOK, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", testJS, false},
		{"unhashed public file", "/favicon.svg", http.StatusOK, "image/svg+xml", "no-cache", testIcon, true},
		{"missing asset", "/assets/index-old.js", http.StatusNotFound, "text/plain; charset=utf-8", "", "404 page not found\n", false},
		{"assets directory", "/assets/", http.StatusNotFound, "text/plain; charset=utf-8", "", "404 page not found\n", false},
		{"missing static file", "/favicon.ico", http.StatusNotFound, "text/plain; charset=utf-8", "", "404 page not found\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := doRequest(t, http.MethodGet, srv.URL+tt.path, nil)

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.wantCache)
			}
			if body != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if got := resp.Header.Get("ETag") != ""; got != tt.wantETagSet {
				t.Errorf("ETag set = %v, want %v (ETag %q)", got, tt.wantETagSet, resp.Header.Get("ETag"))
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") {
				t.Errorf("Content-Security-Policy = %q, want default-src 'self'", got)
			}
		})
	}
}

func TestHandlerRevalidatesIndex(t *testing.T) {
	h, err := newHandler(testBuild(), "dist")
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	srv := startServer(t, h)

	first, _ := doRequest(t, http.MethodGet, srv.URL+"/", nil)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("first response has no ETag")
	}

	second, body := doRequest(t, http.MethodGet, srv.URL+"/", http.Header{"If-None-Match": {etag}})
	if second.StatusCode != http.StatusNotModified {
		t.Errorf("status with matching If-None-Match = %d, want %d", second.StatusCode, http.StatusNotModified)
	}
	if body != "" {
		t.Errorf("body of 304 = %q, want empty", body)
	}

	third, _ := doRequest(t, http.MethodGet, srv.URL+"/", http.Header{"If-None-Match": {`"stale"`}})
	if third.StatusCode != http.StatusOK {
		t.Errorf("status with stale If-None-Match = %d, want %d", third.StatusCode, http.StatusOK)
	}
}

func TestHandlerMethods(t *testing.T) {
	h, err := newHandler(testBuild(), "dist")
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	srv := startServer(t, h)

	t.Run("HEAD", func(t *testing.T) {
		resp, body := doRequest(t, http.MethodHead, srv.URL+"/", nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d, want %d", resp.StatusCode, http.StatusOK)
		}
		if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
		}
		if body != "" {
			t.Errorf("body = %q, want empty", body)
		}
	})

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		t.Run(method, func(t *testing.T) {
			resp, _ := doRequest(t, method, srv.URL+"/", nil)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("status = %d, want %d", resp.StatusCode, http.StatusMethodNotAllowed)
			}
			if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
			}
		})
	}
}

func TestNewHandlerRequiresIndex(t *testing.T) {
	build := testBuild()
	delete(build, "dist/index.html")

	_, err := newHandler(build, "dist")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("newHandler without index.html: error = %v, want fs.ErrNotExist", err)
	}
}

func TestMediaType(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"index.html", "text/html; charset=utf-8"},
		{"assets/a.js", "text/javascript; charset=utf-8"},
		{"assets/a.mjs", "text/javascript; charset=utf-8"},
		{"assets/a.css", "text/css; charset=utf-8"},
		{"assets/a.js.map", "application/json"},
		{"assets/font.woff2", "font/woff2"},
		{"assets/blob", "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mediaType(tt.name); got != tt.want {
				t.Errorf("mediaType(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

// TestHandlerEmbedded runs against whichever tree this build embeds: the
// placeholder by default, the Vite build with the uidist tag.
func TestHandlerEmbedded(t *testing.T) {
	srv := startServer(t, Handler())

	for _, p := range []string{"/", "/attackers"} {
		t.Run(p, func(t *testing.T) {
			resp, body := doRequest(t, http.MethodGet, srv.URL+p, nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want %d", resp.StatusCode, http.StatusOK)
			}
			if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if !strings.Contains(body, "<title>DECNET") {
				t.Errorf("body does not contain the DECNET title:\n%s", body)
			}
		})
	}
}
