package download

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/deploy"
	"github.com/decnet/decnet/pki"
)

// startServer serves the downloads of dir over TLS on a loopback port with
// a certificate from a fresh CA, and returns the base URL and a client
// that trusts only that CA.
func startServer(t *testing.T, cfg Config) (string, *http.Client) {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "ca"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServerCertificate(nil, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	cfg.Logger = zerolog.Nop()
	downloads, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(downloads.Handler())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         pki.ServerTLSConfig(pki.StaticCertificate(&cert), nil, false, []string{"h2", "http/1.1"}),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })

	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.RootPool(), MinVersion: tls.VersionTLS12}},
	}
	return "https://" + ln.Addr().String(), client
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, client *http.Client, url string) response {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestServeBinary(t *testing.T) {
	dir := t.TempDir()
	native := "native agent binary\x00\x01\x02"
	arm := "arm64 agent binary"
	writeFile(t, filepath.Join(dir, "decnet-agent"), native)
	writeFile(t, filepath.Join(dir, "decnet-agent-linux-arm64"), arm)
	base, client := startServer(t, Config{Dir: dir, Platform: "linux-amd64"})

	tests := []struct {
		name     string
		platform string
		want     string
	}{
		{name: "plain binary for own platform", platform: "linux-amd64", want: native},
		{name: "suffixed binary for other platform", platform: "linux-arm64", want: arm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, client, base+BinaryPathPrefix+tt.platform)
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", r.status, r.body)
			}
			if r.body != tt.want {
				t.Errorf("body %q, want %q", r.body, tt.want)
			}
			if got := r.header.Get("Content-Type"); got != "application/octet-stream" {
				t.Errorf("Content-Type %q, want application/octet-stream", got)
			}
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(tt.want)) {
				t.Errorf("Content-Length %q, want %d", got, len(tt.want))
			}
			if got := r.header.Get(ChecksumHeader); got != sha256Hex(tt.want) {
				t.Errorf("%s %q, want %q", ChecksumHeader, got, sha256Hex(tt.want))
			}

			sum := get(t, client, base+BinaryPathPrefix+tt.platform+ChecksumSuffix)
			if sum.status != http.StatusOK {
				t.Fatalf("checksum status %d, want 200: %s", sum.status, sum.body)
			}
			if want := sha256Hex(tt.want) + "  decnet-agent\n"; sum.body != want {
				t.Errorf("checksum body %q, want %q", sum.body, want)
			}
		})
	}
}

func TestServeBinaryNotFound(t *testing.T) {
	dir := t.TempDir()
	// A plain decnet-agent is for the control plane's own platform only.
	writeFile(t, filepath.Join(dir, "decnet-agent"), "amd64")
	base, client := startServer(t, Config{Dir: dir, Platform: "linux-amd64"})

	tests := []struct {
		name     string
		path     string
		wantBody string
	}{
		{name: "other platform", path: BinaryPathPrefix + "linux-arm64", wantBody: "no decnet-agent binary for linux-arm64"},
		{name: "other platform checksum", path: BinaryPathPrefix + "linux-arm64.sha256", wantBody: "no decnet-agent binary for linux-arm64"},
		{name: "invalid platform", path: BinaryPathPrefix + "linux", wantBody: "invalid platform"},
		{name: "dot segments", path: BinaryPathPrefix + "..%2f..%2fetc-passwd", wantBody: "invalid platform"},
		{name: "unknown file", path: Prefix + "other", wantBody: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, client, base+tt.path)
			if r.status != http.StatusNotFound {
				t.Fatalf("status %d, want 404: %s", r.status, r.body)
			}
			if !strings.Contains(r.body, tt.wantBody) {
				t.Errorf("body %q, want it to contain %q", r.body, tt.wantBody)
			}
			if strings.Contains(r.body, dir) {
				t.Errorf("body %q reveals the server directory %s", r.body, dir)
			}
		})
	}
}

func TestChecksumFollowsFileChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "decnet-agent-linux-amd64")
	writeFile(t, path, "first build")
	base, client := startServer(t, Config{Dir: dir, Platform: "linux-amd64"})

	first := get(t, client, base+BinaryPathPrefix+"linux-amd64")
	if got := first.header.Get(ChecksumHeader); got != sha256Hex("first build") {
		t.Fatalf("first checksum %q, want %q", got, sha256Hex("first build"))
	}

	writeFile(t, path, "second, longer build")
	second := get(t, client, base+BinaryPathPrefix+"linux-amd64")
	if second.body != "second, longer build" {
		t.Errorf("body %q after replacement, want the new content", second.body)
	}
	if got := second.header.Get(ChecksumHeader); got != sha256Hex("second, longer build") {
		t.Errorf("checksum %q after replacement, want %q", got, sha256Hex("second, longer build"))
	}
}

func TestServeEmbeddedFiles(t *testing.T) {
	base, client := startServer(t, Config{Dir: t.TempDir()})

	tests := []struct {
		path        string
		want        string
		contentType string
	}{
		{path: ScriptPath, want: deploy.InstallScript(), contentType: "text/x-shellscript; charset=utf-8"},
		{path: UnitPath, want: deploy.AgentUnit(), contentType: "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if tt.want == "" {
				t.Fatal("embedded file is empty")
			}
			r := get(t, client, base+tt.path)
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", r.status, r.body)
			}
			if r.body != tt.want {
				t.Errorf("body differs from the embedded file (%d bytes, want %d)", len(r.body), len(tt.want))
			}
			if got := r.header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := r.header.Get(ChecksumHeader); got != sha256Hex(tt.want) {
				t.Errorf("%s %q, want %q", ChecksumHeader, got, sha256Hex(tt.want))
			}
		})
	}
}

func TestNewDefaultsToExecutableDir(t *testing.T) {
	s, err := New(Config{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe, err = filepath.EvalSymlinks(exe)
	if err != nil {
		t.Fatal(err)
	}
	if s.dir != filepath.Dir(exe) {
		t.Errorf("dir %q, want the executable's directory %q", s.dir, filepath.Dir(exe))
	}
}

func TestNewRejectsInvalidPlatform(t *testing.T) {
	if _, err := New(Config{Dir: t.TempDir(), Platform: "../linux"}); err == nil {
		t.Fatal("New accepted platform ../linux")
	}
}

func TestInstallCommand(t *testing.T) {
	var fp [32]byte
	for i := range fp {
		fp[i] = byte(i)
	}
	line, err := InstallCommand("https://sensor-cp.example:8444", fp, "DNT1.abc-_")
	if err != nil {
		t.Fatalf("InstallCommand: %v", err)
	}

	for _, want := range []string{
		"openssl s_client -connect 'sensor-cp.example:8444' -showcerts",
		"'sha256 fingerprint=" + strings.ToUpper(hex.EncodeToString(fp[:])) + "'",
		`--cacert "$d/root.pem"`,
		"'https://sensor-cp.example:8444/download/install-agent.sh'",
		"DECNET_ENROLL_TOKEN='DNT1.abc-_'",
		"--server 'https://sensor-cp.example:8444'",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("command does not contain %q:\n%s", want, line)
		}
	}
	if strings.Contains(line, "| sh") || strings.Contains(line, " -k ") || strings.Contains(line, "--insecure") {
		t.Errorf("command pipes into sh or skips verification:\n%s", line)
	}
	if strings.Contains(line, "\n") {
		t.Errorf("command spans several lines:\n%s", line)
	}
}

func TestInstallCommandRejectsURL(t *testing.T) {
	for _, raw := range []string{"http://cp:8444", "cp:8444", "https://", "https://cp:8444/path"} {
		t.Run(raw, func(t *testing.T) {
			if _, err := InstallCommand(raw, [32]byte{}, "DNT1.x"); err == nil {
				t.Errorf("InstallCommand accepted %q", raw)
			}
		})
	}
}
