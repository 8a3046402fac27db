package enroll

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	fleetv1 "github.com/decnet/decnet/gen/decnet/fleet/v1"
	"github.com/decnet/decnet/gen/decnet/fleet/v1/fleetv1connect"
	"github.com/decnet/decnet/pki"
)

const testAgentID = "0b6f8a52-6c1e-4c4e-9d7e-3f0a1c2b3d4e"

// fakeTokens is an in-memory TokenStore with the consume-once semantics of
// the real store.
type fakeTokens struct {
	mu        sync.Mutex
	tokens    map[string]store.Token
	agents    []store.Agent
	upsertErr error
}

func newFakeTokens() *fakeTokens {
	return &fakeTokens{tokens: make(map[string]store.Token)}
}

func (f *fakeTokens) add(t store.Token) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[string(t.Hash)] = t
}

func (f *fakeTokens) ConsumeToken(_ context.Context, hash []byte, now time.Time) (store.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[string(hash)]
	if !ok || !t.UsedAt.IsZero() || !now.Before(t.ExpiresAt) {
		return store.Token{}, store.ErrTokenInvalid
	}
	t.UsedAt = now
	f.tokens[string(hash)] = t
	return t, nil
}

func (f *fakeTokens) UpsertAgent(_ context.Context, a store.Agent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.upsertErr != nil {
		return f.upsertErr
	}
	f.agents = append(f.agents, a)
	return nil
}

func (f *fakeTokens) used(hash []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.tokens[string(hash)].UsedAt.IsZero()
}

func (f *fakeTokens) enrolled() []store.Agent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.agents)
}

// syncBuffer collects log output written from handler goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	ca     *pki.CA
	tokens *fakeTokens
	logs   *syncBuffer
	client fleetv1connect.EnrollmentServiceClient
	now    time.Time
}

