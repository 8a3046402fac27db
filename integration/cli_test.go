//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/webhooks"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// TestCLIClient drives the client commands of the decnet binary against
// decnet dev: login saves an API token, users are managed, events are
// followed live and listed, an attacker is exported, and agents, bootstrap
// tokens and webhooks are managed through the API.
func TestCLIClient(t *testing.T) {
	curl := requireTool(t, "curl")
	decnet := binary(t, "decnet")
	dataDir := t.TempDir()
	dev := startProcess(t, "decnet-dev", decnet, "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0")
	ep := waitEndpoints(t, dev, dataDir, func(e endpoints.Endpoints) bool {
		_, web := e.FindDecoy("http")
		return e.API != "" && web
	})
	httpDecoy, _ := ep.FindDecoy("http")
	server := strings.TrimSuffix(ep.API, "/")

	// The first admin password must be changed before the CLI may log in.
	first, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api := newAPIClient(server, nil)
	api.login(t, "admin", strings.TrimSpace(string(first)))
	const password = "a long admin passphrase 2026"
	if err := api.call(context.Background(), "decnet.api.v1.UserService/ChangePassword",
		&apiv1.ChangePasswordRequest{CurrentPassword: strings.TrimSpace(string(first)), NewPassword: password}, &apiv1.ChangePasswordResponse{}); err != nil {
		t.Fatal(err)
	}

	configFile := filepath.Join(t.TempDir(), "cli.json")
	cli := func(stdin string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(decnet, args...)
		cmd.Env = append(os.Environ(), "DECNET_CONFIG="+configFile)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Logf("decnet %s: %s", strings.Join(args, " "), ee.Stderr)
		}
		return string(out), err
	}

	out, err := cli(password+"\n", "login", "--server", server, "--username", "admin")
	if err != nil || !strings.Contains(out, "Logged in to "+server+" as admin (admin)") {
		t.Fatalf("login: %v: %s", err, out)
	}
	var saved struct{ Server, Token string }
	data, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &saved); err != nil || saved.Server != server || !strings.HasPrefix(saved.Token, "decnet_pat_") {
		t.Fatalf("saved configuration %s (%v)", data, err)
	}
	if info, _ := os.Stat(configFile); info.Mode().Perm() != 0o600 {
		t.Errorf("configuration mode %v, want 0600", info.Mode().Perm())
	}

	out, err = cli("", "users", "create", "--role", "analyst", "noor")
	if err != nil || !strings.Contains(out, "Created noor (analyst)") {
		t.Fatalf("users create: %v: %s", err, out)
	}
	out, err = cli("", "users", "list", "--output", "json")
	if err != nil || !strings.Contains(out, `"username":"noor"`) || !strings.Contains(out, `"role":"ROLE_ANALYST"`) {
		t.Fatalf("users list: %v: %s", err, out)
	}

	// events tail prints an attack as it happens.
	tailCtx, stopTail := context.WithTimeout(context.Background(), 30*time.Second)
	defer stopTail()
	tail := exec.CommandContext(tailCtx, decnet, "events", "tail", "--kind", "auth.attempt", "--output", "json")
	tail.Env = append(os.Environ(), "DECNET_CONFIG="+configFile)
	tailOut, err := tail.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tail.Process.Kill(); _ = tail.Wait() }()
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(tailOut)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// The stream may open after the first request; send until a line comes.
	var line string
	for line == "" {
		if out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.4", "-o", "/dev/null",
			"--data-urlencode", "username=oracle", "--data-urlencode", "password=Tiger123",
			"http://"+httpDecoy.Address+"/login").CombinedOutput(); err != nil {
			t.Fatalf("curl: %v: %s", err, out)
		}
		select {
		case line = <-lines:
		case <-time.After(2 * time.Second):
		case <-tailCtx.Done():
			t.Fatal("events tail printed nothing within 30s")
		}
	}
	if !strings.Contains(line, `"principal":"oracle"`) || !strings.Contains(line, `"address":"127.0.0.4"`) {
		t.Fatalf("tailed event = %s", line)
	}

	out, err = cli("", "credentials", "list", "--principal", "oracle")
	if err != nil || !strings.Contains(out, "127.0.0.4") || !strings.Contains(out, `"Tiger123"`) {
		t.Fatalf("credentials list: %v: %s", err, out)
	}
	out, err = cli("", "attackers", "list", "--address", "127.0.0.4", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var attacker apiv1.Attacker
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &struct {
		ID *string `json:"id"`
	}{&attacker.Id}); err != nil || attacker.Id == "" {
		t.Fatalf("attackers list: %v: %s", err, out)
	}
	out, err = cli("", "attackers", "list", "--principal", "oracle", "--service", "http", "--address-prefix", "127.0.0.",
		"--since", "1h", "--sort", "auth-attempts", "--output", "json")
	if err != nil || !strings.Contains(out, `"id":"`+attacker.Id+`"`) {
		t.Fatalf("attackers list with filters: %v: %s", err, out)
	}
	out, err = cli("", "attackers", "list", "--principal", "nobody-tried-this", "--output", "json")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("attackers list --principal nobody-tried-this: %v: %q", err, out)
	}
	out, err = cli("", "attackers", "export", attacker.Id)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &obj); err != nil || len(obj) != 1 {
			t.Fatalf("export line %q: %v", l, err)
		}
		for k := range obj {
			kinds[k]++
		}
	}
	if kinds["attacker"] != 1 || kinds["event"] < 1 || kinds["credential"] < 1 {
		t.Errorf("export wrote %v", kinds)
	}

	out, err = cli("", "attackers", "export", "--format", "stix", attacker.Id)
	if err != nil || !strings.Contains(out, `"type": "bundle"`) && !strings.Contains(out, `"type":"bundle"`) || strings.Contains(out, "Tiger123") {
		t.Errorf("attackers export --format stix: %v: %.300s", err, out)
	}

	// Notes and triage, written and read back through the CLI.
	if out, err := cli("", "attackers", "note", attacker.Id, "Tried", "oracle/Tiger123"); err != nil || len(strings.TrimSpace(out)) != 36 {
		t.Fatalf("attackers note: %v: %q", err, out)
	}
	if _, err := cli("Second note\nfrom stdin\n", "attackers", "note", attacker.Id); err != nil {
		t.Fatalf("attackers note from stdin: %v", err)
	}
	if out, err := cli("", "attackers", "triage", attacker.Id, "--status", "acknowledged", "--tags", "oracle,Brute"); err != nil ||
		!strings.Contains(out, "status: acknowledged") || !strings.Contains(out, "tags: oracle,brute") {
		t.Fatalf("attackers triage: %v: %s", err, out)
	}
	// Only the flag given changes.
	if out, err := cli("", "attackers", "triage", attacker.Id, "--status", "false-positive"); err != nil || !strings.Contains(out, "tags: oracle,brute") {
		t.Fatalf("attackers triage --status: %v: %s", err, out)
	}
	out, err = cli("", "attackers", "notes", attacker.Id)
	if err != nil || !strings.Contains(out, "status: false-positive") || !strings.Contains(out, "Tried oracle/Tiger123") ||
		!strings.Contains(out, "Second note\nfrom stdin") || strings.Index(out, "Tried") > strings.Index(out, "Second note") {
		t.Fatalf("attackers notes: %v: %s", err, out)
	}

	// Identities form from the events within about ten seconds.
	deadline := time.Now().Add(40 * time.Second)
	for {
		out, err = cli("", "identities", "show", "--attacker", attacker.Id, "--output", "json")
		if err == nil && strings.Contains(out, attacker.Id) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("identities show --attacker: %v: %s", err, out)
		}
		time.Sleep(time.Second)
	}
	if out, err := cli("", "identities", "list"); err != nil || !strings.Contains(out, attacker.Id) {
		t.Errorf("identities list: %v: %s", err, out)
	}
	var ident struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &ident); err != nil || ident.ID == "" {
		t.Fatalf("identity JSON %q: %v", out, err)
	}
	out, err = cli("", "identities", "export", "--format", "misp", ident.ID)
	if err != nil || !strings.Contains(out, `"Event"`) || !strings.Contains(out, ident.ID) || !strings.Contains(out, attacker.Id) ||
		!strings.Contains(out, `"127.0.0.4"`) || strings.Contains(out, "Tiger123") {
		t.Errorf("identities export --format misp: %v: %.400s", err, out)
	}
	// One attacker forms no campaign: the list has only its header, and
	// an unknown id is an error.
	if out, err := cli("", "campaigns", "list"); err != nil || len(strings.Split(strings.TrimSpace(out), "\n")) != 1 || !strings.HasPrefix(out, "CAMPAIGN ID") {
		t.Errorf("campaigns list: %v: %q", err, out)
	}
	if out, err := cli("", "campaigns", "show", "01a24408-0000-7000-8000-000000000000"); err == nil {
		t.Errorf("campaigns show of an unknown id succeeded: %s", out)
	}

	// Without a token the server refuses, and the CLI says what to do.
	cmd := exec.Command(decnet, "users", "list", "--server", server, "--config", filepath.Join(t.TempDir(), "none.json"))
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "decnet login") {
		t.Errorf("users list without a token: %v: %s", err, out)
	}

	t.Run("agents", func(t *testing.T) { testCLIAgents(t, cli) })
	t.Run("tokens", func(t *testing.T) { testCLITokens(t, cli) })
	t.Run("webhooks", func(t *testing.T) { testCLIWebhooks(t, cli) })

	// With neither a login nor a store, agents list fails and names both
	// ways to select a control plane.
	cmd = exec.Command(decnet, "agents", "list", "--config", filepath.Join(t.TempDir(), "none.json"))
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "no control plane selected") {
		t.Errorf("agents list without a server or store: %v: %s", err, out)
	}
}

