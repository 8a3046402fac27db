//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// TestCLIClient drives the client commands of the decnet binary against
// decnet dev: login saves an API token, users are managed, events are
// followed live and listed, and an attacker is exported.
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

	// Without a token the server refuses, and the CLI says what to do.
	cmd := exec.Command(decnet, "users", "list", "--server", server, "--config", filepath.Join(t.TempDir(), "none.json"))
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "decnet login") {
		t.Errorf("users list without a token: %v: %s", err, out)
	}
}
