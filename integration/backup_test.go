//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decnet/decnet/internal/endpoints"
)

// TestBackupRestoreKeepsAgent backs up a running control plane with an
// enrolled agent, stops it, restores the archive into a new data directory
// and starts a server there on the same agent and bridge port. The agent,
// never re-enrolled, delivers its next events to the restored server: its
// certificate verifies against the restored CA. The events stored before
// the backup are there, each once.
func TestBackupRestoreKeepsAgent(t *testing.T) {
	curl := requireTool(t, "curl")
	decnet := binary(t, "decnet")
	agentBin := binary(t, "decnet-agent")
	ctx := context.Background()

	serverDir := t.TempDir()
	agentDir := t.TempDir()
	agentPort := freePort(t)
	serverArgs := func(dataDir string) []string {
		return []string{"server",
			"--data-dir", dataDir,
			"--api-listen", "127.0.0.1:0",
			"--metrics-listen", "127.0.0.1:0",
			"--agent-listen", fmt.Sprintf("127.0.0.1:%d", agentPort),
			"--bridge-listen", fmt.Sprintf("127.0.0.1:%d", agentPort),
		}
	}
	server := startProcess(t, "decnet-server", decnet, serverArgs(serverDir)...)
	serverEP := waitEndpoints(t, server, serverDir, func(e endpoints.Endpoints) bool { return e.API != "" && e.Bridge != "" })

	out, err := exec.Command(decnet, "tokens", "create", "--data-dir", serverDir, "--name", "sensor-01", "--format", "json").Output()
	if err != nil {
		t.Fatalf("tokens create: %v", err)
	}
	var created struct {
		Token   string `json:"token"`
		AgentID string `json:"agent_id"`
	}
	if err := json.Unmarshal(out, &created); err != nil || created.Token == "" {
		t.Fatalf("tokens create output %q: %v", out, err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(created.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(agentBin, "enroll", "--server", serverEP.Enroll, "--token-file", tokenFile, "--data-dir", agentDir).CombinedOutput(); err != nil {
		t.Fatalf("decnet-agent enroll: %v: %s", err, out)
	}

	decoysPath := filepath.Join(t.TempDir(), "decoys.yaml")
	decoys := `deckies:
  - name: edge-01
    seed: 5eed5eed5eed5eed5eed5eed5eed5eed
    services:
      - {name: http, persona: nginx-1.22.1-debian12, listen: "127.0.0.1:0"}
`
	if err := os.WriteFile(decoysPath, []byte(decoys), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := startProcess(t, "decnet-agent", agentBin, "run", "--data-dir", agentDir, "--decoys", decoysPath, "--metrics-listen", "127.0.0.1:0")
	agentEP := waitEndpoints(t, agent, agentDir, func(e endpoints.Endpoints) bool { return len(e.Decoys) == 1 })
	httpDecoy, _ := agentEP.FindDecoy("http")

	const attempts = 10
	attack := func(prefix string) []wantCredential {
		t.Helper()
		var want []wantCredential
		for i := range attempts {
			secret := fmt.Sprintf("%s-%02d", prefix, i)
			if out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.6", "-o", "/dev/null",
				"-u", "admin:"+secret, "http://"+httpDecoy.Address+"/admin").CombinedOutput(); err != nil {
				t.Fatalf("curl %s: %v: %s", secret, err, out)
			}
			want = append(want, wantCredential{source: "127.0.0.6", service: "http", principal: "admin", secretKind: "plaintext", mechanism: "http_basic", secret: []byte(secret)})
		}
		return want
	}
	login := func(dataDir string, ep endpoints.Endpoints) *apiClient {
		t.Helper()
		api := newAPIClient(ep.API, loadRoots(t, filepath.Join(dataDir, "ca", "ca.crt")))
		password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
		if err != nil {
			t.Fatal(err)
		}
		api.login(t, "admin", strings.TrimSpace(string(password)))
		return api
	}
	waitStored := func(api *apiClient, want []wantCredential) {
		t.Helper()
		eventually(t, 60*time.Second, func() error {
			creds, err := api.credentials(ctx)
			if err != nil {
				return err
			}
			for _, w := range want {
				if countMatches(creds, w) == 0 {
					return fmt.Errorf("credential %q not yet stored", w.secret)
				}
			}
			return nil
		})
	}

	before := attack("before")
	api := login(serverDir, serverEP)
	waitStored(api, before)
	// Each request's events (connection, request, credential, close) are
	// flushed together; wait until the count stops moving so the backup
	// sees every event sent before it.
	var beforeIDs []string
	eventually(t, 30*time.Second, func() error {
		events, err := api.events(ctx)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(events))
		for _, e := range events {
			ids = append(ids, e.GetEvent().GetId())
		}
		if len(ids) == 0 || len(ids) != len(beforeIDs) {
			beforeIDs = ids
			return fmt.Errorf("%d events so far", len(ids))
		}
		return nil
	})

	archive := filepath.Join(t.TempDir(), "backup.tar.gz")
	if out, err := exec.Command(decnet, "backup", "--data-dir", serverDir, "--store", "sqlite", "--out", archive).CombinedOutput(); err != nil {
		t.Fatalf("decnet backup while the server runs: %v: %s", err, out)
	}
	server.stop(syscall.SIGTERM)

	restoredDir := filepath.Join(t.TempDir(), "restored")
	if out, err := exec.Command(decnet, "restore", "--data-dir", restoredDir, "--from", archive).CombinedOutput(); err != nil {
		t.Fatalf("decnet restore: %v: %s", err, out)
	}
	if out, err := exec.Command(decnet, "restore", "--data-dir", restoredDir, "--from", archive).CombinedOutput(); err == nil {
		t.Fatalf("decnet restore into a non-empty directory succeeded: %s", out)
	}
	for _, name := range []string{"ca/ca.key", "ca/intermediate.key", "bridge-reset.key", "admin-password", "decnet.db"} {
		fi, err := os.Stat(filepath.Join(restoredDir, name))
		if err != nil {
			t.Fatalf("restored %s: %v", name, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("restored %s mode = %v, want 0600", name, fi.Mode().Perm())
		}
	}

	restored := startProcess(t, "decnet-server-restored", decnet, serverArgs(restoredDir)...)
	restoredEP := waitEndpoints(t, restored, restoredDir, func(e endpoints.Endpoints) bool { return e.API != "" && e.Bridge != "" })
	api = login(restoredDir, restoredEP)

	after := attack("after")
	waitStored(api, after)

	creds, err := api.credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range append(before, after...) {
		if n := countMatches(creds, w); n != 1 {
			t.Errorf("credential %q stored %d times on the restored server, want 1", w.secret, n)
		}
	}

	events, err := api.events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int)
	for _, e := range events {
		seen[e.GetEvent().GetId()]++
		if got := e.GetEvent().GetAgentId(); got != created.AgentID {
			t.Errorf("event %s agent id %q, want %q", e.GetEvent().GetId(), got, created.AgentID)
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s listed %d times", id, n)
		}
	}
	for _, id := range beforeIDs {
		if seen[id] != 1 {
			t.Errorf("event %s from before the backup listed %d times on the restored server, want 1", id, seen[id])
		}
	}
	t.Logf("events before the backup %d, on the restored server %d, credentials %d", len(beforeIDs), len(events), len(creds))
	if len(events) <= len(beforeIDs) {
		t.Errorf("restored server lists %d events, want more than the %d from before the backup", len(events), len(beforeIDs))
	}
}
