package bridge_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/spool"
	"github.com/decnet/decnet/bridge"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

const testAgentID = "0190a6e4-5c1e-7c3a-9f00-000000000001"

// fakeIngester records every event id it receives and deduplicates them,
// as the control-plane store does.
type fakeIngester struct {
	mu       sync.Mutex
	seen     map[string]int
	agentIDs map[string]bool
	// order lists the ids of every successful call in call order,
	// duplicates included.
	order []string
	// failures is how many Ingest calls fail before the next succeeds.
	failures int
	// onIngest runs after each successful call with the number of
	// distinct ids so far.
	onIngest func(distinct int)
	changed  chan struct{}
}

func newFakeIngester() *fakeIngester {
	return &fakeIngester{seen: map[string]int{}, agentIDs: map[string]bool{}, changed: make(chan struct{})}
}

func (f *fakeIngester) Ingest(_ context.Context, agentID string, events []*eventv1.Event) (stored, duplicates int, err error) {
	f.mu.Lock()
	if f.failures > 0 {
		f.failures--
		f.mu.Unlock()
		return 0, 0, errors.New("store unavailable")
	}
	for _, ev := range events {
		if f.seen[ev.Id] == 0 {
			stored++
		} else {
			duplicates++
		}
		f.seen[ev.Id]++
		f.agentIDs[ev.AgentId] = true
		f.order = append(f.order, ev.Id)
	}
	if agentID != testAgentID {
		f.agentIDs["call:"+agentID] = true
	}
	distinct := len(f.seen)
	hook := f.onIngest
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()

	if hook != nil {
		hook(distinct)
	}
	return stored, duplicates, nil
}

// waitDistinct blocks until the ingester has seen n distinct ids.
func (f *fakeIngester) waitDistinct(t testing.TB, ctx context.Context, n int) {
	t.Helper()
	for {
		f.mu.Lock()
		got, changed := len(f.seen), f.changed
		f.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("ingester saw %d distinct events, want %d", got, n)
		}
	}
}

func (f *fakeIngester) ids() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.seen))
	for k, v := range f.seen {
		out[k] = v
	}
	return out
}

// syncBuffer is a log sink that tests may read while goroutines write.
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

