package livesettings

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newSettings(t *testing.T, st Documents, defaults Values) *Settings {
	t.Helper()
	s, err := New(Config{Store: st, Defaults: defaults, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

var defaults = Values{
	Retention:      0,
	StreamsPerUser: 8,
	WebhookAllow:   []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")},
}

// Two replicas on one SQLite store: an update on one is stored, the
// other applies it at its next load, and a restore returns to each
// replica's own flags.
func TestUpdatePersistsAcrossReplicas(t *testing.T) {
	testPersistsAcrossReplicas(t, openStore(t))
}

func testPersistsAcrossReplicas(t *testing.T, st store.Store) {
	ctx := context.Background()
	a := newSettings(t, st, defaults)
	b := newSettings(t, st, defaults)

	allow := []netip.Prefix{netip.MustParsePrefix("192.168.5.0/24")}
	if err := a.Update(ctx, Change{
		Retention:        ptr(48 * time.Hour),
		RequireAdminTOTP: ptr(true),
		WebhookAllow:     &allow,
	}); err != nil {
		t.Fatal(err)
	}
	if v := a.Values(); v.Retention != 48*time.Hour || !v.RequireAdminTOTP || !slices.Equal(v.WebhookAllow, allow) || v.StreamsPerUser != 8 {
		t.Errorf("updating replica = %+v", v)
	}
	if b.Retention() != 0 {
		t.Errorf("other replica changed before reloading: retention %v", b.Retention())
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if v := b.Values(); v.Retention != 48*time.Hour || !v.RequireAdminTOTP || !slices.Equal(v.WebhookAllow, allow) {
		t.Errorf("other replica after reload = %+v", v)
	}
	want := []Field{FieldRetention, FieldRequireAdminTOTP, FieldWebhookAllow}
	if got := b.Overridden(); !slices.Equal(got, want) {
		t.Errorf("overridden = %v, want %v", got, want)
	}

	// b updates from what is stored, not from a stale copy.
	if err := b.Update(ctx, Change{StreamsPerUser: ptr(2), Reset: []Field{FieldWebhookAllow}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if v := a.Values(); v.StreamsPerUser != 2 || v.Retention != 48*time.Hour || !slices.Equal(v.WebhookAllow, defaults.WebhookAllow) {
		t.Errorf("after restore = %+v, want 2 streams, 48h and the default networks", v)
	}
}

// A refused change leaves both the running values and the stored
// document untouched.
func TestUpdateRefusesInvalidChange(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	s := newSettings(t, st, defaults)
	tests := []struct {
		name string
		c    Change
	}{
		{"short retention", Change{Retention: ptr(59 * time.Minute)}},
		{"negative retention", Change{Retention: ptr(-time.Hour)}},
		{"no streams", Change{StreamsPerUser: ptr(0)}},
		{"too many streams", Change{StreamsPerUser: ptr(MaxStreamsPerUser + 1)}},
		{"every address", Change{WebhookAllow: &[]netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}},
		{"set and reset", Change{RequireAdminTOTP: ptr(true), Reset: []Field{FieldRequireAdminTOTP}}},
		{"unknown field", Change{Reset: []Field{Field(99)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Update(ctx, tc.c); !errors.Is(err, ErrInvalid) {
				t.Errorf("Update = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := st.GetDocument(ctx, documentKind, documentID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("document after refused changes: %v, want not found", err)
	}
	if v := s.Values(); v.StreamsPerUser != 8 || v.Retention != 0 || len(s.Overridden()) != 0 {
		t.Errorf("values after refused changes = %+v", v)
	}
}

// A stored document this binary refuses is reported and not applied; the
// values in force stay.
func TestLoadKeepsValuesOnBadDocument(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	s := newSettings(t, st, defaults)
	for _, data := range []string{`{"streams_per_user": 5000}`, `not json`, `{"webhook_allow": ["0.0.0.0/0"]}`} {
		if err := st.PutDocument(ctx, store.Document{Kind: documentKind, ID: documentID, At: time.Now(), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Load(ctx); err == nil {
			t.Errorf("Load of %s succeeded", data)
		}
		if v := s.Values(); v.StreamsPerUser != 8 || !slices.Equal(v.WebhookAllow, defaults.WebhookAllow) {
			t.Errorf("values after loading %s = %+v", data, v)
		}
	}
}

// Flags outside the API's bounds still start the server and stay in
// force until an admin overrides them.
func TestDefaultsOutsideBoundsKept(t *testing.T) {
	wide := Values{Retention: 10 * time.Minute, StreamsPerUser: 500, WebhookAllow: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}
	s := newSettings(t, openStore(t), wide)
	if v := s.Values(); v.Retention != 10*time.Minute || v.StreamsPerUser != 500 || len(v.WebhookAllow) != 1 {
		t.Errorf("values = %+v, want the flags", v)
	}
	if err := s.Update(context.Background(), Change{RequireAdminTOTP: ptr(true)}); err != nil {
		t.Errorf("unrelated update with wide flags: %v", err)
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes([]string{"10.0.0.1/8", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	if !slices.Equal(got, want) {
		t.Errorf("ParsePrefixes = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "10.0.0.0", "10.0.0.0/40", "0.0.0.0/0", "::/0", "example.com/8"} {
		if _, err := ParsePrefixes([]string{bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePrefixes(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// Run applies another replica's update at its next tick.
func TestRunReloadsOnTick(t *testing.T) {
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tick := make(chan time.Time)
	reloaded := make(chan error)
	follower, err := New(Config{
		Store:    st,
		Defaults: defaults,
		Logger:   zerolog.Nop(),
		Tick: func(time.Duration) (<-chan time.Time, func()) {
			return tick, func() {}
		},
		Reloaded: func(err error) { reloaded <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- follower.Run(ctx) }()

	leader := newSettings(t, st, defaults)
	if err := leader.Update(ctx, Change{RequireAdminTOTP: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if follower.RequireAdminTOTP() {
		t.Fatal("follower changed before its tick")
	}
	tick <- time.Time{}
	if err := <-reloaded; err != nil {
		t.Fatalf("reload: %v", err)
	}
	if !follower.RequireAdminTOTP() {
		t.Error("follower did not apply the update at its tick")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil at shutdown", err)
	}
}
