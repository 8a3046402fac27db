//go:build integration

package integration

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/internal/endpoints"
)

// uiE2ETimeout bounds the browser script: about fifteen steps of at most
// twenty seconds each, with room for the browser to start.
const uiE2ETimeout = 5 * time.Minute

// placeholderTitle is the title of the page a decnet binary built without
// the uidist tag serves instead of the dashboard (ui/placeholder).
const placeholderTitle = "dashboard not built"

// TestDashboardEndToEnd drives the embedded dashboard of a running
// `decnet dev` with Chromium through ui/e2e/run.mjs. The steps are listed
// in ui/e2e/README.md: first login, a live SSH attempt, the attacker's
// credential, a session replay, enrollment, users, audit log, and a
// viewer's masked and refused views. Screenshots go to $DECNET_ARTIFACTS, or a temp dir.
func TestDashboardEndToEnd(t *testing.T) {
	node := requireTool(t, "node")
	sshBin := requireTool(t, "ssh")
	sshpass := requireTool(t, "sshpass")
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("chromium not installed at /usr/bin/chromium: apt-get install chromium (integration/setup.sh)")
	}
	script, err := filepath.Abs(filepath.Join("..", "ui", "e2e", "run.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("..", "ui", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Skip("ui/node_modules has no playwright-core: run npm ci in ui/ (make ui-test does)")
	}

	dataDir := t.TempDir()
	dev := startProcess(t, "decnet-dev", binary(t, "decnet"), "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0")
	ep := waitEndpoints(t, dev, dataDir, func(e endpoints.Endpoints) bool {
		_, ssh := e.FindDecoy("ssh")
		return e.Dashboard != "" && ssh
	})
	sshDecoy, _ := ep.FindDecoy("ssh")

	if page := fetchPage(t, ep.Dashboard); strings.Contains(page, placeholderTitle) {
		t.Skip("bin/decnet was built without the uidist tag and serves the placeholder page: build it with make build")
	}

	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatalf("read admin password: %v", err)
	}

	// A Telnet shell session from its own source leaves a recording for
	// the replay step. decnet dev lets the third try from a source in.
	recordingSource := ""
	if telnetDecoy, ok := ep.FindDecoy("telnet"); ok {
		recordingSource = "127.0.0.7"
		conn := telnetLogin(t, telnetDecoy.Address, recordingSource, []string{"admin:admin", "root:123456", "root:toor"})
		if _, err := conn.Write([]byte("uname -a\r\n")); err != nil {
			t.Fatal(err)
		}
		readUntil(t, conn, "# ")
		if _, err := conn.Write([]byte("exit\r\n")); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = conn.Read(make([]byte, 4096))
		_ = conn.Close()
	}

	artifacts := os.Getenv("DECNET_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), uiE2ETimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(),
		"DECNET_UI_URL="+ep.Dashboard,
		"DECNET_ADMIN_PASSWORD="+strings.TrimSpace(string(password)),
		"DECNET_SSH_ADDR="+sshDecoy.Address,
		"DECNET_RECORDING_SOURCE="+recordingSource,
		"DECNET_ARTIFACTS="+artifacts,
		"CHROMIUM="+chromium,
		"SSH="+sshBin,
		"SSHPASS="+sshpass,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("ui/e2e/run.mjs output:\n%s", out)

	shots, _ := filepath.Glob(filepath.Join(artifacts, "*.png"))
	t.Logf("%d screenshots in %s:\n%s", len(shots), artifacts, strings.Join(shots, "\n"))

	if err != nil {
		t.Fatalf("ui/e2e/run.mjs failed: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "skip ") {
			t.Logf("step skipped by the script: %s", strings.TrimPrefix(line, "skip "))
		}
	}
}

// fetchPage returns the body of a GET to url, at most 1 MiB.
func fetchPage(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	return string(body)
}
