package decoys

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// rejectClock is a settable clock for the rejection reporter.
type rejectClock struct{ t time.Time }

func (c *rejectClock) now() time.Time { return c.t }

func newTestReporter(rec *recorder, clock *rejectClock) *rejectReporter {
	return newRejectReporter(rec, "web-01", "ssh", &eventv1.Endpoint{Address: "192.0.2.1", Port: 22}, clock.now)
}

// rejections returns the source address, reason and count of each
// connection.rejected event rec holds, in order, and checks the event
// carries the test reporter's service and no session.
func rejections(t *testing.T, rec *recorder) []string {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]string, 0, len(rec.events))
	for _, ev := range rec.events {
		if ev.GetKind() != KindConnectionRejected {
			continue
		}
		r := ev.GetConnectionRejected()
		if ev.GetSessionId() != "" || ev.GetDecky() != "web-01" || ev.GetService() != "ssh" || ev.GetDestination().GetPort() != 22 {
			t.Errorf("rejection event not stamped with the service alone: %v", ev)
		}
		out = append(out, fmt.Sprintf("%s %s %d", ev.GetSource().GetAddress(), r.GetReason(), r.GetCount()))
	}
	return out
}

// rejectionsOf is rejections without the stamp check.
func rejectionsOf(rec *recorder) []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []string
	for _, ev := range rec.events {
		if r := ev.GetConnectionRejected(); r != nil {
			out = append(out, fmt.Sprintf("%s %s %d", ev.GetSource().GetAddress(), r.GetReason(), r.GetCount()))
		}
	}
	return out
}

func TestRejectReporterOneEventPerInterval(t *testing.T) {
	a := netip.MustParseAddr("198.51.100.7")
	b := netip.MustParseAddr("2001:db8::9")
	clock := &rejectClock{t: time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)}
	rec := &recorder{}
	r := newTestReporter(rec, clock)

	steps := []struct {
		name    string
		advance time.Duration
		reject  []netip.Addr
		reason  string
		flush   bool
		want    []string
	}{
		{name: "first rejection reported at once", reject: []netip.Addr{a}, reason: RejectPerSource,
			want: []string{"198.51.100.7 per_source_limit 1"}},
		{name: "more within the interval are summed", advance: time.Second, reject: []netip.Addr{a, a, a}, reason: RejectPerSource,
			want: []string{"198.51.100.7 per_source_limit 1"}},
		{name: "another source has its own interval", reject: []netip.Addr{b}, reason: RejectTotal,
			want: []string{"198.51.100.7 per_source_limit 1", "2001:db8::9 total_limit 1"}},
		{name: "flush before the interval reports nothing", advance: 5 * time.Second, flush: true,
			want: []string{"198.51.100.7 per_source_limit 1", "2001:db8::9 total_limit 1"}},
		{name: "flush after the interval reports the sum", advance: 4 * time.Second, flush: true,
			want: []string{"198.51.100.7 per_source_limit 1", "2001:db8::9 total_limit 1", "198.51.100.7 per_source_limit 3"}},
		{name: "a rejection after the interval is reported at once", advance: rejectInterval, reject: []netip.Addr{a}, reason: RejectTotal,
			want: []string{"198.51.100.7 per_source_limit 1", "2001:db8::9 total_limit 1", "198.51.100.7 per_source_limit 3", "198.51.100.7 total_limit 1"}},
	}
	for _, s := range steps {
		clock.t = clock.t.Add(s.advance)
		for _, src := range s.reject {
			r.Rejected(src, s.reason)
		}
		if s.flush {
			r.Flush(false)
		}
		if got := rejections(t, rec); !slices.Equal(got, s.want) {
			t.Fatalf("%s: events %q, want %q", s.name, got, s.want)
		}
	}

	// Sources quiet for a whole interval are forgotten.
	clock.t = clock.t.Add(rejectInterval)
	r.Flush(false)
	if len(r.sources) != 0 {
		t.Fatalf("after a quiet interval the reporter still tracks %d sources", len(r.sources))
	}
}

func TestRejectReporterFinalFlush(t *testing.T) {
	a := netip.MustParseAddr("198.51.100.7")
	clock := &rejectClock{t: time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)}
	rec := &recorder{}
	r := newTestReporter(rec, clock)

	r.Rejected(a, RejectPerSource)
	r.Rejected(a, RejectPerSource)
	r.Rejected(a, RejectPerSource)
	r.Flush(true)
	want := []string{"198.51.100.7 per_source_limit 1", "198.51.100.7 per_source_limit 2"}
	if got := rejections(t, rec); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestRejectReporterCapsSources(t *testing.T) {
	clock := &rejectClock{t: time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)}
	rec := &recorder{}
	r := newTestReporter(rec, clock)
	r.maxSources = 3

	// Three sources fill the map; the next ones share the overflow
	// entry, which has no address and reports once per interval.
	for i := 1; i <= 6; i++ {
		r.Rejected(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), RejectTotal)
	}
	want := []string{"198.51.100.1 total_limit 1", "198.51.100.2 total_limit 1", "198.51.100.3 total_limit 1", " total_limit 1"}
	if got := rejections(t, rec); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if len(r.sources) > 4 {
		t.Fatalf("reporter tracks %d sources, want at most the cap plus the overflow entry", len(r.sources))
	}

	clock.t = clock.t.Add(rejectInterval)
	r.Flush(false)
	want = append(want, " total_limit 2")
	if got := rejections(t, rec); !slices.Equal(got, want) {
		t.Fatalf("after the interval: events %q, want %q", got, want)
	}
}

func TestRejectReporterWithoutEmitter(t *testing.T) {
	r := newRejectReporter(nil, "d", "s", &eventv1.Endpoint{}, time.Now)
	r.Rejected(netip.MustParseAddr("198.51.100.7"), RejectTotal)
	r.Flush(true)
	if len(r.sources) != 0 {
		t.Fatalf("reporter without an emitter tracks %d sources", len(r.sources))
	}
}
