package identity

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
)

// Subjects the Engine publishes.
const (
	SubjectFormed            = "identity.formed"
	SubjectObservationLinked = "identity.observation.linked"
	SubjectMerged            = "identity.merged"
	SubjectUnmerged          = "identity.unmerged"
)

// Change is one message the Engine publishes.
type Change struct {
	Subject string
	// IdentityID is the identity formed, linked to, winning a merge, or
	// revived by an unmerge.
	IdentityID string
	// OtherID is the loser of a merge, or the identity an unmerged one
	// left.
	OtherID string
	// ObservationKey and SourceAddress name the observation linked.
	ObservationKey string
	SourceAddress  string
	Time           time.Time
}

// Publisher receives the Engine's changes. It is called with the Engine's
// lock held, so it must not call back into the Engine.
type Publisher interface {
	Publish(subject string, msg *Change) error
}

// Identity is one attacker identity.
type Identity struct {
	ID string
	// MergedInto is the identity that absorbed this one, or empty for a
	// live identity. It always names a live identity.
	MergedInto string
	Created    time.Time
	// seq orders identities by creation: the older one wins a merge.
	seq uint64
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	Weights   Weights
	ASN       ASNLookup
	Publisher Publisher
	// NewID returns a fresh identity id. By default the id is derived
	// from the identity's founding observation (its session id or
	// address), so a control plane that rebuilds its identities from the
	// stored events after a restart gives them the ids they had.
	NewID func() string
	Now   func() time.Time
	// MaxInputs and MaxInputBytes bound the corpus the Engine keeps and
	// reclusters; 0 means DefaultMaxInputs and DefaultMaxInputBytes.
	// Past either, the oldest inputs are forgotten.
	MaxInputs     int
	MaxInputBytes int64
}

// Default corpus bounds. 100,000 events recluster in about a tenth of a
// second, and 64 MiB of encoded events, session recordings included,
// keep the Engine's share of the control plane's memory small.
const (
	DefaultMaxInputs     = 100_000
	DefaultMaxInputBytes = 64 << 20
)

// Engine keeps identities across clustering runs. Each Observe reclusters
// everything seen so far and turns the difference into soft changes: new
// identities, observations linked, identities merged (the loser points at
// the winner) and merges revoked when the evidence no longer joins them.
//
// NOTE: each Observe reclusters the whole corpus, which costs time linear
// in its size (about one second per million events in the benchmark). A
// worker calls it once per batch window, not per event, and the corpus is
// bounded by MaxInputs and MaxInputBytes.
type Engine struct {
	cfg EngineConfig

	mu     sync.Mutex
	inputs []Input
	// sizes[i] is the encoded size of inputs[i]; bytes is their sum.
	sizes      []int64
	bytes      int64
	identities map[string]*Identity
	owner      map[string]string // observation key → identity it was linked to
	nextSeq    uint64
}

// ErrPublish wraps the first error a Publisher returned during Observe;
// the Engine's state is updated regardless.
var ErrPublish = errors.New("publish identity change")

// NewEngine returns an Engine without identities.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if cfg.Publisher == nil {
		return nil, errors.New("new identity engine: publisher is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxInputs <= 0 {
		cfg.MaxInputs = DefaultMaxInputs
	}
	if cfg.MaxInputBytes <= 0 {
		cfg.MaxInputBytes = DefaultMaxInputBytes
	}
	return &Engine{cfg: cfg, identities: map[string]*Identity{}, owner: map[string]string{}}, nil
}

// Resolve returns the live identity id reads of id should return: id
// itself, or the identity it was merged into. Unknown ids resolve to "".
func (e *Engine) Resolve(id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resolve(id)
}

// IdentityOf returns the live identity of an observation, or "".
func (e *Engine) IdentityOf(observationKey string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resolve(e.owner[observationKey])
}

// Identity returns a copy of one identity record.
func (e *Engine) Identity(id string) (Identity, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	i, ok := e.identities[id]
	if !ok {
		return Identity{}, false
	}
	return *i, true
}

// Live returns copies of the live identities, those not merged into
// another, and the live identity of each observation key ("" for none).
// Both are read under one lock, so they describe the same clustering.
func (e *Engine) Live(keys []string) ([]Identity, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var live []Identity
	for _, i := range e.identities {
		if i.MergedInto == "" {
			live = append(live, *i)
		}
	}
	owners := make([]string, len(keys))
	for k, key := range keys {
		owners[k] = e.resolve(e.owner[key])
	}
	return live, owners
}

