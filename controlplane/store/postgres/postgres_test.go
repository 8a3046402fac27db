//go:build integration

package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/controlplane/store/storetest"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/internal/pgtest"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m))
}

func openDSN(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, zerolog.Nop())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func closeStore(t testing.TB, s *Store) {
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openDSN(t, pgtest.NewDatabase(t)) })
}

func schemaRows(t *testing.T, s *Store) (rows, version int) {
	t.Helper()
	err := s.pool.QueryRow(context.Background(), `SELECT COUNT(*), COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&rows, &version)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return rows, version
}

func TestMigrationsIdempotent(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	for i := range 3 {
		s := openDSN(t, dsn)
		rows, version := schemaRows(t, s)
		if version != SchemaVersion() {
			t.Errorf("open %d: schema version %d, want %d", i, version, SchemaVersion())
		}
		if rows != SchemaVersion() {
			t.Errorf("open %d: %d migration rows, want %d", i, rows, SchemaVersion())
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
}

// Replicas that start together serialise on the advisory lock: every Open
// succeeds and each migration is recorded once.
func TestMigrationsConcurrentOpen(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const replicas = 8

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stores []*Store
		errs   []error
	)
	for range replicas {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn, zerolog.Nop())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			stores = append(stores, s)
		})
	}
	wg.Wait()
	for _, s := range stores {
		closeStore(t, s)
	}
	for _, err := range errs {
		t.Errorf("concurrent Open: %v", err)
	}
	if len(stores) == 0 {
		t.Fatal("no Open succeeded")
	}

	rows, version := schemaRows(t, stores[0])
	if rows != SchemaVersion() || version != SchemaVersion() {
		t.Errorf("schema_migrations has %d rows up to version %d, want %d rows up to %d", rows, version, SchemaVersion(), SchemaVersion())
	}
}

func TestNewerSchemaRejected(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)

	s := openDSN(t, dsn)
	future := SchemaVersion() + 5
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future.sql', now())`, future); err != nil {
		t.Fatalf("record future migration: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	_, err := Open(ctx, dsn, zerolog.Nop())
	if err == nil {
		t.Fatal("Open of a newer schema succeeded, want an error")
	}
	for _, want := range []string{"newer", strconv.Itoa(future), strconv.Itoa(SchemaVersion())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// Several replicas, each with its own pool, race for one token.
func TestConsumeTokenAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	const replicas, callsPerReplica = 4, 8

	stores := make([]*Store, replicas)
	for i := range stores {
		stores[i] = openDSN(t, dsn)
		closeStore(t, stores[i])
	}

	sum := sha256.Sum256([]byte("replica token"))
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := store.Token{Hash: sum[:], AgentID: uuid.NewString(), AgentName: "edge-1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := stores[0].CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		wins   []store.Token
		failed []error
	)
	for _, s := range stores {
		for range callsPerReplica {
			wg.Go(func() {
				got, err := s.ConsumeToken(ctx, tok.Hash, now.Add(time.Minute))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins = append(wins, got)
				case !errors.Is(err, store.ErrTokenInvalid):
					failed = append(failed, err)
				}
			})
		}
	}
	wg.Wait()

	if len(wins) != 1 {
		t.Fatalf("%d of %d consumers succeeded, want 1", len(wins), replicas*callsPerReplica)
	}
	if wins[0].AgentID != tok.AgentID || !wins[0].UsedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("winner got %+v, want agent %s used at %v", wins[0], tok.AgentID, now.Add(time.Minute))
	}
	for _, err := range failed {
		t.Errorf("ConsumeToken error = %v, want nil or ErrTokenInvalid", err)
	}
}

// Replicas ingesting the same batch at once store each event and each
// attacker once, and count each event once.
func TestIngestConcurrentDuplicates(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	const replicas = 4

	stores := make([]*Store, replicas)
	for i := range stores {
		stores[i] = openDSN(t, dsn)
		closeStore(t, stores[i])
	}
	batch := benchBatch(t, 200, 0)

	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		stored     int
		duplicates int
	)
	for _, s := range stores {
		wg.Go(func() {
			// Each replica gets its own copy: IngestEvents sets AgentId
			// on the events it is given.
			res, err := s.IngestEvents(ctx, benchAgent, cloneEvents(batch), time.Now())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("IngestEvents: %v", err)
				return
			}
			stored += len(res.Stored)
			duplicates += res.Duplicates
		})
	}
	wg.Wait()

	if stored != len(batch) {
		t.Errorf("replicas stored %d events in total, want %d", stored, len(batch))
	}
	if duplicates != (replicas-1)*len(batch) {
		t.Errorf("replicas counted %d duplicates, want %d", duplicates, (replicas-1)*len(batch))
	}

	// The aggregates are applied after the batches commit.
	for _, s := range stores {
		if err := s.applyDeltas(ctx); err != nil {
			t.Fatalf("apply deltas: %v", err)
		}
	}
	var attackers, events, addresses int64
	err := stores[0].pool.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM attackers), (SELECT COALESCE(SUM(event_count), 0) FROM attackers),
		(SELECT COUNT(*) FROM attacker_addresses)`).Scan(&attackers, &events, &addresses)
	if err != nil {
		t.Fatalf("count attackers: %v", err)
	}
	if attackers != benchAddresses || addresses != benchAddresses {
		t.Errorf("%d attackers with %d addresses, want %d of each", attackers, addresses, benchAddresses)
	}
	if events != int64(len(batch)) {
		t.Errorf("attackers count %d events, want %d", events, len(batch))
	}
}

// A batch resent with new events after some of it was stored fails its
// COPY and runs again as a redelivery: the new events, their credentials
// and their counts are stored once, the others are duplicates, and no
// connection is left inside a transaction.
func TestIngestPartialRedelivery(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.NewDatabase(t))
	closeStore(t, s)

	batch := benchBatch(t, 100, 0)
	if _, err := s.IngestEvents(ctx, benchAgent, cloneEvents(batch[:60]), time.Now()); err != nil {
		t.Fatalf("first IngestEvents: %v", err)
	}
	res, err := s.IngestEvents(ctx, benchAgent, cloneEvents(batch), time.Now())
	if err != nil {
		t.Fatalf("second IngestEvents: %v", err)
	}
	if len(res.Stored) != 40 || res.Duplicates != 60 {
		t.Errorf("resent batch stored %d and found %d duplicates, want 40 and 60", len(res.Stored), res.Duplicates)
	}
	for _, ev := range res.Stored {
		if ev.GetAttackerId() == "" {
			t.Errorf("stored event %s has no attacker", ev.GetEvent().GetId())
		}
	}

	if err := s.applyDeltas(ctx); err != nil {
		t.Fatalf("apply deltas: %v", err)
	}
	var events, credentials, counted int64
	err = s.pool.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM credentials),
		(SELECT COALESCE(SUM(event_count), 0) FROM attackers)`).Scan(&events, &credentials, &counted)
	if err != nil {
		t.Fatalf("count rows: %v", err)
	}
	// Every fifth benchmark event is an authentication attempt.
	if events != 100 || credentials != 20 || counted != 100 {
		t.Errorf("%d events, %d credentials, attackers count %d events; want 100, 20 and 100", events, credentials, counted)
	}

	for _, c := range s.pool.AcquireAllIdle(ctx) {
		if st := c.Conn().PgConn().TxStatus(); st != 'I' {
			t.Errorf("idle connection in transaction status %q", st)
		}
		c.Release()
	}
}

