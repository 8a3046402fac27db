package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ingestStatements are the statements IngestEvents runs for every event,
// prepared once per batch.
type ingestStatements struct {
	insertEvent      *sql.Stmt
	setEventAttacker *sql.Stmt
	findAddress      *sql.Stmt
	insertAttacker   *sql.Stmt
	insertAddress    *sql.Stmt
	touchAddress     *sql.Stmt
	countAttacker    *sql.Stmt
	touchTarget      *sql.Stmt
	insertCredential *sql.Stmt
	insertRecording  *sql.Stmt
}

func prepareIngest(ctx context.Context, tx *sql.Tx) (*ingestStatements, error) {
	var st ingestStatements
	targets := []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.insertEvent, `INSERT INTO events (id, time, received_at, agent_id, decky, service, kind,
			src_addr, src_port, dst_addr, dst_port, session_id, payload)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`},
		{&st.setEventAttacker, `UPDATE events SET attacker_id = ? WHERE id = ?`},
		{&st.findAddress, `SELECT attacker_id FROM attacker_addresses WHERE address = ?`},
		{&st.insertAttacker, `INSERT INTO attackers (id, first_seen, last_seen) VALUES (?, ?, ?)`},
		{&st.insertAddress, `INSERT INTO attacker_addresses (address, attacker_id, first_seen, last_seen) VALUES (?, ?, ?, ?)`},
		{&st.touchAddress, `UPDATE attacker_addresses
			SET first_seen = MIN(first_seen, ?1), last_seen = MAX(last_seen, ?1) WHERE address = ?2`},
		{&st.countAttacker, `UPDATE attackers
			SET first_seen = MIN(first_seen, ?1), last_seen = MAX(last_seen, ?1),
			    event_count = event_count + 1, auth_attempt_count = auth_attempt_count + ?2
			WHERE id = ?3`},
		{&st.touchTarget, `INSERT INTO attacker_targets (attacker_id, decky, service, first_seen, last_seen)
			VALUES (?1, ?2, ?3, ?4, ?4)
			ON CONFLICT (attacker_id, decky, service) DO UPDATE
			SET first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)`},
		{&st.insertCredential, `INSERT INTO credentials (event_id, attacker_id, time, agent_id, decky, service,
			principal, secret_kind, mechanism, secret, secret_sha256, outcome, source_address, key_type, key_fingerprint)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (event_id) DO NOTHING`},
		{&st.insertRecording, `INSERT INTO recordings (event_id, session_id, attacker_id, agent_id, decky, service,
			source_address, time, duration_ms, truncated, width, height, input_bytes, output_bytes, cast_data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (event_id) DO NOTHING`},
	}
	for _, tgt := range targets {
		stmt, err := tx.PrepareContext(ctx, tgt.query)
		if err != nil {
			return nil, fmt.Errorf("prepare ingest statement: %w", err)
		}
		*tgt.dst = stmt
	}
	return &st, nil
}

// IngestEvents stores a batch in one transaction. Each event's AgentId is
// set to agentID, the identity the bridge authenticated, before it is
// stored. Events with an id already stored are counted as duplicates and
// change nothing.
func (s *Store) IngestEvents(ctx context.Context, agentID string, events []*eventv1.Event, receivedAt time.Time) (store.IngestResult, error) {
	var res store.IngestResult
	received := receivedAt.UnixNano()

	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		res = store.IngestResult{}
		st, err := prepareIngest(ctx, tx)
		if err != nil {
			return err
		}

		// Attackers resolved earlier in this batch, by normalised address.
		attackers := make(map[string]string)
		for _, ev := range events {
			stored, err := s.ingestOne(ctx, st, attackers, agentID, ev, received)
			if err != nil {
				return err
			}
			if stored == nil {
				res.Duplicates++
				continue
			}
			stored.ReceivedAt = timestamppb.New(time.Unix(0, received).UTC())
			res.Stored = append(res.Stored, stored)
		}
		return nil
	})
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest %d events: %w", len(events), err)
	}
	return res, nil
}

