package bridge_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/bridge"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	"github.com/decnet/decnet/pki"
)

// renewEnv runs a bridge server on a real pki.CA, with a renewer and an
// authorizer that know one agent and can revoke it.
type renewEnv struct {
	*testEnv
	ca       *pki.CA
	lifetime time.Duration

	mu      sync.Mutex
	revoked bool
	serials []string // serials presented in successful handshakes

	connects  atomic.Int32
	serverLog syncBuffer
	clientLog syncBuffer
}

func newRenewEnv(t *testing.T, lifetime time.Duration) *renewEnv {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &renewEnv{testEnv: newTestEnv(t), ca: ca, lifetime: lifetime}
}

func (e *renewEnv) Renew(_ context.Context, agentID string, csr []byte) ([]*x509.Certificate, error) {
	if err := e.authorize(context.Background(), agentID); err != nil {
		return nil, err
	}
	cert, err := e.ca.SignAgentCSR(csr, agentID, "sensor-1", e.lifetime)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", bridge.ErrInvalidRenewal, err)
	}
	return []*x509.Certificate{cert}, nil
}

func (e *renewEnv) authorize(_ context.Context, agentID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case agentID != testAgentID:
		return bridge.ErrAgentUnknown
	case e.revoked:
		return bridge.ErrAgentRevoked
	}
	return nil
}

func (e *renewEnv) revoke() {
	e.mu.Lock()
	e.revoked = true
	e.mu.Unlock()
}

func (e *renewEnv) handshakeSerials() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.serials...)
}

func (e *renewEnv) startServer(t *testing.T) *bridge.Server {
	t.Helper()
	serverCert, err := e.ca.IssueServerCertificate(nil, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tlsConf := pki.ServerTLSConfig(pki.StaticCertificate(&serverCert), e.ca.RootPool(), true, nil)
	// Runs after the bridge's own checks, for accepted handshakes only.
	tlsConf.VerifyConnection = func(cs tls.ConnectionState) error {
		e.mu.Lock()
		e.serials = append(e.serials, cs.PeerCertificates[0].SerialNumber.Text(16))
		e.mu.Unlock()
		return nil
	}
	srv, err := bridge.NewServer(bridge.ServerConfig{
		Addr:      "127.0.0.1:0",
		TLSConfig: tlsConf,
		AgentID:   pki.AgentIDFromCertificate,
		Authorize: e.authorize,
		Renewer:   e,
		Ingester:  e.ingester,
		OnConnect: func(string, *bridgev1.Hello) { e.connects.Add(1) },
		Logger:    zerolog.New(&e.serverLog),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server Run() = %v", err)
		}
	})
	return srv
}

// agentCertificate issues a certificate for agentID as enrollment does.
func agentCertificate(t *testing.T, ca *pki.CA, agentID string, lifetime time.Duration) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.SignAgentCSR(csr, agentID, "sensor-1", lifetime)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

// startClient runs a renewing client and returns it with its certificate
// holder and a function listing the certificates it persisted.
func (e *renewEnv) startClient(t *testing.T, srv *bridge.Server, cert *tls.Certificate) (*bridge.Client, *bridge.ClientCertificate, func() []*tls.Certificate) {
	t.Helper()
	holder := bridge.NewClientCertificate(cert)
	var (
		mu        sync.Mutex
		persisted []*tls.Certificate
	)
	client := e.testEnv.startClient(t, []string{srv.Addr().String()}, func(c *bridge.ClientConfig) {
		c.TLSConfig = pki.AgentTLSConfig(holder.GetClientCertificate, e.ca.RootPool(), "", nil)
		c.Renewal = &bridge.RenewalConfig{
			Certificate: holder,
			Roots:       e.ca.RootPool(),
			Persist: func(c *tls.Certificate) error {
				mu.Lock()
				defer mu.Unlock()
				persisted = append(persisted, c)
				return nil
			},
		}
		c.Logger = zerolog.New(&e.clientLog)
	})
	return client, holder, func() []*tls.Certificate {
		mu.Lock()
		defer mu.Unlock()
		return append([]*tls.Certificate(nil), persisted...)
	}
}