// Events whose ids fall on different days land in one partition per day,
// created on demand.
func TestIngestCreatesDailyPartitions(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.NewDatabase(t))
	closeStore(t, s)

	days := []time.Time{
		time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 1, 23, 59, 59, 0, time.UTC),
		time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 9, 12, 0, 0, 0, time.UTC),
	}
	var batch []*eventv1.Event
	for _, d := range days {
		ev := benchEvent(t, 2, 0)
		ev.Id = uuidAt(t, d).String()
		batch = append(batch, ev)
	}
	res, err := s.IngestEvents(ctx, benchAgent, batch, time.Now())
	if err != nil {
		t.Fatalf("IngestEvents: %v", err)
	}
	if len(res.Stored) != len(batch) {
		t.Fatalf("stored %d events, want %d", len(res.Stored), len(batch))
	}

	rows, err := s.pool.Query(ctx, `SELECT c.relname, COUNT(e.id) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		LEFT JOIN events e ON e.tableoid = c.oid
		WHERE i.inhparent = 'events'::regclass AND c.relkind = 'r'
		GROUP BY c.relname ORDER BY c.relname`)
	if err != nil {
		t.Fatalf("list partitions: %v", err)
	}
	var got []string
	for rows.Next() {
		var (
			name string
			n    int
		)
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatalf("scan partition: %v", err)
		}
		got = append(got, fmt.Sprintf("%s:%d", name, n))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list partitions: %v", err)
	}
	want := []string{"events_p20250301:2", "events_p20250302:1", "events_p20250309:1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("partitions = %v, want %v", got, want)
	}

	// A second store, as another replica, reuses the existing partitions.
	other := openDSN(t, s.pool.Config().ConnString())
	closeStore(t, other)
	again := benchEvent(t, 3, 0)
	again.Id = uuidAt(t, days[0].Add(time.Hour)).String()
	if _, err := other.IngestEvents(ctx, benchAgent, []*eventv1.Event{again}, time.Now()); err != nil {
		t.Fatalf("IngestEvents on a second store: %v", err)
	}
}

