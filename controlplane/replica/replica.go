// Package replica keeps control plane replicas from sharing state they
// cannot share. Several replicas on one PostgreSQL database must also share
// a Redis server, because live event streams, the login rate limit and
// one-time tickets live outside the database. A SQLite data directory
// serves exactly one process.
package replica

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
)

// Sentinel errors, returned wrapped with the details of the conflict.
var (
	// ErrReplicaWithoutRedis: another replica runs on the database and
	// one of the two has no Redis.
	ErrReplicaWithoutRedis = errors.New("another control plane replica is running on this database; several replicas need a shared Redis (--redis-url) on every one of them")
	// ErrDataDirInUse: another process serves the SQLite data directory.
	ErrDataDirInUse = errors.New("another control plane uses this data directory; SQLite serves a single replica, use PostgreSQL (--database-url) and Redis (--redis-url) for several")
)

// lockKey is the PostgreSQL advisory lock that replicas of one database
// take. Advisory locks are scoped to the database, so other databases on
// the server do not conflict. The value is arbitrary and fixed: "decnet"
// in ASCII.
const lockKey int64 = 0x646563_6e6574

// checkInterval is how often a replica checks that its lock session is
// alive. A lost session releases the lock, so an unnoticed loss would let
// a replica without Redis start beside this one.
const checkInterval = 5 * time.Second

// FileLock is an exclusive lock on a data directory, held until Close.
type FileLock struct {
	f *os.File
}

// LockDataDir takes the exclusive lock of dir, or returns ErrDataDirInUse.
// The kernel releases it when the process exits, so a crash leaves no
// stale lock.
func LockDataDir(dir string) (*FileLock, error) {
	path := filepath.Join(dir, "decnet.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock data dir %s: %w", dir, ErrDataDirInUse)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	return &FileLock{f: f}, nil
}

// Close releases the lock.
func (l *FileLock) Close() error {
	return l.f.Close()
}

// DatabaseLockConfig configures a DatabaseLock.
type DatabaseLockConfig struct {
	// DSN is the PostgreSQL URL of the store; it is never logged.
	DSN string
	// Shared is true for a replica with Redis: any number of those may
	// run together, but none beside a replica without Redis, which holds
	// the lock exclusively.
	Shared bool
	Logger zerolog.Logger
}

// DatabaseLock is a PostgreSQL advisory lock held on a session of its own
// for as long as the replica runs.
type DatabaseLock struct {
	cfg  DatabaseLockConfig
	log  zerolog.Logger
	conn *pgx.Conn
}

// LockDatabase takes the replicas' advisory lock, shared or exclusive, or
// returns ErrReplicaWithoutRedis.
func LockDatabase(ctx context.Context, cfg DatabaseLockConfig) (*DatabaseLock, error) {
	l := &DatabaseLock{cfg: cfg, log: cfg.Logger.With().Str("component", "replica").Logger()}
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *DatabaseLock) acquire(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, l.cfg.DSN)
	if err != nil {
		// pgx errors can quote the DSN, which may hold a password.
		var pgErr *pgconn.ConnectError
		if errors.As(err, &pgErr) {
			return fmt.Errorf("lock database: connect to %s:%d/%s failed", pgErr.Config.Host, pgErr.Config.Port, pgErr.Config.Database)
		}
		return errors.New("lock database: connect failed")
	}
	fn := "pg_try_advisory_lock"
	if l.cfg.Shared {
		fn = "pg_try_advisory_lock_shared"
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT "+fn+"($1)", lockKey).Scan(&ok); err != nil {
		_ = conn.Close(ctx)
		return fmt.Errorf("lock database: %w", err)
	}
	if !ok {
		_ = conn.Close(ctx)
		if l.cfg.Shared {
			return fmt.Errorf("lock database: a replica without Redis is running: %w", ErrReplicaWithoutRedis)
		}
		return fmt.Errorf("lock database: %w", ErrReplicaWithoutRedis)
	}
	l.conn = conn
	return nil
}

// Run checks the lock's session until ctx ends and takes the lock again
// on a new session when the old one died. It returns an error when
// another replica took the lock meanwhile.
func (l *DatabaseLock) Run(ctx context.Context) error {
	ticker := time.NewTicker(checkInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		if l.conn != nil {
			if err := l.conn.Ping(ctx); err == nil {
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			l.log.Warn().Msg("replica lock session lost, taking the lock again")
			_ = l.conn.Close(context.Background())
			l.conn = nil
		}
		err := l.acquire(ctx)
		switch {
		case err == nil:
			l.log.Info().Msg("replica lock taken again")
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrReplicaWithoutRedis):
			return err
		default:
			// The database is unreachable; the store fails too, and the
			// next tick tries again.
			l.log.Warn().Err(err).Msg("take replica lock failed")
		}
	}
}

// Close ends the lock's session, which releases the lock.
func (l *DatabaseLock) Close() error {
	if l.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Unlock explicitly: closing the connection releases the lock only
	// when the server's backend exits, which can be after Close returns,
	// so a replica started right after this one could still see it held.
	_, unlockErr := l.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()")
	err := l.conn.Close(ctx)
	l.conn = nil
	return errors.Join(unlockErr, err)
}
