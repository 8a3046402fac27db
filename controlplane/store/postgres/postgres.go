// Package postgres implements store.Store on PostgreSQL through pgx and its
// connection pool. It is the backend for several control plane replicas
// sharing one database, so every write is safe under concurrent
// transactions from other processes.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
)

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	// flushPool holds the one connection the aggregate flusher uses. Reads
	// of attackers wait for a flush, so a flush queued behind those reads
	// for a pooled connection would hold them all up.
	flushPool *pgxpool.Pool
	log       zerolog.Logger

	// partitionsMu guards partitions, the days whose events partition
	// this process has created or found, so a batch checks the catalog
	// only for a day it has not touched before.
	partitionsMu sync.Mutex
	partitions   map[int64]struct{}

	flusher *deltaFlusher
	// addresses maps source addresses to their attackers.
	addresses *addressCache
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a libpq URL or key=value string,
// with the pool settings pgxpool accepts) and applies pending schema
// migrations. It fails when the database was migrated by a newer binary.
func Open(ctx context.Context, dsn string, logger zerolog.Logger) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("open postgres store: empty dsn")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error can quote the DSN, which may carry a password.
		return nil, errors.New("open postgres store: invalid dsn")
	}

	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}

	flushCfg := cfg.Copy()
	flushCfg.MaxConns, flushCfg.MinConns = 1, 0
	flushPool, err := pgxpool.NewWithConfig(ctx, flushCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}

	s := &Store{
		pool:       pool,
		flushPool:  flushPool,
		log:        logger.With().Str("component", "store.postgres").Logger(),
		partitions: make(map[int64]struct{}),
		addresses:  newAddressCache(addressCacheEntries),
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		flushPool.Close()
		return nil, fmt.Errorf("open postgres store %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	s.startFlusher()
	// Deltas a previous process committed but did not apply.
	s.batchIngested()
	return s, nil
}

// defaultMaxConns is the pool size when the DSN sets none. pgxpool's own
// default, the number of CPUs and at least 4, left API reads queueing for
// a connection while PostgreSQL had cores idle: a request mostly waits on
// the network and the disk, not on a CPU.
func defaultMaxConns() int32 {
	return int32(max(16, 4*runtime.NumCPU())) //nolint:gosec // G115: CPU counts fit in int32
}

// PoolSize is the most connections the store's pool opens for reads and
// ingest, besides the flusher's one.
func (s *Store) PoolSize() int32 {
	return s.pool.Config().MaxConns
}

// Ping checks that a pooled connection answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres store: %w", err)
	}
	return nil
}

// Close applies pending aggregate changes and closes the connection pool,
// waiting for connections in use to be released.
func (s *Store) Close() error {
	s.stopFlusher()
	s.pool.Close()
	s.flushPool.Close()
	return nil
}

// inTx runs fn in a READ COMMITTED transaction and commits when fn returns
// nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return inTxOn(ctx, s.pool, fn)
}

// inTxOn is inTx on a given pool.
func inTxOn(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}
