package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/bus"
	"github.com/decnet/decnet/bridge"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func testEvent(i int) *eventv1.Event {
	return &eventv1.Event{
		Id:      fmt.Sprintf("event-%06d", i),
		Service: "ssh",
		Kind:    "command",
		Payload: &eventv1.Event_Command{Command: &eventv1.Command{Line: strings.Repeat("x", i%50), Channel: "shell"}},
	}
}

func testEvents(from, to int) []*eventv1.Event {
	var evs []*eventv1.Event
	for i := from; i < to; i++ {
		evs = append(evs, testEvent(i))
	}
	return evs
}

func openSpool(t *testing.T, cfg Config) *Spool {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readAll reads until want events arrived or nothing more is available,
// and returns their ids and the last position.
func readAll(t *testing.T, s *Spool, want int) ([]string, bridge.Position) {
	t.Helper()
	var (
		ids []string
		pos bridge.Position
	)
	for len(ids) < want {
		ctx, cancel := context.WithCancel(context.Background())
		if s.Pending() == 0 || readableNow(s) == 0 {
			cancel()
			break
		}
		evs, p, err := s.Read(ctx, 7, 1<<20)
		cancel()
		if err != nil {
			t.Fatalf("Read() = %v", err)
		}
		for _, ev := range evs {
			ids = append(ids, ev.Id)
		}
		pos = p
	}
	return ids, pos
}

// readableNow returns how many records lie between the read position and
// the append position.
func readableNow(s *Spool) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendPos - s.readPos
}

func idsOf(evs []*eventv1.Event) []string {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.Id
	}
	return ids
}

func equalIDs(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d = %s, want %s", i, got[i], want[i])
		}
	}
}

func TestAppendReadCommitReopen(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, Config{Dir: dir, Logger: zerolog.Nop()})

	if err := s.Append(testEvents(0, 10)); err != nil {
		t.Fatalf("Append() = %v", err)
	}
	if got := s.Pending(); got != 10 {
		t.Fatalf("Pending() = %d, want 10", got)
	}

	evs, pos, err := s.Read(context.Background(), 4, 1<<20)
	if err != nil {
		t.Fatalf("Read() = %v", err)
	}
	equalIDs(t, idsOf(evs), idsOf(testEvents(0, 4)))
	if err := s.Commit(pos); err != nil {
		t.Fatalf("Commit() = %v", err)
	}
	if got := s.Pending(); got != 6 {
		t.Fatalf("Pending() after commit = %d, want 6", got)
	}

	// Read more without committing: these must come back after a reopen.
	if _, _, err := s.Read(context.Background(), 3, 1<<20); err != nil {
		t.Fatalf("Read() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	s = openSpool(t, Config{Dir: dir, Logger: zerolog.Nop()})
	ids, _ := readAll(t, s, 100)
	equalIDs(t, ids, idsOf(testEvents(4, 10)))
}

func TestRewindReturnsUncommitted(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), Logger: zerolog.Nop()})
	if err := s.Append(testEvents(0, 6)); err != nil {
		t.Fatal(err)
	}

	_, first, err := s.Read(context.Background(), 2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read(context.Background(), 2, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(first); err != nil {
		t.Fatal(err)
	}
	if err := s.Rewind(); err != nil {
		t.Fatal(err)
	}

	ids, _ := readAll(t, s, 100)
	equalIDs(t, ids, idsOf(testEvents(2, 6)))
}

func TestCommitBeyondReadPosition(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), Logger: zerolog.Nop()})
	if err := s.Append(testEvents(0, 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(2); err == nil {
		t.Fatal("Commit() of unread events succeeded")
	}
}

func TestReadRespectsMaxBytes(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), Logger: zerolog.Nop()})
	if err := s.Append(testEvents(0, 10)); err != nil {
		t.Fatal(err)
	}

	// A budget of one byte still returns one event, never zero.
	evs, _, err := s.Read(context.Background(), 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("Read() with a 1-byte budget returned %d events, want 1", len(evs))
	}
}

func TestReadBlocksUntilAppend(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), Logger: zerolog.Nop()})

	got := make(chan []*eventv1.Event, 1)
	go func() {
		evs, _, err := s.Read(context.Background(), 10, 1<<20)
		if err != nil {
			t.Errorf("Read() = %v", err)
		}
		got <- evs
	}()
	if err := s.Append(testEvents(0, 1)); err != nil {
		t.Fatal(err)
	}

	evs := <-got
	equalIDs(t, idsOf(evs), []string{"event-000000"})
}

