package controlplane

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"

	"golang.org/x/sync/errgroup"

	"github.com/decnet/decnet/controlplane/ticket"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/ratelimit"
	"github.com/decnet/decnet/controlplane/replica"
	"github.com/decnet/decnet/controlplane/store/postgres"
	"github.com/decnet/decnet/controlplane/store/sqlite"
)

// redisConnectTimeout bounds the first PING to Redis at startup, so a
// wrong address fails the start instead of every later login.
const redisConnectTimeout = 10 * time.Second

// caDir returns the directory of the CA, which every replica of one
// deployment must share.
func (s *Server) caDir() string {
	if s.cfg.CADir != "" {
		return s.cfg.CADir
	}
	return filepath.Join(s.cfg.DataDir, "ca")
}

// openStore connects to Redis when configured, takes the replica lock and
// opens the store: PostgreSQL when DatabaseURL is set, else SQLite in the
// data directory. The URLs may hold passwords and appear in no error.
func (s *Server) openStore(ctx context.Context) error {
	if s.cfg.RedisURL != "" {
		opts, err := redis.ParseURL(s.cfg.RedisURL)
		if err != nil {
			return errors.New("connect to redis: invalid redis url")
		}
		s.redis = redis.NewClient(opts)
		pingCtx, cancel := context.WithTimeout(ctx, redisConnectTimeout)
		defer cancel()
		if err := s.redis.Ping(pingCtx).Err(); err != nil {
			return fmt.Errorf("connect to redis at %s: %w", opts.Addr, err)
		}
	}

	var err error
	if s.cfg.DatabaseURL == "" {
		if s.dataLock, err = replica.LockDataDir(s.cfg.DataDir); err != nil {
			return err
		}
		s.store, err = sqlite.Open(ctx, filepath.Join(s.cfg.DataDir, "decnet.db"), s.cfg.Logger)
		return err
	}

	s.dbLock, err = replica.LockDatabase(ctx, replica.DatabaseLockConfig{
		DSN:    s.cfg.DatabaseURL,
		Shared: s.redis != nil,
		Logger: s.cfg.Logger,
	})
	if err != nil {
		return err
	}
	s.store, err = postgres.Open(ctx, s.cfg.DatabaseURL, s.cfg.Logger)
	return err
}

// sharedState returns the live-stream broker and the authenticator: on
// Redis when configured, so that replicas share them, else in-process.
// A nil authenticator lets the API build its default.
func (s *Server) sharedState() (fanout.Broker, *auth.Authenticator, error) {
	if s.redis == nil {
		return fanout.New(), nil, nil
	}
	broker, err := fanout.NewRedis(fanout.RedisConfig{Client: s.redis, Logger: s.cfg.Logger})
	if err != nil {
		return nil, nil, err
	}
	limiter, err := ratelimit.NewRedis(ratelimit.RedisConfig{Client: s.redis, Now: s.cfg.Now, Logger: s.cfg.Logger})
	if err != nil {
		return nil, nil, err
	}
	authn, err := auth.New(auth.Config{Store: s.store, Logger: s.cfg.Logger, Now: s.cfg.Now, Limiter: limiter, RequireAdminTOTPFunc: s.live.RequireAdminTOTP})
	if err != nil {
		return nil, nil, err
	}
	if s.tickets, err = ticket.NewRedis(ticket.RedisConfig{Client: s.redis}); err != nil {
		return nil, nil, err
	}
	s.broker = broker
	return broker, authn, nil
}

// readyBeyondStore returns the readiness check of what replicas share
// besides the store: Redis carries sessions, tickets, rate limits and
// live events, so a replica that cannot reach it cannot serve. It is nil
// on a single host.
func (s *Server) readyBeyondStore() func(ctx context.Context) error {
	// The client is captured now: closeShared clears the field at
	// shutdown while probes may still arrive.
	client := s.redis
	if client == nil {
		return nil
	}
	return func(ctx context.Context) error {
		if err := client.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("ping redis: %w", err)
		}
		return nil
	}
}

// runShared adds the replica lock check and the Redis broker to g.
func (s *Server) runShared(ctx context.Context, g *errgroup.Group) {
	if s.dbLock != nil {
		g.Go(func() error { return s.dbLock.Run(ctx) })
	}
	if s.broker != nil {
		g.Go(func() error { return s.broker.Run(ctx) })
	}
}

// closeShared releases the Redis client and the replica lock. The lock
// goes last, so no second replica starts while this one still writes.
func (s *Server) closeShared() {
	if s.redis != nil {
		_ = s.redis.Close()
		s.redis = nil
	}
	if s.dbLock != nil {
		_ = s.dbLock.Close()
		s.dbLock = nil
	}
	if s.dataLock != nil {
		_ = s.dataLock.Close()
		s.dataLock = nil
	}
}
