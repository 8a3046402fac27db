// Package spool is the agent's durable event queue on disk. Events from the
// local bus are appended to segment files and fsynced. The bridge client
// reads them, sends them, and commits them once the control plane has
// acknowledged a durable write. The spool is bounded in bytes: when it is
// full, the oldest segment is deleted and its unacknowledged events are
// counted as dropped.
//
// Appends use group commit: concurrent appends, and every event the bus
// handler passes in while a write is in progress, are written together
// and covered by one fsync. Append returns after that fsync, but the bus
// handler does not wait for it.
package spool

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/bus"
)

// Defaults of Config. A segment is the unit of deletion when the spool is
// full, so it is small next to MaxBytes. 512 MiB is several hours of a
// busy sensor (an estimate) while the control plane is unreachable.
const (
	defaultSegmentBytes = 16 << 20
	defaultMaxBytes     = 512 << 20
)

// Log field keys of this package.
const (
	fieldSegment   = "segment"
	fieldRecords   = "records"
	fieldBytes     = "bytes"
	fieldDropped   = "dropped"
	fieldPosition  = "position"
	fieldReason    = "reason"
	fieldEventID   = "event_id"
	fieldFailures  = "failures"
	fieldCommitted = "committed"
)

// logEvery rate-limits repeated failures in the bus handler: the first one
// and every logEvery-th are logged.
const logEvery = 1000

// ErrClosed is returned by operations on a closed spool.
var ErrClosed = errors.New("spool closed")

// Config configures Open.
type Config struct {
	// Dir contains the segment and commit files. It is created if missing.
	// One spool at a time may use a directory.
	Dir string
	// MaxBytes bounds the bytes of all segments. It must be at least twice
	// SegmentBytes. Zero selects 512 MiB.
	MaxBytes int64
	// SegmentBytes is the size at which the spool starts a new segment
	// file. A segment can exceed it by at most one record. Zero selects
	// 16 MiB.
	SegmentBytes int64
	// Registerer receives decnet_agent_events_dropped_total{stage="spool"},
	// decnet_agent_spool_bytes and decnet_agent_spool_pending_events. Nil
	// registers nothing.
	Registerer prometheus.Registerer
	Logger     zerolog.Logger
}

// Spool is a durable, bounded event queue. It is safe for concurrent use
// and supports one reader, the bridge client.
type Spool struct {
	dir          string
	maxBytes     int64
	segmentBytes int64
	log          zerolog.Logger
	registerer   prometheus.Registerer
	gauges       []prometheus.Collector
	lock         *os.File

	// mu guards everything below except the fields owned by the flusher.
	mu       sync.Mutex
	segments []*segment // oldest first, and the last one is being written
	bytes    int64      // sum of segment sizes
	// appendPos is the index the next record gets, readPos the index of
	// the next record Read returns, commitPos the index of the oldest
	// record not yet committed. commitPos <= readPos <= appendPos, except
	// across gaps left by corrupt or deleted data.
	appendPos uint64
	readPos   uint64
	commitPos uint64
	// The reader's open segment and the byte offset of readPos in it. A
	// nil rseg means the reader must find readPos again.
	rseg  *segment
	roff  int64
	rfile *os.File
	// notify is closed and replaced whenever records become readable or
	// the spool closes.
	notify chan struct{}
	closed bool

	// Group commit state, guarded by mu: records waiting for the flusher
	// and the group whose members wait for them.
	pending     []byte
	pendingLens []int
	group       *flushGroup
	flushing    bool
	taken       *sync.Cond // broadcast when the flusher takes pending
	flushWG     sync.WaitGroup

	// Owned by the flusher: the segment being written and its file.
	wseg  *segment
	wfile *os.File
	wsize int64

	// commitMu serialises Commit, so commit file writes never reorder.
	commitMu sync.Mutex

	dropped        atomic.Uint64
	droppedCounter prometheus.Counter
	handlerErrors  atomic.Uint64
}

