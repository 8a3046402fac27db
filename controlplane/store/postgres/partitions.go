package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// partitionLockKey is the pg_advisory_xact_lock key that serialises the
// creation of events partitions across replicas: "decnetpt" as a
// big-endian int64.
const partitionLockKey int64 = 0x6465636e65747074

const day = 24 * time.Hour

// dayOf returns the number of the UTC day that contains t, counted from
// the Unix epoch.
func dayOf(t time.Time) int64 {
	return t.UTC().Truncate(day).Unix() / int64(day/time.Second)
}

// ensurePartitions creates the daily events partitions for the given days
// that this process has not seen yet. Each creation runs in its own short
// transaction before the ingest transaction, because CREATE TABLE ...
// PARTITION OF locks the parent table against every reader until commit.
//
// NOTE: a partition dropped by hand while the process runs stays in the
// cache, and batches for that day then fail until a restart.
func (s *Store) ensurePartitions(ctx context.Context, days []int64) error {
	s.partitionsMu.Lock()
	var missing []int64
	for _, d := range days {
		if _, ok := s.partitions[d]; !ok {
			missing = append(missing, d)
		}
	}
	s.partitionsMu.Unlock()
	slices.Sort(missing)
	missing = slices.Compact(missing)

	for _, d := range missing {
		if err := s.createPartition(ctx, d); err != nil {
			return err
		}
		s.partitionsMu.Lock()
		s.partitions[d] = struct{}{}
		s.partitionsMu.Unlock()
	}
	return nil
}

func (s *Store) createPartition(ctx context.Context, dayNumber int64) error {
	from := time.Unix(dayNumber*int64(day/time.Second), 0).UTC()
	to := from.Add(day)
	name := "events_p" + from.Format("20060102")

	// DDL takes no bind parameters. The name and bounds come from the
	// formatted day number, never from input text.
	ddl := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF events FOR VALUES FROM ('%s') TO ('%s')`,
		pgx.Identifier{name}.Sanitize(), from.Format(time.RFC3339), to.Format(time.RFC3339))

	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The lock keeps two replicas from both passing the IF NOT EXISTS
		// check for the same day and one failing on the catalog's unique
		// index.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, partitionLockKey); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, ddl)
		return err
	})
	if err != nil {
		return fmt.Errorf("create events partition %s: %w", name, err)
	}
	s.log.Debug().Str("partition", name).Msg("ensured events partition")
	return nil
}