// waitFor polls cond until it holds or ctx ends. Renewals and log lines
// have no event to wait on.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestRenewalKeepsOneConnection issues six-second certificates and checks
// that events keep flowing across three renewals on one connection, that
// each renewal brings a new key and serial, and that the next handshake
// presents the renewed certificate.
func TestRenewalKeepsOneConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("renews three six-second certificates")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const lifetime = 6 * time.Second
	env := newRenewEnv(t, lifetime)
	srv := env.startServer(t)
	first := agentCertificate(t, env.ca, testAgentID, lifetime)
	client, holder, persisted := env.startClient(t, srv, first)

	// Events arrive while the renewals run.
	feedCtx, stopFeed := context.WithCancel(ctx)
	fed := make(chan int)
	go func() {
		n := 0
		for feedCtx.Err() == nil {
			appendEvents(t, env.spool, n, n+20)
			n += 20
			time.Sleep(50 * time.Millisecond)
		}
		fed <- n
	}()

	const renewals = 3
	waitFor(t, ctx, "three renewals", func() bool { return len(persisted()) >= renewals })
	stopFeed()
	total := <-fed
	env.ingester.waitDistinct(t, ctx, total)
	waitEmpty(t, ctx, env.spool)
	checkAllDelivered(t, env.ingester, total)

	if n := env.connects.Load(); n != 1 {
		t.Errorf("agent connected %d times, want 1: renewal must not reconnect", n)
	}
	if !client.Connected() {
		t.Error("client not connected after the renewals")
	}
	serials := map[string]bool{first.Leaf.SerialNumber.Text(16): true}
	for i, c := range persisted() {
		serial := c.Leaf.SerialNumber.Text(16)
		if serials[serial] {
			t.Errorf("renewal %d reused serial %s", i+1, serial)
		}
		serials[serial] = true
		if c.PrivateKey.(*ecdsa.PrivateKey).Equal(first.PrivateKey) {
			t.Errorf("renewal %d kept the enrollment key", i+1)
		}
		if id, err := pki.AgentIDFromCertificate(c.Leaf); err != nil || id != testAgentID {
			t.Errorf("renewal %d names agent %q (%v), want %s", i+1, id, err, testAgentID)
		}
	}
	if got := env.handshakeSerials(); len(got) != 1 || got[0] != first.Leaf.SerialNumber.Text(16) {
		t.Errorf("handshakes presented serials %v, want only the first %s", got, first.Leaf.SerialNumber.Text(16))
	}

	// A new handshake presents a renewed certificate, the one the holder
	// has now (or a later one, had another renewal run meanwhile).
	if n := srv.CloseAgent(testAgentID, "test reconnect"); n != 1 {
		t.Fatalf("CloseAgent() = %d, want 1", n)
	}
	waitFor(t, ctx, "the reconnect", func() bool { return env.connects.Load() == 2 })
	renewed := map[string]bool{}
	for _, c := range persisted() {
		renewed[c.Leaf.SerialNumber.Text(16)] = true
	}
	got := env.handshakeSerials()
	if last := got[len(got)-1]; !renewed[last] {
		t.Errorf("reconnect presented serial %s, want a renewed one of %v", last, renewed)
	}
	if holder.Load().Leaf == first.Leaf {
		t.Error("holder still has the first certificate")
	}
}

