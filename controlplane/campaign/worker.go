package campaign

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// DefaultInterval is how often the worker reclusters campaigns. The
// identity worker reclusters every ten seconds by default; campaigns
// change more slowly and are recomputed from every identity each time
// something changed.
const DefaultInterval = 30 * time.Second

// DefaultMaxIdentities bounds the identities one pass clusters: the most
// recently active ones. Candidate pairs grow about linearly with the
// identities, so a pass over this many takes about a second of one core.
const DefaultMaxIdentities = 20000

// DefaultWarmEvents is how many of the newest stored events Run reads
// to rebuild campaigns after a restart; the identity worker rebuilds
// identities from as many.
const DefaultWarmEvents = 100000

// rebuildPoll is how often Run looks for the rebuilt identities until
// the first interval ends.
const rebuildPoll = time.Second

// workerQueue bounds the batches waiting for the next interval.
const workerQueue = 1024

// Identities maps observation keys to live identities; identity.Worker
// implements it.
type Identities interface {
	// SessionIdentities returns the live identity of each key, or "".
	SessionIdentities(keys []string) []string
}

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	Identities Identities
	// Store, when set, supplies the stored events Run rebuilds
	// campaigns from after a restart.
	Store store.Store
	// WarmEvents is how many of the newest stored events the rebuild
	// reads: DefaultWarmEvents when zero, none when negative.
	WarmEvents int
	// MaxIdentities bounds the identities one pass clusters:
	// DefaultMaxIdentities when zero or less.
	MaxIdentities int
	Notices       *topics.Publisher[*apiv1.Notice]
	Logger        zerolog.Logger
	Now           func() time.Time
	Interval      time.Duration
}

// Worker keeps a summary of every stored session it observes and, once
// per interval, groups the identity worker's current identities into
// campaigns and publishes the changes as campaign.* notices.
//
// NOTE: like identities, campaigns live in this process only: each
// replica groups the identities of the events it ingested, and after a
// restart Run rebuilds them from the newest stored events, keeping
// their ids as long as the identities keep theirs. The session
// summaries are kept in memory without a bound; each pass clusters at
// most MaxIdentities identities and none when nothing changed.
type Worker struct {
	cfg    WorkerConfig
	engine *Engine
	queue  chan []*apiv1.StoredEvent
	log    zerolog.Logger

	// sessions is only touched by the goroutine that drains the queue:
	// Run, or Flush in tests.
	sessions map[string]*Session
	// changed is set when a session was summarised since the last
	// pass, and owners holds the identity of each session at that pass:
	// a pass with neither changed would cluster the same activities.
	changed bool
	owners  map[string]string
	// rebuilding mutes the changes of the first pass that finds
	// identities after a rebuild: they are not news. Should the identity
	// rebuild fail, that pass holds new identities instead, and their
	// first changes go unannounced.
	rebuilding bool
	muted      bool
	// warmed holds the ids of the events the rebuild read, which may
	// arrive again through Observe, until the first interval ends.
	warmed map[string]struct{}
}

// NewWorker returns a Worker; call Run to start it.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Identities == nil || cfg.Notices == nil {
		return nil, errors.New("new campaign worker: identities and notices are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.WarmEvents == 0 {
		cfg.WarmEvents = DefaultWarmEvents
	}
	if cfg.MaxIdentities <= 0 {
		cfg.MaxIdentities = DefaultMaxIdentities
	}
	w := &Worker{
		cfg: cfg, queue: make(chan []*apiv1.StoredEvent, workerQueue),
		log:      cfg.Logger.With().Str("component", "campaign").Logger(),
		sessions: map[string]*Session{},
	}
	engine, err := NewEngine(EngineConfig{Publisher: w, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	w.engine = engine
	return w, nil
}

// Observe queues a stored batch; it never blocks.
func (w *Worker) Observe(stored []*apiv1.StoredEvent) {
	select {
	case w.queue <- stored:
	default:
		w.log.Warn().Int("events", len(stored)).Msg("campaign worker behind; batch not summarised")
	}
}

// Run rebuilds campaigns from the newest stored events, then reclusters
// once per interval until ctx ends. It reclusters even without new
// events, because identities merge and split on their own.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.Rebuild(ctx); err != nil {
		w.log.Warn().Err(err).Msg("rebuild campaigns from stored events failed; starting empty")
	}
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	// The identity worker rebuilds its identities concurrently: look
	// for them often until they appear or the first interval ends.
	var poll <-chan time.Time
	if w.rebuilding {
		p := time.NewTicker(rebuildPoll)
		defer p.Stop()
		poll = p.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-w.queue:
			w.summarise(batch)
		case <-poll:
			w.pass()
			if !w.rebuilding {
				poll = nil
			}
		case <-tick.C:
			w.pass()
			poll, w.warmed = nil, nil
		}
	}
}

