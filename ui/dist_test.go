//go:build uidist

package ui

import (
	"net/http"
	"regexp"
	"testing"
)

// The Vite build references its entry script by a hashed name; fetching it
// checks that the embedded tree is a complete build, not only index.html.
func TestHandlerServesBuiltScript(t *testing.T) {
	srv := startServer(t, Handler())

	_, index := doRequest(t, http.MethodGet, srv.URL+"/", nil)
	match := regexp.MustCompile(`src="(/assets/[^"]+\.js)"`).FindStringSubmatch(index)
	if match == nil {
		t.Fatalf("index.html has no /assets/ script:\n%s", index)
	}

	resp, _ := doRequest(t, http.MethodGet, srv.URL+match[1], nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s status = %d, want %d", match[1], resp.StatusCode, http.StatusOK)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
		t.Errorf("GET %s Content-Type = %q, want text/javascript; charset=utf-8", match[1], got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("GET %s Cache-Control = %q, want immutable", match[1], got)
	}
}
