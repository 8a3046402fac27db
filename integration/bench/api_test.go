//go:build integration && bench

package bench

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/api"
	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/ingest"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/postgres"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// fillBatch is the batch size used to pre-fill a store: far above the
// bridge's, because only the fill speed matters here.
const fillBatch = 5000

// fill ingests n events through IngestEvents in big batches.
func fill(ctx context.Context, t *testing.T, st store.Store, g *generator, n int) {
	t.Helper()
	start := time.Now()
	for done := 0; done < n; {
		k := min(fillBatch, n-done)
		if _, err := st.IngestEvents(ctx, agentID, g.batch(k), time.Now()); err != nil {
			t.Fatalf("fill: %v", err)
		}
		done += k
	}
	t.Logf("filled %d events in %s", n, time.Since(start).Round(time.Millisecond))
}

// deepDepth is how many events the deep page skips.
const deepDepth = 10_000

// deepToken returns the page token after the newest deepDepth events.
func deepToken(ctx context.Context, t *testing.T, st store.Store, f *apiv1.EventFilter) string {
	t.Helper()
	token := ""
	for range deepDepth / store.MaxPageSize {
		p, err := st.ListEvents(ctx, store.EventQuery{Filter: f, PageSize: store.MaxPageSize, PageToken: token})
		if err != nil {
			t.Fatalf("page to depth: %v", err)
		}
		token = p.NextPageToken
	}
	return token
}

// workload is the mixed read load: one function per procedure, each
// with a weight. Every client draws its next procedure at random by those
// weights, from a generator of its own, so the clients do not move
// through the mix in step.
type workload struct {
	names   []string
	weights []int
	calls   []func(ctx context.Context, i int) error
}

// pick returns the procedure that the draw r (0 <= r < total weight)
// falls on.
func (w workload) pick(r int) int {
	for op, wt := range w.weights {
		if r < wt {
			return op
		}
		r -= wt
	}
	return len(w.weights) - 1
}

// dashboardMix is the share of each procedure in the API load, in
// percent, in the order of the workload's names: what a dashboard user
// does. The overview page reads the overview once per visit; lists and
// their paging, the attacker pages and the credentials page make up the
// rest.
var dashboardMix = []int{
	20, // ListEvents first page
	10, // ListEvents deep, through a page token
	10, // ListEvents by source address
	15, // ListAttackers
	15, // GetAttacker
	10, // ListCredentials
	10, // GetOverview
	10, // ListAttackers search
}

// runLoad runs w from clients goroutines for d and reports requests/s and
// latency per procedure.
func runLoad(t *testing.T, label string, w workload, clients int, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	per := make([][]latencies, clients)
	var errs atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	total := 0
	for _, wt := range w.weights {
		total += wt
	}
	for c := range clients {
		per[c] = make([]latencies, len(w.calls))
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			// i advances by clients so that i % clients stays c: the
			// calls use it to pick the client's connection and vary
			// their arguments.
			for i := c; time.Now().Before(deadline); i += clients {
				op := w.pick(rng.IntN(total))
				t0 := time.Now()
				if err := w.calls[op](ctx, i); err != nil {
					errs.Add(1)
					continue
				}
				per[c][op] = append(per[c][op], time.Since(t0))
			}
		})
	}
	wg.Wait()
	served := 0
	for op, name := range w.names {
		var all latencies
		for c := range clients {
			all = append(all, per[c][op]...)
		}
		served += len(all)
		t.Logf("%s %-22s %7.0f req/s %s", label, name, float64(len(all))/d.Seconds(), all.summary())
	}
	t.Logf("%s total %.0f req/s, %d errors", label, float64(served)/d.Seconds(), errs.Load())
	if errs.Load() > 0 {
		t.Errorf("%s: %d calls failed", label, errs.Load())
	}
}

