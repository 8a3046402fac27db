package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ListEvents returns events newest first, by event time and then id.
//
// NOTE: the events table is partitioned on the time inside the id, not on
// the event time the list sorts by. Every query therefore reads the index
// of each partition, and the planner merges them in order.
func (s *Store) ListEvents(ctx context.Context, q store.EventQuery) (store.Page[*apiv1.StoredEvent], error) {
	size := store.ClampPageSize(q.PageSize)

	var w where
	f := q.Filter
	w.addIf("kind", f.GetKind())
	w.addIf("service", f.GetService())
	w.addIf("decky", f.GetDecky())
	w.addUUIDIf("agent_id", f.GetAgentId())
	if src := normalizeAddress(f.GetSourceAddress()); src != "" {
		// Every event of an address carries the attacker of that
		// address, so the attacker's index finds them; events has no
		// index of its own on the address.
		arg := w.arg(src)
		w.add("attacker_id = (SELECT attacker_id FROM attacker_addresses WHERE address = " + arg + ") AND src_addr = " + arg)
	}
	w.addUUIDIf("attacker_id", f.GetAttackerId())
	if f.GetSince() != nil {
		w.add("time >= " + w.arg(f.GetSince().AsTime()))
	}
	if f.GetUntil() != nil {
		w.add("time < " + w.arg(f.GetUntil().AsTime()))
	}
	if err := w.addCursor("time", "id", q.PageToken); err != nil {
		return store.Page[*apiv1.StoredEvent]{}, fmt.Errorf("list events: %w", err)
	}
	if w.none {
		return store.Page[*apiv1.StoredEvent]{}, nil
	}

	query := `SELECT id::text, time, received_at, attacker_id::text, payload FROM events` + w.String() +
		` ORDER BY time DESC, id DESC LIMIT ` + w.arg(size)
	rows, err := s.pool.Query(ctx, query, w.args...)
	if err != nil {
		return store.Page[*apiv1.StoredEvent]{}, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()

	var (
		page   store.Page[*apiv1.StoredEvent]
		lastAt time.Time
		lastID string
	)
	for rows.Next() {
		var (
			id         string
			at, recv   time.Time
			attackerID pgtype.Text
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
			ReceivedAt: timestamppb.New(recv.UTC()),
		})
		lastAt, lastID = at, id
	}
	if err := rows.Err(); err != nil {
		return store.Page[*apiv1.StoredEvent]{}, fmt.Errorf("list events: %w", err)
	}

	page.NextPageToken = nextToken(len(page.Items), size, lastAt, lastID)
	return page, nil
}
