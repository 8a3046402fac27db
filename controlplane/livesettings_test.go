package controlplane

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/livesettings"
)

// An override stored by an admin wins over the flags at the next start,
// and the retention worker prunes by it.
func TestStoredSettingsWinOverFlags(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	start := func() *Server {
		t.Helper()
		s, err := New(context.Background(), Config{
			DataDir:      dir,
			APIListen:    "127.0.0.1:0",
			AgentListen:  "127.0.0.1:0",
			BridgeListen: "127.0.0.1:0",
			PlainHTTP:    true,
			Retention:    720 * time.Hour,
			Logger:       zerolog.Nop(),
			Now:          func() time.Time { return now },
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return s
	}
	ctx := context.Background()

	first := start()
	report, err := first.retention.DryRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-720 * time.Hour); !report.Before.Equal(want) {
		t.Errorf("cutoff from the flag = %v, want %v", report.Before, want)
	}
	retention, streams := 48*time.Hour, 3
	if err := first.live.Update(ctx, livesettings.Change{Retention: &retention, StreamsPerUser: &streams}); err != nil {
		t.Fatal(err)
	}
	report, err = first.retention.DryRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-48 * time.Hour); !report.Before.Equal(want) {
		t.Errorf("cutoff right after the update = %v, want %v", report.Before, want)
	}
	first.closeAll()

	second := start()
	defer second.closeAll()
	report, err = second.retention.DryRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-48 * time.Hour); !report.Before.Equal(want) {
		t.Errorf("cutoff after a restart = %v, want the stored %v", report.Before, want)
	}
	if got := second.live.StreamsPerUser(); got != 3 {
		t.Errorf("streams per user after a restart = %d, want the stored 3", got)
	}
}
