package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ListEvents returns events newest first, by event time and then id.
func (s *Store) ListEvents(ctx context.Context, q store.EventQuery) (store.Page[*apiv1.StoredEvent], error) {
	size := store.ClampPageSize(q.PageSize)

	var w where
	f := q.Filter
	w.addIf("kind", f.GetKind())
	w.addIf("service", f.GetService())
	w.addIf("decky", f.GetDecky())
	w.addIf("agent_id", f.GetAgentId())
	if src := normalizeAddress(f.GetSourceAddress()); src != "" {
		// Every event of an address carries the attacker of that
		// address, so the attacker's index finds them. Events have no
		// index of their own on the address.
		w.add("attacker_id = (SELECT attacker_id FROM attacker_addresses WHERE address = ?) AND src_addr = ?", src, src)
	}
	w.addIf("attacker_id", f.GetAttackerId())
	if f.GetSince() != nil {
		w.add("time >= ?", f.GetSince().AsTime().UnixNano())
	}
	if f.GetUntil() != nil {
		w.add("time < ?", f.GetUntil().AsTime().UnixNano())
	}
	if err := w.addCursor("time", "id", q.PageToken); err != nil {
		return store.Page[*apiv1.StoredEvent]{}, fmt.Errorf("list events: %w", err)
	}

	query := `SELECT id, time, received_at, attacker_id, payload FROM events` + w.String() + //nolint:gosec // G202: w contains only constant column names, and values are bound as ? arguments
		` ORDER BY time DESC, id DESC LIMIT ?`
	rows, err := s.read.QueryContext(ctx, query, append(w.args, size)...)
	if err != nil {
		return store.Page[*apiv1.StoredEvent]{}, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()

	var (
		page   store.Page[*apiv1.StoredEvent]
		lastAt int64
		lastID string
	)
	for rows.Next() {
		var (
			id         string
			at, recv   int64
			attackerID sql.NullString
			payload    []byte
		)
		if err := rows.Scan(&id, &at, &recv, &attackerID, &payload); err != nil {
			return store.Page[*apiv1.StoredEvent]{}, fmt.Errorf("list events: %w", err)
		}
		ev := &eventv1.Event{}
		if err := proto.Unmarshal(payload, ev); err != nil {
			return store.Page[*apiv1.StoredEvent]{}, fmt.Errorf("list events: unmarshal event %s: %w", id, err)
		}
		page.Items = append(page.Items, &apiv1.StoredEvent{
			Event:      ev,
			AttackerId: attackerID.String,
			ReceivedAt: timestamppb.New(time.Unix(0, recv).UTC()),
		})
		lastAt, lastID = at, id
	}
	if err := rows.Err(); err != nil {
		return store.Page[*apiv1.StoredEvent]{}, fmt.Errorf("list events: %w", err)
	}

	page.NextPageToken = nextToken(len(page.Items), size, time.Unix(0, lastAt), lastID)
	return page, nil
}
