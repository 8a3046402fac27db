package bridge_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/bridge"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// blockingIngester blocks every Ingest call until release is closed, then
// passes the events on to next: a control plane that accepts batches and
// never acknowledges them while it is stalled.
type blockingIngester struct {
	next    *fakeIngester
	entered chan struct{}
	once    sync.Once
	release chan struct{}
}

func (b *blockingIngester) Ingest(ctx context.Context, agentID string, events []*eventv1.Event) (int, int, error) {
	b.once.Do(func() { close(b.entered) })
	select {
	case <-b.release:
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	return b.next.Ingest(ctx, agentID, events)
}

// countingSource counts the Read calls of the bridge client.
type countingSource struct {
	bridge.Source
	reads atomic.Int64
}

func (c *countingSource) Read(ctx context.Context, maxEvents, maxBytes int) ([]*eventv1.Event, bridge.Position, error) {
	c.reads.Add(1)
	return c.Source.Read(ctx, maxEvents, maxBytes)
}

// TestStalledServerBoundsClientReads checks the client's backpressure:
// while the server never acknowledges, the client reads at most
// MaxInFlight batches from the spool, and the rest stays on disk until
// the server resumes.
func TestStalledServerBoundsClientReads(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)
	ingester := &blockingIngester{next: env.ingester, entered: make(chan struct{}), release: make(chan struct{})}

	srv, err := bridge.NewServer(bridge.ServerConfig{
		Addr:      "127.0.0.1:0",
		TLSConfig: env.ca.serverTLS(t),
		AgentID:   agentIDFromCert,
		Ingester:  ingester,
		Logger:    zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("NewServer() = %v", err)
	}
	srvCtx, stopServer := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(srvCtx) }()
	t.Cleanup(func() {
		stopServer()
		if err := <-srvDone; err != nil {
			t.Errorf("server Run() = %v", err)
		}
	})

	const total, batchSize, maxInFlight = 2000, 50, 3
	appendEvents(t, env.spool, 0, total)
	source := &countingSource{Source: env.spool}
	env.startClient(t, []string{srv.Addr().String()}, func(c *bridge.ClientConfig) {
		c.Source = source
		c.BatchSize = batchSize
		c.MaxInFlight = maxInFlight
	})

	select {
	case <-ingester.entered:
	case <-ctx.Done():
		t.Fatal("server never received a batch")
	}
	// The client reads the next batch only after it took a window slot,
	// so once it has filled the window its reads stop at maxInFlight.
	for source.reads.Load() < maxInFlight {
		select {
		case <-ctx.Done():
			t.Fatalf("client read %d batches, want %d", source.reads.Load(), maxInFlight)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if got := source.reads.Load(); got != maxInFlight {
		t.Errorf("client read %d batches from a stalled server, want %d", got, maxInFlight)
	}
	if got := env.spool.Pending(); got != total {
		t.Errorf("spool pending = %d while the server is stalled, want %d", got, total)
	}

	close(ingester.release)
	env.ingester.waitDistinct(t, ctx, total)
	waitEmpty(t, ctx, env.spool)
	checkAllDelivered(t, env.ingester, total)
}
