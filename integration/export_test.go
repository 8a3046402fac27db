//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// TestExportThroughServer runs decnet server with --export-config and an
// enrolled agent, attacks the agent's HTTP decoy, and reads what the
// server exported: ECS JSON lines into a file and CEF lines to a TCP
// receiver on loopback, each with only the topics its output selects and
// never the captured password.
func TestExportThroughServer(t *testing.T) {
	curl := requireTool(t, "curl")
	decnet := binary(t, "decnet")
	agentBin := binary(t, "decnet-agent")

	// The TCP receiver keeps every line it gets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var mu sync.Mutex
	var received []string
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				sc := bufio.NewScanner(conn)
				sc.Buffer(make([]byte, 64<<10), 1<<20)
				for sc.Scan() {
					mu.Lock()
					received = append(received, sc.Text())
					mu.Unlock()
				}
			}()
		}
	}()

	serverDir := t.TempDir()
	ecsPath := filepath.Join(t.TempDir(), "events.ndjson")
	exportConfig := filepath.Join(t.TempDir(), "export.yaml")
	config := fmt.Sprintf(`allow_cidrs: ["127.0.0.0/8"]
outputs:
  - name: archive
    topics: ["event.auth.attempt"]
    lines: {path: %q, format: json}
  - name: siem
    topics: ["credential.captured"]
    lines: {address: %q, format: cef}
`, ecsPath, ln.Addr().String())
	if err := os.WriteFile(exportConfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	agentPort := freePort(t)
	server := startProcess(t, "decnet-server", decnet, "server",
		"--data-dir", serverDir,
		"--api-listen", "127.0.0.1:0",
		"--metrics-listen", "127.0.0.1:0",
		"--agent-listen", fmt.Sprintf("127.0.0.1:%d", agentPort),
		"--bridge-listen", fmt.Sprintf("127.0.0.1:%d", agentPort),
		"--export-config", exportConfig,
	)
	serverEP := waitEndpoints(t, server, serverDir, func(e endpoints.Endpoints) bool { return e.API != "" && e.Bridge != "" })

	out, err := exec.Command(decnet, "tokens", "create", "--data-dir", serverDir, "--name", "sensor-x", "--format", "json").Output()
	if err != nil {
		t.Fatalf("tokens create: %v", err)
	}
	var created struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(out, &created); err != nil || created.Token == "" {
		t.Fatalf("tokens create output %q: %v", out, err)
	}
	agentDir := t.TempDir()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(created.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(agentBin, "enroll", "--server", serverEP.Enroll, "--token-file", tokenFile, "--data-dir", agentDir).CombinedOutput(); err != nil {
		t.Fatalf("decnet-agent enroll: %v: %s", err, out)
	}
	decoysPath := filepath.Join(t.TempDir(), "decoys.yaml")
	if err := os.WriteFile(decoysPath, []byte(`deckies:
  - name: edge-07
    seed: 0ddba11c0ffee0ddba11c0ffee000007
    services:
      - {name: http, persona: nginx-1.22.1-debian12, listen: "127.0.0.1:0"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := startProcess(t, "decnet-agent", agentBin, "run", "--data-dir", agentDir, "--decoys", decoysPath, "--metrics-listen", "127.0.0.1:0")
	agentEP := waitEndpoints(t, agent, agentDir, func(e endpoints.Endpoints) bool { return len(e.Decoys) == 1 })
	httpDecoy, _ := agentEP.FindDecoy("http")

	const attempts = 3
	for i := range attempts {
		if out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.6", "-o", "/dev/null",
			"-u", fmt.Sprintf("exporter:Export-Secret-%d", i), "http://"+httpDecoy.Address+"/admin").CombinedOutput(); err != nil {
			t.Fatalf("curl: %v: %s", err, out)
		}
	}

	// The file gets one ECS document per auth.attempt event, and nothing
	// of the other topics.
	var docs []map[string]any
	eventually(t, 30*time.Second, func() error {
		data, err := os.ReadFile(ecsPath)
		if err != nil {
			return err
		}
		docs = nil
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var doc map[string]any
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				return fmt.Errorf("line %q: %w", line, err)
			}
			docs = append(docs, doc)
		}
		if len(docs) < attempts {
			return fmt.Errorf("%d ECS documents, want %d", len(docs), attempts)
		}
		return nil
	})
	for _, doc := range docs {
		source, _ := doc["source"].(map[string]any)
		user, _ := doc["user"].(map[string]any)
		if source["ip"] != "127.0.0.6" || user["name"] != "exporter" {
			t.Errorf("ECS document source %v user %v", source, user)
		}
	}
	if len(docs) != attempts {
		t.Errorf("%d ECS documents for %d attempts: the topic filter let others through", len(docs), attempts)
	}

	// The TCP receiver gets one CEF line per credential.captured notice.
	eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(received) < attempts {
			return fmt.Errorf("%d CEF lines, want %d", len(received), attempts)
		}
		return nil
	})
	mu.Lock()
	lines := append([]string(nil), received...)
	mu.Unlock()
	for _, line := range lines {
		if !strings.HasPrefix(line, "CEF:0|") || !strings.Contains(line, "Credential captured") || !strings.Contains(line, "127.0.0.6") {
			t.Errorf("CEF line %q", line)
		}
	}

	data, _ := os.ReadFile(ecsPath)
	for i := range attempts {
		secret := fmt.Sprintf("Export-Secret-%d", i)
		if strings.Contains(string(data), secret) || strings.Contains(strings.Join(lines, "\n"), secret) {
			t.Errorf("an export carries the captured password %q", secret)
		}
	}

	checkExportService(t, decnet, serverEP.API, serverDir, attempts, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), received...)
	})
}

// checkExportService reads the outputs' state through ExportService of
// the running server, which must count what the receivers got, then
// sends a test record to the TCP receiver, through the API and through
// the decnet client commands.
func checkExportService(t *testing.T, decnet, apiURL, serverDir string, attempts int, receivedLines func() []string) {
	t.Helper()
	ctx := context.Background()
	api := newAPIClient(apiURL, loadRoots(t, filepath.Join(serverDir, "ca", "ca.crt")))
	first, err := os.ReadFile(filepath.Join(serverDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api.login(t, "admin", strings.TrimSpace(string(first)))
	// Until the first password is changed the session only reads, and a
	// test send is not a read.
	if err := api.call(ctx, "decnet.api.v1.UserService/ChangePassword",
		&apiv1.ChangePasswordRequest{CurrentPassword: strings.TrimSpace(string(first)), NewPassword: "a long export passphrase 2026"},
		&apiv1.ChangePasswordResponse{}); err != nil {
		t.Fatal(err)
	}

	var list apiv1.ListExportOutputsResponse
	eventually(t, 30*time.Second, func() error {
		if err := api.call(ctx, "decnet.api.v1.ExportService/ListExportOutputs", &apiv1.ListExportOutputsRequest{}, &list); err != nil {
			return err
		}
		for _, o := range list.GetOutputs() {
			if got := o.GetStats().GetDelivered(); got != uint64(attempts) {
				return fmt.Errorf("%s delivered %d, want %d", o.GetName(), got, attempts)
			}
		}
		return nil
	})
	if len(list.GetOutputs()) != 2 || list.GetOutputs()[0].GetName() != "archive" || list.GetOutputs()[1].GetLines().GetFormat() != apiv1.ExportOutputFormat_EXPORT_OUTPUT_FORMAT_CEF {
		t.Errorf("outputs %v", list.GetOutputs())
	}
	for _, o := range list.GetOutputs() {
		if st := o.GetStats(); st.GetLastError() != "" || st.GetDropped() != 0 || st.GetFailed() != 0 || st.GetLastDeliveredAt() == nil {
			t.Errorf("%s stats %v", o.GetName(), st)
		}
	}

	var test apiv1.TestExportOutputResponse
	if err := api.call(ctx, "decnet.api.v1.ExportService/TestExportOutput", &apiv1.TestExportOutputRequest{Name: "siem"}, &test); err != nil {
		t.Fatalf("TestExportOutput: %v", err)
	}
	if !test.GetDelivered() {
		t.Fatalf("test send not delivered: %s", test.GetError())
	}
	testRecords := func() int {
		n := 0
		for _, line := range receivedLines() {
			if strings.Contains(line, "|Export test|") {
				n++
			}
		}
		return n
	}
	eventually(t, 10*time.Second, func() error {
		if testRecords() < 1 {
			return errors.New("no test record at the receiver")
		}
		return nil
	})

	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(decnet, append(args, "--server", apiURL, "--ca-file", filepath.Join(serverDir, "ca", "ca.crt"))...)
		cmd.Env = append(os.Environ(), "DECNET_TOKEN="+api.token, "DECNET_CONFIG="+filepath.Join(t.TempDir(), "none.json"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("decnet %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := cli("export", "list")
	if !strings.Contains(out, "archive") || !strings.Contains(out, "lines/cef") || !strings.Contains(out, fmt.Sprintf("  %d  ", attempts)) {
		t.Errorf("decnet export list:\n%s", out)
	}
	if out := cli("export", "test", "siem"); out != "Output siem accepted the test record (export.test).\n" {
		t.Errorf("decnet export test siem: %q", out)
	}
	eventually(t, 10*time.Second, func() error {
		if n := testRecords(); n < 2 {
			return fmt.Errorf("%d test records at the receiver, want 2", n)
		}
		return nil
	})
}
