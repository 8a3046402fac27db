//go:build integration

package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/endpoints"
	"github.com/decnet/decnet/internal/pgtest"
	"github.com/decnet/decnet/internal/redistest"
)

// replica is one decnet server of a multi-replica deployment.
type replica struct {
	dir  string
	args []string
	proc *process
	ep   endpoints.Endpoints
}

// startReplica starts decnet server on the shared database and Redis,
// with the CA in caDir, and waits for its endpoints.
func startReplica(t *testing.T, name, dir, caDir, dsnFile, redisURL string) *replica {
	t.Helper()
	port := freePort(t)
	args := []string{"server",
		"--data-dir", dir,
		"--ca-dir", caDir,
		"--store", "postgres",
		"--database-url-file", dsnFile,
		"--api-listen", "127.0.0.1:0",
		"--metrics-listen", "127.0.0.1:0",
		"--agent-listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--bridge-listen", fmt.Sprintf("127.0.0.1:%d", port),
	}
	if redisURL != "" {
		args = append(args, "--redis-url", redisURL)
	}
	r := &replica{dir: dir, args: args}
	r.start(t, name)
	return r
}

func (r *replica) start(t *testing.T, name string) {
	t.Helper()
	_ = os.Remove(filepath.Join(r.dir, "endpoints.json"))
	r.proc = startProcess(t, name, binary(t, "decnet"), r.args...)
	r.ep = waitEndpoints(t, r.proc, r.dir, func(e endpoints.Endpoints) bool { return e.API != "" && e.Bridge != "" })
}

// liveStream collects what a StreamEvents call receives.
type liveStream struct {
	mu   sync.Mutex
	seen map[string]int
	err  error
	done chan struct{}
}

func (s *liveStream) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.seen))
	for k, v := range s.seen {
		out[k] = v
	}
	return out
}

// openStream calls StreamEvents on base with the generated Connect client
// and collects every event until ctx ends.
func openStream(ctx context.Context, t *testing.T, base string, roots *x509.CertPool, token string) *liveStream {
	t.Helper()
	httpClient := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}}
	client := apiv1connect.NewEventServiceClient(httpClient, base)
	req := connect.NewRequest(&apiv1.StreamEventsRequest{})
	req.Header().Set("Authorization", "Bearer "+token)
	stream, err := client.StreamEvents(ctx, req)
	if err != nil {
		t.Fatalf("StreamEvents: %v", err)
	}
	s := &liveStream{seen: make(map[string]int), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer stream.Close()
		for stream.Receive() {
			s.mu.Lock()
			s.seen[stream.Msg().GetEvent().GetEvent().GetId()]++
			s.mu.Unlock()
		}
		s.mu.Lock()
		s.err = stream.Err()
		s.mu.Unlock()
	}()
	return s
}

// apiClientFrom is an API client whose connections come from source, so
// its logins count against that address's rate limit.
func apiClientFrom(base string, roots *x509.CertPool, source string) *apiClient {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	transport := &http.Transport{
		DialContext:     dialer.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}
	return &apiClient{base: strings.TrimSuffix(base, "/"), http: &http.Client{Transport: transport, Timeout: 15 * time.Second}}
}

func (c *apiClient) agentConnected(ctx context.Context, id string) (bool, error) {
	a, err := c.agent(ctx, id)
	return a.GetConnected(), err
}

func (c *apiClient) agent(ctx context.Context, id string) (*apiv1.Agent, error) {
	var resp apiv1.ListAgentsResponse
	if err := c.call(ctx, "decnet.api.v1.AgentService/ListAgents", &apiv1.ListAgentsRequest{}, &resp); err != nil {
		return nil, err
	}
	for _, a := range resp.GetAgents() {
		if a.GetId() == id {
			return a, nil
		}
	}
	return nil, fmt.Errorf("agent %s not listed", id)
}

