package retention

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
)

// fakePruner records the cutoffs it was asked for.
type fakePruner struct {
	mu      sync.Mutex
	cutoffs []time.Time
	err     error
	called  chan struct{}
}

func (f *fakePruner) PruneEvents(_ context.Context, before time.Time, dryRun bool) (store.PruneReport, error) {
	f.mu.Lock()
	f.cutoffs = append(f.cutoffs, before)
	f.mu.Unlock()
	f.called <- struct{}{}
	if f.err != nil {
		return store.PruneReport{}, f.err
	}
	return store.PruneReport{Before: before, DryRun: dryRun, Rows: map[string]int64{"events": 1}}, nil
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"nil store", Config{Keep: time.Hour}},
		{"zero retention", Config{Store: &fakePruner{}}},
		{"negative retention", Config{Store: &fakePruner{}, Keep: -time.Hour}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Errorf("New(%+v) succeeded, want an error", tc.cfg)
			}
		})
	}
}

func TestRunPrunesAtStartAndOnEveryTick(t *testing.T) {
	for _, failing := range []bool{false, true} {
		name := "succeeding"
		if failing {
			name = "failing"
		}
		t.Run(name, func(t *testing.T) {
			start := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
			var (
				mu  sync.Mutex
				now = start
			)
			p := &fakePruner{called: make(chan struct{})}
			if failing {
				p.err = errors.New("database gone")
			}
			tick := make(chan time.Time)
			var gotInterval time.Duration
			w, err := New(Config{
				Store:    p,
				Keep:     720 * time.Hour,
				Interval: 10 * time.Minute,
				Logger:   zerolog.Nop(),
				Now: func() time.Time {
					mu.Lock()
					defer mu.Unlock()
					return now
				},
				Tick: func(d time.Duration) (<-chan time.Time, func()) {
					gotInterval = d
					return tick, func() {}
				},
			})
			if err != nil {
				t.Fatalf("New: %v", err)
			}

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()

			<-p.called
			mu.Lock()
			now = start.Add(time.Hour)
			mu.Unlock()
			tick <- now
			<-p.called
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}

			if gotInterval != 10*time.Minute {
				t.Errorf("tick interval = %v, want 10m", gotInterval)
			}
			want := []time.Time{start.Add(-720 * time.Hour), start.Add(time.Hour - 720*time.Hour)}
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.cutoffs) != len(want) {
				t.Fatalf("prunes = %v, want %v", p.cutoffs, want)
			}
			for i := range want {
				if !p.cutoffs[i].Equal(want[i]) {
					t.Errorf("prune %d cutoff = %v, want %v", i, p.cutoffs[i], want[i])
				}
			}
		})
	}
}

// The period is read at every prune, so a change made at runtime applies
// to the next one, and a zero period prunes nothing.
func TestPruneReadsPeriodEachTime(t *testing.T) {
	now := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	p := &fakePruner{called: make(chan struct{}, 4)}
	keep := 720 * time.Hour
	w, err := New(Config{
		Store:    p,
		KeepFunc: func() time.Duration { return keep },
		Logger:   zerolog.Nop(),
		Now:      func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	report, err := w.DryRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-720 * time.Hour); !report.Before.Equal(want) || !report.DryRun {
		t.Errorf("first dry run = before %v dry %v, want before %v dry true", report.Before, report.DryRun, want)
	}

	keep = 48 * time.Hour
	report, err = w.DryRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-48 * time.Hour); !report.Before.Equal(want) {
		t.Errorf("dry run after change = before %v, want %v", report.Before, want)
	}

	keep = 0
	report, err = w.PruneOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !report.Before.IsZero() || len(report.Rows) != 0 {
		t.Errorf("prune with zero period = %+v, want an empty report", report)
	}
	if len(p.cutoffs) != 2 {
		t.Errorf("store asked %d times, want 2 (none for the zero period)", len(p.cutoffs))
	}
}
