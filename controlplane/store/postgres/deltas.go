package postgres

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Aggregate write-behind. Every ingested batch adds one row to
// attacker_deltas with the changes its events make to the attacker,
// address and target aggregates. applyDeltas folds all pending rows into
// the aggregates in one transaction and deletes them, so many batches of
// the same attackers cost one update per attacker instead of one each.

const (
	// deltaFlushDelay is how long the flusher waits after a batch before
	// applying, so that the batches of that time share one update.
	deltaFlushDelay = 100 * time.Millisecond
	// deltaRowsPerFlush bounds the rows one flush transaction takes.
	deltaRowsPerFlush = 1000
)

// aggregateDeltas are the aggregate changes of one or more batches.
type aggregateDeltas struct {
	attackers map[uuid.UUID]*attackerTotals
	addresses map[string]*span
	targets   map[targetKey]*span
}

func newAggregateDeltas() *aggregateDeltas {
	return &aggregateDeltas{
		attackers: make(map[uuid.UUID]*attackerTotals),
		addresses: make(map[string]*span),
		targets:   make(map[targetKey]*span),
	}
}

func (d *aggregateDeltas) empty() bool { return len(d.attackers) == 0 }

// addEvent counts one stored event of attacker id, seen from address.
func (d *aggregateDeltas) addEvent(id uuid.UUID, address, decky, service string, at time.Time, auth bool) {
	t := d.attackers[id]
	if t == nil {
		t = &attackerTotals{}
		d.attackers[id] = t
	}
	t.add(at)
	t.events++
	if auth {
		t.authAttempts++
	}
	sp := d.addresses[address]
	if sp == nil {
		sp = &span{}
		d.addresses[address] = sp
	}
	sp.add(at)
	k := targetKey{attacker: id, decky: decky, service: service}
	tg := d.targets[k]
	if tg == nil {
		tg = &span{}
		d.targets[k] = tg
	}
	tg.add(at)
}

// merge adds o's changes to d.
func (d *aggregateDeltas) merge(o *aggregateDeltas) {
	for id, t := range o.attackers {
		cur := d.attackers[id]
		if cur == nil {
			cur = &attackerTotals{}
			d.attackers[id] = cur
		}
		cur.merge(t.span)
		cur.events += t.events
		cur.authAttempts += t.authAttempts
	}
	for a, sp := range o.addresses {
		cur := d.addresses[a]
		if cur == nil {
			cur = &span{}
			d.addresses[a] = cur
		}
		cur.merge(*sp)
	}
	for k, sp := range o.targets {
		cur := d.targets[k]
		if cur == nil {
			cur = &span{}
			d.targets[k] = cur
		}
		cur.merge(*sp)
	}
}

func (s *span) merge(o span) {
	s.add(o.first)
	s.add(o.last)
}

// encode writes the deltas as counts followed by entries, with times in
// Unix microseconds and strings length-prefixed.
func (d *aggregateDeltas) encode() []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(d.attackers)))
	for id, t := range d.attackers {
		b = append(b, id[:]...)
		b = appendSpan(b, t.span)
		b = binary.AppendUvarint(b, uint64(t.events))       //nolint:gosec // G115: counts are never negative
		b = binary.AppendUvarint(b, uint64(t.authAttempts)) //nolint:gosec // G115: counts are never negative
	}
	b = binary.AppendUvarint(b, uint64(len(d.addresses)))
	for a, sp := range d.addresses {
		b = appendString(b, a)
		b = appendSpan(b, *sp)
	}
	b = binary.AppendUvarint(b, uint64(len(d.targets)))
	for k, sp := range d.targets {
		b = append(b, k.attacker[:]...)
		b = appendString(b, k.decky)
		b = appendString(b, k.service)
		b = appendSpan(b, *sp)
	}
	return b
}

func appendSpan(b []byte, s span) []byte {
	b = binary.AppendVarint(b, s.first.UnixMicro())
	return binary.AppendVarint(b, s.last.UnixMicro())
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errBadDeltas reports a row of attacker_deltas this binary cannot read.
var errBadDeltas = errors.New("malformed attacker deltas")

type deltaReader struct {
	b   []byte
	err error
}

func (r *deltaReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadDeltas
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *deltaReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadDeltas
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *deltaReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errBadDeltas
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *deltaReader) uuid() uuid.UUID {
	var id uuid.UUID
	copy(id[:], r.bytes(16))
	return id
}

func (r *deltaReader) span() span {
	first := r.varint()
	last := r.varint()
	return span{first: time.UnixMicro(first).UTC(), last: time.UnixMicro(last).UTC()}
}

func (r *deltaReader) string() string { return string(r.bytes(r.uvarint())) }

// count reads an entry count and checks it against the bytes left, each
// entry taking at least minSize bytes, so a corrupt count cannot make a
// huge map.
func (r *deltaReader) count(minSize int) int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)/minSize) {
		r.err = errBadDeltas
	}
	if r.err != nil {
		return 0
	}
	return int(n) //nolint:gosec // G115: bounded by the buffer length above
}

