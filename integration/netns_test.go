//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// The fleet's private network. It exists only inside the namespaces the
// test creates, so it cannot collide with the host's.
const (
	netnsSubnet     = "10.231.7"
	netnsBridgeAddr = netnsSubnet + ".1"
	// Ports inside the namespaces. Every namespace has its own loopback,
	// so the agents can share theirs.
	mainEnrollPort  = 8444
	renewEnrollPort = 9444
	mainAPIAddr     = "127.0.0.1:8443"
	renewAPIAddr    = "127.0.0.1:9443"
	agentMetrics    = "127.0.0.1:9465"
	decoyHTTPPort   = 8080
	decoySSHPort    = 2222
)

// TestNetnsFleet runs the control plane and its agents in separate network
// namespaces joined by veth pairs to a Linux bridge, so that the bridge
// protocol crosses real interfaces that can be cut. Every client, from the
// attackers to the API and metrics readers, runs inside a namespace with
// `ip netns exec`; the host never dials a namespace address.
//
// The main control plane has three agents. While all of them are attacked,
// agent 1 loses its link for 60 seconds, agent 2 is killed with SIGKILL
// and restarted, and the control plane itself is killed and restarted.
// A second control plane in the same namespace issues 30-second
// certificates to a fourth agent, which must renew them three times on one
// connection. Afterwards every credential must be stored exactly once, no
// agent may have dropped an event, and a decommissioned agent must lose its
// connection within five seconds and stay rejected.
func TestNetnsFleet(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespace suite needs root")
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		t.Skipf("ip netns unavailable: %v: %s", err, out)
	}
	requireTool(t, "curl")
	requireTool(t, "ssh")
	requireTool(t, "sshpass")
	decnet := binary(t, "decnet")
	agentBin := binary(t, "decnet-agent")
	start := time.Now()

	lab := newNetnsLab(t, 4)
	cp := lab.ns("cp")

	mainFleet := startNetnsServer(t, cp, "main", mainEnrollPort, mainAPIAddr, "127.0.0.1:9464", "")
	renewFleet := startNetnsServer(t, cp, "renew", renewEnrollPort, renewAPIAddr, "127.0.0.1:9474", "30s")

	// Enrollment: three agents on the main control plane, one on the
	// renewal one, each with its own single-use token.
	agents := make([]*netnsAgent, 4)
	for i := range agents {
		fleet := mainFleet
		if i == 3 {
			fleet = renewFleet
		}
		agents[i] = &netnsAgent{
			index:   i + 1,
			ns:      lab.ns(fmt.Sprintf("a%d", i+1)),
			addr:    fmt.Sprintf("%s.%d", netnsSubnet, 11+i),
			dataDir: t.TempDir(),
			fleet:   fleet,
			bin:     agentBin,
		}
		token := fleet.createToken(t, decnet, fmt.Sprintf("sensor-%d", i+1), "")
		agents[i].id = token.AgentID
		if out, err := agents[i].enroll(token.Token, agents[i].dataDir); err != nil {
			t.Fatalf("enroll agent %d: %v: %s", i+1, err, out)
		}
	}
	t.Run("tokens", func(t *testing.T) {
		a := agents[0]
		// The token agent 1 used cannot enroll again.
		reused := mainFleet.tokens["sensor-1"]
		if out, err := a.enroll(reused, t.TempDir()); err == nil {
			t.Errorf("second enrollment with the same token succeeded: %s", out)
		}
		// A token past its TTL is rejected.
		expired := mainFleet.createToken(t, decnet, "sensor-expired", "1s")
		time.Sleep(2 * time.Second)
		if out, err := a.enroll(expired.Token, t.TempDir()); err == nil {
			t.Errorf("enrollment with an expired token succeeded: %s", out)
		}
		// A valid token rewritten to name another agent's id: the
		// secret matches, but the agent id bound to it does not.
		fresh := mainFleet.createToken(t, decnet, "sensor-rebound", "")
		rebound := rebindToken(t, fresh.Token, agents[1].id)
		if out, err := a.enroll(rebound, t.TempDir()); err == nil {
			t.Errorf("enrollment with a token rebound to agent %s succeeded: %s", agents[1].id, out)
		}
		// A token of one control plane is unknown to another.
		foreign := renewFleet.createToken(t, decnet, "sensor-foreign", "")
		if out, err := a.enrollAt(mainFleet, foreign.Token, t.TempDir()); err == nil {
			t.Errorf("enrollment at the main control plane with the renewal one's token succeeded: %s", out)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	for _, a := range agents {
		a.writeDecoys(t)
		a.start(t)
	}
	for _, a := range agents {
		a.waitConnected(t, 60*time.Second)
	}
	firstSerial := certificateSerial(t, agents[3].dataDir)

	// Attack every agent from its own namespace until the scenarios end.
	attackCtx, stopAttacks := context.WithCancel(context.Background())
	var attackers sync.WaitGroup
	for _, a := range agents {
		attackers.Add(2)
		go func() { defer attackers.Done(); a.attackHTTP(attackCtx) }()
		go func() { defer attackers.Done(); a.attackSSH(attackCtx) }()
	}
	t.Cleanup(func() { stopAttacks(); attackers.Wait() })
	time.Sleep(2 * time.Second)

	var scenarios sync.WaitGroup
	scenarios.Add(4)

	// Agent 1 is cut off for 60 seconds while it keeps being attacked.
	// Its connection must time out within the cut, and its spool must
	// hold what it could not send.
	var cutDisconnected bool
	var cutPending float64
	go func() {
		defer scenarios.Done()
		lab.setLink(t, 1, "down")
		cutAt := time.Now()
		for time.Since(cutAt) < 55*time.Second {
			if v, err := agents[0].metric("decnet_bridge_client_connected"); err == nil && v == 0 {
				cutDisconnected = true
				t.Logf("agent 1 noticed the cut after %s", time.Since(cutAt).Round(time.Second))
				break
			}
			time.Sleep(time.Second)
		}
		time.Sleep(time.Until(cutAt.Add(60 * time.Second)))
		cutPending, _ = agents[0].metric("decnet_agent_spool_pending_events")
		lab.setLink(t, 1, "up")
	}()

	// Agent 2 is killed mid-stream and restarted on the same spool, then
	// killed again while the control plane is down, so that its spool
	// certainly holds unacknowledged events.
	cpDown := make(chan struct{})
	killedInOutage := make(chan struct{})
	var outagePending float64
	go func() {
		defer scenarios.Done()
		time.Sleep(8 * time.Second)
		agents[1].killAndRestart(t)
		<-cpDown
		time.Sleep(time.Second)
		outagePending = agents[1].killAndRestart(t)
		close(killedInOutage)
	}()

	// The main control plane is killed under load and restarted after
	// at least 5 seconds, and not before agent 2 was killed: on a loaded
	// machine its burst may take longer than that.
	go func() {
		defer scenarios.Done()
		time.Sleep(20 * time.Second)
		mainFleet.proc.stop(syscall.SIGKILL)
		close(cpDown)
		time.Sleep(5 * time.Second)
		<-killedInOutage
		mainFleet.restart(t)
	}()

	// Agent 4 renews its 30-second certificate three times.
	go func() {
		defer scenarios.Done()
		deadline := time.Now().Add(120 * time.Second)
		for time.Now().Before(deadline) {
			if v, err := agents[3].metric("decnet_bridge_client_certificate_renewals_total"); err == nil && v >= 3 {
				return
			}
			time.Sleep(time.Second)
		}
		t.Errorf("agent 4 did not renew its certificate three times within 120 s")
	}()
	scenarios.Wait()

	// A few more seconds of attacks on the restored link, then stop.
	time.Sleep(3 * time.Second)
	stopAttacks()
	attackers.Wait()
	t.Logf("scenarios done after %s", time.Since(start).Round(time.Second))

	if outagePending == 0 {
		t.Errorf("agent 2 held no unacknowledged events when killed during the control plane outage")
	}
	if !cutDisconnected {
		t.Errorf("agent 1 stayed connected through the 60-second cut")
	}
	if cutPending == 0 {
		t.Errorf("agent 1 spooled no pending events during the cut")
	}
	for _, a := range agents {
		if a.curlFailures > 0 {
			t.Errorf("agent %d: %d curl attacks failed", a.index, a.curlFailures)
		}
	}

	t.Run("exactly once", func(t *testing.T) {
		for _, fleet := range []*netnsServer{mainFleet, renewFleet} {
			var want []wantCredential
			for _, a := range agents {
				if a.fleet == fleet {
					want = append(want, a.expected()...)
				}
			}
			fleet.checkExactlyOnce(t, want, 120*time.Second)
		}
		for _, a := range agents {
			a.checkNoDrops(t)
			eventually(t, 30*time.Second, func() error {
				if v, err := a.metric("decnet_agent_spool_pending_events"); err != nil || v != 0 {
					return fmt.Errorf("agent %d decnet_agent_spool_pending_events = %v (%v), want 0", a.index, v, err) //nolint:errorlint // err may be nil: then the value is what is wrong
				}
				return nil
			})
		}
		// Agents 1 and 3 lost the control plane when it was killed. Agent
		// 2 was restarted during the outage, so its process connected
		// only once.
		for _, a := range []*netnsAgent{agents[0], agents[2]} {
			if v, err := a.metric("decnet_bridge_client_reconnects_total"); err != nil || v < 1 {
				t.Errorf("agent %d decnet_bridge_client_reconnects_total = %v (%v), want at least 1 after the control plane restart", a.index, v, err)
			}
		}
	})

	t.Run("renewal without reconnect", func(t *testing.T) {
		a := agents[3]
		for _, m := range []struct {
			name string
			ok   func(float64) bool
			want string
		}{
			{"decnet_bridge_client_certificate_renewals_total", func(v float64) bool { return v >= 3 }, "at least 3"},
			{"decnet_bridge_client_reconnects_total", func(v float64) bool { return v == 0 }, "0"},
			{"decnet_bridge_client_connected", func(v float64) bool { return v == 1 }, "1"},
		} {
			v, err := a.metric(m.name)
			if err != nil || !m.ok(v) {
				t.Errorf("agent 4 metric %s = %v (%v), want %s", m.name, v, err, m.want)
			}
		}
		if serial := certificateSerial(t, a.dataDir); serial == firstSerial {
			t.Errorf("agent 4 still holds its enrollment certificate %s", serial)
		}
	})

	t.Run("decommission", func(t *testing.T) {
		a := agents[2]
		if out, err := exec.Command(decnet, "agents", "decommission", "--data-dir", mainFleet.dataDir, a.id).CombinedOutput(); err != nil {
			t.Fatalf("agents decommission: %v: %s", err, out)
		}
		decommissioned := time.Now()
		eventually(t, 5*time.Second, func() error {
			v, err := a.metric("decnet_bridge_client_connected")
			if err != nil || v != 0 {
				return fmt.Errorf("agent 3 decnet_bridge_client_connected = %v (%v), want 0", v, err) //nolint:errorlint // err may be nil: then the value is what is wrong
			}
			return nil
		})
		t.Logf("agent 3 disconnected %s after the decommission", time.Since(decommissioned).Round(10*time.Millisecond))
		eventually(t, 30*time.Second, func() error {
			if n := strings.Count(a.proc.log(), "certificate revoked, agent decommissioned"); n < 2 {
				return fmt.Errorf("agent 3 logged the revocation %d times, want the close and a refused reconnect", n)
			}
			if log := mainFleet.proc.log(); !strings.Contains(log, "bridge handshake rejected: agent revoked") || !strings.Contains(log, a.id) {
				return fmt.Errorf("server log shows no rejected reconnect of agent %s", a.id)
			}
			return nil
		})
		if v, err := a.metric("decnet_bridge_client_connected"); err != nil || v != 0 {
			t.Errorf("after the refused reconnects agent 3 decnet_bridge_client_connected = %v (%v), want 0", v, err) //nolint:errorlint // err may be nil: then the value is what is wrong
		}
	})
	t.Logf("suite took %s", time.Since(start).Round(time.Second))
}

// netnsLab is a control-plane namespace holding a Linux bridge and one
// namespace per agent, each joined to the bridge by a veth pair.
type netnsLab struct {
	prefix string
}

func newNetnsLab(t *testing.T, agents int) *netnsLab {
	t.Helper()
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	lab := &netnsLab{prefix: "dn" + hex.EncodeToString(suffix)}
	names := []string{lab.ns("cp")}
	for i := 1; i <= agents; i++ {
		names = append(names, lab.ns(fmt.Sprintf("a%d", i)))
	}
	for _, ns := range names {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
		}
		// Deleting a namespace deletes the veth ends inside it, and with
		// one end gone the pair goes too. Cleanups run in reverse, so
		// the processes inside have stopped by then.
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
				t.Errorf("ip netns delete %s: %v: %s", ns, err, out)
			}
		})
		lab.ip(t, ns, "link", "set", "lo", "up")
	}

	cp := lab.ns("cp")
	lab.ip(t, cp, "link", "add", "br0", "type", "bridge")
	lab.ip(t, cp, "addr", "add", netnsBridgeAddr+"/24", "dev", "br0")
	lab.ip(t, cp, "link", "set", "br0", "up")
	for i := 1; i <= agents; i++ {
		ns := lab.ns(fmt.Sprintf("a%d", i))
		// Both ends are created inside namespaces, so no interface
		// ever appears in the host's.
		lab.ip(t, cp, "link", "add", lab.vethName(i), "type", "veth", "peer", "name", "eth0", "netns", ns)
		lab.ip(t, cp, "link", "set", lab.vethName(i), "master", "br0", "up")
		lab.ip(t, ns, "addr", "add", fmt.Sprintf("%s.%d/24", netnsSubnet, 10+i), "dev", "eth0")
		lab.ip(t, ns, "link", "set", "eth0", "up")
	}
	return lab
}

