package pki

import (
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestAgentURI(t *testing.T) {
	got := AgentURI(testAgentID).String()
	if want := "urn:decnet:agent:" + testAgentID; got != want {
		t.Errorf("AgentURI = %q, want %q", got, want)
	}
}

func TestAgentIDFromCertificate(t *testing.T) {
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	other := "11111111-2222-4333-8444-555555555555"

	tests := []struct {
		name    string
		uris    []*url.URL
		want    string
		wantErr string
	}{
		{"one agent URI", []*url.URL{AgentURI(testAgentID)}, testAgentID, ""},
		{"other URIs ignored", []*url.URL{mustURL("spiffe://example.test/x"), AgentURI(testAgentID)}, testAgentID, ""},
		{"no URI", nil, "", "no agent URI SAN"},
		{"only other URIs", []*url.URL{mustURL("urn:uuid:" + testAgentID)}, "", "no agent URI SAN"},
		{"two agent URIs", []*url.URL{AgentURI(testAgentID), AgentURI(other)}, "", "2 agent URI SANs"},
		{"not a UUID", []*url.URL{AgentURI("sensor-1")}, "", "is not a UUID"},
		{"upper case UUID", []*url.URL{AgentURI(strings.ToUpper(testAgentID))}, "", "canonical form"},
		{"braced UUID", []*url.URL{AgentURI("{" + testAgentID + "}")}, "", "canonical form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AgentIDFromCertificate(&x509.Certificate{URIs: tt.uris})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("AgentIDFromCertificate: %v", err)
				}
				if got != tt.want {
					t.Errorf("id = %q, want %q", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("AgentIDFromCertificate = %q, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestAgentIDFromCertificateSentinel(t *testing.T) {
	_, err := AgentIDFromCertificate(&x509.Certificate{})
	if !errors.Is(err, ErrNoAgentID) {
		t.Errorf("error = %v, want ErrNoAgentID", err)
	}
}
