package spool

import (
	"errors"
	"fmt"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/decnet/decnet/agent/bus"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/internal/protoutf8"
)

// maxPendingBytes bounds the records waiting for the flusher. An append
// that would exceed it waits until the flusher takes the buffer, which
// takes at most one write and fsync. That wait is the backpressure the
// bus handler applies to the emitter queue.
const maxPendingBytes = 8 << 20

// flushGroup is the set of appends one write and fsync covers. err is set
// before done is closed.
type flushGroup struct {
	done chan struct{}
	err  error
	// async counts the events of the group that nobody waits for, so a
	// failed write can count them as dropped.
	async uint64
}

func newFlushGroup() *flushGroup {
	return &flushGroup{done: make(chan struct{})}
}

// Append writes events to the spool and returns once they are fsynced.
// Concurrent calls share one fsync. If it returns an error, none of the
// events were stored.
func (s *Spool) Append(events []*eventv1.Event) error {
	if len(events) == 0 {
		return nil
	}

	g, err := s.enqueue(events, false)
	if err != nil {
		return err
	}
	<-g.done
	return g.err
}

// Handler returns a bus handler that appends each event without waiting
// for its fsync, so the bus is held only while the event is encoded, or
// for up to one write when the disk falls behind. An event the spool
// cannot store is counted in Dropped and logged (the first failure and
// then every 1000th), never dropped silently.
//
// Subscribe it with bus.Subscribe("event.>", s.Handler()).
func (s *Spool) Handler() bus.Handler {
	return func(_ string, ev *eventv1.Event) {
		if _, err := s.enqueue([]*eventv1.Event{ev}, true); err != nil {
			s.addDropped(1)
			n := s.handlerErrors.Add(1)
			if n == 1 || n%logEvery == 0 {
				s.log.Error().Err(err).Str(fieldEventID, ev.GetId()).Uint64(fieldFailures, n).Msg("spool append failed, event dropped")
			}
		}
	}
}

// enqueue encodes events into the pending buffer and makes sure a flusher
// runs. It returns the group whose fsync will cover them.
func (s *Spool) enqueue(events []*eventv1.Event, async bool) (*flushGroup, error) {
	buf, lens, err := encode(events)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	for !s.closed && len(s.pending) > 0 && len(s.pending)+len(buf) > maxPendingBytes {
		s.taken.Wait()
	}
	if s.closed {
		return nil, ErrClosed
	}

	s.pending = append(s.pending, buf...)
	s.pendingLens = append(s.pendingLens, lens...)
	g := s.group
	if async {
		g.async += uint64(len(events))
	}

	if !s.flushing {
		s.flushing = true
		s.flushWG.Add(1)
		go s.flushLoop()
	}
	return g, nil
}

func encode(events []*eventv1.Event) (buf []byte, lens []int, err error) {
	lens = make([]int, 0, len(events))
	for _, ev := range events {
		payload, err := proto.Marshal(ev)
		// Decoys copy attacker bytes into string fields, and proto3
		// strings must be UTF-8. The repair runs only when Marshal
		// refused, so valid events pay nothing for it.
		if err != nil && protoutf8.Fix(ev) {
			payload, err = proto.Marshal(ev)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("marshal event %s: %w", ev.GetId(), err)
		}
		if len(payload) > MaxRecordBytes {
			return nil, nil, fmt.Errorf("append event %s: %d bytes exceeds the %d-byte record limit", ev.GetId(), len(payload), MaxRecordBytes)
		}
		buf = appendRecord(buf, payload)
		lens = append(lens, recordHeaderBytes+len(payload))
	}
	return buf, lens, nil
}

// flushLoop writes pending records until none are left. At most one runs
// at a time, and appends that arrive during a write form the next group.
func (s *Spool) flushLoop() {
	defer s.flushWG.Done()

	for {
		s.mu.Lock()
		if len(s.pendingLens) == 0 {
			s.flushing = false
			s.mu.Unlock()
			return
		}
		buf, lens, g := s.pending, s.pendingLens, s.group
		s.pending, s.pendingLens, s.group = nil, nil, newFlushGroup()
		first := s.appendPos
		s.taken.Broadcast()
		s.mu.Unlock()

		g.err = s.write(buf, lens, first)
		if g.err != nil {
			s.log.Error().Err(g.err).Int(fieldRecords, len(lens)).Msg("spool write failed")
			if g.async > 0 {
				s.addDropped(g.async)
			}
		}
		close(g.done)
	}
}

// segmentWrite is the span that one flush added to one segment.
type segmentWrite struct {
	seg   *segment
	count uint64
	size  int64
}

