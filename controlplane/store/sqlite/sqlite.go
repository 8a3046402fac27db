// Package sqlite implements store.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go). It is the single-host backend: one process
// owns the file.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/rs/zerolog"
	// Registers the "sqlite" database/sql driver.
	_ "modernc.org/sqlite"

	"github.com/decnet/decnet/controlplane/store"
)

const driverName = "sqlite"

// busyTimeoutMillis is how long a connection waits for a lock held by
// another connection before failing with SQLITE_BUSY. Writes go through one
// connection, so only readers racing a WAL checkpoint and a second process
// opening the file by mistake ever wait.
const busyTimeoutMillis = 10_000

// writerCacheKiB is the page cache of the writer connection, 64 MiB: many
// batches' worth of the index pages ingest writes.
const writerCacheKiB = 64 << 10

// Store is a store.Store on one SQLite file. Writes go through a pool of
// one connection, so this process's writers never contend for the write
// lock. Reads use a separate pool, which WAL mode runs alongside the
// writer.
type Store struct {
	write *sql.DB
	read  *sql.DB
	log   zerolog.Logger
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the database at path and applies pending schema
// migrations. It fails when the file was written by a newer binary.
func Open(ctx context.Context, path string, logger zerolog.Logger) (*Store, error) {
	if path == "" {
		return nil, errors.New("open sqlite store: empty path")
	}
	if strings.ContainsRune(path, '?') {
		// The driver treats everything after '?' as connection parameters.
		return nil, fmt.Errorf("open sqlite store %q: path must not contain '?'", path)
	}

	if err := restrictFileMode(path); err != nil {
		return nil, err
	}

	// synchronous=FULL because the agent deletes its spooled copy once
	// ingest acknowledges a batch, so a commit must survive a power cut.
	common := fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)", busyTimeoutMillis)

	// BEGIN IMMEDIATE takes the write lock at the start of a transaction,
	// so a transaction cannot fail with SQLITE_BUSY at its first write.
	// An ingested batch dirties more index pages than SQLite's default
	// cache of 2 MiB holds, so SQLite spilled them to the WAL in the
	// middle of the transaction. The writer's cache is writerCacheKiB
	// instead. Statement journals, which let SQLite undo one multi-row
	// statement alone, stay in memory rather than in a temporary file.
	write, err := sql.Open(driverName, path+common+
		fmt.Sprintf("&_pragma=journal_mode(WAL)&_pragma=cache_size(-%d)&_pragma=temp_store(MEMORY)&_txlock=immediate", writerCacheKiB))
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	// The write pool opens first, so the file is already in WAL mode when
	// readers connect; journal_mode is persistent in the file.
	if err := write.PingContext(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}

	s := &Store{write: write, log: logger.With().Str("component", "store.sqlite").Logger()}
	if err := s.migrate(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}

	read, err := sql.Open(driverName, path+common+"&_pragma=query_only(1)")
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	if err := read.PingContext(ctx); err != nil {
		_ = write.Close()
		_ = read.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	s.read = read

	return s, nil
}

// Ping reads the schema table through the read pool. A read proves the
// file is still readable, which a bare connection ping does not, and the
// read pool runs beside the single writer, so a long ingest does not
// make the store look down.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return fmt.Errorf("ping sqlite store: %w", err)
	}
	return nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// inWriteTx runs fn in a transaction on the writer connection and commits
// when fn returns nil.
func (s *Store) inWriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// restrictFileMode creates the database file with mode 0600, or tightens an
// existing one, before SQLite opens it. The store holds captured secrets
// and password hashes, and SQLite gives the -wal and -shm files the mode of
// the database file.
func restrictFileMode(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("restrict mode of sqlite store %q: %w", path, err)
	}
	return nil
}
