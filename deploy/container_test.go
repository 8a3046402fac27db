//go:build integration

package deploy_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// runtimeUID is the numeric user both Dockerfiles run as.
const runtimeUID = 65532

// dockerStartTimeout bounds the wait for a private dockerd to respond. It is
// a limit for a hung daemon, not a performance expectation.
const dockerStartTimeout = 60 * time.Second

// dockerEngine is a dockerd that this test started on a private socket,
// data root and exec root, so that it touches no other daemon's state.
type dockerEngine struct {
	host string
	env  []string
}

// startDockerd starts a private dockerd and stops it in cleanup. It skips
// the test, giving the reason, when the engine cannot run here.
func startDockerd(t *testing.T) *dockerEngine {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("dockerd needs root; run the integration tests as root")
	}
	for _, tool := range []string{"dockerd", "docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package docker.io): %v", tool, err)
		}
	}

	// A short directory under /tmp, because a Unix socket path is limited
	// to 108 bytes and t.TempDir paths carry the test name.
	dir, err := os.MkdirTemp("", "decnet-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "docker.sock")
	logPath := filepath.Join(dir, "dockerd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dockerd",
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"-H", "unix://"+socket,
		"--iptables=false", "--bridge=none",
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Skipf("start dockerd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	t.Cleanup(func() {
		stopDockerd(t, cmd, exited)
		_ = logFile.Close()
		unmountUnder(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove dockerd directory: %v", err)
		}
	})

	engine := &dockerEngine{host: "unix://" + socket}
	// DOCKER_BUILDKIT=0 selects the builder inside the engine, because
	// BuildKit needs the buildx client plugin, which docker.io lacks.
	engine.env = append(os.Environ(), "DOCKER_HOST="+engine.host, "DOCKER_BUILDKIT=0")

	deadline := time.Now().Add(dockerStartTimeout)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Skipf("dockerd cannot run on this machine: exited with %v: %s", err, tailFile(logPath, 5))
		default:
		}
		if _, err := engine.run(context.Background(), "version", "--format", "{{.Server.Version}}"); err == nil {
			return engine
		}
		if time.Now().After(deadline) {
			t.Skipf("dockerd cannot run on this machine: no response on %s within %v: %s", socket, dockerStartTimeout, tailFile(logPath, 5))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func stopDockerd(t *testing.T, cmd *exec.Cmd, exited chan error) {
	t.Helper()
	select {
	case <-exited: //nolint:errcheck // dockerd ended already; how does not matter here
		return
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("stop dockerd: %v", err)
	}
	select {
	case <-exited: //nolint:errcheck // a SIGTERM exit status is expected
	case <-time.After(30 * time.Second):
		t.Errorf("dockerd did not stop within 30s of SIGTERM; killing it")
		_ = cmd.Process.Kill()
		<-exited //nolint:errcheck // killed: the exit status is known
	}
}

// unmountUnder detaches the mounts dockerd leaves below dir after it
// stops: docker.io 20.10 keeps exec/netns/default, a bind mount of its
// network namespace, mounted.
func unmountUnder(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Errorf("read mountinfo: %v", err)
		return
	}
	var mounts []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			mounts = append(mounts, fields[4])
		}
	}
	// Innermost first, because mountinfo lists parents before children.
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := syscall.Unmount(mounts[i], syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mounts[i], err)
		}
	}
}

// run runs the docker client against the private engine and returns its
// standard output.
func (e *dockerEngine) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = e.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func (e *dockerEngine) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.run(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func tailFile(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, " | ")
}

// freePort returns a port on 127.0.0.1 that is free for both TCP and UDP,
// because the enrollment listener and the bridge share one port number.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		tcp, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := tcp.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		_ = tcp.Close()
		if err == nil {
			_ = udp.Close()
			return port
		}
	}
	t.Fatal("no port free for both TCP and UDP on 127.0.0.1")
	return 0
}

