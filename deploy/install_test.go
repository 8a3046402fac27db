//go:build integration

package deploy_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/config"
	"github.com/decnet/decnet/controlplane/download"
	"github.com/decnet/decnet/deploy"
	"github.com/decnet/decnet/internal/endpoints"
	"github.com/decnet/decnet/pki"
)

// binDir returns the directory with decnet and decnet-agent: DECNET_BIN_DIR
// as make test sets it, else a fresh build of this module.
func binDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("DECNET_BIN_DIR"); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir, "./cmd/decnet", "./cmd/decnet-agent")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build binaries: %v\n%s", err, out)
	}
	return dir
}

// requireTools fails when a tool the script needs is missing; the test
// setup installs them, so absence is a setup error.
func requireTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"sh", "openssl", "curl", "base64", "od", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: run integration/setup.sh as root", tool)
		}
	}
}

// installEnv is a temp root and fake system commands that record their
// arguments, so the script runs without touching the host.
type installEnv struct {
	root  string
	calls string
	env   []string
}

func newInstallEnv(t *testing.T) *installEnv {
	t.Helper()
	dir := t.TempDir()
	e := &installEnv{root: filepath.Join(dir, "root"), calls: filepath.Join(dir, "calls.log")}
	if err := os.Mkdir(e.root, 0o755); err != nil {
		t.Fatal(err)
	}

	fake := "#!/bin/sh\nprintf '%s\\n' \"$(basename \"$0\") $*\" >> " + e.calls + "\n"
	for _, name := range []string{"systemctl", "useradd", "chown"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.env = append(os.Environ(),
		"DECNET_ROOT="+e.root,
		"SYSTEMCTL="+filepath.Join(dir, "systemctl"),
		"DECNET_USERADD="+filepath.Join(dir, "useradd"),
		"DECNET_CHOWN="+filepath.Join(dir, "chown"),
		// env runs the command as the test's own user.
		"DECNET_RUNAS=env",
		"DECNET_DECOY_SSH_LISTEN=127.0.0.1:0",
		"DECNET_DECOY_HTTP_LISTEN=127.0.0.1:0",
	)
	return e
}

func (e *installEnv) recordedCalls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(e.calls)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// installedFiles lists every file under the temp root.
func (e *installEnv) installedFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(e.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func (e *installEnv) runScript(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"install-agent.sh"}, args...)...)
	cmd.Env = e.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// controlPlane is a `decnet server` process on loopback ports.
type controlPlane struct {
	dataDir string
	enroll  string
	metrics string
}

func startControlPlane(t *testing.T, bin string) *controlPlane {
	t.Helper()
	dataDir := t.TempDir()
	cmd := exec.Command(filepath.Join(bin, "decnet"), "server",
		"--data-dir", dataDir,
		"--api-listen", "127.0.0.1:0",
		"--agent-listen", "127.0.0.1:0",
		"--bridge-listen", "127.0.0.1:0",
		"--metrics-listen", "127.0.0.1:0",
	)
	startLogged(t, cmd, "decnet server")

	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ep, err := endpoints.Read(dataDir)
		if err == nil && ep.Enroll != "" && ep.Bridge != "" {
			return &controlPlane{dataDir: dataDir, enroll: ep.Enroll, metrics: ep.Metrics}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("decnet server wrote no endpoints.json within 60 s")
	return nil
}

// startLogged starts cmd with its output in a file shown when the test
// fails, and stops it with SIGTERM at cleanup.
func startLogged(t *testing.T, cmd *exec.Cmd, name string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "output.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("---- %s output ----\n%s", name, data)
		}
	})
}

