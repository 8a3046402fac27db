//go:build integration && bench

package bench

import (
	"context"
	"database/sql"
	"fmt"
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

// Two definitions of the ceiling are measured in every run.
//
// The events-only ceiling writes the event rows alone, with a NULL
// attacker id, into one unpartitioned table. The earlier figures used
// only this one.
//
// The all-rows ceiling writes every row the store writes for the events
// that no aggregation produces: the event rows with their attacker id
// and, for auth attempts, the credential rows, in one transaction per
// batch. The events table is partitioned by day on id_time as the store's
// PostgreSQL table is. The attacker ids come from a map of the source
// addresses made before the clock starts, so the ceiling resolves nothing.
//
// Each definition has a bare variant, with only the primary keys, and an
// indexed one with the store's secondary indexes as well.

// bareColumns are the events table's columns, in the order the ceilings
// write them.
var bareColumns = []string{"id", "id_time", "time", "received_at", "agent_id", "decky", "service", "kind",
	"src_addr", "src_port", "dst_addr", "dst_port", "session_id", "attacker_id", "payload"}

// credentialColumns are the credentials table's columns in PostgreSQL, in
// the order the ceilings write them; SQLite has no event_id_time.
var credentialColumns = []string{"event_id", "event_id_time", "attacker_id", "time", "agent_id", "decky", "service",
	"principal", "secret_kind", "mechanism", "secret", "secret_sha256", "outcome", "source_address", "key_type", "key_fingerprint"}

// rawRow returns an event as the values of bareColumns, the work the
// store's own preparation does (marshal, UUIDv7 time) without attacker
// resolution; attacker is nil or the id the address maps to.
func rawRow(ev *eventv1.Event, received time.Time, attacker any) []any {
	id := uuid.MustParse(ev.GetId())
	payload, err := proto.Marshal(ev)
	if err != nil {
		panic(err)
	}
	addr := netip.MustParseAddr(ev.GetSource().GetAddress()).String()
	return []any{id, idTime(id), ev.GetTime().AsTime(), received, uuid.MustParse(agentID),
		ev.GetDecky(), ev.GetService(), ev.GetKind(), addr, int64(ev.GetSource().GetPort()),
		ev.GetDestination().GetAddress(), int64(ev.GetDestination().GetPort()), ev.GetSessionId(), attacker, payload}
}

// rawCredential returns the credential row of an auth attempt as the
// values of credentialColumns, or nil for any other event.
func rawCredential(ev *eventv1.Event, attacker uuid.UUID) []any {
	a := ev.GetAuthAttempt()
	if a == nil {
		return nil
	}
	id := uuid.MustParse(ev.GetId())
	return []any{id, idTime(id), attacker, ev.GetTime().AsTime(), uuid.MustParse(agentID), ev.GetDecky(), ev.GetService(),
		a.GetPrincipal(), a.GetSecretKind(), a.GetMechanism(), a.GetSecret(), a.GetSecretSha256(), int32(a.GetOutcome()),
		ev.GetSource().GetAddress(), a.GetKeyType(), a.GetKeyFingerprint()}
}

func idTime(id uuid.UUID) time.Time {
	sec, nsec := id.Time().UnixTime()
	return time.Unix(sec, nsec).UTC()
}

// attackerMap gives every source address of the generator an attacker id,
// as the store's address lookup would.
func attackerMap() map[string]uuid.UUID {
	out := make(map[string]uuid.UUID, sources)
	for _, a := range newGenerator(0).addr {
		out[a] = uuid.Must(uuid.NewV7())
	}
	return out
}

// ceiling names the tables one ceiling writes into.
type ceiling struct {
	label  string
	events string
	// credentials is the credentials table of an all-rows ceiling, empty
	// for an events-only one.
	credentials string
	// indexed adds the store's secondary indexes.
	indexed bool
}

// ceilings are the four ceilings every ingest test measures.
var ceilings = []ceiling{
	{label: "events-only bare", events: "bare_events"},
	{label: "events-only indexed", events: "indexed_events", indexed: true},
	{label: "all-rows bare", events: "rows_bare_events", credentials: "rows_bare_credentials"},
	{label: "all-rows indexed", events: "rows_indexed_events", credentials: "rows_indexed_credentials", indexed: true},
}

// ingestResult is one side of an ingest comparison.
type ingestResult struct {
	events  int
	elapsed time.Duration
	commits latencies
}

func (r ingestResult) rate() float64 { return float64(r.events) / r.elapsed.Seconds() }

func report(t *testing.T, backend string, st ingestResult, ceilings []ceiling, results []ingestResult) {
	t.Helper()
	t.Logf("%s store: %d events in %s = %.0f events/s, commit per batch %s", backend, st.events, st.elapsed.Round(time.Millisecond), st.rate(), st.commits.summary())
	for i, c := range ceilings {
		r := results[i]
		t.Logf("%s ceiling %s: %d events in %s = %.0f events/s, commit per batch %s; store/ceiling rate %.3f, p50 %.1fx, p99 %.1fx",
			backend, c.label, r.events, r.elapsed.Round(time.Millisecond), r.rate(), r.commits.summary(), st.rate()/r.rate(),
			float64(st.commits.quantile(0.5))/float64(r.commits.quantile(0.5)),
			float64(st.commits.quantile(0.99))/float64(r.commits.quantile(0.99)))
	}
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

// Tables of the PostgreSQL ceilings: the store's columns (migration 0001),
// only the primary key, and the secondary indexes the store keeps
// (migrations 0001, 0006 and 0007 for events).
const (
	pgEventsTable = `id uuid NOT NULL, id_time timestamptz NOT NULL, time timestamptz NOT NULL, received_at timestamptz NOT NULL,
		agent_id uuid NOT NULL, decky text NOT NULL, service text NOT NULL, kind text NOT NULL,
		src_addr text NOT NULL, src_port bigint NOT NULL, dst_addr text NOT NULL, dst_port bigint NOT NULL,
		session_id text NOT NULL, attacker_id uuid, payload bytea NOT NULL, PRIMARY KEY (id, id_time)`
	pgCredentialsTable = `event_id uuid PRIMARY KEY, event_id_time timestamptz NOT NULL, attacker_id uuid, time timestamptz NOT NULL,
		agent_id uuid NOT NULL, decky text NOT NULL, service text NOT NULL, principal text NOT NULL, secret_kind text NOT NULL,
		mechanism text NOT NULL, secret bytea NOT NULL, secret_sha256 bytea NOT NULL, outcome integer NOT NULL,
		source_address text NOT NULL, key_type text NOT NULL, key_fingerprint text NOT NULL`
)

var (
	pgEventIndexes      = []string{"(time DESC, id DESC)", "(attacker_id, time DESC, id DESC)", "(kind, time DESC, id DESC)", "(agent_id, time DESC, id DESC)"}
	pgCredentialIndexes = []string{"(time DESC, event_id DESC)", "(attacker_id, time DESC, event_id DESC)", "(principal, time DESC, event_id DESC)", "(secret_sha256, secret_kind, principal)"}
)

// TestIngestPostgres compares IngestEvents with COPY of the same rows
// into the ceilings described at the top of this file.
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

	batches := makeBatches(1, *flagIngestBatches)
	// Warm up every path so the first partition and connection setup do
	// not land in the measured batches.
	warm := makeBatches(2, 1)
	for _, c := range ceilings {
		createPostgresCeiling(ctx, t, pool, c, append(warm, batches...))
	}
	attackers := attackerMap()

	ingestStore(ctx, t, st, warm)
	for _, c := range ceilings {
		copyBatches(ctx, t, pool, c, attackers, warm)
	}

	got := ingestStore(ctx, t, st, batches)
	results := make([]ingestResult, len(ceilings))
	for i, c := range ceilings {
		results[i] = copyBatches(ctx, t, pool, c, attackers, batches)
	}
	report(t, "postgres", got, ceilings, results)
}

// createPostgresCeiling creates the tables of c. The all-rows events
// table gets the daily partitions the batches' ids fall in, as the store
// creates them.
func createPostgresCeiling(ctx context.Context, t *testing.T, pool *pgxpool.Pool, c ceiling, batches [][]*eventv1.Event) {
	t.Helper()
	ddl := []string{`CREATE TABLE ` + c.events + ` (` + pgEventsTable + `)`}
	if c.credentials != "" {
		ddl[0] += ` PARTITION BY RANGE (id_time)`
		days := map[time.Time]bool{}
		for _, b := range batches {
			for _, ev := range b {
				days[idTime(uuid.MustParse(ev.GetId())).Truncate(24*time.Hour)] = true
			}
		}
		for d := range days {
			ddl = append(ddl, fmt.Sprintf(`CREATE TABLE %s_p%s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')`,
				c.events, d.Format("20060102"), c.events, d.Format(time.RFC3339), d.Add(24*time.Hour).Format(time.RFC3339)))
		}
		ddl = append(ddl, `CREATE TABLE `+c.credentials+` (`+pgCredentialsTable+`)`)
	}
	if c.indexed {
		for _, idx := range pgEventIndexes {
			ddl = append(ddl, `CREATE INDEX ON `+c.events+` `+idx)
		}
		if c.credentials != "" {
			for _, idx := range pgCredentialIndexes {
				ddl = append(ddl, `CREATE INDEX ON `+c.credentials+` `+idx)
			}
		}
	}
	for _, q := range ddl {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("create ceiling %s: %v", c.label, err)
		}
	}
}

