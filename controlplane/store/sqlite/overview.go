package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Overview reads the totals and the window's statistics in one read
// transaction, so they describe the same snapshot. Every window query reads
// the rows of the window only, through the time indexes of events and
// credentials.
func (s *Store) Overview(ctx context.Context, q store.OverviewQuery) (*apiv1.GetOverviewResponse, error) {
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	o := store.NewOverview(q)
	start, end := q.Start.UnixNano(), q.End().UnixNano()
	steps := []func(context.Context, *sql.Tx, *apiv1.GetOverviewResponse) error{
		readTotals,
		func(ctx context.Context, tx *sql.Tx, o *apiv1.GetOverviewResponse) error {
			return readHistogram(ctx, tx, o, start, end, q.Bucket.Nanoseconds())
		},
		func(ctx context.Context, tx *sql.Tx, o *apiv1.GetOverviewResponse) error {
			var err error
			o.Kinds, err = readCounts(ctx, tx, "kind", start, end)
			return err
		},
		func(ctx context.Context, tx *sql.Tx, o *apiv1.GetOverviewResponse) error {
			var err error
			o.Services, err = readCounts(ctx, tx, "service", start, end)
			return err
		},
		func(ctx context.Context, tx *sql.Tx, o *apiv1.GetOverviewResponse) error {
			return tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT session_id) FROM events
				WHERE time >= ? AND time < ? AND session_id <> ''`, start, end).Scan(&o.WindowSessions)
		},
		func(ctx context.Context, tx *sql.Tx, o *apiv1.GetOverviewResponse) error {
			var err error
			o.TopAttackers, err = readTopAttackers(ctx, tx, start, end, q.TopN)
			return err
		},
		func(ctx context.Context, tx *sql.Tx, o *apiv1.GetOverviewResponse) error {
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

func readTotals(ctx context.Context, tx *sql.Tx, o *apiv1.GetOverviewResponse) error {
	return tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM events),
		(SELECT COUNT(*) FROM attackers),
		(SELECT COUNT(*) FROM credentials),
		(SELECT COUNT(DISTINCT session_id) FROM recordings)`).
		Scan(&o.TotalEvents, &o.TotalAttackers, &o.TotalCredentials, &o.TotalRecordedSessions)
}

// readHistogram counts the window's events per bucket. Times are
// nanoseconds and the window starts at start, so integer division gives
// the bucket index.
func readHistogram(ctx context.Context, tx *sql.Tx, o *apiv1.GetOverviewResponse, start, end, bucket int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT (time - ?) / ? AS b, COUNT(*) FROM events
		WHERE time >= ? AND time < ? GROUP BY b`, start, bucket, start, end)
	if err != nil {
		return fmt.Errorf("read histogram: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i int64
			n uint64
		)
		if err := rows.Scan(&i, &n); err != nil {
			return fmt.Errorf("read histogram: %w", err)
		}
		store.AddToBucket(o, i, n)
	}
	return rows.Err()
}

// readCounts counts the window's events per value of column, which is a
// constant column name.
func readCounts(ctx context.Context, tx *sql.Tx, column string, start, end int64) ([]*apiv1.OverviewCount, error) {
	//nolint:gosec // G202: column is a constant column name
	rows, err := tx.QueryContext(ctx, `SELECT `+column+`, COUNT(*) AS n FROM events
		WHERE time >= ? AND time < ? GROUP BY `+column+` ORDER BY n DESC, `+column, start, end)
	if err != nil {
		return nil, fmt.Errorf("count events by %s: %w", column, err)
	}
	defer rows.Close()
	var out []*apiv1.OverviewCount
	for rows.Next() {
		var c apiv1.OverviewCount
		if err := rows.Scan(&c.Name, &c.Count); err != nil {
			return nil, fmt.Errorf("count events by %s: %w", column, err)
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}

func readTopAttackers(ctx context.Context, tx *sql.Tx, start, end int64, n int) ([]*apiv1.OverviewAttacker, error) {
	rows, err := tx.QueryContext(ctx, `SELECT attacker_id, COUNT(*) AS n, MAX(time) FROM events
		WHERE time >= ? AND time < ? AND attacker_id IS NOT NULL
		GROUP BY attacker_id ORDER BY n DESC, attacker_id LIMIT ?`, start, end, n)
	if err != nil {
		return nil, fmt.Errorf("read top attackers: %w", err)
	}
	defer rows.Close()

	var (
		out  []*apiv1.OverviewAttacker
		byID = make(map[string]*apiv1.OverviewAttacker)
		args []any
	)
	for rows.Next() {
		var (
			a    apiv1.OverviewAttacker
			last sql.NullInt64
		)
		if err := rows.Scan(&a.AttackerId, &a.Events, &last); err != nil {
			return nil, fmt.Errorf("read top attackers: %w", err)
		}
		a.LastSeen = timestamppb.New(fromNanos(last))
		out = append(out, &a)
		byID[a.AttackerId] = &a
		args = append(args, a.AttackerId)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read top attackers: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	rows.Close()

	//nolint:gosec // G202: the query holds only ? placeholders
	addrs, err := tx.QueryContext(ctx, `SELECT attacker_id, address FROM attacker_addresses
		WHERE attacker_id IN (?`+strings.Repeat(", ?", len(args)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read top attacker addresses: %w", err)
	}
	defer addrs.Close()
	for addrs.Next() {
		var id, address string
		if err := addrs.Scan(&id, &address); err != nil {
			return nil, fmt.Errorf("read top attacker addresses: %w", err)
		}
		byID[id].Addresses = append(byID[id].Addresses, address)
	}
	for _, a := range out {
		slices.Sort(a.Addresses)
	}
	return out, addrs.Err()
}

// readTopCredentials groups the window's credentials by digest, kind and
// principal, as credential reuse does. Rows of one group share the secret,
// so any of them gives its value.
func readTopCredentials(ctx context.Context, tx *sql.Tx, start, end int64, n int) ([]*apiv1.OverviewCredential, error) {
	rows, err := tx.QueryContext(ctx, `SELECT principal, secret_kind, secret_sha256, MIN(secret), COUNT(*) AS n, MAX(time)
		FROM credentials WHERE time >= ? AND time < ?
		GROUP BY secret_sha256, secret_kind, principal
		ORDER BY n DESC, principal, secret_kind, secret_sha256 LIMIT ?`, start, end, n)
	if err != nil {
		return nil, fmt.Errorf("read top credentials: %w", err)
	}
	defer rows.Close()
	var out []*apiv1.OverviewCredential
	for rows.Next() {
		var (
			c    apiv1.OverviewCredential
			last sql.NullInt64
		)
		if err := rows.Scan(&c.Principal, &c.SecretKind, &c.SecretSha256, &c.Secret, &c.Count, &last); err != nil {
			return nil, fmt.Errorf("read top credentials: %w", err)
		}
		c.LastSeen = timestamppb.New(fromNanos(last))
		out = append(out, &c)
	}
	return out, rows.Err()
}