// ingestOne stores one event and what derives from it. It returns nil for a
// duplicate.
func (s *Store) ingestOne(ctx context.Context, st *ingestStatements, attackers map[string]string, agentID string, ev *eventv1.Event, received int64) (*apiv1.StoredEvent, error) {
	if ev.GetId() == "" {
		return nil, errors.New("store event: empty id")
	}
	ev.AgentId = agentID
	cast := store.TakeCast(ev)
	payload, err := proto.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshal event %s: %w", ev.GetId(), err)
	}

	at := ev.GetTime().AsTime().UnixNano()
	src := normalizeAddress(ev.GetSource().GetAddress())
	r, err := st.insertEvent.ExecContext(ctx, ev.GetId(), at, received, agentID,
		ev.GetDecky(), ev.GetService(), ev.GetKind(),
		src, ev.GetSource().GetPort(),
		normalizeAddress(ev.GetDestination().GetAddress()), ev.GetDestination().GetPort(),
		ev.GetSessionId(), payload)
	if err != nil {
		return nil, fmt.Errorf("insert event %s: %w", ev.GetId(), err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return nil, fmt.Errorf("insert event %s: %w", ev.GetId(), err)
	}
	if n == 0 {
		return nil, nil
	}

	out := &apiv1.StoredEvent{Event: ev}
	var attackerID string
	if src != "" {
		// An event without a peer, such as a sensor event, has no
		// attacker.
		if attackerID, err = s.attributeEvent(ctx, st, attackers, ev, src, at); err != nil {
			return nil, err
		}
		out.AttackerId = attackerID
	}
	if cast != nil {
		rec := ev.GetSessionRecorded()
		if _, err := st.insertRecording.ExecContext(ctx, ev.GetId(), ev.GetSessionId(), nullString(attackerID), agentID,
			ev.GetDecky(), ev.GetService(), src, at, rec.GetDurationMs(), rec.GetTruncated(), rec.GetWidth(), rec.GetHeight(),
			rec.GetInputBytes(), rec.GetOutputBytes(), cast); err != nil {
			return nil, fmt.Errorf("insert recording of event %s: %w", ev.GetId(), err)
		}
	}
	if src == "" {
		return out, nil
	}

	if auth := ev.GetAuthAttempt(); auth != nil {
		if _, err := st.insertCredential.ExecContext(ctx, ev.GetId(), attackerID, at, agentID,
			ev.GetDecky(), ev.GetService(), auth.GetPrincipal(), auth.GetSecretKind(), auth.GetMechanism(),
			nonNilBytes(auth.GetSecret()), nonNilBytes(auth.GetSecretSha256()), int32(auth.GetOutcome()),
			src, auth.GetKeyType(), auth.GetKeyFingerprint()); err != nil {
			return nil, fmt.Errorf("insert credential of event %s: %w", ev.GetId(), err)
		}
	}
	return out, nil
}

// attributeEvent finds or creates the attacker of src, updates its counters
// and targets, and links the event to it.
func (s *Store) attributeEvent(ctx context.Context, st *ingestStatements, attackers map[string]string, ev *eventv1.Event, src string, at int64) (string, error) {
	attackerID, ok := attackers[src]
	if !ok {
		err := st.findAddress.QueryRowContext(ctx, src).Scan(&attackerID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			attackerID, err = newAttacker(ctx, st, src, at)
			if err != nil {
				return "", err
			}
		case err != nil:
			return "", fmt.Errorf("find attacker of %s: %w", src, err)
		}
		attackers[src] = attackerID
	}

	if _, err := st.touchAddress.ExecContext(ctx, at, src); err != nil {
		return "", fmt.Errorf("update address %s: %w", src, err)
	}
	authAttempts := 0
	if ev.GetAuthAttempt() != nil {
		authAttempts = 1
	}
	if _, err := st.countAttacker.ExecContext(ctx, at, authAttempts, attackerID); err != nil {
		return "", fmt.Errorf("update attacker %s: %w", attackerID, err)
	}
	if _, err := st.touchTarget.ExecContext(ctx, attackerID, ev.GetDecky(), ev.GetService(), at); err != nil {
		return "", fmt.Errorf("update targets of attacker %s: %w", attackerID, err)
	}
	if _, err := st.setEventAttacker.ExecContext(ctx, attackerID, ev.GetId()); err != nil {
		return "", fmt.Errorf("link event %s to attacker %s: %w", ev.GetId(), attackerID, err)
	}
	return attackerID, nil
}

func newAttacker(ctx context.Context, st *ingestStatements, src string, at int64) (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("generate attacker id: %w", err)
	}
	attackerID := id.String()
	if _, err := st.insertAttacker.ExecContext(ctx, attackerID, at, at); err != nil {
		return "", fmt.Errorf("insert attacker %s: %w", attackerID, err)
	}
	if _, err := st.insertAddress.ExecContext(ctx, src, attackerID, at, at); err != nil {
		return "", fmt.Errorf("insert address %s: %w", src, err)
	}
	return attackerID, nil
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
