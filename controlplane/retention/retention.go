// Package retention prunes raw events older than a retention period from
// the store, once at start and then on every interval.
package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
)

// DefaultInterval is how often the worker prunes.
const DefaultInterval = time.Hour

// Pruner is the part of store.Store the worker uses.
type Pruner interface {
	PruneEvents(ctx context.Context, before time.Time, dryRun bool) (store.PruneReport, error)
}

// Config configures a Worker.
type Config struct {
	Store Pruner
	// Keep is how long raw events are kept, by event time.
	Keep time.Duration
	// KeepFunc, when set, replaces Keep and is asked at every prune, so
	// the period may change at runtime; while it returns zero or less,
	// events are kept and nothing is pruned.
	KeepFunc func() time.Duration
	// Interval between prunes; DefaultInterval when zero.
	Interval time.Duration
	Logger   zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Tick returns the channel that paces the prunes after the first;
	// a time.Ticker of Interval when nil. Tests send on their own
	// channel instead of waiting.
	Tick func(interval time.Duration) (<-chan time.Time, func())
}

// Worker prunes on a schedule.
type Worker struct {
	cfg Config
	log zerolog.Logger
}

// New validates the configuration.
func New(cfg Config) (*Worker, error) {
	if cfg.Store == nil {
		return nil, errors.New("new retention worker: nil store")
	}
	if cfg.KeepFunc == nil && cfg.Keep <= 0 {
		return nil, fmt.Errorf("new retention worker: retention %v is not positive", cfg.Keep)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.KeepFunc == nil {
		keep := cfg.Keep
		cfg.KeepFunc = func() time.Duration { return keep }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tick == nil {
		cfg.Tick = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	return &Worker{cfg: cfg, log: cfg.Logger.With().Str("component", "retention").Logger()}, nil
}

// Run prunes once, then on every tick until ctx ends. A failed prune is
// logged and tried again at the next tick; it does not stop the server.
func (w *Worker) Run(ctx context.Context) error {
	tick, stop := w.cfg.Tick(w.cfg.Interval)
	defer stop()
	for {
		_, _ = w.PruneOnce(ctx) // PruneOnce logs a failure, and the next tick retries
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
	}
}

// PruneOnce deletes the events older than the retention period at the
// current time and returns the report. While the period is zero it
// deletes nothing and returns an empty report.
func (w *Worker) PruneOnce(ctx context.Context) (store.PruneReport, error) {
	return w.prune(ctx, false)
}

// DryRun counts what PruneOnce would delete now, deleting nothing.
func (w *Worker) DryRun(ctx context.Context) (store.PruneReport, error) {
	return w.prune(ctx, true)
}

func (w *Worker) prune(ctx context.Context, dryRun bool) (store.PruneReport, error) {
	keep := w.cfg.KeepFunc()
	if keep <= 0 {
		return store.PruneReport{DryRun: dryRun}, nil
	}
	before := w.cfg.Now().Add(-keep)
	report, err := w.cfg.Store.PruneEvents(ctx, before, dryRun)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error().Err(err).Time("before", before).Msg("prune events failed")
		}
		return report, err
	}
	if dryRun {
		return report, nil
	}
	w.log.Info().
		Time("before", before).
		Int64("events", report.Rows["events"]).
		Strs("partitions", report.Partitions).
		Msg("pruned events")
	return report, nil
}
