//go:build integration && bench

package bench

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/postgres"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// growthSamples is how many ingest batches and list calls each level
// measures.
const growthSamples = 50

// TestGrowthPostgres fills one PostgreSQL store to each level of
// -bench.growth and measures there the commit of 500-event batches and
// ListEvents through the store, one call at a time.
func TestGrowthPostgres(t *testing.T) {
	ctx := ctxT(t)
	st, err := postgres.Open(ctx, startPostgres(t), zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	g := newGenerator(5)

	stored := 0
	for _, level := range growthLevels(t) {
		fill(ctx, t, st, g, level-stored)
		stored = level

		var commits latencies
		for range growthSamples {
			b := g.batch(batchSize)
			t0 := time.Now()
			if _, err := st.IngestEvents(ctx, agentID, b, t0); err != nil {
				t.Fatalf("IngestEvents: %v", err)
			}
			commits = append(commits, time.Since(t0))
		}
		stored += growthSamples * batchSize

		deep := deepToken(ctx, t, st, nil)
		queries := []struct {
			name string
			q    func(i int) store.EventQuery
		}{
			{"first page", func(int) store.EventQuery { return store.EventQuery{} }},
			{"deep page", func(int) store.EventQuery { return store.EventQuery{PageToken: deep} }},
			{"by source", func(i int) store.EventQuery {
				return store.EventQuery{Filter: &apiv1.EventFilter{SourceAddress: g.addr[i%sources]}}
			}},
		}
		t.Logf("level %d: ingest batch of %d %s", level, batchSize, commits.summary())
		for _, q := range queries {
			var lat latencies
			for i := range growthSamples {
				t0 := time.Now()
				p, err := st.ListEvents(ctx, q.q(i))
				if err != nil {
					t.Fatalf("ListEvents %s: %v", q.name, err)
				}
				if len(p.Items) == 0 {
					t.Fatalf("ListEvents %s: empty page", q.name)
				}
				lat = append(lat, time.Since(t0))
			}
			t.Logf("level %d: ListEvents %-10s %s", level, q.name, lat.summary())
		}
	}
}