// Open opens or creates the spool in cfg.Dir and recovers it: a torn or
// corrupt record at the end, left by a crash during a write, is truncated
// and logged. Committed events are not read again.
func Open(cfg Config) (*Spool, error) {
	if cfg.Dir == "" {
		return nil, errors.New("open spool: directory is empty")
	}
	if cfg.SegmentBytes == 0 {
		cfg.SegmentBytes = defaultSegmentBytes
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = defaultMaxBytes
	}
	if cfg.SegmentBytes < 0 || cfg.MaxBytes < 2*cfg.SegmentBytes {
		return nil, fmt.Errorf("open spool: max bytes %d must be at least twice segment bytes %d", cfg.MaxBytes, cfg.SegmentBytes)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", cfg.Dir, err)
	}

	dropped, err := bus.RegisterDroppedCounter(cfg.Registerer)
	if err != nil {
		unlock(lock)
		return nil, fmt.Errorf("open spool: %w", err)
	}

	s := &Spool{
		dir:            cfg.Dir,
		maxBytes:       cfg.MaxBytes,
		segmentBytes:   cfg.SegmentBytes,
		log:            cfg.Logger.With().Str("component", "spool").Logger(),
		registerer:     cfg.Registerer,
		lock:           lock,
		notify:         make(chan struct{}),
		group:          newFlushGroup(),
		droppedCounter: dropped.WithLabelValues(bus.StageSpool),
	}
	s.taken = sync.NewCond(&s.mu)

	if err := s.recover(); err != nil {
		_ = s.closeFiles() // the recover error is the one to report
		return nil, fmt.Errorf("open spool %s: %w", cfg.Dir, err)
	}
	if err := s.registerGauges(); err != nil {
		_ = s.closeFiles() // nothing was written yet
		return nil, fmt.Errorf("open spool: %w", err)
	}

	s.log.Info().
		Uint64(fieldPosition, s.appendPos).
		Uint64(fieldCommitted, s.commitPos).
		Uint64(fieldRecords, s.Pending()).
		Int64(fieldBytes, s.Bytes()).
		Msg("spool opened")
	return s, nil
}

// recover rebuilds the in-memory state from the files in the directory.
func (s *Spool) recover() error {
	segs, err := listSegments(s.dir)
	if err != nil {
		return err
	}

	commit, err := readCommit(s.dir)
	if err != nil {
		// Starting from the oldest segment resends events the control
		// plane already has. It deduplicates them, so nothing is lost.
		s.log.Error().Err(err).Msg("spool commit file unreadable, resending from the oldest segment")
		commit = 0
	}

	for i, seg := range segs {
		if err := s.recoverSegment(segs, i); err != nil {
			return err
		}
		s.bytes += seg.size
	}

	// Indices never go back, even if every segment was deleted, so a new
	// record can never be mistaken for a committed one.
	s.appendPos = commit
	if n := len(segs); n > 0 {
		if end := segs[n-1].end(); end > s.appendPos {
			s.appendPos = end
		}
		if segs[0].first > commit {
			commit = segs[0].first
		}
	}
	s.commitPos = commit
	s.readPos = commit
	s.segments = segs

	if err := s.openActive(); err != nil {
		return err
	}
	s.deleteCommitted()
	return nil
}

// recoverSegment counts the valid records of segs[i] and truncates what
// follows them.
func (s *Spool) recoverSegment(segs []*segment, i int) error {
	seg := segs[i]
	last := i == len(segs)-1
	limit := ^uint64(0)
	if !last {
		limit = segs[i+1].first - seg.first
	}

	res, err := scanSegment(seg.path, limit)
	if err != nil {
		return err
	}
	seg.count, seg.size = res.count, res.size

	if res.fileSize > res.size {
		reason := "records beyond the next segment's first index"
		if res.stop != nil {
			reason = res.stop.Error()
		}
		s.log.Warn().
			Str(fieldSegment, seg.path).
			Uint64(fieldRecords, res.count).
			Int64(fieldBytes, res.fileSize-res.size).
			Str(fieldReason, reason).
			Msg("spool segment truncated after its last valid record")
		if err := os.Truncate(seg.path, res.size); err != nil {
			return fmt.Errorf("truncate segment: %w", err)
		}
	}

	if !last && res.count < limit {
		lost := limit - res.count
		s.addDropped(lost)
		s.log.Error().
			Str(fieldSegment, seg.path).
			Uint64(fieldDropped, lost).
			Msg("spool segment lost fsynced records to corruption")
	}
	return nil
}