// cliRunner runs the decnet binary with the saved login and returns its
// standard output.
type cliRunner func(stdin string, args ...string) (string, error)

// jsonLines decodes each line of out into a new T.
func jsonLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var list []T
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("decode %q: %v", line, err)
		}
		list = append(list, v)
	}
	return list
}

// testCLIAgents lists and shows the dev agent through the API: the saved
// login selects the API without --server.
func testCLIAgents(t *testing.T, cli cliRunner) {
	out, err := cli("", "agents", "list", "--output", "json")
	if err != nil {
		t.Fatalf("agents list: %v", err)
	}
	type agent struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Connected bool   `json:"connected"`
		Revoked   bool   `json:"revoked"`
	}
	agents := jsonLines[agent](t, out)
	if len(agents) != 1 {
		t.Fatalf("agents list returned %d agents, want the dev agent alone: %s", len(agents), out)
	}
	dev := agents[0]
	if dev.Name != "dev-agent" || dev.ID == "" || !dev.Connected || dev.Revoked {
		t.Errorf("dev agent = %+v, want dev-agent, connected and active", dev)
	}

	out, err = cli("", "agents", "list")
	if err != nil {
		t.Fatalf("agents list: %v", err)
	}
	if !strings.Contains(out, "AGENT ID") || !strings.Contains(out, dev.ID) || !strings.Contains(out, "active") {
		t.Errorf("agents list table:\n%s", out)
	}

	out, err = cli("", "agents", "show", dev.ID)
	if err != nil {
		t.Fatalf("agents show: %v", err)
	}
	for _, want := range []string{"ID:", dev.ID, "Name:", "dev-agent", "Connected:", "true"} {
		if !strings.Contains(out, want) {
			t.Errorf("agents show lacks %q:\n%s", want, out)
		}
	}

	if out, err := cli("", "agents", "show", "0195a1b2-0000-7000-8000-0000000000ff"); err == nil {
		t.Errorf("agents show of an unknown id succeeded: %s", out)
	}
}

