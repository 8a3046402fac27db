package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Overview reads the totals and the window's statistics in one read-only
// repeatable-read transaction, so they describe the same snapshot. Every
// window query reads the rows of the window only, through the time indexes
// of events and credentials. Names are ordered with the C collation, so
// ties come out in byte order as in the SQLite backend.
//
// NOTE: the totals count every row of their tables. PostgreSQL keeps no
// row count, so total_events reads a whole index of every events
// partition. An estimate from the statistics would be cheaper but not
// exact.
func (s *Store) Overview(ctx context.Context, q store.OverviewQuery) (*apiv1.GetOverviewResponse, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	o := store.NewOverview(q)
	start, end := q.Start, q.End()
	steps := []func(context.Context, pgx.Tx, *apiv1.GetOverviewResponse) error{
		readTotals,
		func(ctx context.Context, tx pgx.Tx, o *apiv1.GetOverviewResponse) error {
			return readHistogram(ctx, tx, o, start, end, q.Bucket)
		},
		func(ctx context.Context, tx pgx.Tx, o *apiv1.GetOverviewResponse) error {
			var err error
			o.Kinds, err = readCounts(ctx, tx, "kind", start, end)
			return err
		},
		func(ctx context.Context, tx pgx.Tx, o *apiv1.GetOverviewResponse) error {
			var err error
			o.Services, err = readCounts(ctx, tx, "service", start, end)
			return err
		},
		func(ctx context.Context, tx pgx.Tx, o *apiv1.GetOverviewResponse) error {
			return tx.QueryRow(ctx, `SELECT COUNT(DISTINCT session_id) FROM events
				WHERE time >= $1 AND time < $2 AND session_id <> ''`, start, end).Scan(&o.WindowSessions)
		},
		func(ctx context.Context, tx pgx.Tx, o *apiv1.GetOverviewResponse) error {
			var err error
			o.TopAttackers, err = readTopAttackers(ctx, tx, start, end, q.TopN)
			return err
		},
		func(ctx context.Context, tx pgx.Tx, o *apiv1.GetOverviewResponse) error {
			var err error
			o.TopCredentials, err = readTopCredentials(ctx, tx, start, end, q.TopN)
			return err
		},
	}
	for _, step := range steps {
		if err := step(ctx, tx, o); err != nil {
			return nil, fmt.Errorf("overview: %w", err)
		}
	}
	return o, nil
}

