package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ingestAttempts is how often IngestEvents runs a batch whose transaction
// PostgreSQL aborted as a deadlock victim. Concurrent batches from the same
// attackers lock attacker rows in an order the planner picks, so a
// deadlock is rare but possible. The rerun finds the other batch
// committed.
const ingestAttempts = 3

// eventRow is one event of a batch, prepared for insertion.
type eventRow struct {
	ev     *eventv1.Event
	id     uuid.UUID
	idTime time.Time
	at     time.Time
	src    string
	dst    string
	// payload is the marshalled event; nil marks a repeat of an id seen
	// earlier in the same batch, which is a duplicate without a query.
	payload []byte
	// cast is the session recording a session.recorded event carried,
	// taken out of payload.
	cast []byte
}

// IngestEvents stores a batch in one transaction. Each event's AgentId is
// set to agentID, the identity the bridge authenticated, before it is
// stored. Events with an id already stored, or seen earlier in the batch,
// are counted as duplicates and change nothing. Event ids must be UUIDv7,
// because the events table is partitioned on the time inside them.
//
// The events go in as one multi-row INSERT ... SELECT FROM unnest(...) ON
// CONFLICT DO NOTHING RETURNING id, whose returned ids are exactly the
// events stored for the first time. The attacker, address, target and
// credential writes derived from them follow in one pipelined round trip.
func (s *Store) IngestEvents(ctx context.Context, agentID string, events []*eventv1.Event, receivedAt time.Time) (store.IngestResult, error) {
	if len(events) == 0 {
		return store.IngestResult{}, nil
	}
	agent, err := uuid.Parse(agentID)
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest %d events: agent id %q is not a UUID", len(events), agentID)
	}
	received := toMicros(receivedAt)

	rows, days, err := prepareRows(agentID, events)
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest %d events: %w", len(events), err)
	}
	if err := s.ensurePartitions(ctx, days); err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest %d events: %w", len(events), err)
	}

	var (
		res       store.IngestResult
		attackers map[string]*attackerRef
		// A batch is nearly always new, so its events go in first
		// through COPY, which fails the whole transaction when an id is
		// stored already (a batch sent again after a lost
		// acknowledgement). The batch then runs again with INSERT ... ON
		// CONFLICT DO NOTHING, which skips what is stored.
		redelivered bool
	)
	for attempt := 1; ; attempt++ {
		res, attackers, err = s.ingestOnce(ctx, agent, rows, received, redelivered)
		var pgErr *pgconn.PgError
		if err != nil && !redelivered && errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
			redelivered = true
			attempt--
			continue
		}
		if err == nil || attempt == ingestAttempts || !errors.As(err, &pgErr) {
			break
		}
		if pgErr.Code == checkViolation {
			// Retention on another replica dropped a day partition this
			// process still has cached: forget the batch's days and
			// create their partitions again.
			s.forgetPartitions(days)
			if perr := s.ensurePartitions(ctx, days); perr != nil {
				err = perr
				break
			}
			s.log.Warn().Err(err).Int("attempt", attempt).Msg("retrying ingest after missing partition")
			continue
		}
		if pgErr.Code != deadlockDetected {
			break
		}
		s.log.Warn().Err(err).Int("attempt", attempt).Msg("retrying ingest after deadlock")
	}
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest %d events: %w", len(events), err)
	}
	if len(res.Stored) > 0 {
		s.addresses.remember(res.Stored, attackers)
		s.batchIngested()
	}
	return res, nil
}

// deadlockDetected is PostgreSQL's SQLSTATE for a deadlock victim.
const deadlockDetected = "40P01"

// checkViolation is PostgreSQL's SQLSTATE for a failed check constraint,
// which is also what an insert gets when no partition covers its row.
const checkViolation = "23514"