// TestAPIPostgres runs the mixed read load through the Connect API (h2c on
// loopback) and then the same SQL straight through pgx, against one
// PostgreSQL store, while a trickle of live ingest feeds StreamEvents
// subscribers.
func TestAPIPostgres(t *testing.T) {
	ctx := ctxT(t)
	dsn := startPostgres(t)
	st, err := postgres.Open(ctx, dsn, zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	g := newGenerator(3)
	fill(ctx, t, st, g, *flagEvents)

	hub := fanout.New()
	ing, err := ingest.New(ingest.Config{Store: st, Hub: hub, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("ingest.New: %v", err)
	}
	password, _, err := auth.EnsureAdmin(ctx, st, t.TempDir())
	if err != nil {
		t.Fatalf("EnsureAdmin: %v", err)
	}
	// Every client and stream logs in as admin, so the per-user stream
	// cap must admit all the benchmark's streams.
	a, err := api.New(api.Config{Store: st, Hub: hub, Logger: zerolog.Nop(),
		StreamsPerUser: max(*flagStreams, api.DefaultStreamsPerUser)})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	srv := httptest.NewUnstartedServer(a.Handler())
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &protocols
	srv.Start()
	t.Cleanup(srv.Close)

	// Each client has its own h2c connection, as separate dashboards would.
	newH2C := func() *http.Client {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr := &http.Transport{Protocols: &p}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr}
	}
	login, err := apiv1connect.NewAuthServiceClient(newH2C(), srv.URL).Login(ctx,
		connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: password}))
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	bearer := "Bearer " + login.Msg.GetToken()
	withAuth := connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", bearer)
			return next(ctx, req)
		}
	}))

	// Inputs shared by both phases.
	deep := deepToken(ctx, t, st, nil)
	deepCursor, err := store.DecodeCursor(deep)
	if err != nil {
		t.Fatalf("decode deep token: %v", err)
	}
	atk, err := st.ListAttackers(ctx, store.AttackerQuery{PageSize: store.MaxPageSize})
	if err != nil || len(atk.Items) == 0 {
		t.Fatalf("ListAttackers: %d, %v", len(atk.Items), err)
	}
	attackerIDs := make([]string, len(atk.Items))
	for i, x := range atk.Items {
		attackerIDs[i] = x.GetId()
	}

	// Live ingest: 50 events every 100 ms through the ingester, which
	// publishes them to the hub the streams read.
	stopIngest := make(chan struct{})
	var ingestWG sync.WaitGroup
	var ingested atomic.Int64
	ingestWG.Go(func() {
		lg := newGenerator(4)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopIngest:
				return
			case <-tick.C:
				n, _, err := ing.Ingest(ctx, agentID, lg.batch(50))
				if err != nil {
					t.Errorf("live ingest: %v", err)
					return
				}
				ingested.Add(int64(n))
			}
		}
	})

	streamCtx, stopStreams := context.WithCancel(ctx)
	var received, endedStreams atomic.Int64
	var streamWG sync.WaitGroup
	for range *flagStreams {
		client := apiv1connect.NewEventServiceClient(newH2C(), srv.URL)
		req := connect.NewRequest(&apiv1.StreamEventsRequest{})
		req.Header().Set("Authorization", bearer)
		stream, err := client.StreamEvents(streamCtx, req)
		if err != nil {
			t.Fatalf("StreamEvents: %v", err)
		}
		streamWG.Go(func() {
			defer stream.Close()
			for stream.Receive() {
				if stream.Msg().GetEvent() != nil {
					received.Add(1)
				}
			}
			if stream.Err() != nil && streamCtx.Err() == nil {
				endedStreams.Add(1)
				t.Logf("stream ended early: %v", stream.Err())
			}
		})
	}

	clients := *flagClients
	type rpc struct {
		events      apiv1connect.EventServiceClient
		attackers   apiv1connect.AttackerServiceClient
		credentials apiv1connect.CredentialServiceClient
	}
	rpcs := make([]rpc, clients)
	for i := range rpcs {
		hc := newH2C()
		rpcs[i] = rpc{
			events:      apiv1connect.NewEventServiceClient(hc, srv.URL, withAuth),
			attackers:   apiv1connect.NewAttackerServiceClient(hc, srv.URL, withAuth),
			credentials: apiv1connect.NewCredentialServiceClient(hc, srv.URL, withAuth),
		}
	}
	// i identifies the call; i % clients is the client, as runLoad counts.
	apiLoad := workload{
		names: []string{"ListEvents first", "ListEvents deep", "ListEvents by source", "ListAttackers", "GetAttacker", "ListCredentials",
			"GetOverview", "ListAttackers search"},
		weights: dashboardMix,
		calls: []func(context.Context, int) error{
			func(ctx context.Context, i int) error {
				_, err := rpcs[i%clients].events.ListEvents(ctx, connect.NewRequest(&apiv1.ListEventsRequest{}))
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := rpcs[i%clients].events.ListEvents(ctx, connect.NewRequest(&apiv1.ListEventsRequest{PageToken: deep}))
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := rpcs[i%clients].events.ListEvents(ctx, connect.NewRequest(&apiv1.ListEventsRequest{
					Filter: &apiv1.EventFilter{SourceAddress: g.addr[i%sources]}}))
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := rpcs[i%clients].attackers.ListAttackers(ctx, connect.NewRequest(&apiv1.ListAttackersRequest{}))
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := rpcs[i%clients].attackers.GetAttacker(ctx, connect.NewRequest(&apiv1.GetAttackerRequest{Id: attackerIDs[i%len(attackerIDs)]}))
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := rpcs[i%clients].credentials.ListCredentials(ctx, connect.NewRequest(&apiv1.ListCredentialsRequest{}))
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := rpcs[i%clients].events.GetOverview(ctx, connect.NewRequest(&apiv1.GetOverviewRequest{}))
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := rpcs[i%clients].attackers.ListAttackers(ctx, connect.NewRequest(&apiv1.ListAttackersRequest{
					Service: services[i%len(services)].name, OrderBy: apiv1.AttackerOrder_ATTACKER_ORDER_EVENT_COUNT_DESC,
				}))
				return err
			},
		},
	}
	// One call of each procedure before the clock starts, as a dashboard
	// that has been open a while would have made: the overview is then
	// measured in its steady state, not behind the store's first read.
	for op, call := range apiLoad.calls {
		if err := call(ctx, 0); err != nil {
			t.Fatalf("warm-up %s: %v", apiLoad.names[op], err)
		}
	}
	runLoad(t, "api", apiLoad, clients, *flagDuration)

	// The same statements the store sends, through a pool of the size the
	// store's own pool has.
	poolCfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse dsn: %v", err)
	}
	poolCfg.MaxConns = st.PoolSize()
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Logf("pool of %d connections in both phases", poolCfg.MaxConns)
	t.Cleanup(pool.Close)
	const attackerCols = `a.id::text, a.first_seen, a.last_seen, a.event_count, a.auth_attempt_count,
		ARRAY(SELECT address FROM attacker_addresses WHERE attacker_id = a.id),
		ARRAY(SELECT DISTINCT service FROM attacker_targets WHERE attacker_id = a.id),
		ARRAY(SELECT DISTINCT decky FROM attacker_targets WHERE attacker_id = a.id)`
	const eventCols = `SELECT id::text, time, received_at, attacker_id::text, payload FROM events`
	drain := func(ctx context.Context, sql string, args ...any) error {
		rows, err := pool.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if _, err := rows.Values(); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	sqlLoad := workload{
		names:   apiLoad.names,
		weights: apiLoad.weights,
		calls: []func(context.Context, int) error{
			func(ctx context.Context, _ int) error {
				return drain(ctx, eventCols+` ORDER BY time DESC, id DESC LIMIT 100`)
			},
			func(ctx context.Context, _ int) error {
				return drain(ctx, eventCols+` WHERE (time, id) < ($1, $2::uuid) ORDER BY time DESC, id DESC LIMIT 100`, deepCursor.Time, deepCursor.ID)
			},
			func(ctx context.Context, i int) error {
				return drain(ctx, eventCols+` WHERE src_addr = $1 ORDER BY time DESC, id DESC LIMIT 100`, g.addr[i%sources])
			},
			func(ctx context.Context, _ int) error {
				return drain(ctx, `SELECT `+attackerCols+` FROM attackers a ORDER BY a.last_seen DESC, a.id DESC LIMIT 100`)
			},
			func(ctx context.Context, i int) error {
				return drain(ctx, `SELECT `+attackerCols+` FROM attackers a WHERE a.id = $1::uuid`, attackerIDs[i%len(attackerIDs)])
			},
			func(ctx context.Context, _ int) error {
				return drain(ctx, `SELECT event_id::text, attacker_id::text, time, agent_id::text, decky, service, principal, secret_kind,
					mechanism, secret, secret_sha256, outcome, source_address, key_type, key_fingerprint
					FROM credentials ORDER BY time DESC, event_id DESC LIMIT 100`)
			},
			// The overview and the attacker search run several statements
			// each; the reference is the store's own pgx code, called
			// directly, so the gap is what the API adds.
			func(ctx context.Context, _ int) error {
				now := time.Now()
				_, err := st.Overview(ctx, store.OverviewQuery{Start: now.Truncate(time.Hour).Add(-23 * time.Hour), Bucket: time.Hour, Buckets: 24, TopN: 10})
				return err
			},
			func(ctx context.Context, i int) error {
				_, err := st.ListAttackers(ctx, store.AttackerQuery{Service: services[i%len(services)].name, Sort: store.SortEventCount, PageSize: 100})
				return err
			},
		},
	}
	runLoad(t, "pgx", sqlLoad, clients, *flagDuration)

	close(stopIngest)
	ingestWG.Wait()
	// Let the last published events reach the streams before counting.
	time.Sleep(500 * time.Millisecond)
	stopStreams()
	streamWG.Wait()
	want := ingested.Load() * int64(*flagStreams)
	t.Logf("streams: %d subscribers received %d of %d live events (%d ingested); %d ended early",
		*flagStreams, received.Load(), want, ingested.Load(), endedStreams.Load())
	if received.Load() != want {
		t.Errorf("streams received %d events, want %d", received.Load(), want)
	}
}