// newFixture serves the enrollment service over TLS on 127.0.0.1:0 with a
// server certificate from a fresh CA, and returns a client that trusts
// only that CA.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	// The CA and the service share one frozen clock, so certificate
	// validity is exact rather than off by the time between two reads.
	now := time.Now()
	ca, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "ca"), func() time.Time { return now })
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	f := &fixture{ca: ca, tokens: newFakeTokens(), logs: &syncBuffer{}, now: now}

	svc, err := New(Config{
		CA:              ca,
		Tokens:          f.tokens,
		BridgeAddresses: func() []string { return []string{"127.0.0.1:7443", "[::1]:7443"} },
		CertLifetime:    time.Hour,
		Now:             func() time.Time { return f.now },
		Logger:          zerolog.New(f.logs),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	serverCert, err := ca.IssueServerCertificate(nil, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		t.Fatalf("IssueServerCertificate: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(svc.Handler())
	url := serveTLS(t, mux, pki.ServerTLSConfig(pki.StaticCertificate(&serverCert), ca.RootPool(), false, nil))

	httpClient := &http.Client{Transport: &http.Transport{
		TLSClientConfig: pki.AgentTLSConfig(nil, ca.RootPool(), "127.0.0.1", nil),
	}}
	t.Cleanup(httpClient.CloseIdleConnections)
	f.client = fleetv1connect.NewEnrollmentServiceClient(httpClient, url)
	return f
}

// serveTLS serves handler over TLS on 127.0.0.1:0 until the test ends and
// returns the base URL. httptest.Server is not used because it adds a
// static certificate, which crypto/tls prefers over GetCertificate when the
// client sends no server name, as for an IP address.
func serveTLS(t *testing.T, handler http.Handler, config *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         config,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return "https://" + ln.Addr().String()
}

// newToken stores a token for agentID valid for an hour and returns it.
func (f *fixture) newToken(t *testing.T, agentID, name string) pki.BootstrapToken {
	t.Helper()
	token, err := pki.NewBootstrapToken(agentID, f.ca.RootFingerprint())
	if err != nil {
		t.Fatalf("NewBootstrapToken: %v", err)
	}
	f.tokens.add(store.Token{
		Hash:      token.Hash(),
		AgentID:   agentID,
		AgentName: name,
		CreatedAt: f.now,
		ExpiresAt: f.now.Add(time.Hour),
	})
	return token
}

func newCSR(t *testing.T, commonName string) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: commonName},
		DNSNames: []string{"requested.example.test"},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

func (f *fixture) enroll(token string, csr []byte) (*fleetv1.EnrollResponse, error) {
	resp, err := f.client.Enroll(context.Background(), connect.NewRequest(&fleetv1.EnrollRequest{Token: token, Csr: csr}))
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

func TestEnrollIssuesCertificate(t *testing.T) {
	f := newFixture(t)
	token := f.newToken(t, testAgentID, "sensor-1")
	key, csr := newCSR(t, "ignored")

	resp, err := f.enroll(token.Encode(), csr)
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}

	if resp.GetAgentId() != testAgentID {
		t.Errorf("agent id = %q, want %q", resp.GetAgentId(), testAgentID)
	}
	if resp.GetAgentName() != "sensor-1" {
		t.Errorf("agent name = %q, want sensor-1", resp.GetAgentName())
	}
	if want := []string{"127.0.0.1:7443", "[::1]:7443"}; !slices.Equal(resp.GetBridgeAddresses(), want) {
		t.Errorf("bridge addresses = %v, want %v", resp.GetBridgeAddresses(), want)
	}
	if !bytes.Equal(resp.GetRootCertificate(), f.ca.Root().Raw) {
		t.Error("root certificate is not the CA root")
	}
	if len(resp.GetCertificateChain()) != 2 {
		t.Fatalf("chain has %d certificates, want 2 (leaf, intermediate)", len(resp.GetCertificateChain()))
	}
	if !bytes.Equal(resp.GetCertificateChain()[1], f.ca.Intermediate().Raw) {
		t.Error("second chain element is not the intermediate")
	}

	cert, err := x509.ParseCertificate(resp.GetCertificateChain()[0])
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		t.Error("certificate public key is not the CSR's")
	}
	if id, err := pki.AgentIDFromCertificate(cert); err != nil || id != testAgentID {
		t.Errorf("certificate agent id = %q, %v; want %q", id, err, testAgentID)
	}
	if cert.Subject.CommonName != "sensor-1" {
		t.Errorf("common name = %q, want sensor-1", cert.Subject.CommonName)
	}
	if len(cert.DNSNames) != 0 {
		t.Errorf("certificate kept requested DNS names %v", cert.DNSNames)
	}
	if want := f.now.Add(time.Hour); !cert.NotAfter.Equal(want.Truncate(time.Second)) {
		t.Errorf("NotAfter = %v, want %v", cert.NotAfter, want)
	}

	agents := f.tokens.enrolled()
	if len(agents) != 1 {
		t.Fatalf("store recorded %d agents, want 1", len(agents))
	}
	got := agents[0]
	if got.ID != testAgentID || got.Name != "sensor-1" {
		t.Errorf("recorded agent %q %q, want %q sensor-1", got.ID, got.Name, testAgentID)
	}
	if got.CertificateSerial != cert.SerialNumber.Text(16) {
		t.Errorf("recorded serial %q, want %q", got.CertificateSerial, cert.SerialNumber.Text(16))
	}
	if !got.CertificateExpiresAt.Equal(cert.NotAfter) {
		t.Errorf("recorded expiry %v, want %v", got.CertificateExpiresAt, cert.NotAfter)
	}
	if !got.EnrolledAt.Equal(f.now) {
		t.Errorf("recorded enrollment time %v, want %v", got.EnrolledAt, f.now)
	}

	logs := f.logs.String()
	for _, want := range []string{`"message":"agent enrolled"`, testAgentID, cert.SerialNumber.Text(16)} {
		if !strings.Contains(logs, want) {
			t.Errorf("log %q lacks %q", logs, want)
		}
	}
}

func TestEnrollTokenSingleUse(t *testing.T) {
	f := newFixture(t)
	token := f.newToken(t, testAgentID, "sensor-1")
	_, csr := newCSR(t, "")

	if _, err := f.enroll(token.Encode(), csr); err != nil {
		t.Fatalf("first Enroll: %v", err)
	}
	_, err := f.enroll(token.Encode(), csr)
	if code := connect.CodeOf(err); code != connect.CodePermissionDenied {
		t.Fatalf("second Enroll: code %v (%v), want PermissionDenied", code, err)
	}
	var connectErr *connect.Error
	if errors.As(err, &connectErr) && connectErr.Message() != msgTokenInvalid {
		t.Errorf("message = %q, want %q", connectErr.Message(), msgTokenInvalid)
	}
	if n := len(f.tokens.enrolled()); n != 1 {
		t.Errorf("store recorded %d enrollments, want 1", n)
	}
}

func TestEnrollNameFallback(t *testing.T) {
	tests := []struct {
		name      string
		tokenName string
		csrName   string
		want      string
	}{
		{"token name wins", "sensor-1", "laptop", "sensor-1"},
		{"requested name without token name", "", "laptop", "laptop"},
		{"agent id without any name", "", "", testAgentID},
		{"agent id for an invalid requested name", "", "bad\x01name", testAgentID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			token := f.newToken(t, testAgentID, tt.tokenName)
			_, csr := newCSR(t, tt.csrName)

			resp, err := f.enroll(token.Encode(), csr)
			if err != nil {
				t.Fatalf("Enroll: %v", err)
			}
			if resp.GetAgentName() != tt.want {
				t.Errorf("agent name = %q, want %q", resp.GetAgentName(), tt.want)
			}
		})
	}
}

