package agent

import (
	"bytes"
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/pki"
)

func TestCheckCertificate(t *testing.T) {
	notAfter := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	leaf := &x509.Certificate{NotBefore: notAfter.Add(-24 * time.Hour), NotAfter: notAfter}

	if err := checkCertificate(leaf, notAfter.Add(-time.Second)); err != nil {
		t.Errorf("valid certificate: %v", err)
	}
	err := checkCertificate(leaf, notAfter)
	if err == nil || !strings.Contains(err.Error(), "expired at 2026-12-05T00:00:00Z") {
		t.Errorf("expired certificate: error = %v, want one naming the expiry", err)
	}
	if err := checkCertificate(nil, notAfter); err == nil {
		t.Error("missing certificate accepted")
	}
}

func TestWatchCertificateLogs(t *testing.T) {
	notAfter := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	// Issued 24 h before notAfter, backdated as the CA does.
	leaf := &x509.Certificate{NotBefore: notAfter.Add(-24*time.Hour - pki.Backdate), NotAfter: notAfter}

	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{name: "fresh", now: notAfter.Add(-20 * time.Hour), want: ""},
		// Renewal runs around two thirds; the watcher stays quiet there.
		{name: "renewal window", now: notAfter.Add(-7 * time.Hour), want: ""},
		{name: "renewal overdue", now: notAfter.Add(-4 * time.Hour), want: "renewal has not succeeded"},
		{name: "expired", now: notAfter.Add(time.Minute), want: "certificate expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // one check, then return
			watchCertificate(ctx, func() *x509.Certificate { return leaf }, func() time.Time { return tt.now }, time.Hour, zerolog.New(&buf))

			if tt.want == "" {
				if buf.Len() != 0 {
					t.Fatalf("logged %q for a fresh certificate", buf.String())
				}
				return
			}
			if !strings.Contains(buf.String(), tt.want) {
				t.Fatalf("log = %q, want it to contain %q", buf.String(), tt.want)
			}
		})
	}
}
