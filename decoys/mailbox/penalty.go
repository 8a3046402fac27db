package mailbox

import (
	"net/netip"
	"sync"
	"time"
)

// Dovecot's auth penalty (src/auth/auth-penalty.h): each failed login
// from a source raises its penalty by one, up to 4; the next login from
// that source waits 2 s doubled per penalty point, at most 15 s, before it
// is checked. A penalty point drops each time the wait of the current
// level passes without a new failure.
const (
	penaltyInit      = 2 * time.Second
	penaltyMaxDelay  = 15 * time.Second
	penaltyMaxPoints = 4
)

// maxPenaltySources caps the sources Penalty remembers, so a flood of
// spoofed or many distinct sources cannot grow it without bound. Over the
// cap, stale entries are dropped first, then new sources go untracked.
const maxPenaltySources = 4096

// Penalty tracks Dovecot's per-source authentication penalty. The zero
// value is not usable; use NewPenalty.
type Penalty struct {
	now func() time.Time

	mu      sync.Mutex
	sources map[netip.Addr]penaltyEntry
}

type penaltyEntry struct {
	points int
	last   time.Time
}

// NewPenalty returns an empty tracker that reads time from now.
func NewPenalty(now func() time.Time) *Penalty {
	return &Penalty{now: now, sources: make(map[netip.Addr]penaltyEntry)}
}

func penaltyDelay(points int) time.Duration {
	d := penaltyInit
	for i := 0; i < points; i++ {
		d *= 2
	}
	return min(d, penaltyMaxDelay)
}

// Begin returns how long a login from source waits before it is checked,
// and the points it starts from (pass them to Fail).
func (p *Penalty) Begin(source netip.Addr) (time.Duration, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.sources[source]
	if !ok {
		return 0, 0
	}
	points := decayed(e, p.now())
	if points == 0 {
		return 0, 0
	}
	return penaltyDelay(points), points
}

// decayed applies anvil's decay: from the top level down, each level whose
// wait has passed since the last failure removes one point.
func decayed(e penaltyEntry, now time.Time) int {
	points := e.points
	level := penaltyMaxPoints
	for points > 0 {
		if now.Sub(e.last) < penaltyDelay(level) {
			break
		}
		level--
		points--
	}
	return points
}

// Fail records a failed login that started from points.
func (p *Penalty) Fail(source netip.Addr, points int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if _, ok := p.sources[source]; !ok && len(p.sources) >= maxPenaltySources {
		for addr, e := range p.sources {
			if decayed(e, now) == 0 {
				delete(p.sources, addr)
			}
		}
		if len(p.sources) >= maxPenaltySources {
			return
		}
	}
	p.sources[source] = penaltyEntry{points: min(points+1, penaltyMaxPoints), last: now}
}

// Reset clears the penalty of source after a successful login.
func (p *Penalty) Reset(source netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.sources, source)
}