// copyBatches writes each batch with COPY: one COPY of the events for an
// events-only ceiling, and the events and credentials COPY in one
// transaction for an all-rows one.
func copyBatches(ctx context.Context, t *testing.T, pool *pgxpool.Pool, c ceiling, attackers map[string]uuid.UUID, batches [][]*eventv1.Event) ingestResult {
	t.Helper()
	r := ingestResult{}
	start := time.Now()
	for _, b := range batches {
		t0 := time.Now()
		rows := make([][]any, len(b))
		var creds [][]any
		for i, ev := range b {
			if c.credentials == "" {
				rows[i] = rawRow(ev, t0, nil)
				continue
			}
			attacker := attackers[ev.GetSource().GetAddress()]
			rows[i] = rawRow(ev, t0, attacker)
			if cr := rawCredential(ev, attacker); cr != nil {
				creds = append(creds, cr)
			}
		}
		if c.credentials == "" {
			if _, err := pool.CopyFrom(ctx, pgx.Identifier{c.events}, bareColumns, pgx.CopyFromRows(rows)); err != nil {
				t.Fatalf("copy: %v", err)
			}
		} else {
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.events}, bareColumns, pgx.CopyFromRows(rows)); err != nil {
					return err
				}
				_, err := tx.CopyFrom(ctx, pgx.Identifier{c.credentials}, credentialColumns, pgx.CopyFromRows(creds))
				return err
			})
			if err != nil {
				t.Fatalf("copy: %v", err)
			}
		}
		r.commits = append(r.commits, time.Since(t0))
		r.events += len(rows)
	}
	r.elapsed = time.Since(start)
	return r
}

