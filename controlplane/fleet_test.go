package controlplane

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/bridge"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/pki"
)

const (
	fleetAgent   = "0195a1b2-0000-7000-8000-0000000000a1"
	fleetUnknown = "0195a1b2-0000-7000-8000-0000000000ff"
)

// newFleet returns a fleet on a fresh SQLite store with one enrolled
// agent, and the store's path, which other handles may open as another
// process would.
func newFleet(t *testing.T) (*fleet, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "decnet.db")
	st, err := sqlite.Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.UpsertAgent(ctx, store.Agent{ID: fleetAgent, Name: "edge-9", EnrolledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadOrCreateCA(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fleet{store: st, ca: ca, lifetime: time.Hour, log: zerolog.Nop()}, path
}

func newCSR(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

func TestFleetRenew(t *testing.T) {
	ctx := context.Background()
	f, _ := newFleet(t)

	chain, err := f.Renew(ctx, fleetAgent, newCSR(t))
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	leaf := chain[0]
	if id, err := pki.AgentIDFromCertificate(leaf); err != nil || id != fleetAgent || leaf.Subject.CommonName != "edge-9" {
		t.Errorf("renewed certificate names %q %q (%v), want %s edge-9 from the store", id, leaf.Subject.CommonName, err, fleetAgent)
	}
	a, err := f.store.GetAgent(ctx, fleetAgent)
	if err != nil {
		t.Fatal(err)
	}
	if a.CertificateSerial != leaf.SerialNumber.Text(16) || !a.CertificateExpiresAt.Equal(leaf.NotAfter) {
		t.Errorf("store records serial %s expiring %v, want %s %v", a.CertificateSerial, a.CertificateExpiresAt, leaf.SerialNumber.Text(16), leaf.NotAfter)
	}
	if a.EnrolledAt.IsZero() {
		t.Error("renewal cleared the enrollment time")
	}

	tests := []struct {
		name    string
		agentID string
		csr     []byte
		want    error
	}{
		{"unknown agent", fleetUnknown, newCSR(t), bridge.ErrAgentUnknown},
		{"malformed request", fleetAgent, []byte("not a CSR"), bridge.ErrInvalidRenewal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.Renew(ctx, tt.agentID, tt.csr); !errors.Is(err, tt.want) {
				t.Errorf("Renew error = %v, want %v", err, tt.want)
			}
			if err := f.authorize(ctx, tt.agentID); tt.agentID == fleetUnknown && !errors.Is(err, bridge.ErrAgentUnknown) {
				t.Errorf("authorize error = %v, want ErrAgentUnknown", err)
			}
		})
	}

	if _, err := f.store.(*sqlite.Store).RevokeAgent(ctx, fleetAgent, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Renew(ctx, fleetAgent, newCSR(t)); !errors.Is(err, bridge.ErrAgentRevoked) {
		t.Errorf("Renew after revocation error = %v, want ErrAgentRevoked", err)
	}
	if err := f.authorize(ctx, fleetAgent); !errors.Is(err, bridge.ErrAgentRevoked) {
		t.Errorf("authorize after revocation error = %v, want ErrAgentRevoked", err)
	}
}

// TestFleetWatchesOtherProcesses revokes the agent through a second store
// handle, as `decnet agents decommission` does, and checks that the
// watcher closes the agent's connection.
func TestFleetWatchesOtherProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, path := newFleet(t)
	closed := make(chan string, 4)
	f.connected = func(id string) bool { return id == fleetAgent }
	f.closeRevoked = func(id string) int { closed <- id; return 1 }

	var wg sync.WaitGroup
	wg.Add(1)
	watchCtx, stop := context.WithCancel(ctx)
	go func() {
		defer wg.Done()
		if err := f.watchRevocations(watchCtx); err != nil {
			t.Errorf("watchRevocations: %v", err)
		}
	}()
	defer func() {
		stop()
		wg.Wait()
	}()

	other, err := sqlite.Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.RevokeAgent(ctx, fleetAgent, time.Now()); err != nil {
		t.Fatal(err)
	}

	select {
	case id := <-closed:
		if id != fleetAgent {
			t.Errorf("closed %s, want %s", id, fleetAgent)
		}
	case <-ctx.Done():
		t.Fatal("watcher never closed the revoked agent's connection")
	}
}
