package enroll_test

// These tests run the real control-plane enrollment service. Only tests
// import controlplane from agent code.

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/enroll"
	cpenroll "github.com/decnet/decnet/controlplane/enroll"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/pki"
)

const testAgentID = "0b6f8a52-6c1e-4c4e-9d7e-3f0a1c2b3d4e"

var bridgeAddresses = []string{"127.0.0.1:7443"}

// memoryTokens is an in-memory TokenStore that consumes each token once.
type memoryTokens struct {
	mu     sync.Mutex
	tokens map[string]store.Token
	agents []store.Agent
}

func (m *memoryTokens) ConsumeToken(_ context.Context, hash []byte, now time.Time) (store.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[string(hash)]
	if !ok || !t.UsedAt.IsZero() || !now.Before(t.ExpiresAt) {
		return store.Token{}, store.ErrTokenInvalid
	}
	t.UsedAt = now
	m.tokens[string(hash)] = t
	return t, nil
}

func (m *memoryTokens) UpsertAgent(_ context.Context, a store.Agent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.agents = append(m.agents, a)
	return nil
}

func (m *memoryTokens) used(hash []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.tokens[string(hash)].UsedAt.IsZero()
}

// controlPlane is a CA and an enrollment service served over TLS on
// 127.0.0.1:0.
type controlPlane struct {
	ca     *pki.CA
	tokens *memoryTokens
	url    string
}

func startControlPlane(t *testing.T) *controlPlane {
	t.Helper()
	return startControlPlaneFor(t, net.ParseIP("127.0.0.1"))
}

// startControlPlaneFor serves on 127.0.0.1 with a server certificate for
// serverIP, which a test can set to another address.
func startControlPlaneFor(t *testing.T, serverIP net.IP) *controlPlane {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "ca"), nil)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	cp := &controlPlane{ca: ca, tokens: &memoryTokens{tokens: make(map[string]store.Token)}}

	svc, err := cpenroll.New(cpenroll.Config{
		CA:              ca,
		Tokens:          cp.tokens,
		BridgeAddresses: func() []string { return bridgeAddresses },
		CertLifetime:    time.Hour,
		Logger:          zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("create enrollment service: %v", err)
	}
	serverCert, err := ca.IssueServerCertificate(nil, []net.IP{serverIP}, time.Hour)
	if err != nil {
		t.Fatalf("IssueServerCertificate: %v", err)
	}

	mux := http.NewServeMux()
	mux.Handle(svc.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         pki.ServerTLSConfig(pki.StaticCertificate(&serverCert), ca.RootPool(), false, nil),
		ReadHeaderTimeout: 10 * time.Second,
		// The pinned-root probe ends its first handshake with an alert,
		// which net/http would print.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})

	cp.url = "https://" + ln.Addr().String()
	return cp
}

// newToken stores a token for the agent, valid for an hour, and returns
// its encoded form.
func (cp *controlPlane) newToken(t *testing.T, agentID, name string) string {
	t.Helper()
	token, err := pki.NewBootstrapToken(agentID, cp.ca.RootFingerprint())
	if err != nil {
		t.Fatalf("NewBootstrapToken: %v", err)
	}
	cp.tokens.mu.Lock()
	defer cp.tokens.mu.Unlock()
	cp.tokens.tokens[string(token.Hash())] = store.Token{
		Hash:      token.Hash(),
		AgentID:   agentID,
		AgentName: name,
		CreatedAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour),
	}
	return token.Encode()
}