// TestDecommissionClosesAndRefuses revokes a connected agent: the live
// connection closes with the revocation code, the reconnect is refused in
// the handshake, and both sides log why.
func TestDecommissionClosesAndRefuses(t *testing.T) {
	ctx := testContext(t)
	env := newRenewEnv(t, time.Hour)
	srv := env.startServer(t)
	client, _, _ := env.startClient(t, srv, agentCertificate(t, env.ca, testAgentID, time.Hour))
	waitFor(t, ctx, "the connection", client.Connected)

	env.revoke()
	if n := srv.CloseRevoked(testAgentID); n != 1 {
		t.Fatalf("CloseRevoked() = %d, want 1", n)
	}
	waitFor(t, ctx, "the disconnect", func() bool { return !client.Connected() })

	for _, want := range []string{
		// The live connection, closed with the revocation code.
		"bridge connection rejected: certificate revoked, agent decommissioned",
	} {
		waitFor(t, ctx, "client log "+want, func() bool { return strings.Contains(env.clientLog.String(), want) })
	}
	// The reconnect is refused in the handshake, naming the agent.
	waitFor(t, ctx, "the refused reconnect", func() bool {
		return strings.Contains(env.serverLog.String(), "bridge handshake rejected: agent revoked")
	})
	for _, line := range strings.Split(env.serverLog.String(), "\n") {
		if strings.Contains(line, "bridge handshake rejected: agent revoked") && !strings.Contains(line, testAgentID) {
			t.Errorf("rejection log line does not name the agent: %s", line)
		}
	}
	waitFor(t, ctx, "a second client refusal", func() bool {
		return strings.Count(env.clientLog.String(), "bridge connection rejected: certificate revoked, agent decommissioned") >= 2
	})
	if n := env.connects.Load(); n != 1 {
		t.Errorf("agent connected %d times, want 1: the reconnect must be refused", n)
	}
}

// TestRefusalsAreDistinct dials with each kind of refused certificate and
// checks that server and client each log a message of their own.
func TestRefusalsAreDistinct(t *testing.T) {
	const unknownAgent = "0190a6e4-5c1e-7c3a-9f00-0000000000ff"
	otherCA, err := pki.LoadOrCreateCA(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		cert         func(env *renewEnv) *tls.Certificate
		revoke       bool
		server       string
		client       string
		namesAgentID bool
	}{
		{"revoked", func(env *renewEnv) *tls.Certificate { return agentCertificate(t, env.ca, testAgentID, time.Hour) }, true,
			"bridge handshake rejected: agent revoked", "bridge connection rejected: certificate revoked, agent decommissioned", true},
		{"expired", func(env *renewEnv) *tls.Certificate { return agentCertificate(t, env.ca, testAgentID, time.Nanosecond) }, false,
			"bridge handshake rejected: certificate expired", "bridge connection rejected: certificate expired", true},
		{"unknown agent", func(env *renewEnv) *tls.Certificate { return agentCertificate(t, env.ca, unknownAgent, time.Hour) }, false,
			"bridge handshake rejected: agent unknown", "bridge connection rejected: agent unknown to the control plane", true},
		{"other CA", func(*renewEnv) *tls.Certificate { return agentCertificate(t, otherCA, testAgentID, time.Hour) }, false,
			"bridge handshake rejected: certificate from an unknown CA", "bridge connection rejected: certificate not issued by this control plane's CA", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			env := newRenewEnv(t, time.Hour)
			if tt.revoke {
				env.revoke()
			}
			srv := env.startServer(t)
			env.startClient(t, srv, tt.cert(env))

			waitFor(t, ctx, "the server log", func() bool { return strings.Contains(env.serverLog.String(), tt.server) })
			waitFor(t, ctx, "the client log", func() bool { return strings.Contains(env.clientLog.String(), tt.client) })
			if named := strings.Contains(env.serverLog.String(), testAgentID) || strings.Contains(env.serverLog.String(), unknownAgent); named != tt.namesAgentID {
				t.Errorf("server log names the agent: %v, want %v\n%s", named, tt.namesAgentID, env.serverLog.String())
			}
			for _, other := range tests {
				if other.name != tt.name && (strings.Contains(env.serverLog.String(), other.server) || strings.Contains(env.clientLog.String(), other.client)) {
					t.Errorf("logs contain the %q message too", other.name)
				}
			}
			if n := env.connects.Load(); n != 0 {
				t.Errorf("refused agent connected %d times", n)
			}
		})
	}
}
