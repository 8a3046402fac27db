package postgres

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// attackerRef is the attacker an address of the batch maps to.
type attackerRef struct {
	id uuid.UUID
	// created is set when this transaction inserted the attacker, so its
	// placeholder first and last seen times are replaced, not merged.
	created bool
}

// resolveAttackers maps every source address of the batch's candidate
// events to its attacker, creating attackers for addresses never seen.
//
// Another transaction can insert the same address concurrently. The
// address insert uses ON CONFLICT DO NOTHING, which waits for that
// transaction to end. An address the other transaction took is read back,
// and the attacker made for it here is deleted.
//
// An address never changes attacker once its row is committed, so the
// mappings of earlier batches come from known without a query.
func resolveAttackers(ctx context.Context, tx batchConn, rows []eventRow, known *addressCache) (map[string]*attackerRef, error) {
	var addresses []string
	spans := make(map[string]*span)
	for _, r := range rows {
		if r.payload != nil && r.src != "" {
			addresses = append(addresses, r.src)
			sp := spans[r.src]
			if sp == nil {
				sp = &span{}
				spans[r.src] = sp
			}
			sp.add(r.at)
		}
	}
	slices.Sort(addresses)
	addresses = slices.Compact(addresses)

	out := make(map[string]*attackerRef, len(addresses))
	if len(addresses) == 0 {
		return out, nil
	}
	unknown := known.lookup(addresses, out)
	if len(unknown) > 0 {
		if err := readAddresses(ctx, tx, unknown, out); err != nil {
			return nil, err
		}
	}

	var missing []string
	for _, a := range addresses {
		if _, ok := out[a]; !ok {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}

	// A new attacker starts with the span of its events in this batch and
	// no counts; the batch's aggregate deltas add the counts.
	ids := make([]pgtype.UUID, len(missing))
	firsts := make([]time.Time, len(missing))
	lasts := make([]time.Time, len(missing))
	for i, a := range missing {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("generate attacker id: %w", err)
		}
		ids[i] = pgUUID(id)
		firsts[i], lasts[i] = spans[a].first, spans[a].last
	}
	if _, err := tx.Exec(ctx, `INSERT INTO attackers (id, first_seen, last_seen)
		SELECT id, f, l FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(id, f, l)`, ids, firsts, lasts); err != nil {
		return nil, fmt.Errorf("insert %d attackers: %w", len(ids), err)
	}

	rowsOut, err := tx.Query(ctx, `INSERT INTO attacker_addresses (address, attacker_id, first_seen, last_seen)
		SELECT address, id, f, l FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::timestamptz[]) AS u(address, id, f, l)
		ORDER BY address
		ON CONFLICT (address) DO NOTHING
		RETURNING address`, missing, ids, firsts, lasts)
	if err != nil {
		return nil, fmt.Errorf("insert %d addresses: %w", len(missing), err)
	}
	inserted, err := pgx.CollectRows(rowsOut, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("insert %d addresses: %w", len(missing), err)
	}
	won := make(map[string]bool, len(inserted))
	for _, a := range inserted {
		won[a] = true
	}

	var lostAddresses []string
	var lostIDs []pgtype.UUID
	for i, a := range missing {
		if won[a] {
			out[a] = &attackerRef{id: ids[i].Bytes, created: true}
			continue
		}
		lostAddresses = append(lostAddresses, a)
		lostIDs = append(lostIDs, ids[i])
	}
	if len(lostAddresses) == 0 {
		return out, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM attackers WHERE id = ANY($1)`, lostIDs); err != nil {
		return nil, fmt.Errorf("delete %d unused attackers: %w", len(lostIDs), err)
	}
	if err := readAddresses(ctx, tx, lostAddresses, out); err != nil {
		return nil, err
	}
	for _, a := range lostAddresses {
		if _, ok := out[a]; !ok {
			return nil, fmt.Errorf("resolve attacker of %s: address neither inserted nor found", a)
		}
	}
	return out, nil
}

// readAddresses adds the stored attackers of addresses to out.
func readAddresses(ctx context.Context, tx batchConn, addresses []string, out map[string]*attackerRef) error {
	rows, err := tx.Query(ctx, `SELECT address, attacker_id FROM attacker_addresses WHERE address = ANY($1)`, addresses)
	if err != nil {
		return fmt.Errorf("find attackers of %d addresses: %w", len(addresses), err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			address string
			id      pgtype.UUID
		)
		if err := rows.Scan(&address, &id); err != nil {
			return fmt.Errorf("find attackers of %d addresses: %w", len(addresses), err)
		}
		out[address] = &attackerRef{id: id.Bytes}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find attackers of %d addresses: %w", len(addresses), err)
	}
	return nil
}

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// eventColumns are the columns insertEvents writes, in COPY order.
var eventColumns = []string{"id", "id_time", "time", "received_at", "agent_id", "decky", "service", "kind",
	"src_addr", "src_port", "dst_addr", "dst_port", "session_id", "attacker_id", "payload"}

// insertEvents inserts the batch's candidate events and returns the ids
// stored for the first time.
//
// A new batch goes in through COPY, the cheapest write PostgreSQL has. An
// id stored before fails the COPY with a unique violation, and the caller
// runs the batch again as redelivered. A redelivered batch goes in
// through INSERT ... ON CONFLICT DO NOTHING, which skips what is stored. Rows go
// in id order, so two batches that share ids lock them in the same order
// and cannot deadlock on them.
func insertEvents(ctx context.Context, tx batchConn, agent uuid.UUID, rows []eventRow, attackers map[string]*attackerRef, received time.Time, redelivered bool) (map[uuid.UUID]struct{}, error) {
	var candidates []*eventRow
	for i := range rows {
		if rows[i].payload != nil {
			candidates = append(candidates, &rows[i])
		}
	}
	slices.SortFunc(candidates, func(a, b *eventRow) int { return bytes.Compare(a.id[:], b.id[:]) })

	if redelivered {
		return insertNewEvents(ctx, tx, agent, candidates, attackers, received)
	}
	return copyEvents(ctx, tx, agent, candidates, attackers, received)
}

// copyEvents writes every candidate with COPY.
func copyEvents(ctx context.Context, tx batchConn, agent uuid.UUID, candidates []*eventRow, attackers map[string]*attackerRef, received time.Time) (map[uuid.UUID]struct{}, error) {
	agentID := pgUUID(agent)
	i := 0
	source := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(candidates) {
			return nil, nil
		}
		r := candidates[i]
		i++
		var attackerID pgtype.UUID
		if a, ok := attackers[r.src]; ok {
			attackerID = pgUUID(a.id)
		}
		return []any{pgUUID(r.id), r.idTime, r.at, received, agentID, r.ev.GetDecky(), r.ev.GetService(), r.ev.GetKind(),
			r.src, int64(r.ev.GetSource().GetPort()), r.dst, int64(r.ev.GetDestination().GetPort()),
			r.ev.GetSessionId(), attackerID, r.payload}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, source); err != nil {
		return nil, fmt.Errorf("copy %d events: %w", len(candidates), err)
	}
	stored := make(map[uuid.UUID]struct{}, len(candidates))
	for _, r := range candidates {
		stored[r.id] = struct{}{}
	}
	return stored, nil
}

// insertNewEvents inserts the candidates not stored yet and returns their
// ids.
func insertNewEvents(ctx context.Context, tx batchConn, agent uuid.UUID, candidates []*eventRow, attackers map[string]*attackerRef, received time.Time) (map[uuid.UUID]struct{}, error) {
	n := len(candidates)
	var (
		ids         = make([]pgtype.UUID, n)
		idTimes     = make([]time.Time, n)
		times       = make([]time.Time, n)
		deckies     = make([]string, n)
		services    = make([]string, n)
		kinds       = make([]string, n)
		srcAddrs    = make([]string, n)
		srcPorts    = make([]int64, n)
		dstAddrs    = make([]string, n)
		dstPorts    = make([]int64, n)
		sessions    = make([]string, n)
		attackerIDs = make([]pgtype.UUID, n)
		payloads    = make([][]byte, n)
	)
	for i, r := range candidates {
		ids[i] = pgUUID(r.id)
		idTimes[i] = r.idTime
		times[i] = r.at
		deckies[i] = r.ev.GetDecky()
		services[i] = r.ev.GetService()
		kinds[i] = r.ev.GetKind()
		srcAddrs[i] = r.src
		srcPorts[i] = int64(r.ev.GetSource().GetPort())
		dstAddrs[i] = r.dst
		dstPorts[i] = int64(r.ev.GetDestination().GetPort())
		sessions[i] = r.ev.GetSessionId()
		if a, ok := attackers[r.src]; ok {
			attackerIDs[i] = pgUUID(a.id)
		}
		payloads[i] = r.payload
	}

	result, err := tx.Query(ctx, `INSERT INTO events (id, id_time, time, received_at, agent_id, decky, service, kind,
			src_addr, src_port, dst_addr, dst_port, session_id, attacker_id, payload)
		SELECT id, id_time, time, $1, $2, decky, service, kind,
			src_addr, src_port, dst_addr, dst_port, session_id, attacker_id, payload
		FROM unnest($3::uuid[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::uuid[], $15::bytea[])
			AS u(id, id_time, time, decky, service, kind, src_addr, src_port, dst_addr, dst_port, session_id, attacker_id, payload)
		ORDER BY id
		ON CONFLICT (id, id_time) DO NOTHING
		RETURNING id`,
		received, pgUUID(agent), ids, idTimes, times, deckies, services, kinds,
		srcAddrs, srcPorts, dstAddrs, dstPorts, sessions, attackerIDs, payloads)
	if err != nil {
		return nil, fmt.Errorf("insert %d events: %w", n, err)
	}
	inserted, err := pgx.CollectRows(result, pgx.RowTo[pgtype.UUID])
	if err != nil {
		return nil, fmt.Errorf("insert %d events: %w", n, err)
	}

	stored := make(map[uuid.UUID]struct{}, len(inserted))
	for _, id := range inserted {
		stored[id.Bytes] = struct{}{}
	}
	return stored, nil
}

// span is the first and last event time of an aggregate.
type span struct {
	first, last time.Time
}

func (s *span) add(t time.Time) {
	if s.first.IsZero() || t.Before(s.first) {
		s.first = t
	}
	if s.last.IsZero() || t.After(s.last) {
		s.last = t
	}
}

type attackerTotals struct {
	span
	events, authAttempts int64
}

type targetKey struct {
	attacker       uuid.UUID
	decky, service string
}

// writeDerivedAndCommit records the aggregate changes of the stored
// events as one attacker_deltas row, inserts their credentials, deletes
// attackers created for this batch that ended with no stored event and
// commits, all in one pipelined round trip. (COPY of the credentials was
// measured too: no faster for the hundred rows of a batch, and one more
// round trip.)
//
// The pipeline ends in one Sync, so PostgreSQL skips everything after a
// failed statement, COMMIT included, and the transaction stays open for
// the caller's ROLLBACK.
func writeDerivedAndCommit(ctx context.Context, tx batchConn, agent uuid.UUID, stored []*eventRow, attackers map[string]*attackerRef) error {
	deltas := newAggregateDeltas()
	for _, r := range stored {
		a, ok := attackers[r.src]
		if !ok {
			continue
		}
		deltas.addEvent(a.id, r.src, r.ev.GetDecky(), r.ev.GetService(), r.at, r.ev.GetAuthAttempt() != nil)
	}

	var batch pgx.Batch
	if !deltas.empty() {
		batch.Queue(`INSERT INTO attacker_deltas (deltas) VALUES ($1)`, deltas.encode())
	}
	queueCredentials(&batch, agent, stored, attackers)
	queueRecordings(&batch, agent, stored, attackers)
	queueUnusedAttackerDeletes(&batch, deltas.attackers, attackers)
	batch.Queue(`COMMIT`)

	results := tx.SendBatch(ctx, &batch)
	var tag pgconn.CommandTag
	var err error
	for range batch.Len() {
		if tag, err = results.Exec(); err != nil {
			break
		}
	}
	if cerr := results.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("record aggregates of %d events: %w", len(stored), err)
	}
	if tag.String() != "COMMIT" {
		return fmt.Errorf("commit transaction: server returned %q", tag.String())
	}
	return nil
}

// queueRecordings inserts the session recordings of stored
// session.recorded events, one statement each: recordings are few and
// large.
func queueRecordings(batch *pgx.Batch, agent uuid.UUID, stored []*eventRow, attackers map[string]*attackerRef) {
	for _, r := range stored {
		if r.cast == nil {
			continue
		}
		var attackerID pgtype.UUID
		if a, ok := attackers[r.src]; ok {
			attackerID = pgUUID(a.id)
		}
		rec := r.ev.GetSessionRecorded()
		batch.Queue(`INSERT INTO recordings (event_id, session_id, attacker_id, agent_id, decky, service, source_address,
				time, duration_ms, truncated, width, height, input_bytes, output_bytes, cast_data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (event_id) DO NOTHING`,
			pgUUID(r.id), r.ev.GetSessionId(), attackerID, pgUUID(agent), r.ev.GetDecky(), r.ev.GetService(), r.src,
			r.at, int64(rec.GetDurationMs()), rec.GetTruncated(), int32(rec.GetWidth()), int32(rec.GetHeight()), //nolint:gosec // G115: recorder values are far below the limits
			int64(rec.GetInputBytes()), int64(rec.GetOutputBytes()), r.cast) //nolint:gosec // G115: byte counts of one session fit in int64
	}
}

func queueCredentials(batch *pgx.Batch, agent uuid.UUID, stored []*eventRow, attackers map[string]*attackerRef) {
	var (
		eventIDs, attackerIDs                            []pgtype.UUID
		idTimes, times                                   []time.Time
		deckies, services, principals, kinds, mechanisms []string
		secrets, sums                                    [][]byte
		outcomes                                         []int32
		sources, keyTypes, fingerprints                  []string
	)
	for _, r := range stored {
		auth := r.ev.GetAuthAttempt()
		if auth == nil || r.src == "" {
			continue
		}
		eventIDs = append(eventIDs, pgUUID(r.id))
		idTimes = append(idTimes, r.idTime)
		attackerIDs = append(attackerIDs, pgUUID(attackers[r.src].id))
		times = append(times, r.at)
		deckies = append(deckies, r.ev.GetDecky())
		services = append(services, r.ev.GetService())
		principals = append(principals, auth.GetPrincipal())
		kinds = append(kinds, auth.GetSecretKind())
		mechanisms = append(mechanisms, auth.GetMechanism())
		secrets = append(secrets, nonNilBytes(auth.GetSecret()))
		sums = append(sums, nonNilBytes(auth.GetSecretSha256()))
		outcomes = append(outcomes, int32(auth.GetOutcome()))
		sources = append(sources, r.src)
		keyTypes = append(keyTypes, auth.GetKeyType())
		fingerprints = append(fingerprints, auth.GetKeyFingerprint())
	}
	if len(eventIDs) == 0 {
		return
	}
	batch.Queue(`INSERT INTO credentials (event_id, event_id_time, attacker_id, time, agent_id, decky, service,
			principal, secret_kind, mechanism, secret, secret_sha256, outcome, source_address, key_type, key_fingerprint)
		SELECT event_id, event_id_time, attacker_id, time, $1, decky, service,
			principal, secret_kind, mechanism, secret, secret_sha256, outcome, source_address, key_type, key_fingerprint
		FROM unnest($2::uuid[], $3::timestamptz[], $4::uuid[], $5::timestamptz[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::bytea[], $12::bytea[], $13::integer[], $14::text[], $15::text[], $16::text[])
			AS u(event_id, event_id_time, attacker_id, time, decky, service,
				principal, secret_kind, mechanism, secret, secret_sha256, outcome, source_address, key_type, key_fingerprint)
		ON CONFLICT (event_id) DO NOTHING`,
		pgUUID(agent), eventIDs, idTimes, attackerIDs, times, deckies, services,
		principals, kinds, mechanisms, secrets, sums, outcomes, sources, keyTypes, fingerprints)
}

// queueUnusedAttackerDeletes deletes attackers this batch created whose
// events all turned out to be duplicates stored by a concurrent batch, so
// no attacker exists without an event.
func queueUnusedAttackerDeletes(batch *pgx.Batch, totals map[uuid.UUID]*attackerTotals, attackers map[string]*attackerRef) {
	var (
		addresses []string
		ids       []pgtype.UUID
	)
	for address, a := range attackers {
		if _, used := totals[a.id]; a.created && !used {
			addresses = append(addresses, address)
			ids = append(ids, pgUUID(a.id))
		}
	}
	if len(ids) == 0 {
		return
	}
	batch.Queue(`DELETE FROM attacker_addresses WHERE address = ANY($1)`, addresses)
	batch.Queue(`DELETE FROM attackers WHERE id = ANY($1)`, ids)
}