func (l *netnsLab) ns(name string) string { return l.prefix + "-" + name }

func (l *netnsLab) vethName(agent int) string { return fmt.Sprintf("veth-a%d", agent) }

// ip runs `ip -n ns args...`.
func (l *netnsLab) ip(t *testing.T, ns string, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, out)
	}
}

// setLink takes an agent's bridge port down or up. The agent keeps its
// own address, so attacks from inside its namespace still reach it.
func (l *netnsLab) setLink(t *testing.T, agent int, state string) {
	t.Helper()
	if out, err := exec.Command("ip", "-n", l.ns("cp"), "link", "set", l.vethName(agent), state).CombinedOutput(); err != nil {
		t.Errorf("set link of agent %d %s: %v: %s", agent, state, err, out)
	}
}

// inNetns returns a command that runs inside namespace ns.
func inNetns(ns string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
}

// netnsServer is a `decnet server` inside the control-plane namespace.
type netnsServer struct {
	name    string
	ns      string
	dataDir string
	args    []string
	apiAddr string
	// enrollURL is where agents enroll; the bridge shares its port.
	enrollURL string
	proc      *process
	t         *testing.T
	token     string
	tokens    map[string]string
}

func startNetnsServer(t *testing.T, ns, name string, enrollPort int, apiAddr, metricsAddr, lifetime string) *netnsServer {
	t.Helper()
	bridgeAddr := fmt.Sprintf("%s:%d", netnsBridgeAddr, enrollPort)
	s := &netnsServer{name: name, ns: ns, dataDir: t.TempDir(), apiAddr: apiAddr, enrollURL: "https://" + bridgeAddr, t: t, tokens: map[string]string{}}
	s.args = []string{"netns", "exec", ns, binary(t, "decnet"), "server",
		"--data-dir", s.dataDir,
		"--api-listen", apiAddr,
		"--metrics-listen", metricsAddr,
		"--agent-listen", bridgeAddr,
		"--bridge-listen", bridgeAddr,
	}
	if lifetime != "" {
		s.args = append(s.args, "--agent-cert-lifetime", lifetime)
	}
	s.restart(t)
	return s
}