// createToken runs `decnet tokens create` in text format and returns the
// token and the printed install command.
func createToken(t *testing.T, bin, dataDir, name string) (token, installLine string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "decnet"), "tokens", "create", "--data-dir", dataDir, "--name", name)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tokens create: %v\n%s", err, stderr.String())
	}
	token = strings.TrimSpace(stdout.String())

	scanner := bufio.NewScanner(&stderr)
	scanner.Buffer(make([]byte, 0, 64<<10), 64<<10)
	for scanner.Scan() {
		if line := strings.TrimSpace(scanner.Text()); strings.HasPrefix(line, "d=$(mktemp -d)") {
			installLine = line
		}
	}
	if installLine == "" {
		t.Fatalf("tokens create printed no install command:\n%s", stderr.String())
	}
	return token, installLine
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TestInstallEndToEnd runs the install command that `decnet tokens create`
// prints against a real control plane, checks what it installed, then
// starts the installed agent and waits for its bridge connection.
func TestInstallEndToEnd(t *testing.T) {
	requireTools(t)
	bin := binDir(t)
	cp := startControlPlane(t, bin)
	token, line := createToken(t, bin, cp.dataDir, "sensor-01")
	parsed, err := pki.ParseBootstrapToken(token)
	if err != nil {
		t.Fatalf("parse printed token: %v", err)
	}

	e := newInstallEnv(t)
	cmd := exec.Command("sh", "-c", line)
	cmd.Env = e.env
	cmd.Dir = t.TempDir()
	outBytes, err := cmd.CombinedOutput()
	out := string(outBytes)
	if err != nil || strings.Contains(out, "install failed") {
		t.Fatalf("install command failed: %v\n%s", err, out)
	}

	// The binary: the one the control plane serves, executable.
	installed := filepath.Join(e.root, "usr/local/bin/decnet-agent")
	wantSum := fileSHA256(t, filepath.Join(bin, "decnet-agent"))
	if got := fileSHA256(t, installed); got != wantSum {
		t.Errorf("installed binary SHA-256 %s, want the served %s", got, wantSum)
	}
	if info, err := os.Stat(installed); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("installed binary mode %v (err %v), want 0755", info.Mode().Perm(), err)
	}
	if !strings.Contains(out, "SHA-256 "+wantSum) {
		t.Errorf("script output does not report the verified checksum %s:\n%s", wantSum, out)
	}

	// Enrollment: agent.json names the token's agent.
	dataDir := filepath.Join(e.root, "var/lib/decnet-agent")
	identity, err := os.ReadFile(filepath.Join(dataDir, "agent.json"))
	if err != nil {
		t.Fatalf("enrollment wrote no agent.json: %v\n%s", err, out)
	}
	var ident struct {
		AgentID   string `json:"agent_id"`
		AgentName string `json:"agent_name"`
	}
	if err := json.Unmarshal(identity, &ident); err != nil {
		t.Fatal(err)
	}
	if ident.AgentID != parsed.AgentID() || ident.AgentName != "sensor-01" {
		t.Errorf("agent.json names %s (%s), want %s (sensor-01)", ident.AgentID, ident.AgentName, parsed.AgentID())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "bootstrap-token")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("bootstrap token file left in the data dir (stat error %v)", err)
	}
	if info, err := os.Stat(dataDir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v (err %v), want 0700", info.Mode().Perm(), err)
	}

	// The unit and the default decoys.
	unit, err := os.ReadFile(filepath.Join(e.root, "etc/systemd/system/decnet-agent.service"))
	if err != nil || string(unit) != deploy.AgentUnit() {
		t.Errorf("installed unit differs from deploy/systemd/decnet-agent.service (err %v)", err)
	}
	decoysPath := filepath.Join(e.root, "etc/decnet/decoys.yaml")
	decoys, err := config.Load(decoysPath)
	if err != nil {
		t.Fatalf("default decoy configuration: %v", err)
	}
	if len(decoys.Deckies) != 1 || len(decoys.Deckies[0].Services) != 2 {
		t.Errorf("default decoys %+v, want one decky with two services", decoys.Deckies)
	}

	// The system commands, in order.
	wantCalls := []string{
		// The fake replaces the whole command, default flags included.
		"useradd decnet-agent",
		"chown decnet-agent:decnet-agent " + dataDir,
		"chown decnet-agent:decnet-agent " + filepath.Join(dataDir, "bootstrap-token"),
		"chown root:decnet-agent " + decoysPath,
		"systemctl daemon-reload",
		"systemctl enable --now decnet-agent",
	}
	calls := e.recordedCalls(t)
	if len(calls) != len(wantCalls) {
		t.Fatalf("recorded calls %q, want %d calls like %q", calls, len(wantCalls), wantCalls)
	}
	for i, want := range wantCalls {
		if calls[i] != want {
			t.Errorf("call %d is %q, want %q", i, calls[i], want)
		}
	}

	// The installed agent, started as the unit would, connects.
	agent := exec.Command(installed, "run", "--data-dir", dataDir, "--decoys", decoysPath,
		"--log-format", "json", "--metrics-listen", "127.0.0.1:0")
	startLogged(t, agent, "decnet-agent run")
	waitForMetric(t, dataDir, "decnet_bridge_client_connected", 1)

	// A second run upgrades in place: same identity, token unused, and a
	// restart so the new binary runs.
	second, _ := createToken(t, bin, cp.dataDir, "sensor-02")
	out, err = e.runScript(t, "--server", cp.enroll, "--token", second)
	if err != nil {
		t.Fatalf("second install: %v\n%s", err, out)
	}
	if !strings.Contains(out, "agent already enrolled") {
		t.Errorf("second install output does not say the agent is already enrolled:\n%s", out)
	}
	after, err := os.ReadFile(filepath.Join(dataDir, "agent.json"))
	if err != nil || !bytes.Equal(after, identity) {
		t.Errorf("second install changed agent.json (err %v):\n%s", err, after)
	}
	calls = e.recordedCalls(t)
	if last := calls[len(calls)-1]; last != "systemctl try-restart decnet-agent" {
		t.Errorf("last call after the second install is %q, want systemctl try-restart decnet-agent", last)
	}
}