func TestEnrollEndToEnd(t *testing.T) {
	cp := startControlPlane(t)
	token := cp.newToken(t, testAgentID, "sensor-1")
	dataDir := filepath.Join(t.TempDir(), "agent")
	var logs bytes.Buffer

	result, err := enroll.Enroll(context.Background(), enroll.Config{
		ServerURL: cp.url,
		Token:     token,
		DataDir:   dataDir,
		Name:      "ignored-because-the-token-has-a-name",
		Logger:    zerolog.New(&logs),
	})
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}

	if result.AgentID != testAgentID || result.AgentName != "sensor-1" {
		t.Errorf("result agent %q %q, want %q sensor-1", result.AgentID, result.AgentName, testAgentID)
	}
	if result.ServerURL != cp.url {
		t.Errorf("result server URL %q, want %q", result.ServerURL, cp.url)
	}
	if !slices.Equal(result.BridgeAddresses, bridgeAddresses) {
		t.Errorf("result bridge addresses %v, want %v", result.BridgeAddresses, bridgeAddresses)
	}
	if strings.Contains(logs.String(), strings.TrimPrefix(token, pki.TokenPrefix)) {
		t.Error("the log contains the token")
	}
	if !strings.Contains(logs.String(), `"message":"agent enrolled"`) {
		t.Errorf("log %q lacks the enrollment", logs.String())
	}

	modes := map[string]os.FileMode{
		dataDir:                                0o700 | os.ModeDir,
		filepath.Join(dataDir, enroll.KeyFile): 0o600,
		filepath.Join(dataDir, enroll.CertificateFile): 0o644,
		filepath.Join(dataDir, enroll.CAFile):          0o644,
		filepath.Join(dataDir, enroll.IdentityFile):    0o644,
	}
	for path, want := range modes {
		info, err := os.Stat(path)
		if err != nil {
			t.Errorf("stat %s: %v", path, err)
			continue
		}
		if info.Mode() != want {
			t.Errorf("mode of %s = %v, want %v", path, info.Mode(), want)
		}
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(modes)-1 {
		t.Errorf("data directory has %d entries, want %d (temporary files left?)", len(entries), len(modes)-1)
	}

	id, err := enroll.LoadIdentity(dataDir)
	if err != nil {
		t.Fatalf("LoadIdentity: %v", err)
	}
	if id.AgentID != testAgentID || id.Name != "sensor-1" || id.ServerURL != cp.url {
		t.Errorf("identity %q %q %q, want %q sensor-1 %q", id.AgentID, id.Name, id.ServerURL, testAgentID, cp.url)
	}
	if !slices.Equal(id.BridgeAddresses, bridgeAddresses) {
		t.Errorf("identity bridge addresses %v, want %v", id.BridgeAddresses, bridgeAddresses)
	}
	if !bytes.Equal(id.Root.Raw, cp.ca.Root().Raw) {
		t.Error("identity root is not the CA root")
	}
	if id.Certificate.Leaf == nil || id.Certificate.Leaf.SerialNumber.Text(16) != result.Serial {
		t.Errorf("identity leaf does not carry serial %s", result.Serial)
	}

	// The identity must work for mutual TLS against the CA.
	peerID := handshakeWithIdentity(t, cp.ca, id)
	if peerID != testAgentID {
		t.Errorf("server saw agent %q, want %q", peerID, testAgentID)
	}
}

// handshakeWithIdentity connects with the identity to a TLS server that
// requires a client certificate from ca, and returns the agent id the
// server read from it.
func handshakeWithIdentity(t *testing.T, ca *pki.CA, id *enroll.Identity) string {
	t.Helper()
	serverCert, err := ca.IssueServerCertificate(nil, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", pki.ServerTLSConfig(pki.StaticCertificate(&serverCert), ca.RootPool(), true, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })

	seen := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			seen <- "accept: " + err.Error()
			return
		}
		defer conn.Close()
		tlsConn := conn.(*tls.Conn)
		if err := tlsConn.Handshake(); err != nil {
			seen <- "handshake: " + err.Error()
			return
		}
		agentID, err := pki.AgentIDFromCertificate(tlsConn.ConnectionState().PeerCertificates[0])
		if err != nil {
			seen <- "agent id: " + err.Error()
			return
		}
		seen <- agentID
	}()

	config := pki.AgentTLSConfig(pki.StaticClientCertificate(&id.Certificate), id.Roots, "127.0.0.1", nil)
	conn, err := tls.Dial("tcp", ln.Addr().String(), config)
	if err != nil {
		t.Fatalf("dial with identity: %v", err)
	}
	defer conn.Close()
	return <-seen
}