type testEnv struct {
	ca       *testCA
	ingester *fakeIngester
	spool    *spool.Spool
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	sp, err := spool.Open(spool.Config{Dir: t.TempDir(), SegmentBytes: 64 << 10, MaxBytes: 64 << 20, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return &testEnv{ca: newTestCA(t, "decnet test CA"), ingester: newFakeIngester(), spool: sp}
}

// startServer runs a server on addr until the returned stop function is
// called. Stop waits for Run to return and checks its result.
func (e *testEnv) startServer(t testing.TB, addr string, log zerolog.Logger, onConnect func(string, *bridgev1.Hello)) (*bridge.Server, func()) {
	t.Helper()
	srv, err := bridge.NewServer(bridge.ServerConfig{
		Addr:      addr,
		TLSConfig: e.ca.serverTLS(t),
		AgentID:   agentIDFromCert,
		Ingester:  e.ingester,
		OnConnect: onConnect,
		Logger:    log,
	})
	if err != nil {
		t.Fatalf("NewServer() = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server Run() = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return srv, stop
}

func (e *testEnv) startClient(t testing.TB, addrs []string, mutate func(*bridge.ClientConfig)) *bridge.Client {
	t.Helper()
	cfg := bridge.ClientConfig{
		Addresses:   addrs,
		TLSConfig:   e.ca.clientTLS(t, testAgentID, e.ca),
		Source:      e.spool,
		Hello:       &bridgev1.Hello{Version: "test", Name: "sensor-1"},
		BatchSize:   50,
		BackoffMin:  10 * time.Millisecond,
		BackoffMax:  100 * time.Millisecond,
		DialTimeout: 2 * time.Second,
		Logger:      zerolog.Nop(),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := bridge.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("client Run() = %v", err)
		}
	})
	return c
}

func makeEvents(from, to int) []*eventv1.Event {
	evs := make([]*eventv1.Event, 0, to-from)
	for i := from; i < to; i++ {
		evs = append(evs, &eventv1.Event{
			Id:      fmt.Sprintf("event-%06d", i),
			AgentId: "forged-agent-id",
			Service: "ssh",
			Kind:    "auth.attempt",
			Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{Principal: "root", Secret: []byte("hunter2")}},
		})
	}
	return evs
}

func appendEvents(t testing.TB, sp *spool.Spool, from, to int) {
	t.Helper()
	for i := from; i < to; i += 100 {
		if err := sp.Append(makeEvents(i, min(i+100, to))); err != nil {
			t.Fatalf("Append() = %v", err)
		}
	}
}

// waitEmpty blocks until the spool holds no uncommitted events. Commits
// follow acks asynchronously, so there is nothing to wait on but polling.
func waitEmpty(t testing.TB, ctx context.Context, sp *spool.Spool) {
	t.Helper()
	for sp.Pending() != 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("spool still holds %d events", sp.Pending())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func checkAllDelivered(t *testing.T, ing *fakeIngester, n int) {
	t.Helper()
	seen := ing.ids()
	if len(seen) != n {
		t.Errorf("ingester saw %d distinct ids, want %d", len(seen), n)
	}
	for _, ev := range makeEvents(0, n) {
		if seen[ev.Id] == 0 {
			t.Fatalf("event %s never arrived", ev.Id)
		}
	}
}

func TestRoundTripSpoolToIngester(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)

	var hellos sync.Map
	srv, _ := env.startServer(t, "127.0.0.1:0", zerolog.Nop(), func(id string, h *bridgev1.Hello) { hellos.Store(id, h.GetName()) })

	const total = 3000
	appendEvents(t, env.spool, 0, total/2)
	client := env.startClient(t, []string{srv.Addr().String()}, nil)
	appendEvents(t, env.spool, total/2, total)

	env.ingester.waitDistinct(t, ctx, total)
	waitEmpty(t, ctx, env.spool)

	checkAllDelivered(t, env.ingester, total)
	env.ingester.mu.Lock()
	agentIDs := env.ingester.agentIDs
	env.ingester.mu.Unlock()
	if len(agentIDs) != 1 || !agentIDs[testAgentID] {
		t.Errorf("events carried agent ids %v, want only %s from the certificate", agentIDs, testAgentID)
	}
	if name, _ := hellos.Load(testAgentID); name != "sensor-1" {
		t.Errorf("OnConnect got name %v for %s, want sensor-1", name, testAgentID)
	}
	if !client.Connected() {
		t.Error("Connected() = false with a live server")
	}
}

func TestServerRestartMidStream(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)

	// Stop the first server once it has stored some but not all events.
	const total, stopAfter = 4000, 1000
	reached := make(chan struct{})
	var once sync.Once
	env.ingester.onIngest = func(distinct int) {
		if distinct >= stopAfter {
			once.Do(func() { close(reached) })
		}
	}

	srv, stop := env.startServer(t, "127.0.0.1:0", zerolog.Nop(), nil)
	addr := srv.Addr().String()
	appendEvents(t, env.spool, 0, total)
	env.startClient(t, []string{addr}, nil)

	select {
	case <-reached:
	case <-ctx.Done():
		t.Fatal("first server never stored enough events")
	}
	stop()
	if got := len(env.ingester.ids()); got >= total {
		t.Fatalf("first server stored all %d events before it stopped; the test needs a stop mid-stream", got)
	}

	// Same port, same store: the client resends what was not acked.
	env.startServer(t, addr, zerolog.Nop(), nil)
	env.ingester.waitDistinct(t, ctx, total)
	waitEmpty(t, ctx, env.spool)

	checkAllDelivered(t, env.ingester, total)
}

func TestIngestFailureResends(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)
	env.ingester.failures = 2

	srv, _ := env.startServer(t, "127.0.0.1:0", zerolog.Nop(), nil)
	const total = 500
	appendEvents(t, env.spool, 0, total)
	env.startClient(t, []string{srv.Addr().String()}, nil)

	env.ingester.waitDistinct(t, ctx, total)
	waitEmpty(t, ctx, env.spool)
	checkAllDelivered(t, env.ingester, total)
}

func TestClientTriesNextAddress(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)

	// A UDP socket that never replies simulates a dead replica.
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })

	srv, _ := env.startServer(t, "127.0.0.1:0", zerolog.Nop(), nil)
	const total = 200
	appendEvents(t, env.spool, 0, total)
	env.startClient(t, []string{dead.LocalAddr().String(), srv.Addr().String()}, func(c *bridge.ClientConfig) {
		c.DialTimeout = 300 * time.Millisecond
	})

	env.ingester.waitDistinct(t, ctx, total)
	checkAllDelivered(t, env.ingester, total)
}