func TestContainerImages(t *testing.T) {
	engine := startDockerd(t)
	tag := fmt.Sprintf("test%d", os.Getpid())

	// build-images.sh compiles the static binaries and builds both images
	// FROM scratch, so nothing is pulled.
	build := exec.Command("container/build-images.sh", tag)
	build.Env = append(engine.env, "IMAGE_PREFIX=decnet-test", "DOCKER=docker")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-images.sh: %v\n%s", err, out)
	}
	controlplaneImage := "decnet-test/controlplane:" + tag
	agentImage := "decnet-test/agent:" + tag

	for _, image := range []string{controlplaneImage, agentImage} {
		t.Run("config "+image, func(t *testing.T) {
			user := engine.mustRun(t, "image", "inspect", "--format", "{{.Config.User}}", image)
			if want := fmt.Sprintf("%d:%d", runtimeUID, runtimeUID); user != want {
				t.Errorf("user = %q, want %q", user, want)
			}
			volumes := engine.mustRun(t, "image", "inspect", "--format", "{{json .Config.Volumes}}", image)
			if !strings.Contains(volumes, `"/data"`) {
				t.Errorf("volumes = %s, want /data", volumes)
			}
			// FROM scratch: the image holds the binary and /data only.
			if _, err := engine.run(context.Background(), "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image, "-c", "true"); err == nil {
				t.Error("/bin/sh ran in the image, want an image without a shell")
			}
		})
	}

	t.Run("agent version", func(t *testing.T) {
		out := engine.mustRun(t, "run", "--rm", "--network", "none", agentImage, "version")
		if !strings.Contains(out, tag) {
			t.Errorf("decnet-agent version = %q, want it to contain %q", out, tag)
		}
	})

	t.Run("control plane healthz", func(t *testing.T) {
		testControlPlaneContainer(t, engine, controlplaneImage)
	})
}

// testControlPlaneContainer runs the control plane image on a bridge
// network of the test's own, with the API published on 127.0.0.1 only,
// and checks /healthz over TLS pinned to the CA the container created.
// The engine's userland proxy carries the connection from 127.0.0.1 to
// the container, so the test dials loopback and nothing else.
func testControlPlaneContainer(t *testing.T, engine *dockerEngine, image string) {
	dataDir := t.TempDir()
	if err := os.Chown(dataDir, runtimeUID, runtimeUID); err != nil {
		t.Fatal(err)
	}
	apiPort := freePort(t)
	name := fmt.Sprintf("decnet-test-%d", os.Getpid())
	network := createTestNetwork(t, engine, name)

	engine.mustRun(t, "run", "--detach", "--name", name,
		"--network", network, "--read-only", "--cap-drop", "ALL",
		"--publish", fmt.Sprintf("127.0.0.1:%d:8443/tcp", apiPort),
		"--volume", dataDir+":/data",
		image, "server", "--data-dir", "/data",
		"--api-listen", "0.0.0.0:8443",
		"--agent-listen", "0.0.0.0:8444",
		"--bridge-listen", "0.0.0.0:8444",
		"--metrics-listen", "",
		"--server-name", "127.0.0.1",
	)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := engine.run(context.Background(), "logs", name)
			t.Logf("container log:\n%s", logs)
		}
		if _, err := engine.run(context.Background(), "rm", "--force", name); err != nil {
			t.Errorf("remove container: %v", err)
		}
	})
	published := engine.mustRun(t, "port", name, "8443/tcp")
	if want := fmt.Sprintf("127.0.0.1:%d", apiPort); strings.TrimSpace(published) != want {
		t.Fatalf("API published on %q, want only %s", published, want)
	}

	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", apiPort)
	deadline := time.Now().Add(dockerStartTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		running := engine.mustRun(t, "inspect", "--format", "{{.State.Running}}", name)
		if running != "true" {
			t.Fatalf("container stopped before /healthz responded")
		}
		status, body, err := getPinned(filepath.Join(dataDir, "ca", "ca.crt"), url)
		if err == nil {
			if status != http.StatusOK {
				t.Fatalf("GET /healthz = %d %q, want 200", status, body)
			}
			return
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("GET %s: no response within %v: %v", url, dockerStartTimeout, lastErr)
}

// createTestNetwork creates a bridge network for one test and removes it
// afterwards. Its subnet is taken from 198.18.0.0/15, the range RFC 2544
// sets aside for network tests, so it cannot shadow a route of the
// machine's own networks.
func createTestNetwork(t *testing.T, engine *dockerEngine, name string) string {
	t.Helper()
	third := os.Getpid() % 256
	subnet := fmt.Sprintf("198.18.%d.0/24", third)
	engine.mustRun(t, "network", "create", "--driver", "bridge", "--subnet", subnet, name)
	t.Cleanup(func() {
		if _, err := engine.run(context.Background(), "network", "rm", name); err != nil {
			t.Errorf("remove network: %v", err)
		}
	})
	return name
}

// getPinned sends GET url trusting only the root certificate in rootPath,
// which the control plane writes on its first start.
func getPinned(rootPath, url string) (int, string, error) {
	pem, err := os.ReadFile(rootPath)
	if err != nil {
		return 0, "", err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return 0, "", errors.New("no certificate in " + rootPath)
	}
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}},
	}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(body), err
}