// decodeDeltas merges the deltas encoded in b into d.
func decodeDeltas(b []byte, d *aggregateDeltas) error {
	r := &deltaReader{b: b}
	one := newAggregateDeltas()
	for range r.count(16 + 4) {
		id := r.uuid()
		t := &attackerTotals{span: r.span()}
		t.events = int64(r.uvarint())       //nolint:gosec // G115: written from a non-negative int64
		t.authAttempts = int64(r.uvarint()) //nolint:gosec // G115: written from a non-negative int64
		one.attackers[id] = t
	}
	for range r.count(3) {
		a := r.string()
		sp := r.span()
		one.addresses[a] = &sp
	}
	for range r.count(16 + 4) {
		k := targetKey{attacker: r.uuid()}
		k.decky = r.string()
		k.service = r.string()
		sp := r.span()
		one.targets[k] = &sp
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errBadDeltas
	}
	if r.err != nil {
		return r.err
	}
	d.merge(one)
	return nil
}

// deltaFlusher applies pending deltas in the background, and on demand
// before reads of the aggregates.
//
// Batches and flushes are counted: committed counts this process's
// ingested batches, applied the count a finished flush covered. A reader
// waits until applied reaches the count at its start, and every reader
// waiting meanwhile shares one flush, so concurrent reads under ingest
// cost one flush, not one each.
type deltaFlusher struct {
	mu        sync.Mutex
	cond      *sync.Cond
	committed uint64
	applied   uint64
	flushing  bool
	// wake is signalled by every ingested batch.
	wake chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

func (s *Store) startFlusher() {
	ctx, cancel := context.WithCancel(context.Background())
	f := &deltaFlusher{wake: make(chan struct{}, 1), stop: cancel, done: make(chan struct{})}
	f.cond = sync.NewCond(&f.mu)
	s.flusher = f
	go func() {
		defer close(f.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-f.wake:
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(deltaFlushDelay):
			}
			if err := s.applyDeltas(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("apply attacker deltas failed; retrying with the next batch")
			}
		}
	}()
}

// stopFlusher stops the background flusher and applies what is pending.
func (s *Store) stopFlusher() {
	if s.flusher == nil {
		return
	}
	s.flusher.stop()
	<-s.flusher.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.applyDeltas(ctx); err != nil {
		s.log.Warn().Err(err).Msg("apply attacker deltas at close failed; the next start applies them")
	}
}

// batchIngested counts a committed batch and wakes the flusher.
func (s *Store) batchIngested() {
	f := s.flusher
	f.mu.Lock()
	f.committed++
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// syncAggregates waits until the batches this process committed before
// the call are folded into the aggregates, so a reader sees them. Other
// replicas fold their own within deltaFlushDelay.
func (s *Store) syncAggregates(ctx context.Context) error {
	f := s.flusher
	f.mu.Lock()
	target := f.committed
	f.mu.Unlock()
	return s.flushTo(ctx, target, false)
}

// applyDeltas folds every pending delta row into the aggregates.
func (s *Store) applyDeltas(ctx context.Context) error {
	f := s.flusher
	f.mu.Lock()
	target := f.committed
	f.mu.Unlock()
	// Rows other processes left behind count too, so a flush runs even
	// when this process's count is reached.
	return s.flushTo(ctx, target, true)
}

// flushTo returns once a flush that started after target batches were
// committed has finished, running one itself when none is in flight.
// force runs a flush of its own even when target is reached.
func (s *Store) flushTo(ctx context.Context, target uint64, force bool) error {
	f := s.flusher
	f.mu.Lock()
	defer f.mu.Unlock()
	forced := force
	for forced || f.applied < target {
		if f.flushing {
			f.cond.Wait()
			continue
		}
		f.flushing = true
		start := f.committed
		f.mu.Unlock()
		err := s.applyAllDeltaRows(ctx)
		f.mu.Lock()
		f.flushing = false
		if err == nil && start > f.applied {
			f.applied = start
		}
		f.cond.Broadcast()
		if err != nil {
			return err
		}
		forced = false
	}
	return nil
}

// applyAllDeltaRows applies delta rows until none is left.
func (s *Store) applyAllDeltaRows(ctx context.Context) error {
	for {
		n, err := s.applyDeltaRows(ctx)
		if err != nil {
			return err
		}
		if n < deltaRowsPerFlush {
			return nil
		}
	}
}

// applyDeltaRows applies and deletes up to deltaRowsPerFlush rows in one
// transaction. Rows another replica is applying are skipped: it commits
// them itself.
func (s *Store) applyDeltaRows(ctx context.Context) (int, error) {
	var n int
	err := inTxOn(ctx, s.flushPool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, deltas FROM attacker_deltas ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, deltaRowsPerFlush)
		if err != nil {
			return fmt.Errorf("read attacker deltas: %w", err)
		}
		total := newAggregateDeltas()
		var ids []int64
		for rows.Next() {
			var (
				id      int64
				encoded []byte
			)
			if err := rows.Scan(&id, &encoded); err != nil {
				rows.Close()
				return fmt.Errorf("read attacker deltas: %w", err)
			}
			if err := decodeDeltas(encoded, total); err != nil {
				rows.Close()
				return fmt.Errorf("read attacker deltas row %d: %w", id, err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read attacker deltas: %w", err)
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		var batch pgx.Batch
		queueAttackerUpdates(&batch, total.attackers)
		queueAddressUpdates(&batch, total.addresses)
		queueTargetUpserts(&batch, total.targets)
		batch.Queue(`DELETE FROM attacker_deltas WHERE id = ANY($1)`, ids)
		if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
			return fmt.Errorf("apply %d attacker delta rows: %w", n, err)
		}
		return nil
	})
	return n, err
}

func queueAttackerUpdates(batch *pgx.Batch, totals map[uuid.UUID]*attackerTotals) {
	if len(totals) == 0 {
		return
	}
	keys := make([]uuid.UUID, 0, len(totals))
	for id := range totals {
		keys = append(keys, id)
	}
	slices.SortFunc(keys, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })

	var (
		ids          = make([]pgtype.UUID, len(keys))
		firsts       = make([]time.Time, len(keys))
		lasts        = make([]time.Time, len(keys))
		events       = make([]int64, len(keys))
		authAttempts = make([]int64, len(keys))
	)
	for i, id := range keys {
		t := totals[id]
		ids[i], firsts[i], lasts[i] = pgUUID(id), t.first, t.last
		events[i], authAttempts[i] = t.events, t.authAttempts
	}
	batch.Queue(`UPDATE attackers AS a SET
			first_seen = LEAST(a.first_seen, u.first_seen),
			last_seen = GREATEST(a.last_seen, u.last_seen),
			event_count = a.event_count + u.events,
			auth_attempt_count = a.auth_attempt_count + u.auth_attempts
		FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::bigint[], $5::bigint[])
			AS u(id, first_seen, last_seen, events, auth_attempts)
		WHERE a.id = u.id`, ids, firsts, lasts, events, authAttempts)
}