func TestServerRejectsBadClientCertificates(t *testing.T) {
	env := newTestEnv(t)
	other := newTestCA(t, "some other CA")

	noAgentID := env.ca.clientTLS(t, testAgentID, env.ca)
	noAgentID.Certificates = []tls.Certificate{env.ca.issue(t, &x509.Certificate{
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})}

	tests := []struct {
		name   string
		tls    func() *tls.Config
		reason string
	}{
		{"no certificate", func() *tls.Config { return &tls.Config{RootCAs: env.ca.pool} }, bridge.ErrNoClientCertificate.Error()},
		{"certificate from another CA", func() *tls.Config {
			// GetClientCertificate sends the certificate even though the
			// server names only its own CA as acceptable, as an attacker
			// would.
			cfg := other.clientTLS(t, testAgentID, env.ca)
			cert := cfg.Certificates[0]
			cfg.Certificates = nil
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
			return cfg
		}, "certificate signed by unknown authority"},
		{"certificate from another CA, not offered", func() *tls.Config {
			return other.clientTLS(t, testAgentID, env.ca)
		}, bridge.ErrNoClientCertificate.Error()},
		{"certificate without agent id", func() *tls.Config { return noAgentID }, "no agent URI SAN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			srv, _ := env.startServer(t, "127.0.0.1:0", zerolog.New(&logs), nil)

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			cfg := tt.tls()
			cfg.NextProtos = []string{bridge.ALPN}
			local, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer local.Close()
			tr := &quic.Transport{Conn: local}
			defer tr.Close()

			err = dialAndExchange(ctx, tr, srv.Addr(), cfg)
			if err == nil {
				t.Fatal("bridge session succeeded with a bad client certificate")
			}

			got := logs.String()
			for _, want := range []string{"bridge handshake rejected", tt.reason, local.LocalAddr().String()} {
				if !strings.Contains(got, want) {
					t.Errorf("server log %q does not contain %q", got, want)
				}
			}
			if n := len(env.ingester.ids()); n != 0 {
				t.Errorf("ingester received %d events from a rejected client", n)
			}
		})
	}
}

// dialAndExchange dials, sends Hello and waits for Welcome. In TLS 1.3 the
// client finishes its handshake before the server has checked the client
// certificate, so a rejection may surface only on the first read.
func dialAndExchange(ctx context.Context, tr *quic.Transport, addr net.Addr, cfg *tls.Config) error {
	conn, err := tr.Dial(ctx, addr, cfg, &quic.Config{})
	if err != nil {
		return err
	}
	defer conn.CloseWithError(0, "")

	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	if err := bridge.WriteFrame(stream, &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_Hello{Hello: &bridgev1.Hello{}}}); err != nil {
		return err
	}
	var frame bridgev1.ServerFrame
	return bridge.ReadFrame(stream, &frame)
}

func TestCloseAgent(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)
	connected := make(chan struct{}, 8)
	srv, _ := env.startServer(t, "127.0.0.1:0", zerolog.Nop(), func(string, *bridgev1.Hello) { connected <- struct{}{} })
	env.startClient(t, []string{srv.Addr().String()}, nil)

	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatal("agent never connected")
	}
	if n := srv.CloseAgent(testAgentID, "revoked"); n != 1 {
		t.Fatalf("CloseAgent() = %d, want 1", n)
	}
	if n := srv.CloseAgent("0190a6e4-5c1e-7c3a-9f00-00000000dead", "revoked"); n != 0 {
		t.Errorf("CloseAgent() of an unknown agent = %d, want 0", n)
	}

	// The client reconnects, because its certificate is still valid.
	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatal("agent never reconnected")
	}
}

func BenchmarkBridgeThroughput(b *testing.B) {
	env := newTestEnv(b)
	srv, _ := env.startServer(b, "127.0.0.1:0", zerolog.Nop(), nil)
	env.startClient(b, []string{srv.Addr().String()}, func(c *bridge.ClientConfig) { c.BatchSize = 500 })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	b.ResetTimer()
	start := time.Now()
	appendEvents(b, env.spool, 0, b.N)
	env.ingester.waitDistinct(b, ctx, b.N)
	elapsed := time.Since(start)
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