func TestIngestRejectsNonV7Id(t *testing.T) {
	s := openDSN(t, pgtest.NewDatabase(t))
	closeStore(t, s)

	ev := benchEvent(t, 2, 0)
	ev.Id = uuid.NewString() // version 4
	_, err := s.IngestEvents(context.Background(), benchAgent, []*eventv1.Event{ev}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "UUIDv7") {
		t.Errorf("IngestEvents(UUIDv4 id) error = %v, want one naming UUIDv7", err)
	}
}

// uuidAt returns a UUIDv7 whose timestamp is t.
func uuidAt(t *testing.T, at time.Time) uuid.UUID {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatalf("generate id: %v", err)
	}
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		id[i] = byte(ms >> (40 - 8*i))
	}
	return id
}

const (
	benchAgent = "0195a1b2-0000-7000-8000-000000000001"
	// benchAddresses is how many attackers a benchmark batch spreads over.
	benchAddresses = 50
	// benchBatchSize is the events per IngestEvents call, near what an
	// agent sends after a busy second.
	benchBatchSize = 500
)

var benchBase = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// benchEvent returns a connection event from 127.0.0.<host>; every fifth
// is an authentication attempt instead.
func benchEvent(t testing.TB, host, i int) *eventv1.Event {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatalf("generate event id: %v", err)
	}
	ev := &eventv1.Event{
		Id:          id.String(),
		Time:        timestamppb.New(benchBase.Add(time.Duration(i) * time.Millisecond)),
		Decky:       "web-" + strconv.Itoa(i%3),
		Service:     "ssh",
		Kind:        "connection.opened",
		Source:      &eventv1.Endpoint{Address: "127.0.0." + strconv.Itoa(host), Port: uint32(40000 + i%20000)},
		Destination: &eventv1.Endpoint{Address: "192.0.2.10", Port: 22},
		SessionId:   id.String(),
		Payload:     &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}},
	}
	if i%5 == 0 {
		sum := sha256.Sum256([]byte("password" + strconv.Itoa(i)))
		ev.Kind = "auth.attempt"
		ev.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Principal: "root", SecretKind: "plaintext", Mechanism: "ssh_password",
			Secret: []byte("password" + strconv.Itoa(i)), SecretSha256: sum[:],
			Outcome: eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
		}}
	}
	return ev
}

// benchBatch returns n new events spread over benchAddresses sources.
func benchBatch(t testing.TB, n, offset int) []*eventv1.Event {
	out := make([]*eventv1.Event, n)
	for i := range out {
		out[i] = benchEvent(t, 2+(offset+i)%benchAddresses, offset+i)
	}
	return out
}

func cloneEvents(evs []*eventv1.Event) []*eventv1.Event {
	out := make([]*eventv1.Event, len(evs))
	for i, ev := range evs {
		out[i] = proto.Clone(ev).(*eventv1.Event)
	}
	return out
}