func queueAddressUpdates(batch *pgx.Batch, spans map[string]*span) {
	if len(spans) == 0 {
		return
	}
	keys := make([]string, 0, len(spans))
	for a := range spans {
		keys = append(keys, a)
	}
	slices.Sort(keys)

	var (
		firsts = make([]time.Time, len(keys))
		lasts  = make([]time.Time, len(keys))
	)
	for i, a := range keys {
		firsts[i], lasts[i] = spans[a].first, spans[a].last
	}
	batch.Queue(`UPDATE attacker_addresses AS a SET
			first_seen = LEAST(a.first_seen, u.first_seen),
			last_seen = GREATEST(a.last_seen, u.last_seen)
		FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[])
			AS u(address, first_seen, last_seen)
		WHERE a.address = u.address`, keys, firsts, lasts)
}

func queueTargetUpserts(batch *pgx.Batch, spans map[targetKey]*span) {
	if len(spans) == 0 {
		return
	}
	keys := make([]targetKey, 0, len(spans))
	for k := range spans {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b targetKey) int {
		return cmp.Or(bytes.Compare(a.attacker[:], b.attacker[:]), cmp.Compare(a.decky, b.decky), cmp.Compare(a.service, b.service))
	})

	var (
		ids      = make([]pgtype.UUID, len(keys))
		deckies  = make([]string, len(keys))
		services = make([]string, len(keys))
		firsts   = make([]time.Time, len(keys))
		lasts    = make([]time.Time, len(keys))
	)
	for i, k := range keys {
		ids[i], deckies[i], services[i] = pgUUID(k.attacker), k.decky, k.service
		firsts[i], lasts[i] = spans[k].first, spans[k].last
	}
	// Most targets exist already. A plain UPDATE writes one new row
	// version each, where ON CONFLICT DO UPDATE also locks every row
	// first, one more WAL record per target. Only the targets it did not
	// find go through the upsert, which still handles a concurrent insert
	// of the same target.
	batch.Queue(`WITH u AS (
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
				AS u(attacker_id, decky, service, first_seen, last_seen)
		), updated AS (
			UPDATE attacker_targets AS t SET
				first_seen = LEAST(t.first_seen, u.first_seen),
				last_seen = GREATEST(t.last_seen, u.last_seen)
			FROM u
			WHERE t.attacker_id = u.attacker_id AND t.decky = u.decky AND t.service = u.service
			RETURNING t.attacker_id, t.decky, t.service
		)
		INSERT INTO attacker_targets (attacker_id, decky, service, first_seen, last_seen)
		SELECT u.attacker_id, u.decky, u.service, u.first_seen, u.last_seen FROM u
		WHERE NOT EXISTS (SELECT 1 FROM updated AS d
			WHERE d.attacker_id = u.attacker_id AND d.decky = u.decky AND d.service = u.service)
		ORDER BY u.attacker_id, u.decky, u.service
		ON CONFLICT (attacker_id, decky, service) DO UPDATE SET
			first_seen = LEAST(attacker_targets.first_seen, excluded.first_seen),
			last_seen = GREATEST(attacker_targets.last_seen, excluded.last_seen)`,
		ids, deckies, services, firsts, lasts)
}