// testCLITokens creates, lists and revokes a bootstrap token through the
// API.
func testCLITokens(t *testing.T, cli cliRunner) {
	out, err := cli("", "tokens", "create", "--name", "sensor-cli", "--ttl", "1h", "--label", "site=lab", "--output", "json")
	if err != nil {
		t.Fatalf("tokens create: %v", err)
	}
	var created struct {
		Token          string `json:"token"`
		InstallCommand string `json:"install_command"`
		Info           struct {
			AgentID   string            `json:"agent_id"`
			AgentName string            `json:"agent_name"`
			Labels    map[string]string `json:"labels"`
			State     string            `json:"state"`
			CreatedAt time.Time         `json:"created_at"`
			ExpiresAt time.Time         `json:"expires_at"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("tokens create output %q: %v", out, err)
	}
	info := created.Info
	if created.Token == "" || info.AgentID == "" || info.AgentName != "sensor-cli" || info.Labels["site"] != "lab" || info.State != "TOKEN_STATE_VALID" {
		t.Fatalf("created token = %+v", info)
	}
	if ttl := info.ExpiresAt.Sub(info.CreatedAt); ttl != time.Hour {
		t.Errorf("token lifetime = %v, want 1h", ttl)
	}
	if !strings.Contains(created.InstallCommand, created.Token) {
		t.Errorf("install command does not carry the token: %q", created.InstallCommand)
	}

	out, err = cli("", "tokens", "list")
	if err != nil {
		t.Fatalf("tokens list: %v", err)
	}
	row := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, info.AgentID) {
			row = line
		}
	}
	if !strings.Contains(row, "sensor-cli") || !strings.Contains(row, "valid") || !strings.Contains(row, "site=lab") {
		t.Errorf("tokens list row for %s = %q in:\n%s", info.AgentID, row, out)
	}
	if strings.Contains(out, created.Token) {
		t.Error("tokens list printed the token secret")
	}

	out, err = cli("", "tokens", "revoke", info.AgentID)
	if want := "Token for agent " + info.AgentID + " (sensor-cli) revoked."; err != nil || !strings.Contains(out, want) {
		t.Fatalf("tokens revoke: %v: %q, want %q", err, out, want)
	}
	out, err = cli("", "tokens", "list", "--output", "json")
	if err != nil {
		t.Fatalf("tokens list: %v", err)
	}
	type token struct {
		AgentID string `json:"agent_id"`
		State   string `json:"state"`
	}
	state := ""
	for _, tok := range jsonLines[token](t, out) {
		if tok.AgentID == info.AgentID {
			state = tok.State
		}
	}
	if state != "TOKEN_STATE_REVOKED" {
		t.Errorf("state of the revoked token = %q, want TOKEN_STATE_REVOKED", state)
	}
}

// webhookReceiver records the deliveries a test webhook destination on
// loopback receives.
type webhookReceiver struct {
	mu         sync.Mutex
	deliveries []receivedDelivery
}

type receivedDelivery struct {
	header http.Header
	body   []byte
}

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.deliveries = append(r.deliveries, receivedDelivery{header: req.Header.Clone(), body: body})
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *webhookReceiver) received() []receivedDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.deliveries)
}

// testCLIWebhooks creates a webhook to a receiver on loopback, which
// decnet dev allows, sends it a test notice, pauses it, adds and removes
// a suppression rule, and deletes it.
func testCLIWebhooks(t *testing.T, cli cliRunner) {
	receiver := &webhookReceiver{}
	srv := httptest.NewServer(receiver)
	t.Cleanup(srv.Close)
	urlFile := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(urlFile, []byte(srv.URL+"/hooks/decnet\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	out, err := cli("", "webhooks", "create", "--name", "ci-hook", "--url-file", urlFile, "--subject", "webhook.test", "--rate-limit", "120", "--output", "json")
	if err != nil {
		t.Fatalf("webhooks create: %v", err)
	}
	var created struct {
		Webhook struct {
			ID                 string   `json:"id"`
			Name               string   `json:"name"`
			Destination        string   `json:"destination"`
			Subjects           []string `json:"subjects"`
			Enabled            bool     `json:"enabled"`
			RateLimitPerMinute int      `json:"rate_limit_per_minute"`
		} `json:"webhook"`
		SigningSecret string `json:"signing_secret"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("webhooks create output: %v", err)
	}
	hook := created.Webhook
	if hook.ID == "" || hook.Name != "ci-hook" || hook.Destination != srv.URL || !slices.Equal(hook.Subjects, []string{"webhook.test"}) ||
		!hook.Enabled || hook.RateLimitPerMinute != 120 || created.SigningSecret == "" {
		t.Fatalf("created webhook = %+v (secret set: %v)", hook, created.SigningSecret != "")
	}

	out, err = cli("", "webhooks", "list")
	if err != nil {
		t.Fatalf("webhooks list: %v", err)
	}
	for _, want := range []string{hook.ID, "ci-hook", srv.URL, "generic", "webhook.test", "active"} {
		if !strings.Contains(out, want) {
			t.Errorf("webhooks list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/hooks/decnet") || strings.Contains(out, created.SigningSecret) {
		t.Errorf("webhooks list shows the URL path or the secret:\n%s", out)
	}

	// The test notice reaches the receiver signed with the printed secret.
	out, err = cli("", "webhooks", "test", hook.ID)
	if err != nil || !strings.Contains(out, "delivered") || !strings.Contains(out, "204") {
		t.Fatalf("webhooks test: %v:\n%s", err, out)
	}
	got := receiver.received()
	if len(got) != 1 {
		t.Fatalf("receiver got %d deliveries, want 1", len(got))
	}
	if subject := got[0].header.Get(webhooks.SubjectHeader); subject != "webhook.test" {
		t.Errorf("delivery subject = %q, want webhook.test", subject)
	}
	if err := webhooks.Verify(got[0].header.Get(webhooks.SignatureHeader), got[0].body, auth.Secret(created.SigningSecret), time.Now(), time.Minute); err != nil {
		t.Errorf("delivery signature does not verify with the printed secret: %v", err)
	}

	out, err = cli("", "webhooks", "deliveries", hook.ID, "--output", "json")
	if err != nil {
		t.Fatalf("webhooks deliveries: %v", err)
	}
	type delivery struct {
		WebhookID  string `json:"webhook_id"`
		Subject    string `json:"subject"`
		StatusCode int    `json:"status_code"`
		Outcome    string `json:"outcome"`
		Test       bool   `json:"test"`
	}
	logged := jsonLines[delivery](t, out)
	if len(logged) != 1 || logged[0] != (delivery{WebhookID: hook.ID, Subject: "webhook.test", StatusCode: 204, Outcome: "WEBHOOK_OUTCOME_DELIVERED", Test: true}) {
		t.Errorf("delivery log = %+v", logged)
	}

	out, err = cli("", "webhooks", "pause", hook.ID)
	if want := "Webhook " + hook.ID + " (ci-hook) is paused."; err != nil || strings.TrimSpace(out) != want {
		t.Fatalf("webhooks pause: %v: %q, want %q", err, out, want)
	}
	out, err = cli("", "webhooks", "show", hook.ID)
	if err != nil {
		t.Fatalf("webhooks show: %v", err)
	}
	for _, want := range []string{"paused", "ci-hook", "webhook.test", "120 per minute"} {
		if !strings.Contains(out, want) {
			t.Errorf("webhooks show after pause lacks %q; pause must keep the other settings:\n%s", want, out)
		}
	}

	out, err = cli("", "webhooks", "suppress", "--webhook", hook.ID, "--prefix", "198.51.100.0/24", "--for", "1h", "--reason", "ci scanner", "--output", "json")
	if err != nil {
		t.Fatalf("webhooks suppress: %v", err)
	}
	var rule struct {
		ID        string    `json:"id"`
		WebhookID string    `json:"webhook_id"`
		Prefix    string    `json:"prefix"`
		NotAfter  time.Time `json:"not_after"`
		Reason    string    `json:"reason"`
	}
	if err := json.Unmarshal([]byte(out), &rule); err != nil {
		t.Fatalf("webhooks suppress output %q: %v", out, err)
	}
	if rule.ID == "" || rule.WebhookID != hook.ID || rule.Prefix != "198.51.100.0/24" || rule.Reason != "ci scanner" {
		t.Errorf("suppression = %+v", rule)
	}
	if left := time.Until(rule.NotAfter); left < 55*time.Minute || left > time.Hour {
		t.Errorf("suppression ends in %v, want about 1h", left)
	}
	out, err = cli("", "webhooks", "suppressions")
	if err != nil || !strings.Contains(out, rule.ID) || !strings.Contains(out, "198.51.100.0/24") || !strings.Contains(out, "ci scanner") {
		t.Errorf("webhooks suppressions: %v:\n%s", err, out)
	}
	out, err = cli("", "webhooks", "unsuppress", rule.ID)
	if err != nil || strings.TrimSpace(out) != "Deleted suppression "+rule.ID+"." {
		t.Errorf("webhooks unsuppress: %v: %q", err, out)
	}
	out, err = cli("", "webhooks", "suppressions", "--output", "json")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("webhooks suppressions after unsuppress: %v: %q, want nothing", err, out)
	}

	out, err = cli("", "webhooks", "delete", hook.ID)
	if err != nil || !strings.Contains(out, "Deleted webhook "+hook.ID) {
		t.Fatalf("webhooks delete: %v: %s", err, out)
	}
	out, err = cli("", "webhooks", "list", "--output", "json")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("webhooks list after delete: %v: %q, want nothing", err, out)
	}
}
