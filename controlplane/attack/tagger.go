package attack

import (
	"container/list"
	"slices"
	"sync"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Memory bounds of a Tagger. With the defaults, worst case is about
// maxAttackers × (maxGroupsPerAttacker × threshold count) entries, but
// typical attackers touch a handful of groups.
const (
	// maxAttackers is how many attackers keep window state; the least
	// recently observed is dropped first.
	maxAttackers = 20000
	// maxGroupsPerAttacker caps (rule, group) windows per attacker; a
	// spray over thousands of principals must not grow without bound.
	maxGroupsPerAttacker = 512
	// maxSessionsPerAttacker caps sessions tracked for session_without.
	maxSessionsPerAttacker = 256
)

// Tagger applies a RuleSet to a stream of events, keeping per-attacker
// windows for threshold rules. It is safe for concurrent use.
type Tagger struct {
	now func() time.Time

	mu        sync.Mutex
	rules     *RuleSet
	attackers map[string]*list.Element // of *attackerState
	lru       *list.List               // front is most recent
}

type attackerState struct {
	id       string
	groups   map[groupKey]*window
	sessions map[string]uint32 // session id -> bitmask of kinds seen
	order    []string          // session ids, oldest first, for eviction
}

type groupKey struct {
	rule  *rule
	group string
}

// window holds what a threshold needs: timestamps for a plain count, or
// the last time each distinct value was seen.
type window struct {
	times     []time.Time
	distinct  map[string]time.Time
	lastFired time.Time
}

// NewTagger returns a Tagger using rules. now is the clock; nil means
// time.Now.
func NewTagger(rules *RuleSet, now func() time.Time) *Tagger {
	if now == nil {
		now = time.Now
	}
	return &Tagger{now: now, rules: rules, attackers: make(map[string]*list.Element), lru: list.New()}
}

// SetRules swaps the rule set. Window state belongs to rules, so it is
// dropped: a threshold starts counting afresh under the new rules.
func (t *Tagger) SetRules(rules *RuleSet) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rules = rules
	t.attackers = make(map[string]*list.Element)
	t.lru.Init()
}

// Rules returns the rule set in force.
func (t *Tagger) Rules() *RuleSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rules
}

