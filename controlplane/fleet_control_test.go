package controlplane

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/bridge"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// controlPKI is a throwaway CA with a bridge server certificate for
// 127.0.0.1 and one agent certificate whose common name is the agent id.
type controlPKI struct {
	server, agent tls.Certificate
	pool          *x509.CertPool
}

func newControlPKI(t *testing.T, agentID string) *controlPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "control test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}

	issue := func(serial int64, tmpl *x509.Certificate) tls.Certificate {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = caTmpl.NotBefore, caTmpl.NotAfter
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	}

	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &controlPKI{
		server: issue(2, &x509.Certificate{
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}),
		agent: issue(3, &x509.Certificate{
			Subject:     pkix.Name{CommonName: agentID},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}),
		pool: pool,
	}
}

type discardIngester struct{}

func (discardIngester) Ingest(context.Context, string, []*eventv1.Event) (int, int, error) {
	return 0, 0, nil
}

// agentSide is a bridge.AgentControl that applies configurations in
// memory and passes each applied version on a channel.
type agentSide struct {
	mu      sync.Mutex
	applied uint64
	dropped uint64
	applies chan uint64
}

func (a *agentSide) Heartbeat() *bridgev1.Heartbeat {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &bridgev1.Heartbeat{Version: "1.2.3", AppliedConfigVersion: a.applied, EmitDroppedEvents: a.dropped}
}

func (a *agentSide) ApplyConfig(_ context.Context, cfg *bridgev1.DesiredConfig) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if string(cfg.GetDocument()) == "invalid" {
		return errors.New("invalid decoy configuration")
	}
	if cfg.GetVersion() != a.applied {
		a.applied = cfg.GetVersion()
		a.applies <- a.applied
	}
	return nil
}

func (a *agentSide) RunCommand(context.Context, *bridgev1.Command) error { return nil }

func (a *agentSide) addDropped(n uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dropped += n
}

// controlFixture is a bridge server wired to the control channel and the
// status board as New wires them, on a fresh SQLite store.
type controlFixture struct {
	store   *sqlite.Store
	control *control
	board   *statusBoard
	bridge  *bridge.Server
	pki     *controlPKI
	changes chan StatusChange
}

func newControlFixture(t *testing.T) *controlFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.UpsertAgent(ctx, store.Agent{ID: fleetAgent, Name: "edge-9", EnrolledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	f := &controlFixture{store: st, pki: newControlPKI(t, fleetAgent), changes: make(chan StatusChange, 64)}
	publisher := topics.New[StatusChange]()
	if _, err := publisher.Subscribe(StatusSubject(fleetAgent), func(_ string, c StatusChange) { f.changes <- c }); err != nil {
		t.Fatal(err)
	}
	f.board = newStatusBoard(time.Now, publisher, nil, zerolog.Nop())
	f.control = newControl(st, f.board, time.Now, zerolog.Nop())
	f.bridge, err = bridge.NewServer(bridge.ServerConfig{
		Addr: "127.0.0.1:0",
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{f.pki.server},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    f.pki.pool,
		},
		AgentID:      func(c *x509.Certificate) (string, error) { return c.Subject.CommonName, nil },
		Ingester:     discardIngester{},
		Control:      f.control,
		OnConnect:    func(id string, _ *bridgev1.Hello) { f.board.connected(id) },
		OnDisconnect: f.board.disconnected,
		Logger:       zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.control.send = f.bridge.Send

	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.bridge.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bridge Run() = %v", err)
		}
	})
	return f
}