func TestEnrollTokenSingleUse(t *testing.T) {
	cp := startControlPlane(t)
	token := cp.newToken(t, testAgentID, "sensor-1")

	first := enroll.Config{ServerURL: cp.url, Token: token, DataDir: filepath.Join(t.TempDir(), "first"), Logger: zerolog.Nop()}
	if _, err := enroll.Enroll(context.Background(), first); err != nil {
		t.Fatalf("first Enroll: %v", err)
	}

	secondDir := filepath.Join(t.TempDir(), "second")
	second := enroll.Config{ServerURL: cp.url, Token: token, DataDir: secondDir, Logger: zerolog.Nop()}
	_, err := enroll.Enroll(context.Background(), second)
	if code := connect.CodeOf(err); code != connect.CodePermissionDenied {
		t.Fatalf("second Enroll: code %v (%v), want PermissionDenied", code, err)
	}
	if _, err := os.Stat(secondDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed enrollment created %s (stat error %v)", secondDir, err)
	}
}

func TestEnrollTokenOfAnotherCA(t *testing.T) {
	cp := startControlPlane(t)
	other := startControlPlane(t)
	token := other.newToken(t, testAgentID, "sensor-1")
	dataDir := filepath.Join(t.TempDir(), "agent")

	_, err := enroll.Enroll(context.Background(), enroll.Config{ServerURL: cp.url, Token: token, DataDir: dataDir, Logger: zerolog.Nop()})

	var mismatch *pki.FingerprintMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("error = %v, want a *pki.FingerprintMismatchError", err)
	}
	if mismatch.Expected != other.ca.RootFingerprint() {
		t.Errorf("expected fingerprint %x, want the other CA's %x", mismatch.Expected, other.ca.RootFingerprint())
	}
	if !slices.Contains(mismatch.Received, cp.ca.RootFingerprint()) {
		t.Errorf("received fingerprints %x lack the server's root %x", mismatch.Received, cp.ca.RootFingerprint())
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed enrollment created %s (stat error %v)", dataDir, err)
	}
}

