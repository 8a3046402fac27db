//go:build integration && bench

package bench

import (
	"context"
	"database/sql"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"
	_ "modernc.org/sqlite"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/postgres"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// bareColumns are the events table's columns, in the order the ceilings
// write them.
var bareColumns = []string{"id", "id_time", "time", "received_at", "agent_id", "decky", "service", "kind",
	"src_addr", "src_port", "dst_addr", "dst_port", "session_id", "attacker_id", "payload"}

// rawRow returns an event as the values of bareColumns, the work the
// store's own preparation does (marshal, UUIDv7 time) without attacker
// resolution; attacker_id is NULL.
func rawRow(ev *eventv1.Event, received time.Time) []any {
	id := uuid.MustParse(ev.GetId())
	sec, nsec := id.Time().UnixTime()
	payload, err := proto.Marshal(ev)
	if err != nil {
		panic(err)
	}
	addr := netip.MustParseAddr(ev.GetSource().GetAddress()).String()
	return []any{id, time.Unix(sec, nsec).UTC(), ev.GetTime().AsTime(), received, uuid.MustParse(agentID),
		ev.GetDecky(), ev.GetService(), ev.GetKind(), addr, int64(ev.GetSource().GetPort()),
		ev.GetDestination().GetAddress(), int64(ev.GetDestination().GetPort()), ev.GetSessionId(), nil, payload}
}

// ingestResult is one side of an ingest comparison.
type ingestResult struct {
	events  int
	elapsed time.Duration
	commits latencies
}

func (r ingestResult) rate() float64 { return float64(r.events) / r.elapsed.Seconds() }

func report(t *testing.T, backend string, st, ceiling ingestResult) {
	t.Helper()
	t.Logf("%s store:   %d events in %s = %.0f events/s, commit per batch %s", backend, st.events, st.elapsed.Round(time.Millisecond), st.rate(), st.commits.summary())
	t.Logf("%s ceiling: %d events in %s = %.0f events/s, commit per batch %s", backend, ceiling.events, ceiling.elapsed.Round(time.Millisecond), ceiling.rate(), ceiling.commits.summary())
	t.Logf("%s ratio store/ceiling: rate %.3f, p50 %.1fx, p99 %.1fx", backend, st.rate()/ceiling.rate(),
		float64(st.commits.quantile(0.5))/float64(ceiling.commits.quantile(0.5)),
		float64(st.commits.quantile(0.99))/float64(ceiling.commits.quantile(0.99)))
}

// ingestStore commits the batches through IngestEvents one after another.
func ingestStore(ctx context.Context, t *testing.T, st store.Store, batches [][]*eventv1.Event) ingestResult {
	t.Helper()
	r := ingestResult{}
	start := time.Now()
	for _, b := range batches {
		t0 := time.Now()
		res, err := st.IngestEvents(ctx, agentID, b, t0)
		if err != nil {
			t.Fatalf("IngestEvents: %v", err)
		}
		r.commits = append(r.commits, time.Since(t0))
		r.events += len(res.Stored)
	}
	// A store may fold attacker aggregates in after the commit; a read
	// of the attackers waits for them, so the rate counts that work too.
	if _, err := st.ListAttackers(ctx, store.AttackerQuery{PageSize: 1}); err != nil {
		t.Fatalf("ListAttackers: %v", err)
	}
	r.elapsed = time.Since(start)
	if r.events != len(batches)*batchSize {
		t.Fatalf("stored %d events, want %d", r.events, len(batches)*batchSize)
	}
	return r
}

func makeBatches(seed uint64, n int) [][]*eventv1.Event {
	g := newGenerator(seed)
	out := make([][]*eventv1.Event, n)
	for i := range out {
		out[i] = g.batch(batchSize)
	}
	return out
}

// TestIngestPostgres compares IngestEvents with COPY of the same rows
// into two ceilings: a bare table of the same columns with only the
// primary key, and a table with the events table's indexes too, which is
// what storing the rows costs before any processing.
func TestIngestPostgres(t *testing.T) {
	ctx := ctxT(t)
	dsn := startPostgres(t)
	st, err := postgres.Open(ctx, dsn, zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE bare_events (
		id uuid NOT NULL, id_time timestamptz NOT NULL, time timestamptz NOT NULL, received_at timestamptz NOT NULL,
		agent_id uuid NOT NULL, decky text NOT NULL, service text NOT NULL, kind text NOT NULL,
		src_addr text NOT NULL, src_port bigint NOT NULL, dst_addr text NOT NULL, dst_port bigint NOT NULL,
		session_id text NOT NULL, attacker_id uuid, payload bytea NOT NULL, PRIMARY KEY (id, id_time))`); err != nil {
		t.Fatalf("create bare table: %v", err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE indexed_events (LIKE bare_events INCLUDING ALL)`); err != nil {
		t.Fatalf("create indexed table: %v", err)
	}
	// The secondary indexes of events (migrations 0001, 0006 and 0007).
	for _, idx := range []string{
		`CREATE INDEX ON indexed_events (time DESC, id DESC)`,
		`CREATE INDEX ON indexed_events (attacker_id, time DESC, id DESC)`,
		`CREATE INDEX ON indexed_events (kind, time DESC, id DESC)`,
		`CREATE INDEX ON indexed_events (agent_id, time DESC, id DESC)`,
	} {
		if _, err := pool.Exec(ctx, idx); err != nil {
			t.Fatalf("index the indexed table: %v", err)
		}
	}

	batches := makeBatches(1, *flagIngestBatches)
	// Warm up both paths so the first partition and connection setup do
	// not land in the measured batches.
	warm := makeBatches(2, 1)
	ingestStore(ctx, t, st, warm)
	copyBatches(ctx, t, pool, "bare_events", warm)
	copyBatches(ctx, t, pool, "indexed_events", warm)

	got := ingestStore(ctx, t, st, batches)
	ceiling := copyBatches(ctx, t, pool, "bare_events", batches)
	indexed := copyBatches(ctx, t, pool, "indexed_events", batches)
	report(t, "postgres", got, ceiling)
	report(t, "postgres (indexed ceiling)", got, indexed)
}

func copyBatches(ctx context.Context, t *testing.T, pool *pgxpool.Pool, table string, batches [][]*eventv1.Event) ingestResult {
	t.Helper()
	r := ingestResult{}
	start := time.Now()
	for _, b := range batches {
		t0 := time.Now()
		rows := make([][]any, len(b))
		for i, ev := range b {
			rows[i] = rawRow(ev, t0)
		}
		n, err := pool.CopyFrom(ctx, pgx.Identifier{table}, bareColumns, pgx.CopyFromRows(rows))
		if err != nil {
			t.Fatalf("copy: %v", err)
		}
		r.commits = append(r.commits, time.Since(t0))
		r.events += int(n)
	}
	r.elapsed = time.Since(start)
	return r
}

// TestIngestSQLite compares IngestEvents with one multi-row INSERT of the
// same rows per batch into a bare table, in a database file with the
// store's pragmas (WAL, synchronous FULL).
func TestIngestSQLite(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	db, err := sql.Open("sqlite", filepath.Join(dir, "bare.db")+"?_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatalf("open bare database: %v", err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.ExecContext(ctx, `CREATE TABLE bare_events (
		id TEXT PRIMARY KEY, id_time INTEGER NOT NULL, time INTEGER NOT NULL, received_at INTEGER NOT NULL,
		agent_id TEXT NOT NULL, decky TEXT NOT NULL, service TEXT NOT NULL, kind TEXT NOT NULL,
		src_addr TEXT NOT NULL, src_port INTEGER NOT NULL, dst_addr TEXT NOT NULL, dst_port INTEGER NOT NULL,
		session_id TEXT NOT NULL, attacker_id TEXT, payload BLOB NOT NULL)`); err != nil {
		t.Fatalf("create bare table: %v", err)
	}
	// A second table with the events table's secondary indexes
	// (migration 0001).
	if _, err := db.ExecContext(ctx, `CREATE TABLE indexed_events AS SELECT * FROM bare_events WHERE 0`); err != nil {
		t.Fatalf("create indexed table: %v", err)
	}
	for _, idx := range []string{
		`CREATE UNIQUE INDEX indexed_id ON indexed_events (id)`,
		`CREATE INDEX indexed_time ON indexed_events (time DESC, id DESC)`,
		`CREATE INDEX indexed_attacker ON indexed_events (attacker_id, time DESC, id DESC)`,
		`CREATE INDEX indexed_src ON indexed_events (src_addr, time DESC, id DESC)`,
		`CREATE INDEX indexed_kind ON indexed_events (kind, time DESC, id DESC)`,
		`CREATE INDEX indexed_agent ON indexed_events (agent_id, time DESC, id DESC)`,
		`CREATE INDEX indexed_session ON indexed_events (session_id)`,
	} {
		if _, err := db.ExecContext(ctx, idx); err != nil {
			t.Fatalf("index the indexed table: %v", err)
		}
	}

	batches := makeBatches(1, *flagIngestBatches)
	warm := makeBatches(2, 1)
	ingestStore(ctx, t, st, warm)
	insertBatches(ctx, t, db, "bare_events", warm)
	insertBatches(ctx, t, db, "indexed_events", warm)

	got := ingestStore(ctx, t, st, batches)
	ceiling := insertBatches(ctx, t, db, "bare_events", batches)
	indexed := insertBatches(ctx, t, db, "indexed_events", batches)
	report(t, "sqlite", got, ceiling)
	report(t, "sqlite (indexed ceiling)", got, indexed)
}

// insertBatches writes each batch as one multi-row INSERT in its own
// transaction. 15 columns x 500 rows stays under SQLite's limit of 32,766
// bound parameters.
func insertBatches(ctx context.Context, t *testing.T, db *sql.DB, table string, batches [][]*eventv1.Event) ingestResult {
	t.Helper()
	row := "(?" + stringsRepeat(",?", len(bareColumns)-1) + ")"
	stmt := "INSERT INTO " + table + " VALUES " + row + stringsRepeat(","+row, batchSize-1)
	r := ingestResult{}
	start := time.Now()
	for _, b := range batches {
		t0 := time.Now()
		args := make([]any, 0, len(b)*len(bareColumns))
		for _, ev := range b {
			v := rawRow(ev, t0)
			args = append(args, v[0].(uuid.UUID).String(), v[1].(time.Time).UnixMicro(), v[2].(time.Time).UnixMicro(),
				v[3].(time.Time).UnixMicro(), agentID, v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], nil, v[14])
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("begin: %v", err)
		}
		if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
			t.Fatalf("insert: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
		r.commits = append(r.commits, time.Since(t0))
		r.events += len(b)
	}
	r.elapsed = time.Since(start)
	return r
}

func stringsRepeat(s string, n int) string {
	out := make([]byte, 0, len(s)*n)
	for range n {
		out = append(out, s...)
	}
	return string(out)
}
