package enroll

import (
	"context"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/controlplane/tokens"
	fleetv1 "github.com/decnet/decnet/gen/decnet/fleet/v1"
	"github.com/decnet/decnet/pki"
)

// TestEnrollWithStoredToken runs enrollment on the SQLite store: the
// token's labels reach the agent record, and a revoked token is refused
// like a used one.
func TestEnrollWithStoredToken(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "ca"), func() time.Time { return now })
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc, err := New(Config{CA: ca, Tokens: st, Now: func() time.Time { return now }, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	labels := map[string]string{"site": "lyon", "zone": "dmz"}
	issued, err := tokens.Create(ctx, st, ca.RootFingerprint(), tokens.Request{AgentName: "sensor-7", Labels: labels}, now)
	if err != nil {
		t.Fatalf("tokens.Create: %v", err)
	}
	revokedToken, err := tokens.Create(ctx, st, ca.RootFingerprint(), tokens.Request{AgentName: "sensor-8"}, now)
	if err != nil {
		t.Fatalf("tokens.Create: %v", err)
	}
	if _, err := tokens.Revoke(ctx, st, revokedToken.AgentID, now); err != nil {
		t.Fatalf("tokens.Revoke: %v", err)
	}

	_, csr := newCSR(t, "")
	_, err = svc.Enroll(ctx, connect.NewRequest(&fleetv1.EnrollRequest{Token: revokedToken.Token, Csr: csr}))
	if code := connect.CodeOf(err); code != connect.CodePermissionDenied {
		t.Fatalf("Enroll with a revoked token: code %v (%v), want PermissionDenied", code, err)
	}
	if _, err := st.GetAgent(ctx, revokedToken.AgentID); err == nil {
		t.Error("a revoked token recorded an agent")
	}

	resp, err := svc.Enroll(ctx, connect.NewRequest(&fleetv1.EnrollRequest{Token: issued.Token, Csr: csr}))
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	if resp.Msg.GetAgentId() != issued.AgentID {
		t.Errorf("agent id = %q, want %q", resp.Msg.GetAgentId(), issued.AgentID)
	}
	agent, err := st.GetAgent(ctx, issued.AgentID)
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	if !maps.Equal(agent.Labels, labels) {
		t.Errorf("agent labels = %v, want %v", agent.Labels, labels)
	}
}
