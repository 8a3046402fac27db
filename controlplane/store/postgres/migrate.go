package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the pg_advisory_xact_lock key that serialises
// migrations, so replicas starting together apply each step once. The
// value is arbitrary but fixed: the first 8 bytes of "decnetmg" as a
// big-endian int64.
const migrationLockKey int64 = 0x6465636e65746d67

// migration is one schema step; version is the number that prefixes its
// file name (0001_init.sql is version 1).
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in version order. Versions
// must be unique; the gaps between them do not matter.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}

	var out []migration
	seen := make(map[int]string)
	for _, e := range entries {
		name := e.Name()
		prefix, _, ok := strings.Cut(name, "_")
		if !ok {
			return nil, fmt.Errorf("parse migration name %q: want NNNN_name.sql", name)
		}
		version, err := strconv.Atoi(prefix)
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("parse migration name %q: want a positive version prefix", name)
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("load migrations: %q and %q share version %d", other, name, version)
		}
		seen[version] = name

		body, err := fs.ReadFile(migrationFiles, path.Join("migrations", name))
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", name, err)
		}
		out = append(out, migration{version: version, name: name, sql: string(body)})
	}

	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// SchemaVersion returns the newest schema version embedded in this binary.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies every pending migration in one transaction, so a failed
// step leaves the schema as it was. The transaction first takes an
// advisory lock, so a second replica waits and then finds the schema
// current. It fails without changing anything when the database records a
// version newer than the embedded migrations.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}

	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
			return fmt.Errorf("lock schema migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}

		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > latest {
			return fmt.Errorf("database schema version %d is newer than version %d supported by this binary: run a newer decnet or restore a backup", current, latest)
		}

		for _, m := range ms {
			if m.version <= current {
				continue
			}
			// Exec without arguments uses the simple query protocol,
			// which runs a file of several statements.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx,
				`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, time.Now()); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
			s.log.Info().Int("schema_version", m.version).Str("migration", m.name).Msg("applied schema migration")
		}
		return nil
	})
}