func (w *Worker) pass() {
	if err := w.recluster(); err != nil {
		w.log.Warn().Err(err).Msg("publish campaign changes failed")
	}
}

// Rebuild summarises the newest stored events, oldest first, so that
// the next pass that finds their identities forms the campaigns again,
// without notices. Run calls it; it must not run concurrently with Run.
func (w *Worker) Rebuild(ctx context.Context) error {
	limit := w.cfg.WarmEvents
	if w.cfg.Store == nil || limit < 0 {
		return nil
	}
	var stored []*apiv1.StoredEvent
	token := ""
	for len(stored) < limit {
		page, err := w.cfg.Store.ListEvents(ctx, store.EventQuery{PageSize: min(store.MaxPageSize, limit-len(stored)), PageToken: token})
		if err != nil {
			return err
		}
		stored = append(stored, page.Items...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if len(stored) == 0 {
		return nil
	}
	slices.Reverse(stored)
	w.summarise(stored)
	w.warmed = make(map[string]struct{}, len(stored))
	for _, se := range stored {
		w.warmed[se.GetEvent().GetId()] = struct{}{}
	}
	w.rebuilding = true
	w.log.Info().Int("events", len(stored)).Msg("campaign sessions rebuilt from stored events")
	return nil
}

// Flush summarises what is queued now and reclusters, for tests and
// shutdown. It must not run concurrently with Run.
func (w *Worker) Flush() error {
	for {
		select {
		case batch := <-w.queue:
			w.summarise(batch)
		default:
			return w.recluster()
		}
	}
}

func (w *Worker) summarise(batch []*apiv1.StoredEvent) {
	for _, se := range batch {
		ev := se.GetEvent()
		if ev == nil {
			continue
		}
		if _, seen := w.warmed[ev.GetId()]; seen {
			continue
		}
		w.changed = true
		key := ev.GetSessionId()
		if key == "" {
			// The identity clusterer's key for events outside a session.
			key = "addr:" + ev.GetSource().GetAddress()
		}
		s := w.sessions[key]
		if s == nil {
			s = NewSession(se.GetAttackerId())
			w.sessions[key] = s
		}
		if s.Attacker == "" {
			s.Attacker = se.GetAttackerId()
		}
		s.Add(ev)
	}
}

// recluster groups the sessions by their current identity and hands the
// identities' activity to the engine, unless neither the sessions nor
// their identities changed since the last pass.
func (w *Worker) recluster() error {
	if len(w.sessions) == 0 {
		return nil
	}
	keys := make([]string, 0, len(w.sessions))
	for k := range w.sessions {
		keys = append(keys, k)
	}
	owners := w.cfg.Identities.SessionIdentities(keys)
	same := !w.changed && len(w.owners) == len(keys)
	current := make(map[string]string, len(keys))
	byIdentity := map[string][]*Session{}
	for i, id := range owners {
		current[keys[i]] = id
		if same {
			if old, ok := w.owners[keys[i]]; !ok || old != id {
				same = false
			}
		}
		if id != "" {
			byIdentity[id] = append(byIdentity[id], w.sessions[keys[i]])
		}
	}
	if same {
		return nil
	}
	if w.rebuilding && len(byIdentity) == 0 {
		// The identities are not rebuilt yet; look again later.
		return nil
	}
	w.changed, w.owners = false, current
	activities := make([]*Activity, 0, len(byIdentity))
	for id, sessions := range byIdentity {
		activities = append(activities, NewActivity(id, sessions))
	}
	activities = w.bound(activities)
	w.muted, w.rebuilding = w.rebuilding, false
	err := w.engine.Observe(activities)
	w.muted = false
	return err
}

// bound keeps the MaxIdentities most recently active identities.
func (w *Worker) bound(activities []*Activity) []*Activity {
	limit := w.cfg.MaxIdentities
	if len(activities) <= limit {
		return activities
	}
	slices.SortFunc(activities, func(a, b *Activity) int {
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return cmp.Compare(a.Identity, b.Identity)
	})
	w.log.Warn().Int("identities", len(activities)).Int("clustered", limit).
		Msg("too many identities for one campaign pass; clustering the most recently active")
	return activities[:limit]
}

// Publish turns an engine change into a notice. The engine calls it with
// its lock held.
func (w *Worker) Publish(subject string, ch *Change) error {
	if w.muted {
		return nil
	}
	n := &apiv1.Notice{
		Id: uuid.Must(uuid.NewV7()).String(), Subject: subject, Time: timestamppb.New(w.cfg.Now()),
		Summary: subject + " " + ch.CampaignID,
		Detail: &apiv1.Notice_Campaign{Campaign: &apiv1.CampaignChange{
			CampaignId: ch.CampaignID, OtherId: ch.OtherID, IdentityId: ch.IdentityID,
		}},
	}
	return w.cfg.Notices.Publish(subject, n)
}
