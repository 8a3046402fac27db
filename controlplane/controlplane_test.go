package controlplane

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/pki"
)

func newTestServer(t *testing.T, dataDir string) *Server {
	t.Helper()
	s, err := New(context.Background(), Config{
		DataDir:       dataDir,
		APIListen:     "127.0.0.1:0",
		AgentListen:   "127.0.0.1:0",
		BridgeListen:  "127.0.0.1:0",
		MetricsListen: "127.0.0.1:0",
		PlainHTTP:     true,
		Logger:        zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestNewCreatesAdminOnce(t *testing.T) {
	dir := t.TempDir()

	first := newTestServer(t, dir)
	password, created := first.AdminPassword()
	first.closeAll()
	if !created || len(password) < 16 {
		t.Fatalf("first start: AdminPassword = %q, %v; want a new password", password, created)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(onDisk)) != password {
		t.Fatal("admin-password file differs from the password returned")
	}

	second := newTestServer(t, dir)
	defer second.closeAll()
	if p, created := second.AdminPassword(); created || p != "" {
		t.Fatalf("second start created another admin password %q", p)
	}
}

func TestNewRejectsPlainHTTPOffLoopback(t *testing.T) {
	_, err := New(context.Background(), Config{
		DataDir:      t.TempDir(),
		APIListen:    "0.0.0.0:0",
		AgentListen:  "127.0.0.1:0",
		BridgeListen: "127.0.0.1:0",
		PlainHTTP:    true,
		Logger:       zerolog.Nop(),
	})
	if err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Fatalf("New with plain HTTP on 0.0.0.0: err = %v, want a loopback error", err)
	}
}

func TestCreateTokenPinsRoot(t *testing.T) {
	s := newTestServer(t, t.TempDir())
	defer s.closeAll()

	issued, err := s.CreateToken(context.Background(), "sensor-01", 0)
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	token, err := pki.ParseBootstrapToken(issued.Token)
	if err != nil {
		t.Fatalf("ParseBootstrapToken: %v", err)
	}
	if token.AgentID() != issued.AgentID {
		t.Errorf("token agent id %s, issued %s", token.AgentID(), issued.AgentID)
	}
	if token.RootFingerprint() != s.CA().RootFingerprint() {
		t.Error("token does not pin this server's CA root")
	}
	if ttl := time.Until(issued.ExpiresAt); ttl <= 0 || ttl > DefaultTokenTTL {
		t.Errorf("token expires in %s, want within the default %s", ttl, DefaultTokenTTL)
	}

	tokens, err := s.store.ListTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].AgentName != "sensor-01" {
		t.Fatalf("stored tokens = %+v, want one for sensor-01", tokens)
	}
	if strings.Contains(string(tokens[0].Hash), issued.Token) {
		t.Error("store holds the token itself rather than its hash")
	}

	if _, err := s.store.ConsumeToken(context.Background(), token.Hash(), time.Now()); err != nil {
		t.Fatalf("ConsumeToken with the token's hash: %v", err)
	}
	if _, err := s.store.ConsumeToken(context.Background(), token.Hash(), time.Now()); !errors.Is(err, store.ErrTokenInvalid) {
		t.Fatalf("second ConsumeToken: err = %v, want ErrTokenInvalid", err)
	}
}

func TestCreateTokenRejectsBadName(t *testing.T) {
	s := newTestServer(t, t.TempDir())
	defer s.closeAll()
	if _, err := s.CreateToken(context.Background(), "", time.Minute); err == nil {
		t.Fatal("CreateToken accepted an empty agent name")
	}
}

func TestRunServesAndStops(t *testing.T) {
	s := newTestServer(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	ep := s.Endpoints()
	if !strings.HasPrefix(ep.API, "http://127.0.0.1:") || !strings.HasPrefix(ep.Enroll, "https://127.0.0.1:") {
		t.Fatalf("Endpoints = %+v", ep)
	}

	var resp *http.Response
	var err error
	for i := 0; i < 50; i++ {
		if resp, err = http.Get(ep.API + "/healthz"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %d", resp.StatusCode)
	}

	resp, err = http.Post(ep.API+"/decnet.api.v1.EventService/ListEvents", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ListEvents without a session = %d, want 401", resp.StatusCode)
	}

	resp, err = http.Get(ep.Metrics)
	if err != nil {
		t.Fatalf("GET metrics: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", ep.Metrics, resp.StatusCode)
	}

	// DNS rebinding: a page on another origin reaches loopback under its
	// own host name.
	req, err := http.NewRequest(http.MethodGet, ep.API+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "rebind.example"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("request with Host rebind.example = %d, want 421", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of cancel")
	}
}
