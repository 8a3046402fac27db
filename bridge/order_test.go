package bridge_test

import (
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/bridge"
)

// TestIngestOrderAcrossReconnect checks that the server ingests one
// agent's events in spool order. Batches resent after a server restart
// and after failed Ingest calls repeat earlier events, but the order in
// which each event is first seen equals the order of the spool.
func TestIngestOrderAcrossReconnect(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)

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
	appendEvents(t, env.spool, 0, total/2)
	env.startClient(t, []string{addr}, func(c *bridge.ClientConfig) { c.MaxInFlight = 8 })

	select {
	case <-reached:
	case <-ctx.Done():
		t.Fatal("first server never stored enough events")
	}
	stop()
	if got := len(env.ingester.ids()); got >= total/2 {
		t.Fatalf("first server stored all %d events before it stopped; the test needs a stop mid-stream", got)
	}

	// The restarted server fails its first calls, so the client resends
	// the same batches once more on the new connection.
	env.ingester.mu.Lock()
	env.ingester.failures = 2
	env.ingester.mu.Unlock()
	env.startServer(t, addr, zerolog.Nop(), nil)
	appendEvents(t, env.spool, total/2, total)
	env.ingester.waitDistinct(t, ctx, total)
	waitEmpty(t, ctx, env.spool)

	env.ingester.mu.Lock()
	order := append([]string(nil), env.ingester.order...)
	env.ingester.mu.Unlock()

	if len(order) <= total {
		t.Errorf("ingester received %d events in all, want more than %d since some were resent", len(order), total)
	}
	firstSeen := make([]string, 0, total)
	seen := make(map[string]bool, total)
	for _, id := range order {
		if !seen[id] {
			seen[id] = true
			firstSeen = append(firstSeen, id)
		}
	}
	want := makeEvents(0, total)
	if len(firstSeen) != len(want) {
		t.Fatalf("ingester saw %d distinct events, want %d", len(firstSeen), len(want))
	}
	for i, ev := range want {
		if firstSeen[i] != ev.Id {
			t.Fatalf("event %d first seen is %s, want %s in spool order", i, firstSeen[i], ev.Id)
		}
	}
}