// composeCommand returns the Compose client: docker-compose (Debian
// package docker-compose) or the docker compose plugin.
func composeCommand(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	if err := exec.Command("docker", "compose", "version").Run(); err == nil {
		return []string{"docker", "compose"}
	}
	t.Skip("no Compose client: neither docker-compose (Debian package docker-compose) nor the docker compose plugin is installed")
	return nil
}

// composeConfig is the part of `compose config` output the test checks.
type composeConfig struct {
	Services map[string]struct {
		Image    string   `yaml:"image"`
		Ports    []any    `yaml:"ports"`
		ReadOnly bool     `yaml:"read_only"`
		CapDrop  []string `yaml:"cap_drop"`
		Networks map[string]any
		Secrets  []any `yaml:"secrets"`
		Health   *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Networks map[string]struct {
		Internal bool `yaml:"internal"`
	} `yaml:"networks"`
}

// TestComposeConfig validates compose.yaml with the Compose client. It
// does not start the stack, because postgres:15 and redis:7 come from a
// registry.
func TestComposeConfig(t *testing.T) {
	compose := composeCommand(t)

	// Compose checks that env_file and secret files exist, so the test
	// gives it a copy with placeholder files.
	dir := t.TempDir()
	for from, to := range map[string]string{
		"compose/compose.yaml":       "compose.yaml",
		"compose/decnet.env.example": "decnet.env",
	} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"postgres_password", "database_url"} {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte("placeholder\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	args := append(compose[1:], "--project-directory", dir, "-f", filepath.Join(dir, "compose.yaml"), "config")
	cmd := exec.Command(compose[0], args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s config: %v\n%s", strings.Join(compose, " "), err, stderr.String())
	}
	var config composeConfig
	if err := yaml.Unmarshal(out, &config); err != nil {
		t.Fatalf("decode compose config: %v\n%s", err, out)
	}

	for _, name := range []string{"controlplane", "postgres", "redis"} {
		if _, ok := config.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	for name, service := range config.Services {
		for _, port := range service.Ports {
			if hostIP := publishedHostIP(port); hostIP != "127.0.0.1" {
				t.Errorf("service %s publishes %v on %q, want 127.0.0.1", name, port, hostIP)
			}
		}
	}
	for _, name := range []string{"postgres", "redis"} {
		service := config.Services[name]
		if len(service.Ports) != 0 {
			t.Errorf("service %s publishes ports %v, want none", name, service.Ports)
		}
		if service.Health == nil || len(service.Health.Test) == 0 {
			t.Errorf("service %s has no healthcheck", name)
		}
		if _, ok := service.Networks["backend"]; !ok || len(service.Networks) != 1 {
			t.Errorf("service %s networks = %v, want backend only", name, service.Networks)
		}
	}
	if !config.Networks["backend"].Internal {
		t.Error("network backend is not internal")
	}

	controlplane := config.Services["controlplane"]
	wantPorts := []string{"8443/tcp", "8444/tcp", "8444/udp"}
	if len(controlplane.Ports) != len(wantPorts) {
		t.Errorf("controlplane ports = %v, want %v", controlplane.Ports, wantPorts)
	}
	for _, want := range wantPorts {
		if !publishes(controlplane.Ports, want) {
			t.Errorf("controlplane ports %v lack %s", controlplane.Ports, want)
		}
	}
	if !controlplane.ReadOnly {
		t.Error("controlplane is not read_only")
	}
	if len(controlplane.CapDrop) != 1 || controlplane.CapDrop[0] != "ALL" {
		t.Errorf("controlplane cap_drop = %v, want [ALL]", controlplane.CapDrop)
	}
	if len(controlplane.Secrets) != 1 {
		t.Errorf("controlplane secrets = %v, want database_url", controlplane.Secrets)
	}
}

// publishedHostIP returns the host address of a port in `compose config`
// output: the short form "IP:PUBLISHED:TARGET/PROTO" of docker-compose 1,
// or the long form of Compose 2.
func publishedHostIP(port any) string {
	switch p := port.(type) {
	case string:
		ip, _, _ := strings.Cut(p, ":")
		return ip
	case map[string]any:
		ip, _ := p["host_ip"].(string)
		return ip
	}
	return fmt.Sprint(port)
}

// publishes reports whether ports publish target ("8444/udp") from the
// same port number on the host.
func publishes(ports []any, target string) bool {
	number, protocol, _ := strings.Cut(target, "/")
	for _, port := range ports {
		switch p := port.(type) {
		case string:
			if strings.HasSuffix(p, ":"+number+":"+target) {
				return true
			}
		case map[string]any:
			if fmt.Sprint(p["target"]) == number && fmt.Sprint(p["published"]) == number && fmt.Sprint(p["protocol"]) == protocol {
				return true
			}
		}
	}
	return false
}