func (e *Engine) resolve(id string) string {
	i, ok := e.identities[id]
	if !ok {
		return ""
	}
	if i.MergedInto != "" {
		return i.MergedInto
	}
	return id
}

// Observe adds inputs, reclusters and publishes the changes.
func (e *Engine) Observe(inputs []Input) error {
	e.mu.Lock()
	defer e.mu.Unlock()

	e.inputs = append(e.inputs, inputs...)
	for _, in := range inputs {
		n := int64(proto.Size(in.Event))
		e.sizes = append(e.sizes, n)
		e.bytes += n
	}
	// New inputs are clustered once even when they alone exceed the
	// bounds; the trim afterwards forgets the oldest.
	defer e.trim()
	c := Cluster(e.inputs, e.cfg.ASN, e.cfg.Weights)
	r := &reconcile{e: e, c: c, now: e.cfg.Now()}
	r.components()
	r.splits()
	r.merges()
	r.links()
	if r.err != nil {
		return fmt.Errorf("%w: %w", ErrPublish, r.err)
	}
	return nil
}

// trim forgets the oldest inputs until the corpus is within its bounds.
// Identities and the observations already linked to them stay: evidence
// that is forgotten no longer joins or splits anything, so their merges
// hold, while new sessions are compared with the evidence kept.
func (e *Engine) trim() {
	drop := 0
	for len(e.inputs)-drop > e.cfg.MaxInputs || (e.bytes > e.cfg.MaxInputBytes && drop < len(e.inputs)) {
		e.bytes -= e.sizes[drop]
		drop++
	}
	if drop == 0 {
		return
	}
	// Copy rather than reslice, so the forgotten events can be freed.
	e.inputs = append([]Input(nil), e.inputs[drop:]...)
	e.sizes = append([]int64(nil), e.sizes[drop:]...)
}

// Corpus returns how many inputs and encoded bytes the Engine keeps.
func (e *Engine) Corpus() (inputs int, bytes int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.inputs), e.bytes
}

// reconcile maps one clustering onto the Engine's identities.
type reconcile struct {
	e     *Engine
	c     *Clustering
	now   time.Time
	comps [][]int // observation indices per component, by first index
	err   error
}

func (r *reconcile) publish(ch Change) {
	ch.Time = r.now
	if err := r.e.cfg.Publisher.Publish(ch.Subject, &ch); err != nil && r.err == nil {
		r.err = err
	}
}

// idNamespace seeds identity ids derived from founding observations. It
// is fixed forever: changing it would change every identity's id.
var idNamespace = uuid.MustParse("6b1f0e7a-3c2d-4f58-9a41-0d8e5c7b2f16")

// newID returns the id of an identity founded by the observation with
// key founder: a UUIDv5 of the key, or a UUIDv7 when that id is taken
// (the founder was forgotten and seen again while its old identity
// lives on).
func (e *Engine) newID(founder string) string {
	if e.cfg.NewID != nil {
		return e.cfg.NewID()
	}
	id := uuid.NewSHA1(idNamespace, []byte(founder)).String()
	if _, taken := e.identities[id]; taken {
		return uuid.Must(uuid.NewV7()).String()
	}
	return id
}

// form starts an identity for the founding observation. Its creation time
// is when that observation began, so an identity rebuilt after a restart
// keeps the time it had.
func (r *reconcile) form(founder *Observation) *Identity {
	e := r.e
	e.nextSeq++
	key, created := "", r.now
	if founder != nil {
		key = founder.Key
		if !founder.First.IsZero() && founder.First.Before(created) {
			created = founder.First
		}
	}
	id := &Identity{ID: e.newID(key), Created: created, seq: e.nextSeq}
	e.identities[id.ID] = id
	r.publish(Change{Subject: SubjectFormed, IdentityID: id.ID})
	return id
}

func (r *reconcile) link(obs int, id string) {
	o := r.c.Observations[obs]
	r.e.owner[o.Key] = id
	r.publish(Change{Subject: SubjectObservationLinked, IdentityID: id, ObservationKey: o.Key, SourceAddress: o.Address})
}

