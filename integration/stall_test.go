//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/internal/endpoints"
)

// agentRSSBoundKiB is the resident memory the agent must stay below while
// the control plane is stalled. docs/benchmarks.md derives it from the
// queue, spool, bridge and decoy limits of the default configuration.
const agentRSSBoundKiB = 192 << 10

// maxInFlightEvents is the most events the agent's bridge client has sent
// and not had acknowledged: 4 batches in flight of at most 500 events,
// the client defaults.
const maxInFlightEvents = 4 * 500

// stallRun configures one run of testStalledServer.
type stallRun struct {
	// stall is how long the control plane stays stopped.
	stall time.Duration
	// spoolMaxBytes is passed to decnet-agent run --spool-max-bytes.
	spoolMaxBytes int64
	// evict is true when the spool is too small for the stall's events,
	// so eviction must drop some.
	evict bool
}

// TestStalledServerBoundsAgentMemory stops the control plane with SIGSTOP
// for 30 seconds under HTTP and SSH attacks, once with a spool large
// enough for every event and once with a spool that must evict.
func TestStalledServerBoundsAgentMemory(t *testing.T) {
	runs := []struct {
		name string
		run  stallRun
	}{
		{"spool holds all", stallRun{stall: 30 * time.Second, spoolMaxBytes: 64 << 20}},
		{"spool evicts", stallRun{stall: 30 * time.Second, spoolMaxBytes: 128 << 10, evict: true}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) { testStalledServer(t, r.run) })
	}
}

