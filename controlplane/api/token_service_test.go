package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/decnet/decnet/controlplane/enroll"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	fleetv1 "github.com/decnet/decnet/gen/decnet/fleet/v1"
	"github.com/decnet/decnet/pki"
)

// newTokenFixture serves the API with the TokenService on a fresh CA.
func newTokenFixture(t *testing.T, enrollURL string) (*fixture, *pki.CA) {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "ca"), nil)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	f := newFixture(t, options{tokens: &TokenServiceConfig{
		RootFingerprint: ca.RootFingerprint(),
		EnrollURL:       func() string { return enrollURL },
	}})
	return f, ca
}

func TestTokenServiceCreateListRevoke(t *testing.T) {
	f, ca := newTokenFixture(t, "https://127.0.0.1:8444")
	session := f.login(t)
	ctx := context.Background()
	client := apiv1connect.NewTokenServiceClient(f.h1, f.srv.URL)

	labels := map[string]string{"site": "oslo", "role": "dmz"}
	created, err := client.CreateToken(ctx, withToken(&apiv1.CreateTokenRequest{
		AgentName: "sensor-9",
		Ttl:       durationpb.New(time.Hour),
		Labels:    labels,
	}, session))
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	secret := created.Msg.GetToken()
	f.recordToken(secret)
	info := created.Msg.GetInfo()
	if !strings.HasPrefix(secret, pki.TokenPrefix) {
		t.Errorf("token %q lacks prefix %q", secret[:4], pki.TokenPrefix)
	}
	if info.GetAgentName() != "sensor-9" || !maps.Equal(info.GetLabels(), labels) || info.GetState() != apiv1.TokenState_TOKEN_STATE_VALID {
		t.Errorf("info = %v, want sensor-9, labels %v, valid", info, labels)
	}
	if got := info.GetExpiresAt().AsTime().Sub(info.GetCreatedAt().AsTime()); got != time.Hour {
		t.Errorf("expires %s after creation, want 1h", got)
	}
	cmd := created.Msg.GetInstallCommand()
	if !strings.Contains(cmd, secret) || !strings.Contains(cmd, "https://127.0.0.1:8444") {
		t.Errorf("install command %q lacks the token or the enrollment URL", cmd)
	}

	// A second token, revoked before use.
	revoked, err := client.CreateToken(ctx, withToken(&apiv1.CreateTokenRequest{AgentName: "sensor-10"}, session))
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	f.recordToken(revoked.Msg.GetToken())
	rresp, err := client.RevokeToken(ctx, withToken(&apiv1.RevokeTokenRequest{AgentId: revoked.Msg.GetInfo().GetAgentId()}, session))
	if err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if got := rresp.Msg.GetToken(); got.GetState() != apiv1.TokenState_TOKEN_STATE_REVOKED || got.GetRevokedAt() == nil {
		t.Errorf("RevokeToken returned %v, want revoked with a time", got)
	}

	// Both tokens are listed, and no secret appears anywhere in the
	// response, in any encoding.
	list, err := client.ListTokens(ctx, withToken(&apiv1.ListTokensRequest{}, session))
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	states := map[string]apiv1.TokenState{}
	for _, tok := range list.Msg.GetTokens() {
		states[tok.GetAgentName()] = tok.GetState()
	}
	want := map[string]apiv1.TokenState{"sensor-9": apiv1.TokenState_TOKEN_STATE_VALID, "sensor-10": apiv1.TokenState_TOKEN_STATE_REVOKED}
	if !maps.Equal(states, want) {
		t.Errorf("ListTokens states = %v, want %v", states, want)
	}
	encoded, err := protojson.Marshal(list.Msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, revoked.Msg.GetToken(), strings.TrimPrefix(secret, pki.TokenPrefix)} {
		if strings.Contains(string(encoded), s) {
			t.Error("ListTokens response contains a token secret")
		}
	}
	_, body := f.postJSON(t, apiv1connect.TokenServiceListTokensProcedure, `{}`, map[string][]string{"Authorization": {"Bearer " + session}})
	if strings.Contains(string(body), strings.TrimPrefix(secret, pki.TokenPrefix)) {
		t.Error("ListTokens JSON body contains a token secret")
	}

	// The created token enrolls; the revoked one is refused like a used
	// one.
	svc, err := enroll.New(enroll.Config{CA: ca, Tokens: f.store, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("enroll.New: %v", err)
	}
	csr := newTestCSR(t)
	_, err = svc.Enroll(ctx, connect.NewRequest(&fleetv1.EnrollRequest{Token: revoked.Msg.GetToken(), Csr: csr}))
	if code := connect.CodeOf(err); code != connect.CodePermissionDenied {
		t.Errorf("Enroll with the revoked token: code %v (%v), want PermissionDenied", code, err)
	}
	enrolled, err := svc.Enroll(ctx, connect.NewRequest(&fleetv1.EnrollRequest{Token: secret, Csr: csr}))
	if err != nil {
		t.Fatalf("Enroll with the created token: %v", err)
	}
	if enrolled.Msg.GetAgentId() != info.GetAgentId() {
		t.Errorf("enrolled agent %s, want %s", enrolled.Msg.GetAgentId(), info.GetAgentId())
	}
	agent, err := f.store.GetAgent(ctx, info.GetAgentId())
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	if !maps.Equal(agent.Labels, labels) {
		t.Errorf("agent labels = %v, want %v", agent.Labels, labels)
	}
	list, err = client.ListTokens(ctx, withToken(&apiv1.ListTokensRequest{}, session))
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	for _, tok := range list.Msg.GetTokens() {
		if tok.GetAgentId() == info.GetAgentId() && tok.GetState() != apiv1.TokenState_TOKEN_STATE_USED {
			t.Errorf("state after enrollment = %v, want used", tok.GetState())
		}
	}
}

func TestTokenServiceRejects(t *testing.T) {
	// A wildcard enrollment URL leaves the install command out.
	f, _ := newTokenFixture(t, "https://0.0.0.0:8444")
	session := f.login(t)
	ctx := context.Background()
	client := apiv1connect.NewTokenServiceClient(f.h1, f.srv.URL)

	created, err := client.CreateToken(ctx, withToken(&apiv1.CreateTokenRequest{AgentName: "sensor-1"}, session))
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	f.recordToken(created.Msg.GetToken())
	if cmd := created.Msg.GetInstallCommand(); cmd != "" {
		t.Errorf("install command for a wildcard address = %q, want none", cmd)
	}

	tests := []struct {
		name string
		call func() error
		want connect.Code
	}{
		{"empty name", func() error {
			_, err := client.CreateToken(ctx, withToken(&apiv1.CreateTokenRequest{}, session))
			return err
		}, connect.CodeInvalidArgument},
		{"bad label key", func() error {
			_, err := client.CreateToken(ctx, withToken(&apiv1.CreateTokenRequest{AgentName: "s", Labels: map[string]string{"Bad Key": "x"}}, session))
			return err
		}, connect.CodeInvalidArgument},
		{"bad label value", func() error {
			_, err := client.CreateToken(ctx, withToken(&apiv1.CreateTokenRequest{AgentName: "s", Labels: map[string]string{"k": "a b"}}, session))
			return err
		}, connect.CodeInvalidArgument},
		{"negative ttl", func() error {
			_, err := client.CreateToken(ctx, withToken(&apiv1.CreateTokenRequest{AgentName: "s", Ttl: durationpb.New(-time.Minute)}, session))
			return err
		}, connect.CodeInvalidArgument},
		{"ttl too long", func() error {
			_, err := client.CreateToken(ctx, withToken(&apiv1.CreateTokenRequest{AgentName: "s", Ttl: durationpb.New(30 * 24 * time.Hour)}, session))
			return err
		}, connect.CodeInvalidArgument},
		{"revoke without id", func() error {
			_, err := client.RevokeToken(ctx, withToken(&apiv1.RevokeTokenRequest{}, session))
			return err
		}, connect.CodeInvalidArgument},
		{"revoke unknown agent", func() error {
			_, err := client.RevokeToken(ctx, withToken(&apiv1.RevokeTokenRequest{AgentId: "0195a1b2-0000-7000-8000-0000000000ff"}, session))
			return err
		}, connect.CodeNotFound},
		{"no session", func() error {
			_, err := client.ListTokens(ctx, connect.NewRequest(&apiv1.ListTokensRequest{}))
			return err
		}, connect.CodeUnauthenticated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code := connect.CodeOf(tc.call()); code != tc.want {
				t.Errorf("code %v, want %v", code, tc.want)
			}
		})
	}
}

func newTestCSR(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
