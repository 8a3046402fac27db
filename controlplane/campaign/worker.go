package campaign

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// DefaultInterval is how often the worker reclusters campaigns. The
// identity worker reclusters every ten seconds by default; campaigns
// change more slowly and are recomputed from every identity each time.
const DefaultInterval = 30 * time.Second

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
	Notices    *topics.Publisher[*apiv1.Notice]
	Logger     zerolog.Logger
	Now        func() time.Time
	Interval   time.Duration
}

// Worker keeps a summary of every stored session it observes and, once
// per interval, groups the identity worker's current identities into
// campaigns and publishes the changes as campaign.* notices.
//
// NOTE: like identities, campaigns live in this process only: each
// replica groups the identities of the events it ingested, and after a
// restart campaigns are rebuilt from new events. The session summaries
// are kept in memory without a bound.
type Worker struct {
	cfg    WorkerConfig
	engine *Engine
	queue  chan []*apiv1.StoredEvent
	log    zerolog.Logger

	// sessions is only touched by the goroutine that drains the queue:
	// Run, or Flush in tests.
	sessions map[string]*Session
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

// Run reclusters once per interval until ctx ends. It reclusters even
// without new events, because identities merge and split on their own.
func (w *Worker) Run(ctx context.Context) error {
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-w.queue:
			w.summarise(batch)
		case <-tick.C:
			if err := w.recluster(); err != nil {
				w.log.Warn().Err(err).Msg("publish campaign changes failed")
			}
		}
	}
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
// identities' activity to the engine.
func (w *Worker) recluster() error {
	if len(w.sessions) == 0 {
		return nil
	}
	keys := make([]string, 0, len(w.sessions))
	for k := range w.sessions {
		keys = append(keys, k)
	}
	owners := w.cfg.Identities.SessionIdentities(keys)
	byIdentity := map[string][]*Session{}
	for i, id := range owners {
		if id != "" {
			byIdentity[id] = append(byIdentity[id], w.sessions[keys[i]])
		}
	}
	activities := make([]*Activity, 0, len(byIdentity))
	for id, sessions := range byIdentity {
		activities = append(activities, NewActivity(id, sessions))
	}
	return w.engine.Observe(activities)
}

// Publish turns an engine change into a notice. The engine calls it with
// its lock held.
func (w *Worker) Publish(subject string, ch *Change) error {
	n := &apiv1.Notice{
		Id: uuid.Must(uuid.NewV7()).String(), Subject: subject, Time: timestamppb.New(w.cfg.Now()),
		Summary: subject + " " + ch.CampaignID,
		Detail: &apiv1.Notice_Campaign{Campaign: &apiv1.CampaignChange{
			CampaignId: ch.CampaignID, OtherId: ch.OtherID, IdentityId: ch.IdentityID,
		}},
	}
	return w.cfg.Notices.Publish(subject, n)
}