func TestReadReturnsOnContextEnd(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), Logger: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Read(ctx, 10, 1<<20); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read() = %v, want context.Canceled", err)
	}
}

func TestRecoveryTruncatesDamagedLastRecord(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"torn payload", func(t *testing.T, path string) { chop(t, path, 3) }},
		{"torn header", func(t *testing.T, path string) {
			// Remove the whole last record, then add half of a header.
			size := lastRecordSize(t, path)
			chop(t, path, size)
			appendBytes(t, path, []byte{0, 0, 0})
		}},
		{"bad checksum", func(t *testing.T, path string) { flipLastByte(t, path) }},
		{"absurd length", func(t *testing.T, path string) {
			appendBytes(t, path, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(Config{Dir: dir, Logger: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Append(testEvents(0, 5)); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
			if err != nil || len(segs) != 1 {
				t.Fatalf("segments = %v, %v; want one", segs, err)
			}
			tt.damage(t, segs[0])

			var logs bytes.Buffer
			s = openSpool(t, Config{Dir: dir, Logger: zerolog.New(&logs)})
			if !strings.Contains(logs.String(), "spool segment truncated after its last valid record") {
				t.Errorf("recovery log = %q, want the truncation line", logs.String())
			}

			want := 5
			if tt.name != "absurd length" {
				want = 4
			}
			ids, _ := readAll(t, s, 100)
			equalIDs(t, ids, idsOf(testEvents(0, want)))

			// Appends continue after the surviving records.
			if err := s.Append(testEvents(100, 101)); err != nil {
				t.Fatal(err)
			}
			ids, _ = readAll(t, s, 100)
			equalIDs(t, ids, []string{"event-000100"})
		})
	}
}

func chop(t *testing.T, path string, n int64) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, info.Size()-n); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func flipLastByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func lastRecordSize(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var last int
	for off := 0; off < len(b); {
		_, n, err := decodeRecord(b[off:])
		if err != nil {
			t.Fatal(err)
		}
		last = n
		off += n
	}
	return int64(last)
}

func TestSizeCapDropsOldest(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	s := openSpool(t, Config{Dir: dir, SegmentBytes: 1024, MaxBytes: 4096, Registerer: reg, Logger: zerolog.Nop()})

	const total = 500
	for i := 0; i < total; i += 10 {
		if err := s.Append(testEvents(i, i+10)); err != nil {
			t.Fatal(err)
		}
	}

	if s.Bytes() > 4096 {
		t.Errorf("Bytes() = %d, want at most 4096", s.Bytes())
	}
	dropped := s.Dropped()
	if dropped == 0 {
		t.Fatal("Dropped() = 0 after overfilling the spool")
	}
	if got := gatherCounter(t, reg, bus.DroppedMetricName, bus.StageSpool); got != float64(dropped) {
		t.Errorf("dropped counter = %v, want %d", got, dropped)
	}

	// What is left is exactly the newest events, in order.
	ids, pos := readAll(t, s, total)
	if uint64(len(ids))+dropped != total {
		t.Errorf("read %d + dropped %d, want %d in total", len(ids), dropped, total)
	}
	equalIDs(t, ids, idsOf(testEvents(total-len(ids), total)))

	if err := s.Commit(pos); err != nil {
		t.Fatal(err)
	}
	if got := s.Pending(); got != 0 {
		t.Errorf("Pending() after committing everything = %d, want 0", got)
	}
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 1 {
		t.Errorf("%d segment files after committing everything, want 1", len(segs))
	}
}

func TestDroppedCountsOnlyUnacknowledged(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), SegmentBytes: 1024, MaxBytes: 2048, Logger: zerolog.Nop()})

	// Commit everything as it comes, so deleted segments hold only
	// acknowledged events.
	for i := 0; i < 300; i += 10 {
		if err := s.Append(testEvents(i, i+10)); err != nil {
			t.Fatal(err)
		}
		_, pos := readAll(t, s, 10)
		if err := s.Commit(pos); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Dropped(); got != 0 {
		t.Errorf("Dropped() = %d, want 0", got)
	}
}

