//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// binary returns the path of a built DECNET binary. make test builds them
// into bin/ and passes DECNET_BIN_DIR.
func binary(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("DECNET_BIN_DIR")
	if dir == "" {
		dir = filepath.Join("..", "bin")
	}
	path, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("binary %s not built: run make build-go or set DECNET_BIN_DIR: %v", name, err)
	}
	return path
}

// requireTool fails the test when a client it drives is missing: the test
// command installs them, so absence is a setup error, not a reason to skip.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed: run integration/setup.sh as root", name)
	}
	return path
}

// process is a DECNET binary started by a test, its output in a log file
// that is printed when the test fails.
type process struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

func startProcess(t *testing.T, name string, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = os.Environ()
	if !slices.Contains(args, "--log-level") {
		cmd.Env = append(cmd.Env, "DECNET_LOG_LEVEL=debug")
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}

	p := &process{t: t, name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM)
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

// stop sends sig and waits for the exit, escalating to SIGKILL after ten
// seconds.
func (p *process) stop(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) log() string {
	data, _ := os.ReadFile(p.logPath)
	return string(data)
}

func (p *process) dumpLog() {
	p.t.Logf("---- %s output ----\n%s", p.name, p.log())
}

// waitEndpoints waits until dataDir/endpoints.json lists what check needs.
func waitEndpoints(t *testing.T, p *process, dataDir string, check func(endpoints.Endpoints) bool) endpoints.Endpoints {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("%s exited before writing endpoints.json:\n%s", p.name, p.log())
		}
		e, err := endpoints.Read(dataDir)
		if err == nil && check(e) {
			return e
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s wrote no complete endpoints.json in %s within 60 s", p.name, dataDir)
	return endpoints.Endpoints{}
}

// eventually retries f until it returns nil or the timeout passes, then
// fails with f's last error.
func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// apiClient speaks the Connect protocol with JSON bodies over plain net/http,
// as any HTTP client can.
type apiClient struct {
	base  string
	http  *http.Client
	token string
}

func newAPIClient(base string, roots *x509.CertPool) *apiClient {
	transport := &http.Transport{}
	if roots != nil {
		transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return &apiClient{base: strings.TrimSuffix(base, "/"), http: &http.Client{Transport: transport, Timeout: 15 * time.Second}}
}

func (c *apiClient) call(ctx context.Context, procedure string, req, resp proto.Message) error {
	body, err := protojson.Marshal(req)
	if err != nil {
		return err
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/"+procedure, bytes.NewReader(body))
	if err != nil {
		return err
	}
	httpReq.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		httpReq.Header.Set("Authorization", "Bearer "+c.token)
	}

	httpResp, err := c.http.Do(httpReq)
	if err != nil {
		return err
	}
	defer httpResp.Body.Close()
	data, err := io.ReadAll(httpResp.Body)
	if err != nil {
		return err
	}
	if httpResp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", procedure, httpResp.StatusCode, data)
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, resp)
}

func (c *apiClient) login(t *testing.T, username, password string) {
	t.Helper()
	var resp apiv1.LoginResponse
	err := c.call(context.Background(), "decnet.api.v1.AuthService/Login",
		&apiv1.LoginRequest{Username: username, Password: password}, &resp)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if resp.GetToken() == "" {
		t.Fatal("login returned no token")
	}
	c.token = resp.GetToken()
}

func (c *apiClient) credentials(ctx context.Context) ([]*apiv1.Credential, error) {
	var all []*apiv1.Credential
	token := ""
	for {
		var resp apiv1.ListCredentialsResponse
		err := c.call(ctx, "decnet.api.v1.CredentialService/ListCredentials",
			&apiv1.ListCredentialsRequest{PageSize: 1000, PageToken: token}, &resp)
		if err != nil {
			return nil, err
		}
		all = append(all, resp.GetCredentials()...)
		if token = resp.GetNextPageToken(); token == "" {
			return all, nil
		}
	}
}

func (c *apiClient) events(ctx context.Context) ([]*apiv1.StoredEvent, error) {
	var all []*apiv1.StoredEvent
	token := ""
	for {
		var resp apiv1.ListEventsResponse
		err := c.call(ctx, "decnet.api.v1.EventService/ListEvents",
			&apiv1.ListEventsRequest{PageSize: 1000, PageToken: token}, &resp)
		if err != nil {
			return nil, err
		}
		all = append(all, resp.GetEvents()...)
		if token = resp.GetNextPageToken(); token == "" {
			return all, nil
		}
	}
}

func (c *apiClient) attackers(ctx context.Context) ([]*apiv1.Attacker, error) {
	var resp apiv1.ListAttackersResponse
	err := c.call(ctx, "decnet.api.v1.AttackerService/ListAttackers",
		&apiv1.ListAttackersRequest{PageSize: 1000}, &resp)
	return resp.GetAttackers(), err
}

// sha256Hex returns the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// publicKeyBlob reads an OpenSSH .pub file and returns the key's wire-format
// blob and its SHA256 fingerprint as ssh-keygen prints it.
func publicKeyBlob(t *testing.T, pubPath string) (blob []byte, fingerprint string) {
	t.Helper()
	data, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		t.Fatalf("malformed public key file %s", pubPath)
	}
	blob, err = base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(blob)
	return blob, "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// loadRoots reads a PEM bundle into a pool.
func loadRoots(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		pool.AddCert(cert)
	}
	return pool
}

// freePort reserves a loopback port free for both TCP and UDP, so a server
// restarted on it keeps the address its agents dial.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := tl.Addr().(*net.TCPAddr).Port
		ul, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		_ = tl.Close()
		if err == nil {
			_ = ul.Close()
			return port
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

// metricValue sums every sample of a Prometheus metric family in text
// exposition format.
func metricValue(body, name string) (float64, bool) {
	var total float64
	found := false
	scanner := bufio.NewScanner(strings.NewReader(body))
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest != "" && rest[0] != ' ' && rest[0] != '{' {
			continue
		}
		fields := strings.Fields(line)
		var v float64
		if _, err := fmt.Sscan(fields[len(fields)-1], &v); err == nil {
			total += v
			found = true
		}
	}
	return total, found
}

func fetchMetrics(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	return string(data), err
}
