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
	"testing"
	"time"

	"github.com/decnet/decnet/internal/endpoints"
	"github.com/decnet/decnet/pki"
)

// TestFleetRenewalAndDecommission runs `decnet server` with six-second
// agent certificates and an enrolled `decnet-agent`, attacks the agent for
// about 25 seconds and checks that the agent renewed its certificate
// several times on one connection with every credential stored once and
// nothing dropped. It then decommissions the agent with the CLI, a second
// process, and checks that the live connection closes within five seconds
// and that reconnects are refused with the revocation named on both sides.
func TestFleetRenewalAndDecommission(t *testing.T) {
	curl := requireTool(t, "curl")
	decnet := binary(t, "decnet")
	agentBin := binary(t, "decnet-agent")

	serverDir := t.TempDir()
	agentDir := t.TempDir()
	port := freePort(t)
	server := startProcess(t, "decnet-server", decnet, "server",
		"--data-dir", serverDir,
		"--api-listen", "127.0.0.1:0",
		"--metrics-listen", "127.0.0.1:0",
		"--agent-listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--bridge-listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--agent-cert-lifetime", "6s",
	)
	serverEP := waitEndpoints(t, server, serverDir, func(e endpoints.Endpoints) bool { return e.API != "" && e.Bridge != "" })

	out, err := exec.Command(decnet, "tokens", "create", "--data-dir", serverDir, "--name", "sensor-fleet", "--format", "json").Output()
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
	firstSerial := certificateSerial(t, agentDir)

	decoysPath := filepath.Join(t.TempDir(), "decoys.yaml")
	decoys := `deckies:
  - name: edge-02
    seed: 5eed5eed5eed5eed5eed5eed5eed5eee
    services:
      - {name: http, persona: nginx-1.22.1-debian12, listen: "127.0.0.1:0"}
`
	if err := os.WriteFile(decoysPath, []byte(decoys), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := startProcess(t, "decnet-agent", agentBin, "run", "--data-dir", agentDir, "--decoys", decoysPath, "--metrics-listen", "127.0.0.1:0")
	agentEP := waitEndpoints(t, agent, agentDir, func(e endpoints.Endpoints) bool { return len(e.Decoys) == 1 && e.Metrics != "" })
	httpDecoy, _ := agentEP.FindDecoy("http")
	eventually(t, 30*time.Second, func() error { return metricIs(agentEP.Metrics, "decnet_bridge_client_connected", 1) })

	// Attack for about 25 seconds: four renewal periods of a six-second
	// certificate.
	var want []wantCredential
	deadline := time.Now().Add(25 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		secret := fmt.Sprintf("fleet-%04d", i)
		if out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.6", "-o", "/dev/null",
			"-u", "admin:"+secret, "http://"+httpDecoy.Address+"/admin").CombinedOutput(); err != nil {
			t.Fatalf("curl attempt %d: %v: %s", i, err, out)
		}
		want = append(want, wantCredential{source: "127.0.0.6", service: "http", principal: "admin", secretKind: "plaintext", mechanism: "http_basic", secret: []byte(secret)})
		time.Sleep(200 * time.Millisecond)
	}

	api := newAPIClient(serverEP.API, loadRoots(t, filepath.Join(serverDir, "ca", "ca.crt")))
	password, err := os.ReadFile(filepath.Join(serverDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api.login(t, "admin", strings.TrimSpace(string(password)))
	ctx := context.Background()
	eventually(t, 30*time.Second, func() error {
		creds, err := api.credentials(ctx)
		if err != nil {
			return err
		}
		if len(creds) < len(want) {
			return fmt.Errorf("%d of %d credentials stored", len(creds), len(want))
		}
		return nil
	})
	creds, err := api.credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if n := countMatches(creds, w); n != 1 {
			t.Errorf("credential %q stored %d times, want exactly 1", w.secret, n)
		}
	}
	if len(creds) != len(want) {
		t.Errorf("stored %d credentials, want %d", len(creds), len(want))
	}

	// Renewed on the live connection, several times, never reconnecting.
	metrics, err := fetchMetrics(agentEP.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		name string
		ok   func(float64) bool
		want string
	}{
		{"decnet_bridge_client_certificate_renewals_total", func(v float64) bool { return v >= 3 }, "at least 3"},
		{"decnet_bridge_client_reconnects_total", func(v float64) bool { return v == 0 }, "0"},
		{"decnet_agent_events_dropped_total", func(v float64) bool { return v == 0 }, "0"},
		{"decnet_bridge_client_connected", func(v float64) bool { return v == 1 }, "1"},
	} {
		v, found := metricValue(metrics, m.name)
		if !found || !m.ok(v) {
			t.Errorf("agent metric %s = %v (found %v), want %s", m.name, v, found, m.want)
		}
	}
	if serial := certificateSerial(t, agentDir); serial == firstSerial {
		t.Errorf("agent.crt still holds the enrollment certificate %s", serial)
	}

	// Decommission from another process; the server polls the store.
	if out, err := exec.Command(decnet, "agents", "decommission", "--data-dir", serverDir, created.AgentID).CombinedOutput(); err != nil {
		t.Fatalf("agents decommission: %v: %s", err, out)
	}
	eventually(t, 5*time.Second, func() error { return metricIs(agentEP.Metrics, "decnet_bridge_client_connected", 0) })

	// Reconnects are refused and both sides say why.
	eventually(t, 30*time.Second, func() error {
		if n := strings.Count(agent.log(), "certificate revoked, agent decommissioned"); n < 2 {
			return fmt.Errorf("agent logged the revocation %d times, want the close and a refused reconnect", n)
		}
		if log := server.log(); !strings.Contains(log, "bridge handshake rejected: agent revoked") || !strings.Contains(log, created.AgentID) {
			return fmt.Errorf("server log shows no rejected reconnect of agent %s", created.AgentID)
		}
		return nil
	})
	if err := metricIs(agentEP.Metrics, "decnet_bridge_client_connected", 0); err != nil {
		t.Errorf("after the refused reconnects: %v", err)
	}

	out, err = exec.Command(decnet, "agents", "list", "--data-dir", serverDir).CombinedOutput()
	if err != nil {
		t.Fatalf("agents list: %v: %s", err, out)
	}
	if !strings.Contains(string(out), created.AgentID) || !strings.Contains(string(out), "decommissioned") {
		t.Errorf("agents list does not show %s decommissioned:\n%s", created.AgentID, out)
	}
}

// certificateSerial reads the serial of the agent's current certificate.
func certificateSerial(t *testing.T, agentDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(agentDir, "agent.crt"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pki.ParseCertificatesPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0].SerialNumber.Text(16)
}

func metricIs(url, name string, want float64) error {
	body, err := fetchMetrics(url)
	if err != nil {
		return err
	}
	v, ok := metricValue(body, name)
	if !ok || v != want {
		return fmt.Errorf("%s = %v (found %v), want %v", name, v, ok, want)
	}
	return nil
}