// TestReplicas runs two control plane replicas on one PostgreSQL database
// and one Redis, with an agent configured with both bridge addresses.
func TestReplicas(t *testing.T) {
	curl := requireTool(t, "curl")
	decnet := binary(t, "decnet")
	agentBin := binary(t, "decnet-agent")
	ctx := context.Background()

	pg := pgtest.Start(t, pgtest.Options{})
	dsn := pg.NewDatabase(t)
	dsnFile := filepath.Join(t.TempDir(), "database-url")
	if err := os.WriteFile(dsnFile, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rds := redistest.Start(t)

	// Replica B uses A's CA directory: agents and API clients trust one
	// root, whichever replica they reach.
	dirA, dirB := t.TempDir(), t.TempDir()
	caDir := filepath.Join(dirA, "ca")
	a := startReplica(t, "replica-a", dirA, caDir, dsnFile, rds.URL())
	b := startReplica(t, "replica-b", dirB, caDir, dsnFile, rds.URL())
	roots := loadRoots(t, filepath.Join(caDir, "ca.crt"))

	// The token is created with the CLI in the shared database with the
	// shared CA, as an operator would, so no replica's data dir is used.
	out, err := exec.Command(decnet, "tokens", "create", "--data-dir", t.TempDir(),
		"--store", "postgres", "--database-url-file", dsnFile, "--ca-dir", caDir,
		"--name", "sensor-replicas", "--ttl", "1h", "--format", "json").Output()
	if err != nil {
		t.Fatalf("tokens create against PostgreSQL: %v", err)
	}
	var issued struct {
		Token   string `json:"token"`
		AgentID string `json:"agent_id"`
	}
	if err := json.Unmarshal(out, &issued); err != nil || issued.Token == "" {
		t.Fatalf("tokens create output %q: %v", out, err)
	}
	agentDir := t.TempDir()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(issued.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(agentBin, "enroll", "--server", a.ep.Enroll, "--token-file", tokenFile, "--data-dir", agentDir).CombinedOutput(); err != nil {
		t.Fatalf("decnet-agent enroll: %v: %s", err, out)
	}

	decoysPath := filepath.Join(t.TempDir(), "decoys.yaml")
	decoys := `deckies:
  - name: edge-03
    seed: 5eed5eed5eed5eed5eed5eed5eed5eef
    services:
      - {name: http, persona: nginx-1.22.1-debian12, listen: "127.0.0.1:0"}
`
	if err := os.WriteFile(decoysPath, []byte(decoys), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := startProcess(t, "decnet-agent", agentBin, "run", "--data-dir", agentDir, "--decoys", decoysPath,
		"--metrics-listen", "127.0.0.1:0", "--bridge", a.ep.Bridge+","+b.ep.Bridge)
	agentEP := waitEndpoints(t, agent, agentDir, func(e endpoints.Endpoints) bool { return len(e.Decoys) == 1 && e.Metrics != "" })
	httpDecoy, _ := agentEP.FindDecoy("http")

	password, err := os.ReadFile(filepath.Join(dirA, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	apiA := newAPIClient(a.ep.API, roots)
	apiA.login(t, "admin", strings.TrimSpace(string(password)))
	apiB := newAPIClient(b.ep.API, roots)
	apiB.login(t, "admin", strings.TrimSpace(string(password)))

	// The agent dials the first bridge, so replica A ingests its events.
	eventually(t, 30*time.Second, func() error {
		connected, err := apiA.agentConnected(ctx, issued.AgentID)
		if err == nil && !connected {
			err = errors.New("agent not connected to replica A")
		}
		return err
	})

	t.Run("StatusAcrossReplicas", func(t *testing.T) {
		// Replica B holds no connection of the agent and reports what A
		// shares: connected, online, with A's last heartbeat.
		eventually(t, 30*time.Second, func() error {
			onB, err := apiB.agent(ctx, issued.AgentID)
			if err != nil {
				return err
			}
			if !onB.GetConnected() || onB.GetStatus() != apiv1.AgentStatus_AGENT_STATUS_ONLINE || onB.GetLastHeartbeat() == nil {
				return fmt.Errorf("replica B shows connected=%v status=%s heartbeat=%v", onB.GetConnected(), onB.GetStatus(), onB.GetLastHeartbeat())
			}
			return nil
		})
	})

	t.Run("LoginRateLimitShared", func(t *testing.T) {
		// The default burst is 10 attempts per source address, and as
		// many per user name. The guesses name a user that does not
		// exist, so the admin's own budget stays for the logins below.
		guessA := apiClientFrom(a.ep.API, roots, "127.0.0.9")
		guessB := apiClientFrom(b.ep.API, roots, "127.0.0.9")
		login := func(c *apiClient) error {
			return c.call(ctx, "decnet.api.v1.AuthService/Login",
				&apiv1.LoginRequest{Username: "ghost", Password: "wrong"}, &apiv1.LoginResponse{})
		}
		for i := range 10 {
			if err := login(guessA); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
				t.Fatalf("wrong password %d on A: %v, want HTTP 401", i+1, err)
			}
		}
		if err := login(guessA); err == nil || !strings.Contains(err.Error(), "HTTP 429") {
			t.Fatalf("attempt after the burst on A: %v, want HTTP 429", err)
		}
		if err := login(guessB); err == nil || !strings.Contains(err.Error(), "HTTP 429") {
			t.Errorf("attempt on B after the burst was spent on A: %v, want HTTP 429", err)
		}
	})

	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	stream := openStream(streamCtx, t, b.ep.API, roots, apiB.token)

	attack := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.4", "-o", "/dev/null",
				"-u", fmt.Sprintf("admin:replica-%03d", i), "http://"+httpDecoy.Address+"/admin").CombinedOutput(); err != nil {
				t.Fatalf("curl attempt %d: %v: %s", i, err, out)
			}
		}
	}
	// streamedOnce waits until B's stream has carried every stored event
	// and checks that it carried each exactly once.
	// streamedOnce waits until at least atLeast events are stored and
	// replica B streamed each once, and returns how many are stored.
	streamedOnce := func(t *testing.T, atLeast int) int {
		t.Helper()
		var stored []*apiv1.StoredEvent
		eventually(t, 30*time.Second, func() error {
			var err error
			if stored, err = apiB.events(ctx); err != nil {
				return err
			}
			if len(stored) < atLeast {
				return fmt.Errorf("%d events stored, want at least %d", len(stored), atLeast)
			}
			seen := stream.counts()
			missing := 0
			for _, e := range stored {
				if seen[e.GetEvent().GetId()] == 0 {
					missing++
				}
			}
			if missing > 0 {
				return fmt.Errorf("%d of %d stored events not streamed by replica B", missing, len(stored))
			}
			return nil
		})
		for id, n := range stream.counts() {
			if n != 1 {
				t.Errorf("event %s streamed %d times by replica B, want 1", id, n)
			}
		}
		return len(stored)
	}

	const perPhase = 20
	t.Run("StreamAcrossReplicas", func(t *testing.T) {
		attack(0, perPhase)
		n := streamedOnce(t, perPhase)
		if n < perPhase {
			t.Errorf("%d events stored after %d requests", n, perPhase)
		}
		connected, err := apiA.agentConnected(ctx, issued.AgentID)
		if err != nil || !connected {
			t.Errorf("agent not on replica A during the attack (connected %v, %v): the stream did not cross replicas", connected, err)
		}
	})

	t.Run("SecondReplicaWithoutRedisRefused", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(decnet, "server", "--data-dir", dir, "--ca-dir", caDir,
			"--store", "postgres", "--database-url-file", dsnFile,
			"--api-listen", "127.0.0.1:0", "--metrics-listen", "",
			"--agent-listen", "127.0.0.1:0", "--bridge-listen", "127.0.0.1:0")
		done := make(chan struct{})
		var out []byte
		var runErr error
		go func() {
			out, runErr = cmd.CombinedOutput()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("replica without Redis still running after 60 s:\n%s", out)
		}
		if runErr == nil {
			t.Fatalf("replica without Redis exited cleanly:\n%s", out)
		}
		if !strings.Contains(string(out), "several replicas need a shared Redis") {
			t.Errorf("refusal does not say why:\n%s", out)
		}
		if strings.Contains(string(out), dsn) {
			t.Errorf("output reveals the database URL:\n%s", out)
		}
	})

	t.Run("FailoverLosesNothing", func(t *testing.T) {
		a.proc.stop(syscall.SIGTERM)
		attack(perPhase, 2*perPhase)

		eventually(t, 60*time.Second, func() error {
			creds, err := apiB.credentials(ctx)
			if err != nil {
				return err
			}
			if len(creds) < 2*perPhase {
				return fmt.Errorf("%d of %d credentials stored", len(creds), 2*perPhase)
			}
			return nil
		})
		creds, err := apiB.credentials(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2*perPhase; i++ {
			w := wantCredential{source: "127.0.0.4", service: "http", principal: "admin", secretKind: "plaintext", mechanism: "http_basic", secret: []byte(fmt.Sprintf("replica-%03d", i))}
			if n := countMatches(creds, w); n != 1 {
				t.Errorf("credential %q stored %d times, want 1", w.secret, n)
			}
		}
		if len(creds) != 2*perPhase {
			t.Errorf("stored %d credentials, want %d", len(creds), 2*perPhase)
		}
		streamedOnce(t, 2*perPhase)
		if err := metricIs(agentEP.Metrics, "decnet_agent_events_dropped_total", 0); err != nil {
			t.Error(err)
		}
	})

	top := t
	t.Run("StopOtherReplicaLosesNothing", func(t *testing.T) {
		// Now the other way round: A comes back, B stops, and the agent
		// fails over from B to A.
		// Started with the parent test, so the restarted replica outlives
		// this subtest's cleanup.
		a.start(top, "replica-a-restarted")
		apiA = newAPIClient(a.ep.API, roots)
		apiA.login(t, "admin", strings.TrimSpace(string(password)))
		stopStream()
		<-stream.done
		b.proc.stop(syscall.SIGTERM)
		attack(2*perPhase, 3*perPhase)

		eventually(t, 60*time.Second, func() error {
			creds, err := apiA.credentials(ctx)
			if err != nil {
				return err
			}
			if len(creds) < 3*perPhase {
				return fmt.Errorf("%d of %d credentials stored", len(creds), 3*perPhase)
			}
			return nil
		})
		creds, err := apiA.credentials(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3*perPhase; i++ {
			w := wantCredential{source: "127.0.0.4", service: "http", principal: "admin", secretKind: "plaintext", mechanism: "http_basic", secret: []byte(fmt.Sprintf("replica-%03d", i))}
			if n := countMatches(creds, w); n != 1 {
				t.Errorf("credential %q stored %d times, want 1", w.secret, n)
			}
		}
		if err := metricIs(agentEP.Metrics, "decnet_agent_events_dropped_total", 0); err != nil {
			t.Error(err)
		}
	})

	t.Run("DecommissionOnOtherReplica", func(t *testing.T) {
		// The agent now holds a connection to A only. A restarted B
		// revokes it; A's revocation watcher must close that connection.
		b.start(top, "replica-b-restarted")
		apiB = newAPIClient(b.ep.API, roots)
		apiB.login(t, "admin", strings.TrimSpace(string(password)))
		// The first password only reads. Changing it ends A's session,
		// so A logs in again with the new one.
		const ownPassword = "the replica test admin's own passphrase"
		if err := apiB.call(ctx, "decnet.api.v1.UserService/ChangePassword",
			&apiv1.ChangePasswordRequest{CurrentPassword: strings.TrimSpace(string(password)), NewPassword: ownPassword},
			&apiv1.ChangePasswordResponse{}); err != nil {
			t.Fatalf("change the first password through B: %v", err)
		}
		apiA.login(t, "admin", ownPassword)
		if connected, err := apiA.agentConnected(ctx, issued.AgentID); err != nil || !connected {
			t.Fatalf("agent not on replica A before the decommission (connected %v, %v)", connected, err)
		}
		if err := apiB.call(ctx, "decnet.api.v1.AgentService/DecommissionAgent",
			&apiv1.DecommissionAgentRequest{Id: issued.AgentID}, &apiv1.DecommissionAgentResponse{}); err != nil {
			t.Fatalf("decommission through B: %v", err)
		}
		eventually(t, 5*time.Second, func() error { return metricIs(agentEP.Metrics, "decnet_bridge_client_connected", 0) })
		if connected, err := apiA.agentConnected(ctx, issued.AgentID); err != nil || connected {
			t.Errorf("replica A still lists the agent connected (%v, %v)", connected, err)
		}
	})
}