// Observe feeds one event of attackerID and returns the tags it earns:
// every stateless rule it matches, and every threshold rule whose count it
// completes. A threshold rule fires at most once per window per group, so
// a brute force of a thousand attempts yields one tag, not a hundred.
func (t *Tagger) Observe(attackerID string, ev *eventv1.Event) []Tag {
	if ev == nil {
		return nil
	}
	now := t.now()

	// Patterns run outside the lock; only window state is shared.
	t.mu.Lock()
	rules := t.rules
	t.mu.Unlock()
	var matched []*rule
	for _, r := range rules.rules {
		if r.m.match(ev) {
			matched = append(matched, r)
		}
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(attackerID)
	var out []Tag
	for _, r := range matched {
		if len(r.sessionWithout) > 0 && !st.sessionLacks(ev.GetSessionId(), r.sessionWithout) {
			continue
		}
		if r.threshold == nil || st.count(r, ev, now) {
			out = append(out, r.tag)
		}
	}
	st.noteSession(ev)
	return out
}

func (t *Tagger) state(id string) *attackerState {
	if el, ok := t.attackers[id]; ok {
		t.lru.MoveToFront(el)
		return el.Value.(*attackerState)
	}
	st := &attackerState{id: id, groups: make(map[groupKey]*window), sessions: make(map[string]uint32)}
	t.attackers[id] = t.lru.PushFront(st)
	for t.lru.Len() > maxAttackers {
		old := t.lru.Back()
		t.lru.Remove(old)
		delete(t.attackers, old.Value.(*attackerState).id)
	}
	return st
}

// count records ev in its group's window and reports whether the
// threshold is reached now.
func (st *attackerState) count(r *rule, ev *eventv1.Event, now time.Time) bool {
	th := r.threshold
	group, ok := fieldValue(ev, th.groupBy)
	if !ok {
		return false
	}
	value, ok := fieldValue(ev, th.distinct)
	if !ok {
		return false
	}

	key := groupKey{rule: r, group: group}
	w := st.groups[key]
	if w == nil {
		if len(st.groups) >= maxGroupsPerAttacker {
			st.prune(now)
			if len(st.groups) >= maxGroupsPerAttacker {
				return false
			}
		}
		w = &window{}
		st.groups[key] = w
	}

	cutoff := now.Add(-th.window)
	n := 0
	if th.distinct == "" {
		w.times = dropBefore(w.times, cutoff)
		if len(w.times) >= th.count {
			w.times = w.times[1:]
		}
		w.times = append(w.times, now)
		n = len(w.times)
	} else {
		if w.distinct == nil {
			w.distinct = make(map[string]time.Time)
		}
		for v, seen := range w.distinct {
			if seen.Before(cutoff) {
				delete(w.distinct, v)
			}
		}
		if _, ok := w.distinct[value]; ok || len(w.distinct) < th.count {
			w.distinct[value] = now
		}
		n = len(w.distinct)
	}

	if n < th.count || (!w.lastFired.IsZero() && now.Sub(w.lastFired) < th.window) {
		return false
	}
	w.lastFired = now
	return true
}

// prune drops windows with nothing left inside their window.
func (st *attackerState) prune(now time.Time) {
	for k, w := range st.groups {
		cutoff := now.Add(-k.rule.threshold.window)
		live := w.lastFired.After(cutoff)
		for _, ts := range w.times {
			live = live || ts.After(cutoff)
		}
		for _, ts := range w.distinct {
			live = live || ts.After(cutoff)
		}
		if !live {
			delete(st.groups, k)
		}
	}
}

func dropBefore(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(cutoff) {
		i++
	}
	return ts[i:]
}

// kindBit gives each event kind one bit of a session's mask.
var kindBit = map[string]uint32{
	"connection.opened": 1 << 0, "connection.closed": 1 << 1, "auth.attempt": 1 << 2,
	"command": 1 << 3, "http.request": 1 << 4, "file.captured": 1 << 5,
	"file.requested": 1 << 6, "download.requested": 1 << 7, "session.recorded": 1 << 8,
	"forward.requested": 1 << 9, "mail.received": 1 << 10,
}

func (st *attackerState) sessionLacks(session string, kinds []string) bool {
	// An unknown session (opened before a reload or evicted) proves
	// nothing about what it carried.
	seen, ok := st.sessions[session]
	if !ok {
		return false
	}
	for _, k := range kinds {
		if seen&kindBit[k] != 0 {
			return false
		}
	}
	return true
}

// noteSession records which kinds a session carried, and drops the
// session once it closes.
func (st *attackerState) noteSession(ev *eventv1.Event) {
	id := ev.GetSessionId()
	if id == "" {
		return
	}
	if ev.GetKind() == "connection.closed" {
		delete(st.sessions, id)
		return
	}
	if _, ok := st.sessions[id]; !ok {
		st.sessions[id] = 0
		st.order = append(st.order, id)
		for len(st.order) > maxSessionsPerAttacker {
			delete(st.sessions, st.order[0])
			st.order = st.order[1:]
		}
		// Compact the order list once closed sessions dominate it.
		if len(st.order) > 2*len(st.sessions)+16 {
			live := st.order[:0]
			for _, s := range st.order {
				if _, ok := st.sessions[s]; ok {
					live = append(live, s)
				}
			}
			st.order = live
		}
	}
	st.sessions[id] |= kindBit[ev.GetKind()]
}

// Replay runs rules over one attacker's stored events in time order, using
// each event's own time as the clock, and returns every tag earned, one
// per rule, in the order first earned. It suits exports and backfills,
// where events come from the store rather than live.
func Replay(rules *RuleSet, events []*eventv1.Event) []Tag {
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b *eventv1.Event) int {
		return a.GetTime().AsTime().Compare(b.GetTime().AsTime())
	})

	var clock time.Time
	tg := NewTagger(rules, func() time.Time { return clock })
	seen := make(map[string]bool)
	var out []Tag
	for _, ev := range sorted {
		clock = ev.GetTime().AsTime()
		for _, tag := range tg.Observe("replay", ev) {
			if !seen[tag.RuleID] {
				seen[tag.RuleID] = true
				out = append(out, tag)
			}
		}
	}
	return out
}