// BenchmarkIngestBatch measures IngestEvents with batches of new events on
// both backends, each with durable commits: SQLite with synchronous=FULL,
// PostgreSQL with fsync on.
func BenchmarkIngestBatch(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"postgres", func(b *testing.B) store.Store {
			srv := pgtest.Start(b, pgtest.Options{Durable: true})
			return openDSN(b, srv.NewDatabase(b))
		}},
		{"sqlite", func(b *testing.B) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "decnet.db"), zerolog.Nop())
			if err != nil {
				b.Fatalf("sqlite.Open: %v", err)
			}
			return s
		}},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			b.Cleanup(func() { _ = s.Close() })
			ctx := context.Background()

			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				batch := benchBatch(b, benchBatchSize, i*benchBatchSize)
				b.StartTimer()
				res, err := s.IngestEvents(ctx, benchAgent, batch, benchBase.Add(time.Hour))
				if err != nil {
					b.Fatalf("IngestEvents: %v", err)
				}
				if len(res.Stored) != benchBatchSize {
					b.Fatalf("stored %d events, want %d", len(res.Stored), benchBatchSize)
				}
			}
			b.ReportMetric(float64(b.N*benchBatchSize)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// An attacker created for a batch whose events all turn out to be
// duplicates is deleted again. Here the address row of a stored event is
// removed by hand, so re-ingesting the event creates an attacker for it.
func TestIngestDeletesUnusedAttacker(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.NewDatabase(t))
	closeStore(t, s)

	ev := benchEvent(t, 2, 1)
	if _, err := s.IngestEvents(ctx, benchAgent, []*eventv1.Event{ev}, time.Now()); err != nil {
		t.Fatalf("IngestEvents: %v", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM attacker_addresses`); err != nil {
		t.Fatalf("delete addresses: %v", err)
	}

	res, err := s.IngestEvents(ctx, benchAgent, []*eventv1.Event{proto.Clone(ev).(*eventv1.Event)}, time.Now())
	if err != nil {
		t.Fatalf("IngestEvents again: %v", err)
	}
	if res.Duplicates != 1 || len(res.Stored) != 0 {
		t.Errorf("second ingest stored %d with %d duplicates, want 0 and 1", len(res.Stored), res.Duplicates)
	}

	var attackers, addresses int
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM attackers), (SELECT COUNT(*) FROM attacker_addresses)`).Scan(&attackers, &addresses); err != nil {
		t.Fatalf("count attackers: %v", err)
	}
	if attackers != 1 {
		t.Errorf("%d attackers, want only the first", attackers)
	}
	if addresses != 0 {
		t.Errorf("%d addresses, want 0", addresses)
	}
}

// Retention drops a day partition whose events are all before the
// cutoff, and a replica that still has that day cached recreates it for
// a late event instead of failing the batch.
func TestPruneDropsPartitions(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.NewDatabase(t))
	closeStore(t, s)
	other := openDSN(t, s.pool.Config().ConnString())
	closeStore(t, other)

	at := func(ts time.Time) *eventv1.Event {
		ev := benchEvent(t, 2, 0)
		ev.Id = uuidAt(t, ts).String()
		ev.Time = timestamppb.New(ts)
		return ev
	}
	day1 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	day2 := time.Date(2025, 3, 2, 12, 0, 0, 0, time.UTC)
	if _, err := s.IngestEvents(ctx, benchAgent, []*eventv1.Event{at(day1), at(day2)}, time.Now()); err != nil {
		t.Fatalf("IngestEvents: %v", err)
	}
	// The other replica caches day 1's partition.
	if _, err := other.IngestEvents(ctx, benchAgent, []*eventv1.Event{at(day1.Add(time.Hour))}, time.Now()); err != nil {
		t.Fatalf("IngestEvents on the other store: %v", err)
	}

	report, err := s.PruneEvents(ctx, day2.Add(-6*time.Hour), false)
	if err != nil {
		t.Fatalf("PruneEvents: %v", err)
	}
	if report.Rows["events"] != 2 || fmt.Sprint(report.Partitions) != "[events_p20250301]" {
		t.Errorf("report = %+v, want 2 events in partition events_p20250301", report)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM pg_class WHERE relname = 'events_p20250301'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("events_p20250301 still exists (%d, %v)", n, err)
	}

	res, err := other.IngestEvents(ctx, benchAgent, []*eventv1.Event{at(day1.Add(2 * time.Hour))}, time.Now())
	if err != nil {
		t.Fatalf("IngestEvents into a dropped day on the other store: %v", err)
	}
	if len(res.Stored) != 1 {
		t.Errorf("stored %d events into the dropped day, want 1", len(res.Stored))
	}
}

// A token stored before tokens had scopes keeps everything its role
// allows once the scopes migration has run.
func TestAPITokenScopesMigrated(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.NewDatabase(t))
	closeStore(t, s)

	// Take the table back to its shape before the migration, with one
	// token in it, and run the migration's SQL again. Running the file
	// alone keeps the test independent of later migrations.
	scopes := findMigration(t, "0015_api_token_scopes.sql")
	steps := []string{
		`ALTER TABLE api_tokens DROP COLUMN scopes`,
		`INSERT INTO users (username, password_hash, role, created_at) VALUES ('ops', 'x', 'viewer', now())`,
		`INSERT INTO api_tokens (id, hash, name, username, role, created_at, expires_at)
			VALUES ('0190a000-0000-7000-8000-000000000001', '\x01', 'ci', 'ops', 'viewer', now(), now() + interval '1 day')`,
		scopes.sql,
	}
	for _, step := range steps {
		if _, err := s.pool.Exec(ctx, step); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	tokens, err := s.ListAPITokens(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].Name != "ci" {
		t.Fatalf("ListAPITokens = %+v, want the old token", tokens)
	}
	if got := tokens[0].Scopes; len(got) != 1 || got[0] != "*" {
		t.Errorf("old token scopes = %q, want [*]", got)
	}
}

func findMigration(t *testing.T, name string) migration {
	t.Helper()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.name == name {
			return m
		}
	}
	t.Fatalf("no migration %s", name)
	return migration{}
}
