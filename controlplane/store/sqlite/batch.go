package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// rowsPerStatement bounds the rows of one multi-row statement, far below
// SQLite's limit on bound parameters (32,766).
const rowsPerStatement = 200

// Heads of the multi-row inserts; the rows' placeholders follow.
const (
	insertEventsSQL = `INSERT INTO events (id, time, received_at, agent_id, decky, service, kind, src_addr, src_port, dst_addr, dst_port,
		session_id, payload, attacker_id) VALUES `
	insertCredentialsSQL = `INSERT INTO credentials (event_id, attacker_id, time, agent_id, decky, service, principal, secret_kind,
		mechanism, secret, secret_sha256, outcome, source_address, key_type, key_fingerprint) VALUES `
)

// batchRow is one event of a batch, prepared for insertion.
type batchRow struct {
	ev       *eventv1.Event
	at       int64
	src, dst string
	payload  []byte
	cast     []byte
	stored   bool
}

// span is the first and last time of an aggregate.
type span struct{ first, last int64 }

func (s *span) add(t int64) {
	if s.first == 0 || t < s.first {
		s.first = t
	}
	if t > s.last {
		s.last = t
	}
}

type attackerTotals struct {
	span
	events, auths int64
}

type targetKey struct{ attacker, decky, service string }

// ingestBatch stores a batch with a few multi-row statements: one lookup
// of the batch's addresses, the new attackers, the events (skipping ids
// stored before), then one upsert per attacker, address and target with
// the batch's totals, and the credentials and recordings.
func ingestBatch(ctx context.Context, tx *sql.Tx, agentID string, events []*eventv1.Event, received int64) (store.IngestResult, error) {
	var res store.IngestResult
	rows := make([]*batchRow, 0, len(events))
	seen := make(map[string]bool, len(events))
	for _, ev := range events {
		if ev.GetId() == "" {
			return res, errors.New("store event: empty id")
		}
		if seen[ev.GetId()] {
			rows = append(rows, &batchRow{ev: ev})
			continue
		}
		seen[ev.GetId()] = true
		ev.AgentId = agentID
		r := &batchRow{ev: ev, cast: store.TakeCast(ev)}
		var err error
		if r.payload, err = proto.Marshal(ev); err != nil {
			return res, fmt.Errorf("marshal event %s: %w", ev.GetId(), err)
		}
		r.at = ev.GetTime().AsTime().UnixNano()
		r.src = normalizeAddress(ev.GetSource().GetAddress())
		r.dst = normalizeAddress(ev.GetDestination().GetAddress())
		rows = append(rows, r)
	}

	attackers, created, err := resolveBatchAttackers(ctx, tx, rows)
	if err != nil {
		return res, err
	}
	if err := insertBatchEvents(ctx, tx, agentID, rows, attackers, received); err != nil {
		return res, err
	}

	byAttacker := map[string]*attackerTotals{}
	byAddress := map[string]*span{}
	byTarget := map[targetKey]*span{}
	receivedAt := timestamppb.New(time.Unix(0, received).UTC())
	for _, r := range rows {
		if !r.stored {
			res.Duplicates++
			continue
		}
		out := &apiv1.StoredEvent{Event: r.ev, ReceivedAt: receivedAt}
		if id, ok := attackers[r.src]; ok && r.src != "" {
			out.AttackerId = id
			t := byAttacker[id]
			if t == nil {
				t = &attackerTotals{}
				byAttacker[id] = t
			}
			t.add(r.at)
			t.events++
			if r.ev.GetAuthAttempt() != nil {
				t.auths++
			}
			if byAddress[r.src] == nil {
				byAddress[r.src] = &span{}
			}
			byAddress[r.src].add(r.at)
			k := targetKey{id, r.ev.GetDecky(), r.ev.GetService()}
			if byTarget[k] == nil {
				byTarget[k] = &span{}
			}
			byTarget[k].add(r.at)
		}
		res.Stored = append(res.Stored, out)
	}

	// An attacker created for a batch whose events all turned out to be
	// stored before would have no event; none is left behind.
	for src, id := range created {
		if byAttacker[id] == nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM attacker_addresses WHERE address = ?`, src); err != nil {
				return res, fmt.Errorf("delete unused address %s: %w", src, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM attackers WHERE id = ?`, id); err != nil {
				return res, fmt.Errorf("delete unused attacker %s: %w", id, err)
			}
		}
	}
	if err := upsertAggregates(ctx, tx, byAttacker, byAddress, byTarget, attackers); err != nil {
		return res, err
	}
	if err := insertBatchDerived(ctx, tx, agentID, rows, attackers); err != nil {
		return res, err
	}
	return res, nil
}