// restart starts the server process, first or again, and waits for its
// API.
func (s *netnsServer) restart(t *testing.T) {
	t.Helper()
	_ = endpoints.Remove(s.dataDir)
	s.proc = startProcess(t, "decnet-server-"+s.name, "ip", s.args...)
	waitEndpoints(t, s.proc, s.dataDir, func(e endpoints.Endpoints) bool { return e.API != "" && e.Bridge != "" })
}

type issuedToken struct {
	Token   string `json:"token"`
	AgentID string `json:"agent_id"`
}

// createToken runs `decnet tokens create` against the server's data
// directory; the CLI reads files only, so it runs in the host namespace.
func (s *netnsServer) createToken(t *testing.T, decnet, name, ttl string) issuedToken {
	t.Helper()
	args := []string{"tokens", "create", "--data-dir", s.dataDir, "--name", name, "--format", "json",
		"--enroll-url", s.enrollURL}
	if ttl != "" {
		args = append(args, "--ttl", ttl)
	}
	out, err := exec.Command(decnet, args...).Output()
	if err != nil {
		t.Fatalf("tokens create %s: %v", name, err)
	}
	var tok issuedToken
	if err := json.Unmarshal(out, &tok); err != nil || tok.Token == "" {
		t.Fatalf("tokens create output %q: %v", out, err)
	}
	s.tokens[name] = tok.Token
	return tok
}

