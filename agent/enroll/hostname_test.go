package enroll_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/enroll"
	"github.com/decnet/decnet/pki"
)

// TestEnrollNameMismatch dials 127.0.0.1 while the server certificate
// names only 127.0.0.2: the error names both.
func TestEnrollNameMismatch(t *testing.T) {
	cp := startControlPlaneFor(t, net.ParseIP("127.0.0.2"))
	_, err := enroll.Enroll(context.Background(), enroll.Config{
		ServerURL: cp.url,
		Token:     cp.newToken(t, testAgentID, "sensor-1"),
		DataDir:   filepath.Join(t.TempDir(), "agent"),
		Logger:    zerolog.Nop(),
	})
	var mismatch *pki.NameMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("Enroll error = %v, want a *pki.NameMismatchError", err)
	}
	if mismatch.Dialled != "127.0.0.1" {
		t.Errorf("Dialled = %q, want 127.0.0.1", mismatch.Dialled)
	}
	if len(mismatch.IPAddresses) != 1 || !mismatch.IPAddresses[0].Equal(net.ParseIP("127.0.0.2")) {
		t.Errorf("IPAddresses = %v, want [127.0.0.2]", mismatch.IPAddresses)
	}
	for _, want := range []string{"127.0.0.1", "127.0.0.2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