// openActive opens the segment appends go to: the last one if it ends at
// appendPos and has room, else a new one.
func (s *Spool) openActive() error {
	if n := len(s.segments); n > 0 {
		last := s.segments[n-1]
		if last.end() == s.appendPos && last.size < s.segmentBytes {
			f, err := os.OpenFile(last.path, os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				return fmt.Errorf("open segment: %w", err)
			}
			s.wseg, s.wfile, s.wsize = last, f, last.size
			return nil
		}
	}

	seg, f, err := s.createSegment(s.appendPos)
	if err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		_ = f.Close() // the new segment is still empty
		return err
	}
	s.segments = append(s.segments, seg)
	s.wseg, s.wfile, s.wsize = seg, f, 0
	return nil
}

func (s *Spool) createSegment(first uint64) (*segment, *os.File, error) {
	path := segmentPath(s.dir, first)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("create segment: %w", err)
	}
	return &segment{first: first, path: path}, f, nil
}

// deleteCommitted deletes every segment except the last whose records are
// all committed. The caller holds mu, or is Open.
func (s *Spool) deleteCommitted() {
	for len(s.segments) > 1 && s.segments[0].end() <= s.commitPos {
		path := s.segments[0].path
		if err := s.removeOldest(); err != nil {
			s.log.Error().Err(err).Str(fieldSegment, path).Msg("spool segment removal failed")
		}
	}
}

// removeOldest deletes the oldest segment. The caller holds mu and makes
// sure it is not the last one.
func (s *Spool) removeOldest() error {
	old := s.segments[0]
	s.segments = s.segments[1:]
	s.bytes -= old.size
	if s.rseg == old {
		s.closeReader()
	}

	// The segment leaves the spool's list even if removing the file fails,
	// because no position still in use points into it. The next Open
	// deletes the file.
	if err := os.Remove(old.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove segment: %w", err)
	}
	return nil
}

// Close flushes pending appends and closes the files. Read, Append and
// Commit return ErrClosed afterwards.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.notify)
	s.taken.Broadcast()
	s.mu.Unlock()

	s.flushWG.Wait()

	for _, g := range s.gauges {
		s.registerer.Unregister(g)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeFiles()
}

// closeFiles closes the segment files and releases the directory lock.
func (s *Spool) closeFiles() error {
	s.closeReader()
	defer func() {
		unlock(s.lock)
		s.lock = nil
	}()

	if s.wfile == nil {
		return nil
	}
	err := s.wfile.Close()
	s.wfile = nil
	if err != nil {
		return fmt.Errorf("close segment: %w", err)
	}
	return nil
}

// unlock releases a lock from lockDir by closing its file.
func unlock(f *os.File) {
	if f != nil {
		// Closing releases the flock; a close error leaves nothing to undo.
		_ = f.Close()
	}
}

// Dropped returns the number of events the spool lost: unacknowledged
// events in deleted segments, events whose append failed and records found
// corrupt.
func (s *Spool) Dropped() uint64 {
	return s.dropped.Load()
}

// Pending returns the number of events appended and not yet committed.
func (s *Spool) Pending() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingLocked()
}

func (s *Spool) pendingLocked() uint64 {
	var n uint64
	for _, seg := range s.segments {
		if seg.end() > s.commitPos {
			n += seg.end() - max(seg.first, s.commitPos)
		}
	}
	return n
}

// Bytes returns the size of all segments on disk.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

func (s *Spool) addDropped(n uint64) {
	s.dropped.Add(n)
	s.droppedCounter.Add(float64(n))
}

func (s *Spool) registerGauges() error {
	if s.registerer == nil {
		return nil
	}

	gauges := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "decnet_agent_spool_bytes",
			Help: "Bytes of event segments in the agent spool.",
		}, func() float64 { return float64(s.Bytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "decnet_agent_spool_pending_events",
			Help: "Events in the agent spool that the control plane has not acknowledged.",
		}, func() float64 { return float64(s.Pending()) }),
	}
	for i, g := range gauges {
		if err := s.registerer.Register(g); err != nil {
			for _, done := range gauges[:i] {
				s.registerer.Unregister(done)
			}
			return fmt.Errorf("register spool gauges: %w", err)
		}
	}
	s.gauges = gauges
	return nil
}