// call makes one Connect call with curl inside the control-plane
// namespace.
func (s *netnsServer) call(ctx context.Context, procedure string, req, resp proto.Message) error {
	body, err := protojson.Marshal(req)
	if err != nil {
		return err
	}
	args := []string{"curl", "-sS", "--max-time", "15", "--cacert", filepath.Join(s.dataDir, "ca", "ca.crt"),
		"-H", "Content-Type: application/json", "--data-binary", "@-",
		"-w", "\n%{http_code}", "https://" + s.apiAddr + "/" + procedure}
	if s.token != "" {
		args = append(args, "-H", "Authorization: Bearer "+s.token)
	}
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", s.ns}, args...)...)
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("curl %s: %w: %s", procedure, err, stderr.String())
	}
	i := bytes.LastIndexByte(out, '\n')
	if i < 0 {
		return fmt.Errorf("curl %s: no status in %q", procedure, out)
	}
	if status := string(out[i+1:]); status != "200" {
		return fmt.Errorf("%s: HTTP %s: %s", procedure, status, out[:i])
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(out[:i], resp)
}

func (s *netnsServer) login(ctx context.Context) error {
	password, err := os.ReadFile(filepath.Join(s.dataDir, "admin-password"))
	if err != nil {
		return err
	}
	var resp apiv1.LoginResponse
	s.token = ""
	if err := s.call(ctx, "decnet.api.v1.AuthService/Login",
		&apiv1.LoginRequest{Username: "admin", Password: strings.TrimSpace(string(password))}, &resp); err != nil {
		return err
	}
	s.token = resp.GetToken()
	return nil
}