func TestConcurrentAppendAndHandler(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), SegmentBytes: 4096, MaxBytes: 1 << 30, Logger: zerolog.Nop()})
	b := bus.New(zerolog.Nop())
	if _, err := b.Subscribe("event.>", s.Handler()); err != nil {
		t.Fatal(err)
	}

	const writers, perWriter = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				n := w*perWriter + i
				if w%2 == 0 {
					if err := s.Append([]*eventv1.Event{testEvent(n)}); err != nil {
						t.Errorf("Append() = %v", err)
					}
				} else {
					ev := testEvent(n)
					b.Publish(bus.Subject(ev), ev)
				}
			}
		}()
	}
	wg.Wait()

	// Read until every event arrived; Read blocks while the last
	// handler events are still being written.
	var ids []string
	for len(ids) < writers*perWriter {
		evs, _, err := s.Read(context.Background(), 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, idsOf(evs)...)
	}
	sort.Strings(ids)
	equalIDs(t, ids, idsOf(testEvents(0, writers*perWriter)))
	if s.Dropped() != 0 {
		t.Errorf("Dropped() = %d, want 0", s.Dropped())
	}
}

func TestHandlerCountsFailedAppend(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), Logger: zerolog.Nop()})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s.Handler()("event.ssh.command", testEvent(1))

	if got := s.Dropped(); got != 1 {
		t.Errorf("Dropped() = %d, want 1", got)
	}
}

func TestAppendRejectsOversizedEvent(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), Logger: zerolog.Nop()})
	ev := testEvent(1)
	ev.GetCommand().Line = strings.Repeat("y", MaxRecordBytes)
	if err := s.Append([]*eventv1.Event{ev}); err == nil {
		t.Fatal("Append() of an oversized event succeeded")
	}
	if got := s.Pending(); got != 0 {
		t.Errorf("Pending() = %d, want 0", got)
	}
}

func TestGaugesReregisterAfterClose(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, Registerer: reg, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(testEvents(0, 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openSpool(t, Config{Dir: dir, Registerer: reg, Logger: zerolog.Nop()})
	if got := gatherGauge(t, reg, "decnet_agent_spool_pending_events"); got != 3 {
		t.Errorf("pending gauge = %v, want 3", got)
	}
	if got := gatherGauge(t, reg, "decnet_agent_spool_bytes"); got != float64(s.Bytes()) || got == 0 {
		t.Errorf("bytes gauge = %v, want %d", got, s.Bytes())
	}
}

func TestOpenRejectsBadSizes(t *testing.T) {
	if _, err := Open(Config{Dir: t.TempDir(), SegmentBytes: 1024, MaxBytes: 1500}); err == nil {
		t.Fatal("Open() accepted max bytes below twice the segment size")
	}
}

func gatherCounter(t *testing.T, reg *prometheus.Registry, name, stage string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" && l.GetValue() == stage {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
}

func gatherGauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendRecord(nil, []byte("hello")))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		payload, n, err := decodeRecord(b)
		if err != nil {
			return
		}
		if n > len(b) || n != recordHeaderBytes+len(payload) {
			t.Fatalf("decodeRecord returned size %d for %d input bytes and %d payload bytes", n, len(b), len(payload))
		}
		if !bytes.Equal(appendRecord(nil, payload), b[:n]) {
			t.Fatal("re-encoding a decoded record changed it")
		}
	})
}

func TestOpenRejectsDirectoryInUse(t *testing.T) {
	dir := t.TempDir()
	first := openSpool(t, Config{Dir: dir, Logger: zerolog.Nop()})
	if _, err := Open(Config{Dir: dir, Logger: zerolog.Nop()}); err == nil {
		t.Fatal("second Open() of a directory in use succeeded")
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openSpool(t, Config{Dir: dir, Logger: zerolog.Nop()})
}

// A user name with a stray byte, as an SSH client may send, is stored with
// the byte replaced rather than dropped with the rest of its batch.
func TestAppendRepairsInvalidUTF8(t *testing.T) {
	s := openSpool(t, Config{Dir: t.TempDir(), Logger: zerolog.Nop()})
	bad := testEvent(1)
	bad.Kind = "auth.attempt"
	bad.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{Principal: "ro\xffot", Secret: []byte{0xff}}}
	if err := s.Append([]*eventv1.Event{testEvent(0), bad, testEvent(2)}); err != nil {
		t.Fatalf("Append() = %v", err)
	}
	evs, _, err := s.Read(context.Background(), 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	equalIDs(t, idsOf(evs), idsOf([]*eventv1.Event{testEvent(0), bad, testEvent(2)}))
	if got := evs[1].GetAuthAttempt(); got.GetPrincipal() != "ro\uFFFDot" || string(got.GetSecret()) != "\xff" {
		t.Errorf("stored attempt = %v", got)
	}
}