// Tables of the SQLite ceilings: the store's columns and the secondary
// indexes it keeps (migrations 0001, 0005 and 0015).
const (
	sqliteEventsTable = `id TEXT PRIMARY KEY, time INTEGER NOT NULL, received_at INTEGER NOT NULL,
		agent_id TEXT NOT NULL, decky TEXT NOT NULL, service TEXT NOT NULL, kind TEXT NOT NULL,
		src_addr TEXT NOT NULL, src_port INTEGER NOT NULL, dst_addr TEXT NOT NULL, dst_port INTEGER NOT NULL,
		session_id TEXT NOT NULL, attacker_id TEXT, payload BLOB NOT NULL`
	sqliteCredentialsTable = `event_id TEXT PRIMARY KEY, attacker_id TEXT, time INTEGER NOT NULL, agent_id TEXT NOT NULL,
		decky TEXT NOT NULL, service TEXT NOT NULL, principal TEXT NOT NULL, secret_kind TEXT NOT NULL,
		mechanism TEXT NOT NULL, secret BLOB NOT NULL, secret_sha256 BLOB NOT NULL, outcome INTEGER NOT NULL,
		source_address TEXT NOT NULL, key_type TEXT NOT NULL, key_fingerprint TEXT NOT NULL`
)

var (
	sqliteEventIndexes      = pgEventIndexes
	sqliteCredentialIndexes = pgCredentialIndexes
)