func (s *netnsServer) credentials(ctx context.Context) ([]*apiv1.Credential, error) {
	var all []*apiv1.Credential
	page := ""
	for {
		var resp apiv1.ListCredentialsResponse
		if err := s.call(ctx, "decnet.api.v1.CredentialService/ListCredentials",
			&apiv1.ListCredentialsRequest{PageSize: 1000, PageToken: page}, &resp); err != nil {
			return nil, err
		}
		all = append(all, resp.GetCredentials()...)
		if page = resp.GetNextPageToken(); page == "" {
			return all, nil
		}
	}
}

func (s *netnsServer) events(ctx context.Context) ([]*apiv1.StoredEvent, error) {
	var all []*apiv1.StoredEvent
	page := ""
	for {
		var resp apiv1.ListEventsResponse
		if err := s.call(ctx, "decnet.api.v1.EventService/ListEvents",
			&apiv1.ListEventsRequest{PageSize: 1000, PageToken: page}, &resp); err != nil {
			return nil, err
		}
		all = append(all, resp.GetEvents()...)
		if page = resp.GetNextPageToken(); page == "" {
			return all, nil
		}
	}
}

// checkExactlyOnce waits until every wanted credential is stored, then
// checks that each is stored once, that nothing else is, and that no
// event id is listed twice.
func (s *netnsServer) checkExactlyOnce(t *testing.T, want []wantCredential, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	if err := s.login(ctx); err != nil {
		t.Fatalf("%s: login: %v", s.name, err)
	}
	eventually(t, timeout, func() error {
		creds, err := s.credentials(ctx)
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
			return fmt.Errorf("%s: %d of %d credentials not yet stored", s.name, missing, len(want))
		}
		return nil
	})
	creds, err := s.credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if n := countMatches(creds, w); n != 1 {
			t.Errorf("%s: credential %q from %s stored %d times, want exactly 1", s.name, w.secret, w.source, n)
		}
	}
	if len(creds) != len(want) {
		t.Errorf("%s: stored %d credentials, want %d", s.name, len(creds), len(want))
	}
	events, err := s.events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int, len(events))
	for _, e := range events {
		seen[e.GetEvent().GetId()]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s: event %s listed %d times", s.name, id, n)
		}
	}
	t.Logf("%s: %d credentials and %d events stored", s.name, len(creds), len(events))
}