// waitForMetric polls the agent's metrics, found through its
// endpoints.json, until the metric has the value.
func waitForMetric(t *testing.T, dataDir, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last := "no endpoints.json yet"
	for time.Now().Before(deadline) {
		if ep, err := endpoints.Read(dataDir); err == nil && ep.Metrics != "" {
			got, err := readMetric(ep.Metrics, name)
			if err == nil && got == want {
				return
			}
			last = fmt.Sprintf("%s = %v (err %v)", name, got, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("agent metric %s did not reach %v within 60 s: last %s", name, want, last)
}

func readMetric(url, name string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	scanner := bufio.NewScanner(bytes.NewReader(body))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 2 && fields[0] == name {
			var v float64
			_, err := fmt.Sscan(fields[1], &v)
			return v, err
		}
	}
	return 0, fmt.Errorf("metric %s not exposed", name)
}

// downloadServer serves the download handler over TLS from a CA of its own,
// counting requests, with an optional wrapper to tamper with responses.
type downloadServer struct {
	url       string
	ca        *pki.CA
	downloads atomic.Int64
}

func startDownloadServer(t *testing.T, binaries string, wrap func(http.Handler) http.Handler) *downloadServer {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "ca"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServerCertificate(nil, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	downloads, err := download.New(download.Config{Dir: binaries, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(downloads.Handler())
	var handler http.Handler = mux
	if wrap != nil {
		handler = wrap(handler)
	}

	s := &downloadServer{ca: ca}
	counting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.downloads.Add(1)
		handler.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           counting,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         pki.ServerTLSConfig(pki.StaticCertificate(&cert), nil, false, []string{"h2", "http/1.1"}),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	s.url = "https://" + ln.Addr().String()
	return s
}

func newToken(t *testing.T, fingerprint [32]byte) string {
	t.Helper()
	token, err := pki.NewBootstrapToken(uuid.NewString(), fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	return token.Encode()
}

func TestInstallRejectsWrongChecksum(t *testing.T) {
	requireTools(t)
	bin := binDir(t)
	wrongSum := strings.Repeat("0", 64)
	srv := startDownloadServer(t, bin, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, download.ChecksumSuffix) {
				_, _ = io.WriteString(w, wrongSum+"  decnet-agent\n")
				return
			}
			next.ServeHTTP(w, r)
		})
	})

	e := newInstallEnv(t)
	out, err := e.runScript(t, "--server", srv.url, "--token", newToken(t, srv.ca.RootFingerprint()))
	if err == nil {
		t.Fatalf("script succeeded with a wrong checksum:\n%s", out)
	}
	if !strings.Contains(out, "checksum mismatch") {
		t.Errorf("output does not report the checksum mismatch:\n%s", out)
	}
	if srv.downloads.Load() == 0 {
		t.Error("script failed before downloading, want it to fail on the checksum")
	}
	if files := e.installedFiles(t); len(files) != 0 {
		t.Errorf("installed %q, want nothing", files)
	}
	if calls := e.recordedCalls(t); len(calls) != 0 {
		t.Errorf("ran %q, want no system command", calls)
	}
}

func TestInstallRejectsOtherRoot(t *testing.T) {
	requireTools(t)
	bin := binDir(t)
	srv := startDownloadServer(t, bin, nil)
	other, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "other-ca"), time.Now)
	if err != nil {
		t.Fatal(err)
	}

	e := newInstallEnv(t)
	out, err := e.runScript(t, "--server", srv.url, "--token", newToken(t, other.RootFingerprint()))
	if err == nil {
		t.Fatalf("script succeeded with a token for another CA:\n%s", out)
	}
	otherFP := other.RootFingerprint()
	if !strings.Contains(out, "did not present the pinned CA root: expected root fingerprint "+hex.EncodeToString(otherFP[:])) {
		t.Errorf("output does not report the fingerprint mismatch:\n%s", out)
	}
	if n := srv.downloads.Load(); n != 0 {
		t.Errorf("script sent %d HTTP requests, want none before the pin is checked", n)
	}
	if files := e.installedFiles(t); len(files) != 0 {
		t.Errorf("installed %q, want nothing", files)
	}
}

func TestInstallRejectsMalformedToken(t *testing.T) {
	requireTools(t)
	srv := startDownloadServer(t, t.TempDir(), nil)

	tests := []struct {
		name  string
		token string
		want  string
	}{
		{name: "missing prefix", token: "XYZ1.abc", want: "does not start with DNT1."},
		{name: "short payload", token: "DNT1.AAAAAAAA", want: "payload is 6 bytes, want 80"},
		{name: "not base64", token: "DNT1.!!!!", want: "not base64url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newInstallEnv(t)
			out, err := e.runScript(t, "--server", srv.url, "--token", tt.token)
			if err == nil {
				t.Fatalf("script accepted token %q:\n%s", tt.token, out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output does not contain %q:\n%s", tt.want, out)
			}
			if n := srv.downloads.Load(); n != 0 {
				t.Errorf("script sent %d HTTP requests, want none", n)
			}
		})
	}
}