func testStalledServer(t *testing.T, run stallRun) {
	decnet := binary(t, "decnet")
	agentBin := binary(t, "decnet-agent")

	serverDir := t.TempDir()
	agentDir := t.TempDir()
	agentPort := freePort(t)
	server := startProcess(t, "decnet-server", decnet, "server",
		"--data-dir", serverDir,
		"--api-listen", "127.0.0.1:0",
		"--metrics-listen", "127.0.0.1:0",
		"--agent-listen", fmt.Sprintf("127.0.0.1:%d", agentPort),
		"--bridge-listen", fmt.Sprintf("127.0.0.1:%d", agentPort),
	)
	// A stopped process ignores SIGTERM until it continues, so resume it
	// before the harness stops it, even when the test fails mid-stall.
	t.Cleanup(func() { _ = server.cmd.Process.Signal(syscall.SIGCONT) })
	serverEP := waitEndpoints(t, server, serverDir, func(e endpoints.Endpoints) bool { return e.API != "" && e.Bridge != "" })

	enrollAgent(t, decnet, agentBin, serverDir, agentDir, serverEP.Enroll)

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
	agent := startProcess(t, "decnet-agent", agentBin, "run",
		"--data-dir", agentDir, "--decoys", decoysPath,
		"--metrics-listen", "127.0.0.1:0",
		"--spool-max-bytes", strconv.FormatInt(run.spoolMaxBytes, 10))
	agentEP := waitEndpoints(t, agent, agentDir, func(e endpoints.Endpoints) bool { return len(e.Decoys) == 2 && e.Metrics != "" })
	httpDecoy, _ := agentEP.FindDecoy("http")
	sshDecoy, _ := agentEP.FindDecoy("ssh")

	eventually(t, 60*time.Second, func() error {
		return metricEquals(agentEP.Metrics, "decnet_bridge_client_connected", 1)
	})
	idle := statusKiB(t, agent.cmd.Process.Pid, "VmRSS")

	if err := server.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("stop server: %v", err)
	}
	want, peak := attackDuringStall(t, agent.cmd.Process.Pid, httpDecoy.Address, sshDecoy.Address, run.stall)
	if err := server.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("continue server: %v", err)
	}

	t.Logf("agent RSS idle %.1f MiB, peak during a %s stall %.1f MiB, bound %.1f MiB",
		float64(idle)/1024, run.stall, float64(peak)/1024, float64(agentRSSBoundKiB)/1024)
	if peak > agentRSSBoundKiB {
		t.Errorf("agent RSS peaked at %d KiB during the stall, bound %d KiB", peak, agentRSSBoundKiB)
	}

	// Once the agent has reconnected, its spool drains to zero pending
	// events: everything it still holds has been acknowledged.
	eventually(t, 3*time.Minute, func() error {
		return metricEquals(agentEP.Metrics, "decnet_agent_spool_pending_events", 0)
	})
	metrics, err := fetchMetrics(agentEP.Metrics)
	if err != nil {
		t.Fatalf("agent metrics: %v", err)
	}
	emitted, _ := metricValue(metrics, "decnet_agent_events_emitted_total")
	queueDropped := labelledMetric(metrics, "decnet_agent_events_dropped_total", `stage="queue"`)
	spoolDropped := labelledMetric(metrics, "decnet_agent_events_dropped_total", `stage="spool"`)

	api := newAPIClient(serverEP.API, loadRoots(t, filepath.Join(serverDir, "ca", "ca.crt")))
	password, err := os.ReadFile(filepath.Join(serverDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api.login(t, "admin", strings.TrimSpace(string(password)))
	ctx := context.Background()
	events, err := api.events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int)
	for _, e := range events {
		seen[e.GetEvent().GetId()]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s stored %d times, want 1", id, n)
		}
	}
	t.Logf("events emitted %v, stored %d, dropped by the queue %v, evicted by the spool %v",
		emitted, len(seen), queueDropped, spoolDropped)

	if queueDropped != 0 {
		t.Errorf("emitter queue dropped %v events, want 0", queueDropped)
	}
	// Eviction counts every unacknowledged event of a deleted segment as
	// dropped. The batches in flight when the server stopped, at most
	// maxInFlightEvents, can still be stored when it resumes and reads
	// them from its socket buffer, so they count as dropped and arrive.
	missing := emitted - float64(len(seen))
	if missing > spoolDropped {
		t.Errorf("events missing at the server = %v, more than the %v spool evictions", missing, spoolDropped)
	}
	if spoolDropped-missing > maxInFlightEvents {
		t.Errorf("spool evictions = %v, events missing = %v: more than %d evicted events arrived", spoolDropped, missing, maxInFlightEvents)
	}

	creds, err := api.credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	missingCreds := 0
	for _, w := range want {
		switch n := countMatches(creds, w); {
		case n == 0:
			missingCreds++
		case n > 1:
			t.Errorf("credential %q from %s stored %d times, want 1", w.secret, w.source, n)
		}
	}
	t.Logf("credentials presented %d, missing %d", len(want), missingCreds)

	if !run.evict {
		if spoolDropped != 0 {
			t.Errorf("spool evicted %v events, want 0", spoolDropped)
		}
		if missingCreds != 0 {
			t.Errorf("%d of %d credentials missing, want 0", missingCreds, len(want))
		}
		return
	}
	if spoolDropped == 0 {
		t.Errorf("spool of %d bytes evicted nothing, want evictions", run.spoolMaxBytes)
	}
	if float64(missingCreds) > spoolDropped {
		t.Errorf("%d credentials missing, more than the %v evicted events", missingCreds, spoolDropped)
	}
}