// prepareRows validates and marshals the batch, marks ids repeated within
// it and returns the days its events partition must cover.
func prepareRows(agentID string, events []*eventv1.Event) ([]eventRow, []int64, error) {
	rows := make([]eventRow, 0, len(events))
	seen := make(map[uuid.UUID]struct{}, len(events))
	var days []int64
	for _, ev := range events {
		if ev.GetId() == "" {
			return nil, nil, errors.New("store event: empty id")
		}
		id, err := uuid.Parse(ev.GetId())
		if err != nil || id.Version() != 7 {
			return nil, nil, fmt.Errorf("store event %q: id is not a UUIDv7", ev.GetId())
		}
		ev.AgentId = agentID

		r := eventRow{ev: ev, id: id}
		if _, dup := seen[id]; dup {
			rows = append(rows, r)
			continue
		}
		seen[id] = struct{}{}

		r.cast = store.TakeCast(ev)
		r.payload, err = proto.Marshal(ev)
		if err != nil {
			return nil, nil, fmt.Errorf("marshal event %s: %w", ev.GetId(), err)
		}
		r.idTime = uuidV7Time(id)
		r.at = toMicros(ev.GetTime().AsTime())
		r.src = normalizeAddress(ev.GetSource().GetAddress())
		r.dst = normalizeAddress(ev.GetDestination().GetAddress())
		rows = append(rows, r)
		days = append(days, dayOf(r.idTime))
	}
	return rows, days, nil
}

// batchConn is the connection that runs a batch's transaction, as its
// statements use it.
type batchConn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// ingestOnce runs one attempt at a batch in its own transaction. It uses
// a pooled connection directly rather than pgx.Tx, because the COMMIT
// goes in the same round trip as the batch's last statements. BEGIN, the
// COPY of the events and that pipeline are the batch's three round trips.
// On failure the transaction is rolled back, and the pool closes a
// connection released inside a transaction.
func (s *Store) ingestOnce(ctx context.Context, agent uuid.UUID, rows []eventRow, received time.Time, redelivered bool) (store.IngestResult, map[string]*attackerRef, error) {
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return store.IngestResult{}, nil, fmt.Errorf("begin transaction: %w", err)
	}
	defer pooled.Release()
	conn := pooled.Conn()

	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		return store.IngestResult{}, nil, fmt.Errorf("begin transaction: %w", err)
	}
	res, attackers, err := ingestTx(ctx, conn, agent, rows, received, s.addresses, redelivered)
	if err != nil {
		_, _ = conn.Exec(ctx, "ROLLBACK") // the statement's error is the one to report
		return store.IngestResult{}, nil, err
	}
	return res, attackers, nil
}

// ingestTx runs the statements of one batch inside its transaction,
// commits it and returns the attackers of its source addresses.
// redelivered inserts the events skipping stored ids instead of copying
// them.
func ingestTx(ctx context.Context, tx batchConn, agent uuid.UUID, rows []eventRow, received time.Time, known *addressCache, redelivered bool) (store.IngestResult, map[string]*attackerRef, error) {
	attackers, err := resolveAttackers(ctx, tx, rows, known)
	if err != nil {
		return store.IngestResult{}, nil, err
	}

	stored, err := insertEvents(ctx, tx, agent, rows, attackers, received, redelivered)
	if err != nil {
		return store.IngestResult{}, nil, err
	}

	var res store.IngestResult
	var storedRows []*eventRow
	for i := range rows {
		r := &rows[i]
		if r.payload == nil {
			res.Duplicates++
			continue
		}
		if _, ok := stored[r.id]; !ok {
			res.Duplicates++
			continue
		}
		out := &apiv1.StoredEvent{Event: r.ev, ReceivedAt: timestamppb.New(received)}
		if a, ok := attackers[r.src]; ok {
			out.AttackerId = a.id.String()
		}
		res.Stored = append(res.Stored, out)
		storedRows = append(storedRows, r)
	}

	if err := writeDerivedAndCommit(ctx, tx, agent, storedRows, attackers); err != nil {
		return store.IngestResult{}, nil, err
	}
	return res, attackers, nil
}

// uuidV7Time returns the Unix millisecond timestamp in the first 48 bits
// of a UUIDv7 (RFC 9562, section 5.7).
func uuidV7Time(id uuid.UUID) time.Time {
	var b [8]byte
	copy(b[2:], id[:6])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(b[:]))).UTC()
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

// nonNilBytes maps nil to an empty slice, because pgx sends a nil []byte
// as NULL and the columns are NOT NULL.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