// netnsAgent is a `decnet-agent run` in its own namespace, with decoys on
// the namespace's address.
type netnsAgent struct {
	index   int
	id      string
	ns      string
	addr    string
	dataDir string
	decoys  string
	fleet   *netnsServer
	bin     string
	proc    *process

	// pause stops the attackers while held for writing, so that a kill
	// lands between attacks rather than inside one.
	pause sync.RWMutex
	// kills counts killAndRestart calls, so each burst has its own
	// passwords.
	kills        int
	mu           sync.Mutex
	want         []wantCredential
	curlFailures int
}

func (a *netnsAgent) enroll(token, dataDir string) ([]byte, error) {
	return a.enrollAt(a.fleet, token, dataDir)
}

func (a *netnsAgent) enrollAt(fleet *netnsServer, token, dataDir string) ([]byte, error) {
	tokenFile := filepath.Join(dataDir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		return nil, err
	}
	return inNetns(a.ns, a.bin, "enroll", "--server", fleet.enrollURL, "--token-file", tokenFile, "--data-dir", dataDir).CombinedOutput()
}

func (a *netnsAgent) writeDecoys(t *testing.T) {
	t.Helper()
	a.decoys = filepath.Join(a.dataDir, "decoys.yaml")
	config := fmt.Sprintf(`deckies:
  - name: ns-edge-%d
    seed: 5eed5eed5eed5eed5eed5eed5eed5e%02d
    services:
      - {name: http, persona: nginx-1.22.1-debian12, listen: "%s:%d"}
      - {name: ssh, persona: openssh-9.2p1-debian12, listen: "%s:%d"}
`, a.index, a.index, a.addr, decoyHTTPPort, a.addr, decoySSHPort)
	if err := os.WriteFile(a.decoys, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (a *netnsAgent) start(t *testing.T) {
	t.Helper()
	_ = endpoints.Remove(a.dataDir)
	a.proc = startProcess(t, fmt.Sprintf("decnet-agent-%d", a.index), "ip", "netns", "exec", a.ns,
		a.bin, "run", "--data-dir", a.dataDir, "--decoys", a.decoys, "--metrics-listen", agentMetrics)
	waitEndpoints(t, a.proc, a.dataDir, func(e endpoints.Endpoints) bool { return len(e.Decoys) == 2 && e.Metrics != "" })
}

func (a *netnsAgent) waitConnected(t *testing.T, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() error {
		v, err := a.metric("decnet_bridge_client_connected")
		if err != nil || v != 1 {
			return fmt.Errorf("agent %d decnet_bridge_client_connected = %v (%v)", a.index, v, err) //nolint:errorlint // err may be nil: then the value is what is wrong
		}
		return nil
	})
}

// killAndRestart stops the attackers, sends a burst, waits until every
// event the agent emitted is in its spool (the durability boundary; the
// decoys answer before it), kills the agent with SIGKILL and starts it
// again. It returns how many spooled events were unacknowledged at the
// kill.
func (a *netnsAgent) killAndRestart(t *testing.T) (pending float64) {
	a.pause.Lock()
	defer a.pause.Unlock()
	// A burst from eight parallel clients just before the kill, so that
	// batches are likely in flight and unacknowledged when it lands.
	var burst sync.WaitGroup
	for w := 0; w < 8; w++ {
		burst.Add(1)
		go func() {
			defer burst.Done()
			for i := w; i < 160; i += 8 {
				a.curlOnce(fmt.Sprintf("a%d-burst%d-%03d", a.index, a.kills, i))
			}
		}()
	}
	burst.Wait()
	a.kills++
	deadline := time.Now().Add(10 * time.Second)
	for {
		body, err := a.metrics()
		if err == nil {
			emitted, _ := metricValue(body, "decnet_agent_events_emitted_total")
			acked, _ := metricValue(body, "decnet_bridge_client_events_acked_total")
			pending, _ = metricValue(body, "decnet_agent_spool_pending_events")
			// A restarted process also sends the events its predecessor
			// left unacknowledged, so acked plus pending may exceed what
			// this process emitted, but never falls short once every
			// emitted event is spooled.
			if emitted > 0 && acked+pending >= emitted {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("agent %d: emitted events never all reached the spool: %v", a.index, err)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.proc.stop(syscall.SIGKILL)
	t.Logf("agent %d killed with %v events spooled and not yet acknowledged", a.index, pending)
	a.start(t)
	return pending
}

// attackHTTP sends Basic credentials with a unique password every 100 ms
// from inside the agent's namespace.
func (a *netnsAgent) attackHTTP(ctx context.Context) {
	for i := 0; ctx.Err() == nil; i++ {
		a.pause.RLock()
		a.curlOnce(fmt.Sprintf("a%d-http-%05d", a.index, i))
		a.pause.RUnlock()
		sleepCtx(ctx, 100*time.Millisecond)
	}
}

// curlOnce sends one Basic credential and records it as wanted if curl
// got a reply.
func (a *netnsAgent) curlOnce(secret string) {
	url := fmt.Sprintf("http://%s:%d/admin", a.addr, decoyHTTPPort)
	err := inNetns(a.ns, "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-u", "admin:"+secret, url).Run()
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.curlFailures++
		return
	}
	a.want = append(a.want, wantCredential{source: a.addr, service: "http", principal: "admin", secretKind: "plaintext", mechanism: "http_basic", secret: []byte(secret)})
}

// attackSSH makes one OpenSSH password attempt per connection.
func (a *netnsAgent) attackSSH(ctx context.Context) {
	for i := 0; ctx.Err() == nil; i++ {
		secret := fmt.Sprintf("a%d-ssh-%04d", a.index, i)
		a.pause.RLock()
		// ssh exits non-zero for a rejected password, so its status says
		// nothing; the decoy is always up while the pause is not held.
		_ = inNetns(a.ns, "sshpass", "-p", secret, "ssh", "-p", strconv.Itoa(decoySSHPort),
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			"-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no",
			"-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
			"root@"+a.addr, "true").Run()
		a.mu.Lock()
		a.want = append(a.want, wantCredential{source: a.addr, service: "ssh", principal: "root", secretKind: "plaintext", mechanism: "ssh_password", secret: []byte(secret)})
		a.mu.Unlock()
		a.pause.RUnlock()
		sleepCtx(ctx, 500*time.Millisecond)
	}
}

func (a *netnsAgent) expected() []wantCredential {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]wantCredential(nil), a.want...)
}

func (a *netnsAgent) metrics() (string, error) {
	out, err := inNetns(a.ns, "curl", "-sS", "--max-time", "5", "http://"+agentMetrics+"/metrics").Output()
	return string(out), err
}

func (a *netnsAgent) metric(name string) (float64, error) {
	body, err := a.metrics()
	if err != nil {
		return 0, err
	}
	v, ok := metricValue(body, name)
	if !ok {
		return 0, fmt.Errorf("no metric %s", name)
	}
	return v, nil
}

// checkNoDrops checks the agent's drop counter, which counts both a full
// emitter queue and spool evictions, by stage.
func (a *netnsAgent) checkNoDrops(t *testing.T) {
	t.Helper()
	body, err := a.metrics()
	if err != nil {
		t.Errorf("agent %d metrics: %v", a.index, err)
		return
	}
	dropped, ok := metricValue(body, "decnet_agent_events_dropped_total")
	if !ok || dropped != 0 {
		t.Errorf("agent %d decnet_agent_events_dropped_total = %v (found %v), want 0", a.index, dropped, ok)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// rebindToken replaces the agent id inside an encoded bootstrap token
// (DNT1. + base64url of agent UUID, secret and root fingerprint) with
// another agent's id, keeping the secret.
func rebindToken(t *testing.T, token, agentID string) string {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, "DNT1."))
	if err != nil || len(payload) < 16 {
		t.Fatalf("decode token: %v", err)
	}
	id, err := uuid.Parse(agentID)
	if err != nil {
		t.Fatal(err)
	}
	copy(payload[:16], id[:])
	return "DNT1." + base64.RawURLEncoding.EncodeToString(payload)
}