func TestEnrollRefusesExistingIdentity(t *testing.T) {
	cp := startControlPlane(t)
	dataDir := filepath.Join(t.TempDir(), "agent")
	first := enroll.Config{ServerURL: cp.url, Token: cp.newToken(t, testAgentID, "a"), DataDir: dataDir, Logger: zerolog.Nop()}
	if _, err := enroll.Enroll(context.Background(), first); err != nil {
		t.Fatalf("first Enroll: %v", err)
	}
	keyBefore, err := os.ReadFile(filepath.Join(dataDir, enroll.KeyFile))
	if err != nil {
		t.Fatal(err)
	}

	secondToken := cp.newToken(t, testAgentID, "a")
	_, err = enroll.Enroll(context.Background(), enroll.Config{ServerURL: cp.url, Token: secondToken, DataDir: dataDir, Logger: zerolog.Nop()})
	if !errors.Is(err, enroll.ErrAlreadyEnrolled) {
		t.Fatalf("error = %v, want ErrAlreadyEnrolled", err)
	}

	parsed, err := pki.ParseBootstrapToken(secondToken)
	if err != nil {
		t.Fatal(err)
	}
	if cp.tokens.used(parsed.Hash()) {
		t.Error("the refused enrollment used up the token")
	}
	keyAfter, err := os.ReadFile(filepath.Join(dataDir, enroll.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keyBefore, keyAfter) {
		t.Error("the refused enrollment replaced the key")
	}
}

func TestEnrollRejectsBadConfig(t *testing.T) {
	token, err := pki.NewBootstrapToken(testAgentID, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	valid := enroll.Config{ServerURL: "https://127.0.0.1:1", Token: token.Encode(), DataDir: t.TempDir()}

	tests := []struct {
		name   string
		change func(c *enroll.Config)
		want   string
	}{
		{"malformed token", func(c *enroll.Config) { c.Token = "DNT1.abc" }, "malformed bootstrap token"},
		{"missing server URL", func(c *enroll.Config) { c.ServerURL = "" }, "server URL is required"},
		{"plain HTTP", func(c *enroll.Config) { c.ServerURL = "http://127.0.0.1:8443" }, "must start with https://"},
		{"no host", func(c *enroll.Config) { c.ServerURL = "https://:8443" }, "has no host"},
		{"query", func(c *enroll.Config) { c.ServerURL = "https://127.0.0.1:8443/?x=1" }, "must not contain"},
		{"missing data directory", func(c *enroll.Config) { c.DataDir = "" }, "data directory is required"},
		{"invalid name", func(c *enroll.Config) { c.Name = "a\tb" }, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			_, err := enroll.Enroll(context.Background(), cfg)
			if err == nil {
				t.Fatal("Enroll succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadIdentityNotEnrolled(t *testing.T) {
	cp := startControlPlane(t)
	enrolledDir := filepath.Join(t.TempDir(), "agent")
	cfg := enroll.Config{ServerURL: cp.url, Token: cp.newToken(t, testAgentID, "a"), DataDir: enrolledDir, Logger: zerolog.Nop()}
	if _, err := enroll.Enroll(context.Background(), cfg); err != nil {
		t.Fatalf("Enroll: %v", err)
	}

	for _, missing := range []string{enroll.IdentityFile, enroll.KeyFile, enroll.CertificateFile, enroll.CAFile} {
		t.Run("without "+missing, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{enroll.IdentityFile, enroll.KeyFile, enroll.CertificateFile, enroll.CAFile} {
				if name != missing {
					copyFile(t, filepath.Join(enrolledDir, name), filepath.Join(dir, name))
				}
			}

			_, err := enroll.LoadIdentity(dir)
			if !errors.Is(err, enroll.ErrNotEnrolled) {
				t.Fatalf("error = %v, want ErrNotEnrolled", err)
			}
			for _, want := range []string{missing, "decnet-agent enroll"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestLoadIdentityRejectsMismatch(t *testing.T) {
	cp := startControlPlane(t)
	other := startControlPlane(t)
	dirA := filepath.Join(t.TempDir(), "a")
	dirB := filepath.Join(t.TempDir(), "b")
	const otherID = "11111111-2222-4333-8444-555555555555"
	for dir, c := range map[string]*controlPlane{dirA: cp, dirB: other} {
		cfg := enroll.Config{ServerURL: c.url, Token: c.newToken(t, testAgentID, "a"), DataDir: dir, Logger: zerolog.Nop()}
		if _, err := enroll.Enroll(context.Background(), cfg); err != nil {
			t.Fatalf("Enroll into %s: %v", dir, err)
		}
	}

	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   string
	}{
		{
			name: "key of another agent",
			change: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(dirB, enroll.KeyFile), filepath.Join(dir, enroll.KeyFile))
			},
			want: "private key does not match public key",
		},
		{
			name: "root of another CA",
			change: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(dirB, enroll.CAFile), filepath.Join(dir, enroll.CAFile))
			},
			want: "verify agent certificate",
		},
		{
			name: "agent id in agent.json edited",
			change: func(t *testing.T, dir string) {
				path := filepath.Join(dir, enroll.IdentityFile)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				edited := strings.ReplaceAll(string(data), testAgentID, otherID)
				if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: "certificate names agent " + testAgentID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{enroll.IdentityFile, enroll.KeyFile, enroll.CertificateFile, enroll.CAFile} {
				copyFile(t, filepath.Join(dirA, name), filepath.Join(dir, name))
			}
			tt.change(t, dir)

			_, err := enroll.LoadIdentity(dir)
			if err == nil {
				t.Fatal("LoadIdentity succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
