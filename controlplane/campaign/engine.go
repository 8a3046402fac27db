package campaign

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Subjects the Engine publishes.
const (
	SubjectFormed         = "campaign.formed"
	SubjectIdentityLinked = "campaign.identity.linked"
	// SubjectIdentityUnlinked: an identity no longer joins any other,
	// or is no longer live (its identity was merged into another), and
	// left its campaign.
	SubjectIdentityUnlinked = "campaign.identity.unlinked"
	SubjectMerged           = "campaign.merged"
	SubjectUnmerged         = "campaign.unmerged"
)

// Change is one message the Engine publishes.
type Change struct {
	Subject string
	// CampaignID is the campaign formed, linked to, left, winning a
	// merge, or revived by an unmerge.
	CampaignID string
	// OtherID is the loser of a merge, or the campaign an unmerged one
	// left.
	OtherID string
	// IdentityID is the identity linked or unlinked.
	IdentityID string
	Time       time.Time
}

// Publisher receives the Engine's changes. It is called with the
// Engine's lock held, so it must not call back into the Engine.
type Publisher interface {
	Publish(subject string, msg *Change) error
}

// Campaign is one campaign record.
type Campaign struct {
	ID string
	// MergedInto is the campaign that absorbed this one, or empty for a
	// live campaign. It always names a live campaign.
	MergedInto string
	Created    time.Time
	// seq orders campaigns by creation: the older one wins a merge.
	seq uint64
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	Publisher Publisher
	// NewID returns a fresh campaign id. By default the id is derived
	// from the campaign's founding identity, its earliest, so campaigns
	// rebuilt after a restart keep their ids while identities keep
	// theirs.
	NewID func() string
	Now   func() time.Time
}

// Engine keeps campaigns across clustering runs. Each Observe clusters
// the identities' current activity and turns the difference into soft
// changes: new campaigns, identities linked, campaigns merged (the loser
// points at the winner), merges revoked when the evidence no longer
// joins them, and identities unlinked when they join nothing. Only
// groups of two identities or more form a campaign.
type Engine struct {
	cfg EngineConfig

	mu        sync.Mutex
	campaigns map[string]*Campaign
	owner     map[string]string // identity id → campaign it was linked to
	last      *Clustering
	nextSeq   uint64
}

// ErrPublish wraps the first error a Publisher returned during Observe;
// the Engine's state is updated regardless.
var ErrPublish = errors.New("publish campaign change")

// NewEngine returns an Engine without campaigns.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if cfg.Publisher == nil {
		return nil, errors.New("new campaign engine: publisher is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Engine{cfg: cfg, campaigns: map[string]*Campaign{}, owner: map[string]string{}, last: &Clustering{}}, nil
}

// Observe reclusters the activities, which replace those of the previous
// call, and publishes the changes.
func (e *Engine) Observe(activities []*Activity) error {
	c := Cluster(activities)

	e.mu.Lock()
	defer e.mu.Unlock()
	r := &reconcile{e: e, now: e.cfg.Now()}
	r.components(c)
	r.unlinks()
	r.splits()
	r.merges()
	r.links()
	e.last = c
	if r.err != nil {
		return fmt.Errorf("%w: %w", ErrPublish, r.err)
	}
	return nil
}

// Resolve returns the live campaign reads of id should return: id
// itself, or the campaign it was merged into. Unknown ids resolve to "".
func (e *Engine) Resolve(id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resolve(id)
}

func (e *Engine) resolve(id string) string {
	c, ok := e.campaigns[id]
	if !ok {
		return ""
	}
	if c.MergedInto != "" {
		return c.MergedInto
	}
	return id
}

// CampaignOf returns the live campaign of an identity, or "".
func (e *Engine) CampaignOf(identityID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resolve(e.owner[identityID])
}

// View is one live campaign as of the last Observe.
type View struct {
	Campaign
	Members []*Activity
	// Links are the pairs of members whose evidence joined them,
	// strongest first.
	Links []Link
}

// Link is a Join named by identity ids.
type Link struct {
	A, B  string
	Score float64
	Terms []Term
}

// Live returns the live campaigns with their members and evidence, from
// the clustering of the last Observe.
func (e *Engine) Live() []View {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.last
	byID := map[string]*View{}
	var out []*View
	campaignOf := make([]string, len(c.Activities))
	for i, a := range c.Activities {
		id := e.resolve(e.owner[a.Identity])
		campaignOf[i] = id
		if id == "" {
			continue
		}
		v := byID[id]
		if v == nil {
			v = &View{Campaign: *e.campaigns[id]}
			byID[id] = v
			out = append(out, v)
		}
		v.Members = append(v.Members, a)
	}
	for _, j := range c.Joins {
		if id := campaignOf[j.A]; id != "" && id == campaignOf[j.B] {
			link := Link{A: c.Activities[j.A].Identity, B: c.Activities[j.B].Identity, Score: j.Score, Terms: j.Terms}
			byID[id].Links = append(byID[id].Links, link)
		}
	}
	views := make([]View, len(out))
	for i, v := range out {
		views[i] = *v
	}
	return views
}

// reconcile maps one clustering onto the Engine's campaigns.
type reconcile struct {
	e   *Engine
	now time.Time
	// comps are the identity ids of each component of two or more, and
	// compOf the component of each of those identities.
	comps  [][]string
	compOf map[string]int
	err    error
}