// placeholders returns "(?, ?, ...)" rows times, for n columns each.
func placeholders(rows, n int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// chunks calls fn for each run of at most rowsPerStatement items.
func chunks[T any](items []T, fn func([]T) error) error {
	for start := 0; start < len(items); start += rowsPerStatement {
		if err := fn(items[start:min(start+rowsPerStatement, len(items))]); err != nil {
			return err
		}
	}
	return nil
}

// resolveBatchAttackers maps every source address of the batch to its
// attacker, creating the attackers of new addresses with the span of
// their events. created lists the new ones by address.
func resolveBatchAttackers(ctx context.Context, tx *sql.Tx, rows []*batchRow) (attackers, created map[string]string, err error) {
	spans := map[string]*span{}
	var addresses []string
	for _, r := range rows {
		if r.payload == nil || r.src == "" {
			continue
		}
		if spans[r.src] == nil {
			spans[r.src] = &span{}
			addresses = append(addresses, r.src)
		}
		spans[r.src].add(r.at)
	}
	attackers = make(map[string]string, len(addresses))
	created = map[string]string{}
	err = chunks(addresses, func(part []string) error {
		args := make([]any, len(part))
		for i, a := range part {
			args[i] = a
		}
		q := `SELECT address, attacker_id FROM attacker_addresses WHERE address IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ") + `)` //nolint:gosec // G202: only placeholders are concatenated
		rs, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("find attackers: %w", err)
		}
		defer rs.Close()
		for rs.Next() {
			var a, id string
			if err := rs.Scan(&a, &id); err != nil {
				return fmt.Errorf("find attackers: %w", err)
			}
			attackers[a] = id
		}
		return rs.Err()
	})
	if err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, a := range addresses {
		if _, ok := attackers[a]; !ok {
			id, err := uuid.NewV7()
			if err != nil {
				return nil, nil, fmt.Errorf("generate attacker id: %w", err)
			}
			attackers[a], created[a] = id.String(), id.String()
			missing = append(missing, a)
		}
	}
	err = chunks(missing, func(part []string) error {
		var attackerArgs, addressArgs []any
		for _, a := range part {
			sp := spans[a]
			attackerArgs = append(attackerArgs, attackers[a], sp.first, sp.last)
			addressArgs = append(addressArgs, a, attackers[a], sp.first, sp.last)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO attackers (id, first_seen, last_seen) VALUES `+placeholders(len(part), 3), attackerArgs...); err != nil { //nolint:gosec // G202: only placeholders are concatenated
			return fmt.Errorf("insert %d attackers: %w", len(part), err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO attacker_addresses (address, attacker_id, first_seen, last_seen) VALUES `+placeholders(len(part), 4), addressArgs...); err != nil { //nolint:gosec // G202: only placeholders are concatenated
			return fmt.Errorf("insert %d addresses: %w", len(part), err)
		}
		return nil
	})
	return attackers, created, err
}

// insertBatchEvents inserts the candidate events and marks those stored
// for the first time.
func insertBatchEvents(ctx context.Context, tx *sql.Tx, agentID string, rows []*batchRow, attackers map[string]string, received int64) error {
	var candidates []*batchRow
	for _, r := range rows {
		if r.payload != nil {
			candidates = append(candidates, r)
		}
	}
	byID := make(map[string]*batchRow, len(candidates))
	for _, r := range candidates {
		byID[r.ev.GetId()] = r
	}
	return chunks(candidates, func(part []*batchRow) error {
		args := make([]any, 0, 14*len(part))
		for _, r := range part {
			args = append(args, r.ev.GetId(), r.at, received, agentID, r.ev.GetDecky(), r.ev.GetService(), r.ev.GetKind(),
				r.src, r.ev.GetSource().GetPort(), r.dst, r.ev.GetDestination().GetPort(), r.ev.GetSessionId(), r.payload,
				nullString(attackers[r.src]))
		}
		q := insertEventsSQL + placeholders(len(part), 14) + ` ON CONFLICT (id) DO NOTHING RETURNING id` //nolint:gosec // G202: only placeholders are concatenated
		rs, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("insert %d events: %w", len(part), err)
		}
		defer rs.Close()
		for rs.Next() {
			var id string
			if err := rs.Scan(&id); err != nil {
				return fmt.Errorf("insert %d events: %w", len(part), err)
			}
			if r := byID[id]; r != nil {
				r.stored = true
			}
		}
		return rs.Err()
	})
}

// upsertAggregates adds the batch's totals to the attackers, addresses and
// targets.
func upsertAggregates(ctx context.Context, tx *sql.Tx, byAttacker map[string]*attackerTotals, byAddress map[string]*span, byTarget map[targetKey]*span, attackersOf map[string]string) error {
	ids := make([]string, 0, len(byAttacker))
	for id := range byAttacker {
		ids = append(ids, id)
	}
	err := chunks(ids, func(part []string) error {
		args := make([]any, 0, 5*len(part))
		for _, id := range part {
			t := byAttacker[id]
			args = append(args, id, t.first, t.last, t.events, t.auths)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO attackers (id, first_seen, last_seen, event_count, auth_attempt_count) VALUES `+ //nolint:gosec // G202: only placeholders are concatenated
			placeholders(len(part), 5)+` ON CONFLICT (id) DO UPDATE SET
			first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen),
			event_count = event_count + excluded.event_count, auth_attempt_count = auth_attempt_count + excluded.auth_attempt_count`, args...)
		if err != nil {
			return fmt.Errorf("update %d attackers: %w", len(part), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	addresses := make([]string, 0, len(byAddress))
	for a := range byAddress {
		addresses = append(addresses, a)
	}
	err = chunks(addresses, func(part []string) error {
		// Every address exists already (resolveBatchAttackers inserted the
		// new ones), so the insert always takes the update branch; it
		// updates all rows in one statement.
		args := make([]any, 0, 4*len(part))
		for _, a := range part {
			sp := byAddress[a]
			args = append(args, a, attackersOf[a], sp.first, sp.last)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO attacker_addresses (address, attacker_id, first_seen, last_seen) VALUES `+ //nolint:gosec // G202: only placeholders are concatenated
			placeholders(len(part), 4)+` ON CONFLICT (address) DO UPDATE SET
			first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)`, args...)
		if err != nil {
			return fmt.Errorf("update %d addresses: %w", len(part), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	keys := make([]targetKey, 0, len(byTarget))
	for k := range byTarget {
		keys = append(keys, k)
	}
	return chunks(keys, func(part []targetKey) error {
		args := make([]any, 0, 5*len(part))
		for _, k := range part {
			sp := byTarget[k]
			args = append(args, k.attacker, k.decky, k.service, sp.first, sp.last)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO attacker_targets (attacker_id, decky, service, first_seen, last_seen) VALUES `+ //nolint:gosec // G202: only placeholders are concatenated
			placeholders(len(part), 5)+` ON CONFLICT (attacker_id, decky, service) DO UPDATE SET
			first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)`, args...)
		if err != nil {
			return fmt.Errorf("update %d targets: %w", len(part), err)
		}
		return nil
	})
}

// insertBatchDerived inserts the credentials and recordings of the stored
// events.
func insertBatchDerived(ctx context.Context, tx *sql.Tx, agentID string, rows []*batchRow, attackers map[string]string) error {
	var creds []*batchRow
	for _, r := range rows {
		if !r.stored {
			continue
		}
		if r.cast != nil {
			rec := r.ev.GetSessionRecorded()
			if _, err := tx.ExecContext(ctx, `INSERT INTO recordings (event_id, session_id, attacker_id, agent_id, decky, service,
					source_address, time, duration_ms, truncated, width, height, input_bytes, output_bytes, cast_data)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
				r.ev.GetId(), r.ev.GetSessionId(), nullString(attackers[r.src]), agentID, r.ev.GetDecky(), r.ev.GetService(), r.src, r.at,
				rec.GetDurationMs(), rec.GetTruncated(), rec.GetWidth(), rec.GetHeight(), rec.GetInputBytes(), rec.GetOutputBytes(), r.cast); err != nil {
				return fmt.Errorf("insert recording of event %s: %w", r.ev.GetId(), err)
			}
		}
		if r.ev.GetAuthAttempt() != nil && r.src != "" {
			creds = append(creds, r)
		}
	}
	return chunks(creds, func(part []*batchRow) error {
		args := make([]any, 0, 15*len(part))
		for _, r := range part {
			a := r.ev.GetAuthAttempt()
			args = append(args, r.ev.GetId(), attackers[r.src], r.at, agentID, r.ev.GetDecky(), r.ev.GetService(), a.GetPrincipal(),
				a.GetSecretKind(), a.GetMechanism(), nonNilBytes(a.GetSecret()), nonNilBytes(a.GetSecretSha256()), int32(a.GetOutcome()),
				r.src, a.GetKeyType(), a.GetKeyFingerprint())
		}
		q := insertCredentialsSQL + placeholders(len(part), 15) + ` ON CONFLICT (event_id) DO NOTHING` //nolint:gosec // G202: only placeholders are concatenated
		_, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("insert %d credentials: %w", len(part), err)
		}
		return nil
	})
}
