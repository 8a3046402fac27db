//go:build !uidist

package ui

import (
	"net/http"
	"strings"
	"testing"
)

func TestHandlerServesPlaceholder(t *testing.T) {
	srv := startServer(t, Handler())

	resp, body := doRequest(t, http.MethodGet, srv.URL+"/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want %d", resp.StatusCode, http.StatusOK)
	}
	if !strings.Contains(body, "not built") {
		t.Errorf("placeholder does not say the dashboard is not built:\n%s", body)
	}
	if !strings.Contains(body, "make build") {
		t.Errorf("placeholder does not name the build command:\n%s", body)
	}
}
