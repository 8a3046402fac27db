package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/storetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// A closed store is not ready: Ping fails instead of answering from
// state it kept.
func TestPingAfterClose(t *testing.T) {
	s := openTemp(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping on an open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "ping sqlite store") {
		t.Errorf("Ping after Close = %v, want a ping error", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "decnet.db")

	for i := range 3 {
		s, err := Open(ctx, path, zerolog.Nop())
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		var rows, version int
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&rows, &version); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
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

func TestNewerSchemaRejected(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "decnet.db")

	s, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	future := SchemaVersion() + 5
	if _, err := s.write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 0)`, future); err != nil {
		t.Fatalf("record future migration: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	_, err = Open(ctx, path, zerolog.Nop())
	if err == nil {
		t.Fatal("Open of a newer schema succeeded, want an error")
	}
	for _, want := range []string{"newer", strconv.Itoa(future), strconv.Itoa(SchemaVersion())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()

	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"},
		{"foreign_keys", "1"},
		{"busy_timeout", strconv.Itoa(busyTimeoutMillis)},
	}
	for _, tc := range tests {
		t.Run(tc.pragma, func(t *testing.T) {
			var got string
			if err := s.write.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s on writer: %v", tc.pragma, err)
			}
			if got != tc.want {
				t.Errorf("writer PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
			}
			if err := s.read.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s on reader: %v", tc.pragma, err)
			}
			if got != tc.want {
				t.Errorf("reader PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
			}
		})
	}
}

func TestOpenRestrictsFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "decnet.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	s, err := Open(context.Background(), path, zerolog.Nop())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	for _, name := range []string{"decnet.db", "decnet.db-wal", "decnet.db-shm"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("stat %s: %v", name, err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, perm)
		}
	}
}

// A token stored before tokens had scopes keeps everything its role
// allows once the scopes migration has run.
func TestAPITokenScopesMigrated(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	t.Cleanup(func() { _ = s.Close() })

	// Take the table back to its shape before the migration, with one
	// token in it, and run the migration's SQL again. Running the file
	// alone keeps the test independent of later migrations.
	scopes := findMigration(t, "0013_api_token_scopes.sql")
	steps := []string{
		`ALTER TABLE api_tokens DROP COLUMN scopes`,
		`INSERT INTO users (username, password_hash, role, created_at) VALUES ('ops', 'x', 'viewer', 0)`,
		`INSERT INTO api_tokens (id, hash, name, username, role, created_at, expires_at)
			VALUES ('old-token', x'01', 'ci', 'ops', 'viewer', 0, 9000000000000000000)`,
		scopes.sql,
	}
	for _, step := range steps {
		if _, err := s.write.ExecContext(ctx, step); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	tokens, err := s.ListAPITokens(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].ID != "old-token" {
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

// The writer keeps every commit durable (synchronous FULL) while its
// larger cache and in-memory statement journals spare ingest the
// mid-transaction writes, and readers keep SQLite's defaults.
func TestWriterPragmas(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	t.Cleanup(func() { _ = s.Close() })

	for _, tc := range []struct {
		pragma      string
		write, read int
	}{
		{"synchronous", 2, 2},
		{"cache_size", -writerCacheKiB, -2000},
		{"temp_store", 2, 0},
		{"foreign_keys", 1, 1},
	} {
		for _, db := range []struct {
			name string
			got  func() (int, error)
			want int
		}{
			{"writer", func() (n int, err error) { return n, s.write.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&n) }, tc.write},
			{"reader", func() (n int, err error) { return n, s.read.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&n) }, tc.read},
		} {
			got, err := db.got()
			if err != nil {
				t.Fatalf("%s PRAGMA %s: %v", db.name, tc.pragma, err)
			}
			if got != db.want {
				t.Errorf("%s PRAGMA %s = %d, want %d", db.name, tc.pragma, got, db.want)
			}
		}
	}
}

// Ingest writes only the events indexes a query reads.
func TestEventIndexes(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	t.Cleanup(func() { _ = s.Close() })

	rows, err := s.read.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := "events_agent_time events_attacker_time events_kind_time events_time sqlite_autoindex_events_1"
	if strings.Join(got, " ") != want {
		t.Errorf("events indexes = %v, want %s", got, want)
	}
}
