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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/decnet/decnet/internal/endpoints"
)

// TestServerKilledMidStream runs the control plane and an enrolled agent as
// separate processes, kills the control plane with SIGKILL while attacks on
// the agent continue, restarts it, and checks that every event arrives
// exactly once and that the agent dropped nothing.
func TestServerKilledMidStream(t *testing.T) {
	curl := requireTool(t, "curl")
	sshBin := requireTool(t, "ssh")
	sshpass := requireTool(t, "sshpass")
	decnet := binary(t, "decnet")
	agentBin := binary(t, "decnet-agent")

	serverDir := t.TempDir()
	agentDir := t.TempDir()
	agentPort := freePort(t)
	serverArgs := []string{"server",
		"--data-dir", serverDir,
		"--api-listen", "127.0.0.1:0",
		"--metrics-listen", "127.0.0.1:0",
		"--agent-listen", fmt.Sprintf("127.0.0.1:%d", agentPort),
		"--bridge-listen", fmt.Sprintf("127.0.0.1:%d", agentPort),
	}
	server := startProcess(t, "decnet-server", decnet, serverArgs...)
	serverEP := waitEndpoints(t, server, serverDir, func(e endpoints.Endpoints) bool { return e.API != "" && e.Bridge != "" })

	// Enroll the agent with a token created through the CLI.
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
	if out, err := exec.Command(agentBin, "enroll", "--server", serverEP.Enroll, "--token-file", tokenFile, "--data-dir", t.TempDir()).CombinedOutput(); err == nil {
		t.Fatalf("second enrollment with the same token succeeded: %s", out)
	}

	decoysPath := filepath.Join(t.TempDir(), "decoys.yaml")
	decoys := `deckies:
  - name: edge-01
    seed: 5eed5eed5eed5eed5eed5eed5eed5eed
    services:
      - {name: http, persona: nginx-1.22.1-debian12, listen: "127.0.0.1:0"}
      - {name: ssh, persona: openssh-9.2p1-debian12, listen: "127.0.0.1:0"}
`
	if err := os.WriteFile(decoysPath, []byte(decoys), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := startProcess(t, "decnet-agent", agentBin, "run", "--data-dir", agentDir, "--decoys", decoysPath, "--metrics-listen", "127.0.0.1:0")
	agentEP := waitEndpoints(t, agent, agentDir, func(e endpoints.Endpoints) bool { return len(e.Decoys) == 2 && e.Metrics != "" })
	httpDecoy, _ := agentEP.FindDecoy("http")
	sshDecoy, _ := agentEP.FindDecoy("ssh")
	sshHost, sshPort := splitHostPort(t, sshDecoy.Address)

	// Attack: Basic credentials with a unique password per request from
	// 127.0.0.4, and SSH passwords from 127.0.0.5, while the server dies.
	const httpAttempts = 60
	const sshAttempts = 4
	var want []wantCredential
	for i := 0; i < httpAttempts; i++ {
		want = append(want, wantCredential{source: "127.0.0.4", service: "http", principal: "admin", secretKind: "plaintext", mechanism: "http_basic", secret: []byte(fmt.Sprintf("spray-%03d", i))})
	}
	for i := 0; i < sshAttempts; i++ {
		want = append(want, wantCredential{source: "127.0.0.5", service: "ssh", principal: "root", secretKind: "plaintext", mechanism: "ssh_password", secret: []byte(fmt.Sprintf("ssh-spray-%d", i))})
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < sshAttempts; i++ {
			cmd := exec.Command(sshpass, "-p", fmt.Sprintf("ssh-spray-%d", i), sshBin,
				"-p", sshPort, "-o", "BindAddress=127.0.0.5",
				"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
				"-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no",
				"-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
				"root@"+sshHost, "true")
			_ = cmd.Run()
		}
	}()

	for i := 0; i < httpAttempts; i++ {
		switch i {
		case 20:
			server.stop(syscall.SIGKILL)
		case 40:
			server = startProcess(t, "decnet-server-restarted", decnet, serverArgs...)
		}
		if out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.4", "-o", "/dev/null",
			"-u", fmt.Sprintf("admin:spray-%03d", i), "http://"+httpDecoy.Address+"/admin").CombinedOutput(); err != nil {
			t.Fatalf("curl attempt %d: %v: %s", i, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()

	// endpoints.json of the restarted server lists its new API port.
	serverEP = waitEndpoints(t, server, serverDir, func(e endpoints.Endpoints) bool { return e.API != "" })
	api := newAPIClient(serverEP.API, loadRoots(t, filepath.Join(serverDir, "ca", "ca.crt")))
	password, err := os.ReadFile(filepath.Join(serverDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api.login(t, "admin", strings.TrimSpace(string(password)))

	ctx := context.Background()
	eventually(t, 60*time.Second, func() error {
		creds, err := api.credentials(ctx)
		if err != nil {
			return err
		}
		missing := 0
		for _, w := range want {
			if countMatches(creds, w) == 0 {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d credentials not yet stored", missing, len(want))
		}
		return nil
	})

	creds, err := api.credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if n := countMatches(creds, w); n != 1 {
			t.Errorf("credential %q from %s stored %d times, want exactly 1", w.secret, w.source, n)
		}
	}
	if len(creds) != len(want) {
		t.Errorf("stored %d credentials, want %d", len(creds), len(want))
	}

	events, err := api.events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int)
	requests := 0
	for _, e := range events {
		seen[e.GetEvent().GetId()]++
		if e.GetEvent().GetKind() == "http.request" {
			requests++
		}
		if got := e.GetEvent().GetAgentId(); got != created.AgentID {
			t.Errorf("event %s agent id %q, want %q", e.GetEvent().GetId(), got, created.AgentID)
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s listed %d times", id, n)
		}
	}
	if requests != httpAttempts {
		t.Errorf("http.request events = %d, want %d", requests, httpAttempts)
	}

	// The restarted server holds the previous run's stateless reset key,
	// so the agent learns at once that its connection is gone instead of
	// waiting for the idle timeout.
	if log := agent.log(); !strings.Contains(log, "stateless reset") {
		t.Errorf("agent log shows no stateless reset from the restarted server")
	}

	metrics, err := fetchMetrics(agentEP.Metrics)
	if err != nil {
		t.Fatalf("agent metrics: %v", err)
	}
	dropped, ok := metricValue(metrics, "decnet_agent_events_dropped_total")
	if !ok {
		t.Fatalf("agent metrics lack decnet_agent_events_dropped_total:\n%s", metrics)
	}
	if dropped != 0 {
		t.Errorf("agent dropped %v events, want 0", dropped)
	}
}