func readTotals(ctx context.Context, tx pgx.Tx, o *apiv1.GetOverviewResponse) error {
	return tx.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM events),
		(SELECT COUNT(*) FROM attackers),
		(SELECT COUNT(*) FROM credentials),
		(SELECT COUNT(DISTINCT session_id) FROM recordings)`).
		Scan(&o.TotalEvents, &o.TotalAttackers, &o.TotalCredentials, &o.TotalRecordedSessions)
}

// readHistogram counts the window's events per bucket. The offset from
// start is taken in whole microseconds, what timestamptz stores, so the
// integer division gives the same index as in the SQLite backend.
func readHistogram(ctx context.Context, tx pgx.Tx, o *apiv1.GetOverviewResponse, start, end time.Time, bucket time.Duration) error {
	rows, err := tx.Query(ctx, `SELECT (EXTRACT(EPOCH FROM time - $1) * 1000000)::bigint / $2 AS b, COUNT(*)
		FROM events WHERE time >= $1 AND time < $3 GROUP BY b`, start, bucket.Microseconds(), end)
	if err != nil {
		return fmt.Errorf("read histogram: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int64
		if err := rows.Scan(&i, &n); err != nil {
			return fmt.Errorf("read histogram: %w", err)
		}
		store.AddToBucket(o, i, uint64(n)) //nolint:gosec // G115: a count is never negative
	}
	return rows.Err()
}

// readCounts counts the window's events per value of column, which is a
// constant column name.
func readCounts(ctx context.Context, tx pgx.Tx, column string, start, end time.Time) ([]*apiv1.OverviewCount, error) {
	rows, err := tx.Query(ctx, `SELECT `+column+`, COUNT(*) AS n FROM events
		WHERE time >= $1 AND time < $2 GROUP BY `+column+` ORDER BY n DESC, `+column+` COLLATE "C"`, start, end)
	if err != nil {
		return nil, fmt.Errorf("count events by %s: %w", column, err)
	}
	defer rows.Close()
	var out []*apiv1.OverviewCount
	for rows.Next() {
		var (
			c apiv1.OverviewCount
			n int64
		)
		if err := rows.Scan(&c.Name, &n); err != nil {
			return nil, fmt.Errorf("count events by %s: %w", column, err)
		}
		c.Count = uint64(n) //nolint:gosec // G115: a count is never negative
		out = append(out, &c)
	}
	return out, rows.Err()
}

// readTopAttackers orders ties by id. The uuid order equals the order of
// the lowercase text that the SQLite backend sorts.
func readTopAttackers(ctx context.Context, tx pgx.Tx, start, end time.Time, n int) ([]*apiv1.OverviewAttacker, error) {
	rows, err := tx.Query(ctx, `SELECT t.attacker_id::text, t.n, t.last,
			ARRAY(SELECT address FROM attacker_addresses WHERE attacker_id = t.attacker_id)
		FROM (SELECT attacker_id, COUNT(*) AS n, MAX(time) AS last FROM events
			WHERE time >= $1 AND time < $2 AND attacker_id IS NOT NULL
			GROUP BY attacker_id ORDER BY n DESC, attacker_id LIMIT $3) t
		ORDER BY t.n DESC, t.attacker_id`, start, end, n)
	if err != nil {
		return nil, fmt.Errorf("read top attackers: %w", err)
	}
	defer rows.Close()
	var out []*apiv1.OverviewAttacker
	for rows.Next() {
		var (
			a         apiv1.OverviewAttacker
			count     int64
			last      time.Time
			addresses []string
		)
		if err := rows.Scan(&a.AttackerId, &count, &last, &addresses); err != nil {
			return nil, fmt.Errorf("read top attackers: %w", err)
		}
		a.Events = uint64(count) //nolint:gosec // G115: a count is never negative
		a.LastSeen = timestamppb.New(last.UTC())
		a.Addresses = sortedList(addresses)
		out = append(out, &a)
	}
	return out, rows.Err()
}

// readTopCredentials groups the window's credentials by digest, kind and
// principal, as credential reuse does. Rows of one group share the secret,
// so any of them gives its value.
func readTopCredentials(ctx context.Context, tx pgx.Tx, start, end time.Time, n int) ([]*apiv1.OverviewCredential, error) {
	rows, err := tx.Query(ctx, `SELECT principal, secret_kind, secret_sha256, (array_agg(secret))[1],
			COUNT(*) AS n, MAX(time)
		FROM credentials WHERE time >= $1 AND time < $2
		GROUP BY secret_sha256, secret_kind, principal
		ORDER BY n DESC, principal COLLATE "C", secret_kind COLLATE "C", secret_sha256 LIMIT $3`, start, end, n)
	if err != nil {
		return nil, fmt.Errorf("read top credentials: %w", err)
	}
	defer rows.Close()
	var out []*apiv1.OverviewCredential
	for rows.Next() {
		var (
			c     apiv1.OverviewCredential
			count int64
			last  time.Time
		)
		if err := rows.Scan(&c.Principal, &c.SecretKind, &c.SecretSha256, &c.Secret, &count, &last); err != nil {
			return nil, fmt.Errorf("read top credentials: %w", err)
		}
		c.Count = uint64(count) //nolint:gosec // G115: a count is never negative
		c.LastSeen = timestamppb.New(last.UTC())
		out = append(out, &c)
	}
	return out, rows.Err()
}
