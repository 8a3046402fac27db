package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/decnet/decnet/controlplane/store"
)

func TestUUIDv7Time(t *testing.T) {
	// RFC 9562, appendix A.6: this UUIDv7 holds 2022-02-22 19:22:22 UTC.
	id := uuid.MustParse("017f22e2-79b0-7cc3-98c4-dc0c0c07398f")
	want := time.Date(2022, 2, 22, 19, 22, 22, 0, time.UTC)
	if got := uuidV7Time(id); !got.Equal(want) {
		t.Errorf("uuidV7Time(%s) = %v, want %v", id, got, want)
	}
}

func TestDayOf(t *testing.T) {
	tests := []struct {
		at   time.Time
		want int64
	}{
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(1970, 1, 1, 23, 59, 59, 999_999_999, time.UTC), 0},
		{time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC), 1},
		// 23:30 at UTC-2 is 01:30 UTC on the next day.
		{time.Date(2025, 2, 28, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600)), 20148},
	}
	for _, tc := range tests {
		if got := dayOf(tc.at); got != tc.want {
			t.Errorf("dayOf(%v) = %d, want %d", tc.at, got, tc.want)
		}
	}
}

func TestNormalizeAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.2", "127.0.0.2"},
		{"::ffff:127.0.0.2", "127.0.0.2"},
		{"fe80::1%eth0", "fe80::1"},
		{"2001:DB8::1", "2001:db8::1"},
		{"not an address", "not an address"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := normalizeAddress(tc.in); got != tc.want {
			t.Errorf("normalizeAddress(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCursorRejectsNonUUID(t *testing.T) {
	var w where
	token := store.EncodeCursor(store.Cursor{Time: time.Unix(1, 0), ID: "not-a-uuid"})
	if err := w.addCursor("time", "id", token); !errors.Is(err, store.ErrInvalidPageToken) {
		t.Errorf("addCursor(non-UUID id) error = %v, want ErrInvalidPageToken", err)
	}
}

func TestUUIDFilterMatchesNothing(t *testing.T) {
	var w where
	w.addUUIDIf("attacker_id", "not-a-uuid")
	if !w.none {
		t.Error("addUUIDIf(non-UUID) did not mark the query as matching nothing")
	}
	if len(w.args) != 0 {
		t.Errorf("addUUIDIf(non-UUID) bound %d arguments, want 0", len(w.args))
	}
}

func TestAggregateDeltasRoundTrip(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 123000, time.UTC)
	a, b := uuid.New(), uuid.New()
	d := newAggregateDeltas()
	d.addEvent(a, "192.0.2.1", "web-01", "ssh", at, true)
	d.addEvent(a, "192.0.2.1", "web-01", "http", at.Add(time.Minute), false)
	d.addEvent(b, "2001:db8::1", "db-01", "ssh", at.Add(-time.Hour), false)

	merged := newAggregateDeltas()
	if err := decodeDeltas(d.encode(), merged); err != nil {
		t.Fatal(err)
	}
	if err := decodeDeltas(d.encode(), merged); err != nil {
		t.Fatal(err)
	}
	ta := merged.attackers[a]
	if ta == nil || ta.events != 4 || ta.authAttempts != 2 || !ta.first.Equal(at) || !ta.last.Equal(at.Add(time.Minute)) {
		t.Fatalf("attacker a = %+v", ta)
	}
	if tb := merged.attackers[b]; tb == nil || tb.events != 2 || !tb.first.Equal(at.Add(-time.Hour)) {
		t.Fatalf("attacker b = %+v", tb)
	}
	if sp := merged.addresses["2001:db8::1"]; sp == nil || !sp.last.Equal(at.Add(-time.Hour)) {
		t.Fatalf("address span = %+v", sp)
	}
	if len(merged.targets) != 3 {
		t.Fatalf("targets = %d, want 3", len(merged.targets))
	}
	if sp := merged.targets[targetKey{attacker: a, decky: "web-01", service: "http"}]; sp == nil || !sp.first.Equal(at.Add(time.Minute)) {
		t.Fatalf("target span = %+v", sp)
	}
}

func TestDecodeDeltasRejectsMalformed(t *testing.T) {
	d := newAggregateDeltas()
	d.addEvent(uuid.New(), "192.0.2.1", "web-01", "ssh", time.Now(), false)
	good := d.encode()
	for n := range len(good) {
		if err := decodeDeltas(good[:n], newAggregateDeltas()); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
	if err := decodeDeltas(append(append([]byte(nil), good...), 0), newAggregateDeltas()); err == nil {
		t.Fatal("trailing byte: no error")
	}
	// A count far beyond the buffer is refused before any allocation.
	if err := decodeDeltas([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, newAggregateDeltas()); err == nil {
		t.Fatal("huge count: no error")
	}
}
