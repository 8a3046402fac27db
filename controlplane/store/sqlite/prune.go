package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

// pruneChunk is how many events one delete transaction removes. Short
// transactions keep the single writer connection free for ingest between
// chunks.
const pruneChunk = 5000

// PruneEvents deletes the events whose event time is before the cutoff,
// in chunks of pruneChunk rows, each its own transaction. Credentials do
// not reference events, and attackers keep their aggregates.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, dryRun bool) (store.PruneReport, error) {
	report := store.PruneReport{Before: before, DryRun: dryRun, Rows: map[string]int64{"events": 0}}
	cutoff := before.UnixNano()

	if dryRun {
		var n int64
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE time < ?`, cutoff).Scan(&n); err != nil {
			return report, fmt.Errorf("count events to prune: %w", err)
		}
		report.Rows["events"] = n
		return report, nil
	}

	for {
		var n int64
		err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE rowid IN
				(SELECT rowid FROM events WHERE time < ? LIMIT ?)`, cutoff, pruneChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return report, fmt.Errorf("prune events: %w", err)
		}
		report.Rows["events"] += n
		if n < pruneChunk {
			return report, nil
		}
	}
}