// TestIngestSQLite compares IngestEvents with multi-row INSERTs of the
// same rows into the ceilings described at the top of this file. Each
// ceiling has a database file with the store writer's pragmas: WAL,
// synchronous FULL, a 64 MiB page cache and statement journals in memory.
// SQLite has no partitions, so the all-rows events table has none.
func TestIngestSQLite(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	dbs := make([]*sql.DB, len(ceilings))
	for i, c := range ceilings {
		dbs[i] = openSQLiteCeiling(ctx, t, filepath.Join(dir, c.events+".db"), c)
	}
	attackers := attackerMap()

	batches := makeBatches(1, *flagIngestBatches)
	warm := makeBatches(2, 1)
	ingestStore(ctx, t, st, warm)
	for i, c := range ceilings {
		insertBatches(ctx, t, dbs[i], c, attackers, warm)
	}

	got := ingestStore(ctx, t, st, batches)
	results := make([]ingestResult, len(ceilings))
	for i, c := range ceilings {
		results[i] = insertBatches(ctx, t, dbs[i], c, attackers, batches)
	}
	report(t, "sqlite", got, ceilings, results)
}

// openSQLiteCeiling creates the tables of c in a database file of their
// own, like the store's, so that no ceiling checkpoints another's pages.
func openSQLiteCeiling(ctx context.Context, t *testing.T, path string, c ceiling) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		t.Fatalf("open ceiling database: %v", err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })

	ddl := []string{`CREATE TABLE ` + c.events + ` (` + sqliteEventsTable + `)`}
	if c.credentials != "" {
		ddl = append(ddl, `CREATE TABLE `+c.credentials+` (`+sqliteCredentialsTable+`)`)
	}
	if c.indexed {
		for i, idx := range sqliteEventIndexes {
			ddl = append(ddl, fmt.Sprintf(`CREATE INDEX %s_%d ON %s %s`, c.events, i, c.events, idx))
		}
		if c.credentials != "" {
			for i, idx := range sqliteCredentialIndexes {
				ddl = append(ddl, fmt.Sprintf(`CREATE INDEX %s_%d ON %s %s`, c.credentials, i, c.credentials, idx))
			}
		}
	}
	for _, q := range ddl {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("create ceiling %s: %v", c.label, err)
		}
	}
	return db
}

// insertBatches writes each batch as one multi-row INSERT of the events,
// and for an all-rows ceiling one of the credentials, in one transaction.
// SQLite's events have no id_time, so 14 columns x 500 rows, under
// SQLite's limit of 32,766 bound parameters.
func insertBatches(ctx context.Context, t *testing.T, db *sql.DB, c ceiling, attackers map[string]uuid.UUID, batches [][]*eventv1.Event) ingestResult {
	t.Helper()
	row := "(?" + stringsRepeat(",?", len(bareColumns)-2) + ")"
	stmt := "INSERT INTO " + c.events + " VALUES " + row + stringsRepeat(","+row, batchSize-1)
	credRow := "(?" + stringsRepeat(",?", len(credentialColumns)-2) + ")"
	r := ingestResult{}
	start := time.Now()
	for _, b := range batches {
		t0 := time.Now()
		args := make([]any, 0, len(b)*len(bareColumns))
		var credArgs []any
		for _, ev := range b {
			var attacker any
			if c.credentials != "" {
				id := attackers[ev.GetSource().GetAddress()]
				attacker = id.String()
				if cr := rawCredential(ev, id); cr != nil {
					credArgs = append(credArgs, cr[0].(uuid.UUID).String(), attacker, cr[3].(time.Time).UnixNano(), agentID)
					credArgs = append(credArgs, cr[5:]...)
				}
			}
			v := rawRow(ev, t0, nil)
			args = append(args, v[0].(uuid.UUID).String(), v[2].(time.Time).UnixNano(), v[3].(time.Time).UnixNano(),
				agentID, v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], attacker, v[14])
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("begin: %v", err)
		}
		if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
			t.Fatalf("insert: %v", err)
		}
		if n := len(credArgs) / (len(credentialColumns) - 1); n > 0 {
			q := "INSERT INTO " + c.credentials + " VALUES " + credRow + stringsRepeat(","+credRow, n-1)
			if _, err := tx.ExecContext(ctx, q, credArgs...); err != nil {
				t.Fatalf("insert credentials: %v", err)
			}
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