// enrollAgent creates an enrollment token with the CLI and enrolls the
// agent data directory with it.
func enrollAgent(t *testing.T, decnet, agentBin, serverDir, agentDir, enrollURL string) {
	t.Helper()
	out, err := exec.Command(decnet, "tokens", "create", "--data-dir", serverDir, "--name", "sensor-01", "--format", "json").Output()
	if err != nil {
		t.Fatalf("tokens create: %v", err)
	}
	var created struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(out, &created); err != nil || created.Token == "" {
		t.Fatalf("tokens create output %q: %v", out, err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(created.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(agentBin, "enroll", "--server", enrollURL, "--token-file", tokenFile, "--data-dir", agentDir).CombinedOutput(); err != nil {
		t.Fatalf("decnet-agent enroll: %v: %s", err, out)
	}
}

// attackDuringStall sends HTTP Basic credentials at 40 requests a second
// from 127.0.0.6 and SSH passwords at 4 connections a second from
// 127.0.0.7 for d, sampling the agent's VmRSS every 5 seconds. It returns
// the credentials it presented and the peak RSS in KiB.
func attackDuringStall(t *testing.T, pid int, httpAddr, sshAddr string, d time.Duration) ([]wantCredential, int64) {
	t.Helper()
	var (
		mu   sync.Mutex
		want []wantCredential
		wg   sync.WaitGroup
	)
	record := func(w wantCredential) {
		mu.Lock()
		want = append(want, w)
		mu.Unlock()
	}
	deadline := time.Now().Add(d)

	wg.Add(1)
	go func() {
		defer wg.Done()
		httpAttack(t, httpAddr, net.IPv4(127, 0, 0, 6), deadline, record)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		sshAttack(sshAddr, net.IPv4(127, 0, 0, 7), deadline, record)
	}()

	peak := statusKiB(t, pid, "VmRSS")
	sample := time.NewTicker(5 * time.Second)
	defer sample.Stop()
	for time.Now().Before(deadline) {
		<-sample.C
		rss := statusKiB(t, pid, "VmRSS")
		peak = max(peak, rss)
		t.Logf("agent VmRSS %.1f MiB", float64(rss)/1024)
	}
	wg.Wait()
	return want, max(peak, statusKiB(t, pid, "VmRSS"))
}

func httpAttack(t *testing.T, addr string, source net.IP, deadline time.Time, record func(wantCredential)) {
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:       (&net.Dialer{LocalAddr: &net.TCPAddr{IP: source}}).DialContext,
			DisableKeepAlives: true,
		},
	}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for i := 0; time.Now().Before(deadline); i++ {
		<-tick.C
		secret := fmt.Sprintf("stall-%06d", i)
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/admin", nil)
		if err != nil {
			t.Error(err)
			return
		}
		req.SetBasicAuth("admin", secret)
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("http attempt %d: %v", i, err)
			return
		}
		_ = resp.Body.Close()
		record(wantCredential{source: source.String(), service: "http", principal: "admin", secretKind: "plaintext", mechanism: "http_basic", secret: []byte(secret)})
	}
}

// sshAttack makes one password attempt per connection. It records a
// credential only when the client reached password authentication,
// since a connection that failed earlier presented nothing.
func sshAttack(addr string, source net.IP, deadline time.Time, record func(wantCredential)) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for i := 0; time.Now().Before(deadline); i++ {
		<-tick.C
		secret := fmt.Sprintf("ssh-stall-%05d", i)
		sent := false
		dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: source}, Timeout: 10 * time.Second}
		conn, err := dialer.Dial("tcp", addr)
		if err != nil {
			continue
		}
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		cfg := &ssh.ClientConfig{
			User: "root",
			Auth: []ssh.AuthMethod{ssh.PasswordCallback(func() (string, error) {
				sent = true
				return secret, nil
			})},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), // a decoy's host key is not trusted, only attacked
		}
		c, _, _, err := ssh.NewClientConn(conn, addr, cfg)
		if err == nil {
			_ = c.Close()
		}
		_ = conn.Close()
		if sent {
			record(wantCredential{source: source.String(), service: "ssh", principal: "root", secretKind: "plaintext", mechanism: "ssh_password", secret: []byte(secret)})
		}
	}
}

// metricEquals fetches url and checks that the metric family name sums to
// want.
func metricEquals(url, name string, want float64) error {
	body, err := fetchMetrics(url)
	if err != nil {
		return err
	}
	got, ok := metricValue(body, name)
	if !ok {
		return fmt.Errorf("metric %s missing", name)
	}
	if got != want {
		return fmt.Errorf("metric %s = %v, want %v", name, got, want)
	}
	return nil
}

// labelledMetric returns the sample of name whose labels contain label,
// or 0 when there is none.
func labelledMetric(body, name, label string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") || !strings.Contains(line, label) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			return v
		}
	}
	return 0
}

// statusKiB returns a field of /proc/PID/status in KiB, such as VmRSS.
func statusKiB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s not in /proc/%d/status", field, pid)
	return 0
}