// write appends the records in buf, whose sizes are lens and whose first
// index is first, rotating segments at segmentBytes, then fsyncs and makes
// them visible to the reader. On error none of them become visible.
func (s *Spool) write(buf []byte, lens []int, first uint64) error {
	var (
		writes  []segmentWrite
		created []*segment
		offset  int64
		next    = first
	)

	for i := 0; i < len(lens); {
		if s.wfile == nil || (s.wsize > 0 && s.wsize+int64(lens[i]) > s.segmentBytes) {
			if err := s.rotate(next); err != nil {
				s.abortWrite(created)
				return err
			}
			created = append(created, s.wseg)
		}

		// Take every record that fits in the current segment. The first
		// always goes in, so a record larger than a segment still fits.
		n, size := 1, int64(lens[i])
		for i+n < len(lens) && s.wsize+size+int64(lens[i+n]) <= s.segmentBytes {
			size += int64(lens[i+n])
			n++
		}

		if _, err := s.wfile.Write(buf[offset : offset+size]); err != nil {
			s.abortWrite(created)
			return fmt.Errorf("write segment: %w", err)
		}
		writes = append(writes, segmentWrite{seg: s.wseg, count: uint64(n), size: size})
		s.wsize += size
		offset += size
		next += uint64(n)
		i += n
	}

	if err := s.wfile.Sync(); err != nil {
		s.abortWrite(created)
		return fmt.Errorf("sync segment: %w", err)
	}
	if len(created) > 0 {
		if err := syncDir(s.dir); err != nil {
			s.abortWrite(created)
			return err
		}
	}

	s.publish(writes, created, next)
	return nil
}

// rotate closes the current segment, after an fsync, and starts the one
// whose first index is first.
func (s *Spool) rotate(first uint64) error {
	if s.wfile != nil {
		if err := s.wfile.Sync(); err != nil {
			return fmt.Errorf("sync segment: %w", err)
		}
		if err := s.wfile.Close(); err != nil {
			return fmt.Errorf("close segment: %w", err)
		}
		s.wfile = nil
	}

	// An empty last segment with the same first index is the same file:
	// reuse its entry rather than list the file twice.
	s.mu.Lock()
	last := s.segments[len(s.segments)-1]
	s.mu.Unlock()
	seg, f, err := s.createSegment(first)
	if err != nil {
		return err
	}
	if last.first == first {
		seg = last
	}
	s.wseg, s.wfile, s.wsize = seg, f, 0
	return nil
}

// abortWrite undoes a failed write: it deletes the segments the write
// created and cuts the segment that was being appended to back to its
// visible size. The next write starts a new segment in any case, because
// the old file may still hold part of the failed write.
func (s *Spool) abortWrite(created []*segment) {
	if s.wfile != nil {
		// The write already failed, and the file is cut back below.
		_ = s.wfile.Close()
		s.wfile = nil
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	last := s.segments[len(s.segments)-1]
	for _, seg := range created {
		if seg == last {
			continue
		}
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Error().Err(err).Str(fieldSegment, seg.path).Msg("spool segment removal failed after a write error")
		}
	}
	if err := os.Truncate(last.path, last.size); err != nil {
		s.log.Error().Err(err).Str(fieldSegment, last.path).Msg("spool segment truncation failed after a write error")
	}
	s.wseg, s.wsize = last, last.size
}

// publish makes fsynced records visible: it records the new segments and
// sizes, advances appendPos, enforces MaxBytes and wakes the reader.
func (s *Spool) publish(writes []segmentWrite, created []*segment, next uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()

	last := s.segments[len(s.segments)-1]
	for _, seg := range created {
		if seg != last {
			s.segments = append(s.segments, seg)
		}
	}
	for _, w := range writes {
		w.seg.count += w.count
		w.seg.size += w.size
		s.bytes += w.size
	}
	s.appendPos = next

	s.enforceMaxBytes()

	close(s.notify)
	s.notify = make(chan struct{})
}

// enforceMaxBytes deletes the oldest segments while the spool is larger
// than maxBytes and counts their unacknowledged events as dropped. The
// caller holds mu.
func (s *Spool) enforceMaxBytes() {
	for s.bytes > s.maxBytes && len(s.segments) > 1 {
		old := s.segments[0]
		var lost uint64
		if old.end() > s.commitPos {
			lost = old.end() - max(old.first, s.commitPos)
		}

		if err := s.removeOldest(); err != nil {
			s.log.Error().Err(err).Str(fieldSegment, old.path).Msg("spool segment removal failed")
		}

		oldest := s.segments[0].first
		s.commitPos = max(s.commitPos, oldest)
		if s.readPos < oldest {
			s.readPos = oldest
			s.closeReader()
		}

		if lost > 0 {
			s.addDropped(lost)
			s.log.Warn().
				Str(fieldSegment, old.path).
				Uint64(fieldDropped, lost).
				Uint64("dropped_total", s.dropped.Load()).
				Msg("spool full, oldest segment deleted with unacknowledged events")
		}
	}
}
