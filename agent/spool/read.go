package spool

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/decnet/decnet/bridge"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// readBufferBytes is the read-ahead of one Read call.
const readBufferBytes = 64 << 10

// The spool is the bridge client's source of events.
var _ bridge.Source = (*Spool)(nil)

// Read returns the next events after the read position, at most maxEvents
// of them and at most maxBytes of encoded events (one larger event is
// returned alone). It blocks until an event is available, ctx ends or the
// spool closes. The returned position commits the events.
func (s *Spool) Read(ctx context.Context, maxEvents, maxBytes int) ([]*eventv1.Event, bridge.Position, error) {
	if maxEvents <= 0 {
		return nil, 0, fmt.Errorf("read spool: max events %d is not positive", maxEvents)
	}

	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, 0, ErrClosed
		}

		events, err := s.readLocked(maxEvents, maxBytes)
		pos := s.readPos
		notify := s.notify
		s.mu.Unlock()

		if err != nil {
			return nil, 0, err
		}
		if len(events) > 0 {
			return events, bridge.Position(pos), nil
		}

		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-notify:
		}
	}
}

// readLocked reads what is available now. The caller holds mu.
func (s *Spool) readLocked(maxEvents, maxBytes int) ([]*eventv1.Event, error) {
	var (
		events []*eventv1.Event
		bytes  int
		r      *bufio.Reader
		header = make([]byte, recordHeaderBytes)
	)

	for len(events) < maxEvents && s.readPos < s.appendPos {
		if s.rseg == nil || s.readPos >= s.rseg.end() {
			if err := s.seekLocked(); err != nil {
				return events, err
			}
			r = nil
			continue
		}
		if r == nil {
			r = bufio.NewReaderSize(io.NewSectionReader(s.rfile, s.roff, s.rseg.size-s.roff), readBufferBytes)
		}

		if _, err := io.ReadFull(r, header); err != nil {
			s.skipSegment(fmt.Errorf("read record header: %w", err))
			continue
		}
		length, sum, err := parseHeader(header)
		if err != nil {
			s.skipSegment(err)
			continue
		}
		if len(events) > 0 && bytes+length > maxBytes {
			break
		}

		payload := make([]byte, length)
		if _, err := io.ReadFull(r, payload); err != nil {
			s.skipSegment(fmt.Errorf("read record: %w", err))
			continue
		}
		if err := checkPayload(payload, sum); err != nil {
			s.skipSegment(err)
			continue
		}

		s.readPos++
		s.roff += int64(recordHeaderBytes + length)

		ev := &eventv1.Event{}
		if err := proto.Unmarshal(payload, ev); err != nil {
			s.addDropped(1)
			s.log.Error().Err(err).Uint64(fieldPosition, s.readPos-1).Msg("spool record is not an event, skipped")
			continue
		}
		events = append(events, ev)
		bytes += length
	}
	return events, nil
}

// seekLocked opens the segment that holds readPos and finds its offset,
// moving readPos past gaps and deleted segments. The caller holds mu and
// has checked readPos < appendPos.
func (s *Spool) seekLocked() error {
	s.closeReader()

	var seg *segment
	for _, candidate := range s.segments {
		if s.readPos < candidate.end() {
			seg = candidate
			break
		}
	}
	if seg == nil {
		return fmt.Errorf("read spool: no segment holds position %d below %d", s.readPos, s.appendPos)
	}
	s.readPos = max(s.readPos, seg.first)

	f, err := os.Open(seg.path)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}

	// Skip the records before readPos: only the headers are read.
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, seg.size), readBufferBytes)
	header := make([]byte, recordHeaderBytes)
	var off int64
	for i := seg.first; i < s.readPos; i++ {
		if _, err := io.ReadFull(r, header); err != nil {
			_ = f.Close()
			return fmt.Errorf("seek segment %s to %d: %w", seg.path, s.readPos, err)
		}
		length, _, err := parseHeader(header)
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("seek segment %s to %d: %w", seg.path, s.readPos, err)
		}
		if _, err := r.Discard(length); err != nil {
			_ = f.Close()
			return fmt.Errorf("seek segment %s to %d: %w", seg.path, s.readPos, err)
		}
		off += int64(recordHeaderBytes + length)
	}

	s.rseg, s.rfile, s.roff = seg, f, off
	return nil
}

// skipSegment gives up on the rest of the reader's segment after the
// fsynced data turned out unreadable, counting its remaining records as
// dropped. The caller holds mu.
func (s *Spool) skipSegment(cause error) {
	seg := s.rseg
	lost := seg.end() - s.readPos
	s.addDropped(lost)
	s.log.Error().
		Err(cause).
		Str(fieldSegment, seg.path).
		Uint64(fieldPosition, s.readPos).
		Uint64(fieldDropped, lost).
		Msg("spool segment unreadable, rest of it skipped")
	s.readPos = seg.end()
	s.closeReader()
}

func (s *Spool) closeReader() {
	if s.rfile != nil {
		_ = s.rfile.Close() // read-only, so a close error loses nothing
	}
	s.rseg, s.rfile, s.roff = nil, nil, 0
}

// Commit durably marks every event before pos as delivered and deletes the
// segments that hold only committed events. pos must not be beyond the
// read position. A pos older than the last commit is ignored.
func (s *Spool) Commit(pos bridge.Position) error {
	p := uint64(pos)

	s.commitMu.Lock()
	defer s.commitMu.Unlock()

	s.mu.Lock()
	closed, commitPos, readPos := s.closed, s.commitPos, s.readPos
	s.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case p <= commitPos:
		return nil
	case p > readPos:
		return fmt.Errorf("commit spool position %d: beyond read position %d", p, readPos)
	}

	if err := writeCommit(s.dir, p); err != nil {
		return fmt.Errorf("commit spool position %d: %w", p, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.commitPos = max(s.commitPos, p)
	s.deleteCommitted()
	return nil
}

// Rewind moves the read position back to the oldest uncommitted event.
func (s *Spool) Rewind() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.closed {
		return ErrClosed
	}
	s.readPos = s.commitPos
	s.closeReader()
	return nil
}