// startAgent runs a bridge client for the fixture's agent until the
// returned stop function is called.
func (f *controlFixture) startAgent(t *testing.T, side *agentSide) (stop func()) {
	t.Helper()
	sp := emptySource{}
	c, err := bridge.NewClient(bridge.ClientConfig{
		Addresses:         []string{f.bridge.Addr().String()},
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{f.pki.agent}, RootCAs: f.pki.pool},
		Source:            sp,
		Control:           side,
		HeartbeatInterval: time.Hour,
		BackoffMin:        10 * time.Millisecond,
		BackoffMax:        100 * time.Millisecond,
		Logger:            zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("client Run() = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// emptySource is a bridge.Source without events.
type emptySource struct{}

func (emptySource) Read(ctx context.Context, _, _ int) ([]*eventv1.Event, bridge.Position, error) {
	<-ctx.Done()
	return nil, 0, ctx.Err()
}
func (emptySource) Commit(bridge.Position) error { return nil }
func (emptySource) Rewind() error                { return nil }

func waitFor[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func waitStatus(t *testing.T, ctx context.Context, ch <-chan StatusChange, want apiv1.AgentStatus) StatusChange {
	t.Helper()
	c := waitFor(t, ctx, ch, want.String())
	if c.Status != want {
		t.Fatalf("status change %+v, want %s", c, want)
	}
	return c
}

// waitApplied polls the store until the agent's reported applied
// version and error match; the store is written after the ack arrives.
func waitApplied(t *testing.T, ctx context.Context, st store.Store, applied uint64, applyError string) {
	t.Helper()
	for {
		cfg, err := st.GetAgentConfig(ctx, fleetAgent)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.AppliedVersion == applied && cfg.ApplyError == applyError {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("store reports applied %d error %q, want %d and %q", cfg.AppliedVersion, cfg.ApplyError, applied, applyError)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func testTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStatusOverBridge(t *testing.T) {
	ctx := testTimeout(t)
	f := newControlFixture(t)
	side := &agentSide{applies: make(chan uint64, 8)}
	stop := f.startAgent(t, side)

	waitStatus(t, ctx, f.changes, apiv1.AgentStatus_AGENT_STATUS_ONLINE)
	// The first heartbeat opens the control stream; commands work once
	// it arrived, which the store's last-seen version shows.
	waitVersion(t, ctx, f.store, "1.2.3")

	side.addDropped(4)
	if _, err := f.control.sendCommand(fleetAgent, bridgev1.CommandKind_COMMAND_KIND_SEND_HEARTBEAT); err != nil {
		t.Fatalf("send heartbeat command: %v", err)
	}
	degraded := waitStatus(t, ctx, f.changes, apiv1.AgentStatus_AGENT_STATUS_DEGRADED)
	if degraded.Reason != "events dropped" {
		t.Errorf("degraded reason = %q, want %q", degraded.Reason, "events dropped")
	}

	stop()
	offline := waitStatus(t, ctx, f.changes, apiv1.AgentStatus_AGENT_STATUS_OFFLINE)
	if offline.Reason != "disconnected" || offline.Previous != apiv1.AgentStatus_AGENT_STATUS_DEGRADED {
		t.Errorf("offline change = %+v, want disconnected after degraded", offline)
	}
	state := f.board.AgentStatus(context.Background(), fleetAgent)
	status, last := state.Status, state.Heartbeat
	if status != apiv1.AgentStatus_AGENT_STATUS_OFFLINE || last.GetEmitDroppedEvents() != 4 {
		t.Errorf("AgentStatus = %s with last heartbeat %v, want offline with 4 dropped events", status, last)
	}
}

// waitVersion polls the store until the agent's recorded version is want.
func waitVersion(t *testing.T, ctx context.Context, st store.Store, want string) {
	t.Helper()
	for {
		a, err := st.GetAgent(ctx, fleetAgent)
		if err != nil {
			t.Fatal(err)
		}
		if a.Version == want && !a.LastSeen.IsZero() {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("agent version %q last seen %v, want %q and a last-seen time", a.Version, a.LastSeen, want)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestConfigPushOverBridge(t *testing.T) {
	ctx := testTimeout(t)
	f := newControlFixture(t)
	side := &agentSide{applies: make(chan uint64, 8)}

	// Set while the agent is away: pushed on its first heartbeat.
	if _, err := f.store.SetDesiredConfig(ctx, fleetAgent, []byte("v1"), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.control.configChanged(ctx, fleetAgent); err != nil {
		t.Fatalf("configChanged without a connection: %v", err)
	}
	stop := f.startAgent(t, side)
	if v := waitFor(t, ctx, side.applies, "version 1"); v != 1 {
		t.Fatalf("agent applied version %d, want 1", v)
	}
	waitApplied(t, ctx, f.store, 1, "")

	// Set while connected: pushed at once.
	if _, err := f.store.SetDesiredConfig(ctx, fleetAgent, []byte("v2"), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.control.configChanged(ctx, fleetAgent); err != nil {
		t.Fatalf("configChanged: %v", err)
	}
	if v := waitFor(t, ctx, side.applies, "version 2"); v != 2 {
		t.Fatalf("agent applied version %d, want 2", v)
	}
	waitApplied(t, ctx, f.store, 2, "")

	// Pushing the applied version again is acknowledged without applying.
	if err := f.control.configChanged(ctx, fleetAgent); err != nil {
		t.Fatalf("configChanged again: %v", err)
	}

	// A rejected version is recorded with the agent's error, and the
	// applied version stays.
	if _, err := f.store.SetDesiredConfig(ctx, fleetAgent, []byte("invalid"), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.control.configChanged(ctx, fleetAgent); err != nil {
		t.Fatalf("configChanged: %v", err)
	}
	waitApplied(t, ctx, f.store, 2, "invalid decoy configuration")

	// After a reconnect the agent reports version 2 while 4 is desired,
	// so the control plane pushes 4 without being asked.
	stop()
	waitAgentGone(t, ctx, f.bridge)
	if _, err := f.store.SetDesiredConfig(ctx, fleetAgent, []byte("v4"), time.Now()); err != nil {
		t.Fatal(err)
	}
	f.startAgent(t, side)
	if v := waitFor(t, ctx, side.applies, "version 4"); v != 4 {
		t.Fatalf("agent applied version %d after reconnect, want 4", v)
	}
	waitApplied(t, ctx, f.store, 4, "")
	select {
	case v := <-side.applies:
		t.Errorf("agent applied version %d again, want each version once", v)
	default:
	}
}

// waitAgentGone polls until the server has no control stream for the
// agent.
func waitAgentGone(t *testing.T, ctx context.Context, srv *bridge.Server) {
	t.Helper()
	probe := &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_Command{Command: &bridgev1.Command{}}}
	for !errors.Is(srv.Send(fleetAgent, probe), bridge.ErrNoControlStream) {
		select {
		case <-ctx.Done():
			t.Fatal("control stream still open after the agent stopped")
		case <-time.After(5 * time.Millisecond):
		}
	}
}
