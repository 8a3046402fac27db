package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/decnet/decnet/controlplane/store"
)

// pruneChunk is how many events one delete statement removes, so no
// single transaction holds row locks on a large part of the table.
const pruneChunk = 5000

// partitionPrefix starts the name of every daily events partition; the
// rest is the day as YYYYMMDD (see createPartition).
const partitionPrefix = "events_p"

// PruneEvents deletes the events whose event time is before the cutoff.
// Day partitions (by id time) that end at or before the cutoff and hold
// no event at or after it are dropped whole, which frees their space at
// once; the events left, in the boundary partition or with an event time
// far from their id time, are deleted in chunks. Credentials do not
// reference events, and attackers keep their aggregates.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, dryRun bool) (store.PruneReport, error) {
	report := store.PruneReport{Before: before, DryRun: dryRun, Rows: map[string]int64{"events": 0}}

	candidates, err := s.partitionsBefore(ctx, before)
	if err != nil {
		return report, fmt.Errorf("prune events: %w", err)
	}

	if dryRun {
		var n int64
		if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE time < $1`, before).Scan(&n); err != nil {
			return report, fmt.Errorf("count events to prune: %w", err)
		}
		report.Rows["events"] = n
		for _, p := range candidates {
			droppable, _, err := s.checkPartition(ctx, s.pool, p, before)
			if err != nil {
				return report, fmt.Errorf("count events to prune: %w", err)
			}
			if droppable {
				report.Partitions = append(report.Partitions, p.name)
			}
		}
		return report, nil
	}

	for _, p := range candidates {
		dropped, n, err := s.dropPartition(ctx, p, before)
		if err != nil {
			return report, fmt.Errorf("prune events: %w", err)
		}
		if dropped {
			report.Partitions = append(report.Partitions, p.name)
			report.Rows["events"] += n
		}
	}

	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE (id, id_time) IN
			(SELECT id, id_time FROM events WHERE time < $1 LIMIT $2)`, before, pruneChunk)
		if err != nil {
			return report, fmt.Errorf("prune events: %w", err)
		}
		report.Rows["events"] += tag.RowsAffected()
		if tag.RowsAffected() < pruneChunk {
			return report, nil
		}
	}
}

// partition is one daily events partition.
type partition struct {
	name string
	day  int64
}

// partitionsBefore returns the events partitions whose whole day range
// ends at or before the cutoff.
func (s *Store) partitionsBefore(ctx context.Context, before time.Time) ([]partition, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("list events partitions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list events partitions: %w", err)
	}

	var out []partition
	for _, name := range names {
		digits, ok := strings.CutPrefix(name, partitionPrefix)
		if !ok {
			continue // not one this store created; leave it alone
		}
		from, err := time.Parse("20060102", digits)
		if err != nil {
			continue
		}
		if !from.Add(day).After(before) {
			out = append(out, partition{name: name, day: dayOf(from)})
		}
	}
	return out, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkPartition reports whether every event in the partition is before
// the cutoff, and how many events it holds.
func (s *Store) checkPartition(ctx context.Context, q querier, p partition, before time.Time) (bool, int64, error) {
	var total, old int64
	// The name comes from the catalog and matched partitionPrefix plus a
	// date; it is quoted all the same.
	query := `SELECT COUNT(*), COUNT(*) FILTER (WHERE time < $1) FROM ` + pgx.Identifier{p.name}.Sanitize()
	if err := q.QueryRow(ctx, query, before).Scan(&total, &old); err != nil {
		return false, 0, fmt.Errorf("count events in %s: %w", p.name, err)
	}
	return total == old, total, nil
}

// dropPartition drops the partition when every event in it is before the
// cutoff and reports how many events went with it. The partition lock
// keeps ingest on this and other replicas from creating the same day
// meanwhile, and the table lock from adding rows between the count and
// the drop.
func (s *Store) dropPartition(ctx context.Context, p partition, before time.Time) (bool, int64, error) {
	var (
		dropped bool
		n       int64
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, partitionLockKey); err != nil {
			return err
		}
		ident := pgx.Identifier{p.name}.Sanitize()
		if _, err := tx.Exec(ctx, `LOCK TABLE `+ident+` IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		all, total, err := s.checkPartition(ctx, tx, p, before)
		if err != nil || !all {
			return err
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+ident); err != nil {
			return err
		}
		dropped, n = true, total
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("drop events partition %s: %w", p.name, err)
	}
	if dropped {
		s.forgetPartitions([]int64{p.day})
		s.log.Info().Str("partition", p.name).Int64("events", n).Msg("dropped events partition")
	}
	return dropped, n, nil
}

// forgetPartitions removes days from the cache of known partitions, so
// the next batch for one of them checks the catalog again.
func (s *Store) forgetPartitions(days []int64) {
	s.partitionsMu.Lock()
	defer s.partitionsMu.Unlock()
	for _, d := range days {
		delete(s.partitions, d)
	}
}
