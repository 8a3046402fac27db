// Package behaviour classifies what an attacker did from its events and
// lists the deckies it reached, in order. Both are pure functions over
// events. The caller reads at most MaxEvents of them, newest first.
//
// Classify measures the events and tests one rule per class. A rule that
// holds is a strong signal:
//
//   - Scanning: at least ScanMinTargets targets first reached within one
//     ScanWindow.
//   - Brute force: at least BruteForceMinAttempts auth.attempt events.
//   - Interactive: at least InteractiveMinCommands command events, from a
//     shell or an exec request. The class does not tell a person from a
//     script.
//   - Beaconing: at least BeaconMinIntervals intervals between consecutive
//     connection starts, with a mean of at least BeaconMinMean and a
//     coefficient of variation (standard deviation over mean) of at most
//     BeaconMaxCV.
//   - Slow scan: at least SlowScanMinTargets targets over a span of at
//     least SlowScanMinSpan, with at most SlowScanMaxPerHour connections
//     starting in any one hour.
//
// No strong signal gives Unknown. One gives its class. Two or more give
// Mixed, and Result.Signals lists them. Because a decoy connection reaches
// one target, scanning and slow scan exclude each other: scanning needs
// ScanMinTargets connections starting within an hour, more than
// SlowScanMaxPerHour.
//
// The measures:
//
//   - A connection is a distinct session id. An event without a session id
//     counts as a connection of its own. A connection starts at its
//     earliest event.
//   - A target is a distinct decky, service and destination port. The
//     evidence calls targets "services", so one service on three deckies
//     is three services.
package behaviour

import (
	"cmp"
	"slices"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// MaxEvents is the number of an attacker's newest events a caller should
// classify at most. It bounds the work of one GetAttacker call.
const MaxEvents = 10_000

// Thresholds of the classes. They are judgment calls for a honeypot,
// where every connection is unsolicited, not values measured on a corpus.
const (
	// ScanMinTargets targets reached within ScanWindow is more than a
	// client of one service does, even one that retries.
	ScanMinTargets = 5
	ScanWindow     = time.Hour

	// BruteForceMinAttempts is above what a person mistyping a password or
	// a client offering its few keys produces.
	BruteForceMinAttempts = 10

	// InteractiveMinCommands skips the single probe (uname -a) that
	// scanners send after a login.
	InteractiveMinCommands = 3

	// BeaconMinIntervals is six connections: fewer leave too few samples
	// for a stable coefficient of variation.
	BeaconMinIntervals = 5
	// BeaconMinMean keeps a fast, regular burst (a scanner or a brute
	// forcer pacing itself) out of beaconing.
	BeaconMinMean = 30 * time.Second
	// BeaconMaxCV admits a uniform jitter of up to about ±17 % around the
	// mean interval, whose coefficient of variation is 0.17/√3 ≈ 0.1.
	BeaconMaxCV = 0.1

	// Slow scan: the targets of a scan spread over at least a day, never
	// more than SlowScanMaxPerHour connections in an hour.
	SlowScanMinTargets = 5
	SlowScanMinSpan    = 24 * time.Hour
	SlowScanMaxPerHour = 3
)

// Class is a behaviour class.
type Class int

// The classes, in the order Result.Signals lists them.
const (
	Unknown Class = iota
	Scanning
	BruteForce
	Interactive
	Beaconing
	SlowScan
	Mixed
)

var classNames = [...]string{"unknown", "scanning", "brute force", "interactive", "beaconing", "slow scan", "mixed"}

// String returns the class as the evidence and the dashboard write it.
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return "unknown"
	}
	return classNames[c]
}

// Result is the class of a set of events and the facts behind it.
type Result struct {
	Class Class
	// Signals are the classes whose rules held, in the order of Class.
	// Two or more make Class Mixed.
	Signals []Class
	// Evidence are short facts with numbers, for people.
	Evidence []string
	// EventsConsidered is the number of events classified.
	EventsConsidered int
	// Capped records that the caller had more events than it passed.
	Capped bool
}

// Classify returns the behaviour class of events, which may be in any
// order. capped says that the caller left out older events because of
// MaxEvents; the evidence then says so. Events without a time are counted
// but not measured.
func Classify(events []*eventv1.Event, capped bool) Result {
	m := measure(events)
	r := Result{EventsConsidered: len(events), Capped: capped}

	r.Evidence = append(r.Evidence, m.summary())
	for _, s := range signals {
		if line, ok := s.test(&m); ok {
			r.Signals = append(r.Signals, s.class)
			r.Evidence = append(r.Evidence, line)
		}
	}
	r.Evidence = append(r.Evidence, m.activity()...)

	switch len(r.Signals) {
	case 0:
		r.Class = Unknown
		r.Evidence = append(r.Evidence, belowThresholds)
	case 1:
		r.Class = r.Signals[0]
	default:
		r.Class = Mixed
	}
	if capped {
		r.Evidence = append(r.Evidence, "classified from the newest "+count(len(events), "event")+" only; older events were not read")
	}
	return r
}

// Visit is one decky an attacker reached.
type Visit struct {
	Decky       string
	First, Last time.Time
	// Services are the services of the decky reached, sorted.
	Services []string
	Events   int
}

// Traverse returns the deckies of events in the order first reached, ties
// broken by name. Events without a decky or a time are skipped.
func Traverse(events []*eventv1.Event) []Visit {
	byDecky := make(map[string]*Visit)
	services := make(map[string]map[string]struct{})
	for _, ev := range events {
		if ev.GetDecky() == "" || ev.GetTime() == nil {
			continue
		}
		at := ev.GetTime().AsTime()
		v, ok := byDecky[ev.GetDecky()]
		if !ok {
			v = &Visit{Decky: ev.GetDecky(), First: at, Last: at}
			byDecky[ev.GetDecky()] = v
			services[ev.GetDecky()] = make(map[string]struct{})
		}
		v.First = minTime(v.First, at)
		v.Last = maxTime(v.Last, at)
		v.Events++
		if ev.GetService() != "" {
			services[ev.GetDecky()][ev.GetService()] = struct{}{}
		}
	}

	out := make([]Visit, 0, len(byDecky))
	for name, v := range byDecky {
		for s := range services[name] {
			v.Services = append(v.Services, s)
		}
		slices.Sort(v.Services)
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b Visit) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.Decky, b.Decky))
	})
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