func (r *reconcile) components() {
	index := map[int]int{}
	for i, root := range r.c.Cluster {
		k, ok := index[root]
		if !ok {
			k = len(r.comps)
			index[root] = k
			r.comps = append(r.comps, nil)
		}
		r.comps[k] = append(r.comps[k], i)
	}
}

// splits revokes merges whose members no longer share a component: the
// part away from the winner revives its oldest former identity, or forms
// a new one when it held only the winner's own observations.
func (r *reconcile) splits() {
	e := r.e
	type part struct {
		comp       int
		own        int // observations owned by the family root itself
		members    []string
		rootOwned  []int
		familySize int
	}
	families := map[string]map[int]*part{}
	var roots []string
	for ci, comp := range r.comps {
		for _, i := range comp {
			owner, ok := e.owner[r.c.Observations[i].Key]
			if !ok {
				continue
			}
			root := e.resolve(owner)
			if families[root] == nil {
				families[root] = map[int]*part{}
				roots = append(roots, root)
			}
			p := families[root][ci]
			if p == nil {
				p = &part{comp: ci}
				families[root][ci] = p
			}
			p.familySize++
			if owner == root {
				p.own++
				p.rootOwned = append(p.rootOwned, i)
			} else if !slices.Contains(p.members, owner) {
				p.members = append(p.members, owner)
			}
		}
	}

	for _, root := range roots {
		parts := families[root]
		if len(parts) < 2 {
			continue
		}
		var ordered []*part
		for _, p := range parts {
			ordered = append(ordered, p)
		}
		// The root stays with the part holding most of its own
		// observations, then most of its family, then the earliest.
		slices.SortFunc(ordered, func(a, b *part) int {
			if a.own != b.own {
				return b.own - a.own
			}
			if a.familySize != b.familySize {
				return b.familySize - a.familySize
			}
			return a.comp - b.comp
		})
		for _, p := range ordered[1:] {
			var head *Identity
			if len(p.members) > 0 {
				slices.SortFunc(p.members, func(a, b string) int {
					return int(e.identities[a].seq) - int(e.identities[b].seq)
				})
				head = e.identities[p.members[0]]
				head.MergedInto = ""
				r.publish(Change{Subject: SubjectUnmerged, IdentityID: head.ID, OtherID: root})
				for _, m := range p.members[1:] {
					e.identities[m].MergedInto = head.ID
					r.publish(Change{Subject: SubjectMerged, IdentityID: head.ID, OtherID: m})
				}
			} else {
				var founder *Observation
				if len(p.rootOwned) > 0 {
					founder = r.c.Observations[p.rootOwned[0]]
				}
				head = r.form(founder)
			}
			for _, i := range p.rootOwned {
				r.link(i, head.ID)
			}
		}
	}
}

// merges joins the identities that now share a component: the oldest
// wins and the others point at it.
func (r *reconcile) merges() {
	e := r.e
	for _, comp := range r.comps {
		var live []*Identity
		for _, i := range comp {
			owner, ok := e.owner[r.c.Observations[i].Key]
			if !ok {
				continue
			}
			id := e.identities[e.resolve(owner)]
			if !slices.Contains(live, id) {
				live = append(live, id)
			}
		}
		if len(live) < 2 {
			continue
		}
		slices.SortFunc(live, func(a, b *Identity) int { return int(a.seq) - int(b.seq) })
		winner := live[0]
		for _, loser := range live[1:] {
			loser.MergedInto = winner.ID
			for _, other := range e.identities {
				if other.MergedInto == loser.ID {
					other.MergedInto = winner.ID
				}
			}
			r.publish(Change{Subject: SubjectMerged, IdentityID: winner.ID, OtherID: loser.ID})
		}
	}
}

// links attaches new observations to their component's identity, forming
// one when the component has none.
func (r *reconcile) links() {
	e := r.e
	for _, comp := range r.comps {
		target := ""
		for _, i := range comp {
			if owner, ok := e.owner[r.c.Observations[i].Key]; ok {
				target = e.resolve(owner)
				break
			}
		}
		for _, i := range comp {
			if _, ok := e.owner[r.c.Observations[i].Key]; ok {
				continue
			}
			if target == "" {
				target = r.form(r.c.Observations[i]).ID
			}
			r.link(i, target)
		}
	}
}
