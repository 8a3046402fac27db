package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"

	"github.com/decnet/decnet/controlplane/store"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// IngestEvents stores a batch in one transaction. Each event's AgentId is
// set to agentID, the identity the bridge authenticated, before it is
// stored. Events with an id already stored are counted as duplicates and
// change nothing.
func (s *Store) IngestEvents(ctx context.Context, agentID string, events []*eventv1.Event, receivedAt time.Time) (store.IngestResult, error) {
	var res store.IngestResult
	received := receivedAt.UnixNano()

	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = ingestBatch(ctx, tx, agentID, events, received)
		return err
	})
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest %d events: %w", len(events), err)
	}
	return res, nil
}

// normalizeAddress returns the canonical text form of an IP address, so
// "::ffff:192.0.2.1" and "192.0.2.1" map to one attacker. Text that is not
// an address is kept as it is.
func normalizeAddress(s string) string {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return addr.Unmap().WithZone("").String()
}

// nonNilBytes maps nil to an empty slice, because the driver stores a nil
// []byte as NULL and the columns are NOT NULL.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