func TestEnrollRejections(t *testing.T) {
	other, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "other"), nil)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		// request returns the token and CSR to send.
		request     func(t *testing.T, f *fixture) (string, []byte)
		wantCode    connect.Code
		wantMessage string
		// wantConsumed is whether the stored token is used up after the
		// rejection.
		wantConsumed bool
	}{
		{
			name: "malformed token",
			request: func(t *testing.T, f *fixture) (string, []byte) {
				_, csr := newCSR(t, "")
				return "not-a-token", csr
			},
			wantCode:    connect.CodeInvalidArgument,
			wantMessage: "malformed bootstrap token: missing prefix",
		},
		{
			name: "token of another CA",
			request: func(t *testing.T, f *fixture) (string, []byte) {
				token, err := pki.NewBootstrapToken(testAgentID, other.RootFingerprint())
				if err != nil {
					t.Fatal(err)
				}
				f.tokens.add(store.Token{Hash: token.Hash(), AgentID: testAgentID, ExpiresAt: f.now.Add(time.Hour)})
				_, csr := newCSR(t, "")
				return token.Encode(), csr
			},
			wantCode:    connect.CodeFailedPrecondition,
			wantMessage: msgOtherCA,
		},
		{
			name: "unknown token",
			request: func(t *testing.T, f *fixture) (string, []byte) {
				token, err := pki.NewBootstrapToken(testAgentID, f.ca.RootFingerprint())
				if err != nil {
					t.Fatal(err)
				}
				_, csr := newCSR(t, "")
				return token.Encode(), csr
			},
			wantCode:    connect.CodePermissionDenied,
			wantMessage: msgTokenInvalid,
		},
		{
			name: "expired token",
			request: func(t *testing.T, f *fixture) (string, []byte) {
				token := f.newToken(t, testAgentID, "sensor-1")
				f.now = f.now.Add(2 * time.Hour)
				_, csr := newCSR(t, "")
				return token.Encode(), csr
			},
			wantCode:    connect.CodePermissionDenied,
			wantMessage: msgTokenInvalid,
		},
		{
			name: "missing CSR",
			request: func(t *testing.T, f *fixture) (string, []byte) {
				return f.newToken(t, testAgentID, "sensor-1").Encode(), nil
			},
			wantCode:    connect.CodeInvalidArgument,
			wantMessage: "request is empty",
		},
		{
			name: "CSR with bad signature",
			request: func(t *testing.T, f *fixture) (string, []byte) {
				_, csr := newCSR(t, "")
				csr[len(csr)-3] ^= 0xff
				return f.newToken(t, testAgentID, "sensor-1").Encode(), csr
			},
			wantCode:    connect.CodeInvalidArgument,
			wantMessage: "signature",
		},
		{
			name: "agent id edited in the token",
			request: func(t *testing.T, f *fixture) (string, []byte) {
				// The secret is stored for testAgentID; the token sent
				// carries the same secret under another agent id.
				real := f.newToken(t, testAgentID, "sensor-1")
				edited := editAgentID(t, real.Encode(), "11111111-2222-4333-8444-555555555555")
				_, csr := newCSR(t, "")
				return edited, csr
			},
			wantCode:     connect.CodePermissionDenied,
			wantMessage:  msgTokenInvalid,
			wantConsumed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			token, csr := tt.request(t, f)

			_, err := f.enroll(token, csr)
			if code := connect.CodeOf(err); code != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", code, err, tt.wantCode)
			}
			var connectErr *connect.Error
			if !errors.As(err, &connectErr) {
				t.Fatalf("error %v is not a *connect.Error", err)
			}
			if !strings.Contains(connectErr.Message(), tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", connectErr.Message(), tt.wantMessage)
			}
			if n := len(f.tokens.enrolled()); n != 0 {
				t.Errorf("store recorded %d agents, want none", n)
			}
			if parsed, err := pki.ParseBootstrapToken(token); err == nil {
				if got := f.tokens.used(parsed.Hash()); got != tt.wantConsumed {
					t.Errorf("token consumed = %v, want %v", got, tt.wantConsumed)
				}
			}
			if strings.Contains(f.logs.String(), strings.TrimPrefix(token, pki.TokenPrefix)) {
				t.Error("the log contains the token")
			}
			if !strings.Contains(f.logs.String(), `"message":"enrollment rejected"`) {
				t.Errorf("log %q lacks the rejection", f.logs.String())
			}
		})
	}
}

func TestEnrollStoreFailure(t *testing.T) {
	f := newFixture(t)
	f.tokens.upsertErr = errors.New("disk full")
	token := f.newToken(t, testAgentID, "sensor-1")
	_, csr := newCSR(t, "")

	_, err := f.enroll(token.Encode(), csr)
	if code := connect.CodeOf(err); code != connect.CodeInternal {
		t.Fatalf("code = %v (%v), want Internal", code, err)
	}
	if strings.Contains(err.Error(), "disk full") {
		t.Errorf("client error %q exposes the internal cause", err)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "disk full") {
		t.Errorf("log %q lacks the internal cause", logs)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ca, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "ca"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no CA", Config{Tokens: newFakeTokens()}},
		{"no token store", Config{CA: ca}},
		{"negative lifetime", Config{CA: ca, Tokens: newFakeTokens(), CertLifetime: -time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

// editAgentID returns the encoded token with its agent id replaced and its
// secret and fingerprint kept.
func editAgentID(t *testing.T, encoded, agentID string) string {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(encoded, pki.TokenPrefix))
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.MustParse(agentID)
	copy(payload[:16], id[:])
	return pki.TokenPrefix + base64.RawURLEncoding.EncodeToString(payload)
}