func (r *reconcile) publish(ch Change) {
	ch.Time = r.now
	if err := r.e.cfg.Publisher.Publish(ch.Subject, &ch); err != nil && r.err == nil {
		r.err = err
	}
}

// idNamespace seeds campaign ids derived from founding identities. It is
// fixed forever: changing it would change every campaign's id.
var idNamespace = uuid.MustParse("c35e8a90-7d14-4b6f-8e2a-51f0b9d3a7c4")

// newID returns the id of a campaign founded by identity founder: a
// UUIDv5 of the identity id, or a UUIDv7 when that id is taken.
func (e *Engine) newID(founder string) string {
	if e.cfg.NewID != nil {
		return e.cfg.NewID()
	}
	id := uuid.NewSHA1(idNamespace, []byte(founder)).String()
	if _, taken := e.campaigns[id]; taken {
		return uuid.Must(uuid.NewV7()).String()
	}
	return id
}

func (r *reconcile) form(founder string) *Campaign {
	e := r.e
	e.nextSeq++
	c := &Campaign{ID: e.newID(founder), Created: r.now, seq: e.nextSeq}
	e.campaigns[c.ID] = c
	r.publish(Change{Subject: SubjectFormed, CampaignID: c.ID})
	return c
}

func (r *reconcile) link(identity, campaign string) {
	r.e.owner[identity] = campaign
	r.publish(Change{Subject: SubjectIdentityLinked, CampaignID: campaign, IdentityID: identity})
}

func (r *reconcile) components(c *Clustering) {
	index := map[int]int{}
	var all [][]string
	for i, root := range c.Cluster {
		k, ok := index[root]
		if !ok {
			k = len(all)
			index[root] = k
			all = append(all, nil)
		}
		all[k] = append(all[k], c.Activities[i].Identity)
	}
	r.compOf = map[string]int{}
	for _, comp := range all {
		if len(comp) < 2 {
			continue
		}
		for _, id := range comp {
			r.compOf[id] = len(r.comps)
		}
		r.comps = append(r.comps, comp)
	}
}

// unlinks drops the identities that are in no component of two or
// more, in a stable order so notices are reproducible.
func (r *reconcile) unlinks() {
	e := r.e
	var gone []string
	for identity := range e.owner {
		if _, ok := r.compOf[identity]; !ok {
			gone = append(gone, identity)
		}
	}
	slices.Sort(gone)
	for _, identity := range gone {
		campaign := e.resolve(e.owner[identity])
		delete(e.owner, identity)
		r.publish(Change{Subject: SubjectIdentityUnlinked, CampaignID: campaign, IdentityID: identity})
	}
}

// splits revokes merges whose members no longer share a component: the
// part away from the winner revives its oldest former campaign, or forms
// a new one when it held only the winner's own identities.
func (r *reconcile) splits() {
	e := r.e
	type part struct {
		comp       int
		own        int
		members    []string
		rootOwned  []string
		familySize int
	}
	families := map[string]map[int]*part{}
	var roots []string
	for ci, comp := range r.comps {
		for _, identity := range comp {
			owner, ok := e.owner[identity]
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
				p.rootOwned = append(p.rootOwned, identity)
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
		// identities, then most of its family, then the earliest.
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
			var head *Campaign
			if len(p.members) > 0 {
				slices.SortFunc(p.members, func(a, b string) int {
					return cmp.Compare(e.campaigns[a].seq, e.campaigns[b].seq)
				})
				head = e.campaigns[p.members[0]]
				head.MergedInto = ""
				r.publish(Change{Subject: SubjectUnmerged, CampaignID: head.ID, OtherID: root})
				for _, m := range p.members[1:] {
					e.campaigns[m].MergedInto = head.ID
					r.publish(Change{Subject: SubjectMerged, CampaignID: head.ID, OtherID: m})
				}
			} else {
				founder := ""
				if len(p.rootOwned) > 0 {
					founder = p.rootOwned[0]
				}
				head = r.form(founder)
			}
			for _, identity := range p.rootOwned {
				r.link(identity, head.ID)
			}
		}
	}
}

// merges joins the campaigns that now share a component: the oldest
// wins and the others point at it.
func (r *reconcile) merges() {
	e := r.e
	for _, comp := range r.comps {
		var live []*Campaign
		for _, identity := range comp {
			owner, ok := e.owner[identity]
			if !ok {
				continue
			}
			c := e.campaigns[e.resolve(owner)]
			if !slices.Contains(live, c) {
				live = append(live, c)
			}
		}
		if len(live) < 2 {
			continue
		}
		slices.SortFunc(live, func(a, b *Campaign) int { return cmp.Compare(a.seq, b.seq) })
		winner := live[0]
		for _, loser := range live[1:] {
			loser.MergedInto = winner.ID
			for _, other := range e.campaigns {
				if other.MergedInto == loser.ID {
					other.MergedInto = winner.ID
				}
			}
			r.publish(Change{Subject: SubjectMerged, CampaignID: winner.ID, OtherID: loser.ID})
		}
	}
}

// links attaches unlinked identities to their component's campaign,
// forming one when the component has none.
func (r *reconcile) links() {
	e := r.e
	for _, comp := range r.comps {
		target := ""
		for _, identity := range comp {
			if owner, ok := e.owner[identity]; ok {
				target = e.resolve(owner)
				break
			}
		}
		for _, identity := range comp {
			if _, ok := e.owner[identity]; ok {
				continue
			}
			if target == "" {
				target = r.form(identity).ID
			}
			r.link(identity, target)
		}
	}
}
