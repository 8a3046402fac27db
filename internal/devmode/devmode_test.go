package devmode

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/config"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/endpoints"
)

// startDev runs Run in the background and waits for endpoints.json.
func startDev(t *testing.T, dataDir string) (endpoints.Endpoints, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- Run(ctx, Config{DataDir: dataDir, APIListen: "127.0.0.1:0", Logger: zerolog.Nop(), Out: &out})
	}()

	defaults, err := config.DevDefault()
	if err != nil {
		t.Fatal(err)
	}
	wantDecoys := len(defaults.Deckies[0].Services)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ep, err := endpoints.Read(dataDir)
		if err == nil && len(ep.Decoys) == wantDecoys {
			stop := func() {
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("Run: %v", err)
					}
				case <-time.After(20 * time.Second):
					t.Error("Run did not return within 20 s of cancel")
				}
			}
			return ep, stop
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("Run returned before writing endpoints.json: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("no endpoints.json within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDevCapturesFormLogin(t *testing.T) {
	dataDir := t.TempDir()
	ep, stop := startDev(t, dataDir)
	defer stop()

	web, ok := ep.FindDecoy("http")
	if !ok {
		t.Fatalf("no http decoy in %+v", ep)
	}
	resp, err := http.PostForm("http://"+web.Address+"/login", url.Values{"username": {"root"}, "password": {"toor"}})
	if err != nil {
		t.Fatalf("post login form: %v", err)
	}
	resp.Body.Close()

	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	authClient := apiv1connect.NewAuthServiceClient(http.DefaultClient, ep.API)
	login, err := authClient.Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: strings.TrimSpace(string(password))}))
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	bearer := connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+login.Msg.GetToken())
			return next(ctx, req)
		}
	}))
	creds := apiv1connect.NewCredentialServiceClient(http.DefaultClient, ep.API, bearer)

	want := sha256.Sum256([]byte("toor"))
	deadline := time.Now().Add(15 * time.Second)
	for {
		list, err := creds.ListCredentials(ctx, connect.NewRequest(&apiv1.ListCredentialsRequest{}))
		if err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		if got := list.Msg.GetCredentials(); len(got) == 1 {
			c := got[0]
			if c.GetPrincipal() != "root" || c.GetMechanism() != "http_form" || c.GetSecretKind() != "plaintext" || !bytes.Equal(c.GetSecretSha256(), want[:]) {
				t.Fatalf("credential = %v, want root/http_form/plaintext with the SHA-256 of toor", c)
			}
			if c.GetDecky() != "dev-01" || c.GetAgentId() == "" {
				t.Fatalf("credential decky %q agent %q, want dev-01 and an agent id", c.GetDecky(), c.GetAgentId())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("credential not stored within 15 s (have %d)", len(list.Msg.GetCredentials()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDevReusesDataDir(t *testing.T) {
	dataDir := t.TempDir()
	first, stop := startDev(t, dataDir)
	stop()
	if _, err := endpoints.Read(dataDir); err == nil {
		t.Error("endpoints.json left behind after a clean stop")
	}

	decoysBefore, err := os.ReadFile(filepath.Join(dataDir, "decoys.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	identityBefore, err := os.ReadFile(filepath.Join(dataDir, "agent", "agent.json"))
	if err != nil {
		t.Fatal(err)
	}

	second, stop := startDev(t, dataDir)
	stop()

	// The decoys listen where they did before, so clients and scripts
	// pointed at the first run still reach them.
	for _, d := range first.Decoys {
		again, ok := second.FindDecoy(d.Service)
		if !ok || again.Address != d.Address {
			t.Errorf("%s decoy moved from %s to %s on restart", d.Service, d.Address, again.Address)
		}
	}

	decoysAfter, err := os.ReadFile(filepath.Join(dataDir, "decoys.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	identityAfter, err := os.ReadFile(filepath.Join(dataDir, "agent", "agent.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(decoysBefore, decoysAfter) {
		t.Error("second run rewrote decoys.yaml, so the decky seed changed")
	}
	if !bytes.Equal(identityBefore, identityAfter) {
		t.Error("second run enrolled the agent again")
	}
}
