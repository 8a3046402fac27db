package identity

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// DefaultWindow is how long the worker collects events before it
// reclusters: clustering runs on the whole corpus, so once per window.
const DefaultWindow = 10 * time.Second

// workerQueue bounds the batches waiting for the next window.
const workerQueue = 1024

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Store supplies the recordings stripped from session.recorded
	// events, for the keystroke features.
	Store   store.Store
	Notices *topics.Publisher[*apiv1.Notice]
	Logger  zerolog.Logger
	Now     func() time.Time
	Window  time.Duration
	// WarmEvents is how many of the newest stored events Run clusters
	// before it takes new ones, so identities survive a restart; 0 means
	// DefaultMaxInputs, a negative value none.
	WarmEvents int
}

// Worker clusters this replica's stored events into identities once per
// window and publishes the changes as identity.* notices.
//
// NOTE: the engine reclusters the newest events it keeps (bounded by
// DefaultMaxInputs and DefaultMaxInputBytes) each window, and identities
// live in this process only: after a restart Run rebuilds them from the
// newest stored events, under new ids, and each replica clusters the
// events it ingested. Persisting identity ids is the next step.
type Worker struct {
	cfg    WorkerConfig
	engine *Engine
	queue  chan []*apiv1.StoredEvent
	log    zerolog.Logger

	mu sync.Mutex
	// sessions maps each attacker to its sessions (observation keys), and
	// attackerOf the reverse, for reads by attacker.
	sessions   map[string]map[string]struct{}
	attackerOf map[string]string
	// muted drops the engine's changes while Run rebuilds identities
	// from stored events: they are not news.
	muted bool
}

// NewWorker returns a Worker; call Run to start it.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Store == nil || cfg.Notices == nil {
		return nil, errors.New("new identity worker: store and notices are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	w := &Worker{
		cfg: cfg, queue: make(chan []*apiv1.StoredEvent, workerQueue),
		log:      cfg.Logger.With().Str("component", "identity").Logger(),
		sessions: map[string]map[string]struct{}{}, attackerOf: map[string]string{},
	}
	engine, err := NewEngine(EngineConfig{Weights: Frozen, Publisher: w, Now: cfg.Now})
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
		w.log.Warn().Int("events", len(stored)).Msg("identity worker behind; batch not clustered")
	}
}

// Run rebuilds identities from the newest stored events, then clusters
// new ones once per window until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	warmed, err := w.warm(ctx)
	if err != nil {
		w.log.Warn().Err(err).Msg("rebuild identities from stored events failed; starting empty")
	}
	tick := time.NewTicker(w.cfg.Window)
	defer tick.Stop()
	var pending []Input
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-w.queue:
			// Events stored while the rebuild read them arrive again.
			if warmed != nil {
				batch = slices.DeleteFunc(slices.Clone(batch), func(se *apiv1.StoredEvent) bool {
					_, seen := warmed[se.GetEvent().GetId()]
					return seen
				})
			}
			pending = append(pending, w.inputs(ctx, batch)...)
		case <-tick.C:
			if len(pending) == 0 {
				continue
			}
			if err := w.engine.Observe(pending); err != nil {
				w.log.Warn().Err(err).Msg("publish identity changes failed")
			}
			pending = nil
			// By the first window the queue holds nothing the rebuild
			// read.
			warmed = nil
		}
	}
}

// warm clusters the newest stored events, oldest first, without
// publishing, and returns their ids.
func (w *Worker) warm(ctx context.Context) (map[string]struct{}, error) {
	limit := w.cfg.WarmEvents
	if limit == 0 {
		limit = DefaultMaxInputs
	}
	if limit < 0 {
		return nil, nil
	}
	var stored []*apiv1.StoredEvent
	token := ""
	for len(stored) < limit {
		page, err := w.cfg.Store.ListEvents(ctx, store.EventQuery{PageSize: min(store.MaxPageSize, limit-len(stored)), PageToken: token})
		if err != nil {
			return nil, err
		}
		stored = append(stored, page.Items...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if len(stored) == 0 {
		return nil, nil
	}
	slices.Reverse(stored)
	ids := make(map[string]struct{}, len(stored))
	for _, se := range stored {
		ids[se.GetEvent().GetId()] = struct{}{}
	}
	inputs := w.inputs(ctx, stored)
	w.mu.Lock()
	w.muted = true
	w.mu.Unlock()
	err := w.engine.Observe(inputs)
	w.mu.Lock()
	w.muted = false
	w.mu.Unlock()
	w.log.Info().Int("events", len(stored)).Msg("identities rebuilt from stored events")
	return ids, err
}

// Flush clusters what is queued now, for tests and shutdown.
func (w *Worker) Flush(ctx context.Context) error {
	var pending []Input
	for {
		select {
		case batch := <-w.queue:
			pending = append(pending, w.inputs(ctx, batch)...)
		default:
			if len(pending) == 0 {
				return nil
			}
			return w.engine.Observe(pending)
		}
	}
}

// inputs turns stored events into clusterer inputs, putting back the
// recordings the store keeps apart, and notes each session's attacker.
func (w *Worker) inputs(ctx context.Context, batch []*apiv1.StoredEvent) []Input {
	out := make([]Input, 0, len(batch))
	w.mu.Lock()
	for _, se := range batch {
		if a, s := se.GetAttackerId(), se.GetEvent().GetSessionId(); a != "" && s != "" {
			if w.sessions[a] == nil {
				w.sessions[a] = map[string]struct{}{}
			}
			w.sessions[a][s] = struct{}{}
			w.attackerOf[s] = a
		}
	}
	w.mu.Unlock()
	for _, se := range batch {
		ev := se.GetEvent()
		if rec := ev.GetSessionRecorded(); rec != nil && len(rec.GetCast()) == 0 {
			if _, cast, err := w.cfg.Store.GetRecording(ctx, ev.GetSessionId()); err == nil {
				ev = proto.Clone(ev).(*eventv1.Event)
				ev.GetSessionRecorded().Cast = cast
			}
		}
		out = append(out, inputOf(ev))
	}
	return out
}

// inputOf is the clusterer's input for ev, with the client fingerprints
// of a client.fingerprinted event in Proposed.
func inputOf(ev *eventv1.Event) Input {
	in := Input{Event: ev}
	if fp := ev.GetClientFingerprinted(); fp != nil {
		in.Proposed = ProposedFields{SSHClientVersion: fp.GetSshClientVersion(), HASSH: fp.GetHassh(), JA4: fp.GetJa4()}
	}
	return in
}

// Publish turns an engine change into a notice. The engine calls it with
// its lock held.
func (w *Worker) Publish(subject string, ch *Change) error {
	w.mu.Lock()
	attacker := w.attackerOf[ch.ObservationKey]
	muted := w.muted
	w.mu.Unlock()
	if muted {
		return nil
	}
	n := &apiv1.Notice{
		Id: uuid.Must(uuid.NewV7()).String(), Subject: subject, Time: timestamppb.New(w.cfg.Now()), AttackerId: attacker,
		Summary: subject + " " + ch.IdentityID,
		Detail: &apiv1.Notice_Identity{Identity: &apiv1.IdentityChange{
			IdentityId: ch.IdentityID, OtherId: ch.OtherID, SessionId: ch.ObservationKey, SourceAddress: ch.SourceAddress,
		}},
	}
	return w.cfg.Notices.Publish(subject, n)
}

// AttackerIdentity returns the identity of an attacker's sessions.
//
// The worker's lock is never held while calling the engine: the engine
// calls Publish, which takes it, with its own lock held.
func (w *Worker) AttackerIdentity(attackerID string) (*apiv1.AttackerIdentity, bool) {
	w.mu.Lock()
	var sessions []string
	for s := range w.sessions[attackerID] {
		sessions = append(sessions, s)
	}
	w.mu.Unlock()
	var id string
	for _, s := range sessions {
		if id = w.engine.IdentityOf(s); id != "" {
			break
		}
	}
	if id == "" {
		return nil, false
	}
	return w.describe(id), true
}

// Identity returns an identity by id, resolving a merged one to its
// winner, and the id asked for when it was merged.
func (w *Worker) Identity(id string) (*apiv1.AttackerIdentity, string, bool) {
	live := w.engine.Resolve(id)
	if live == "" {
		return nil, "", false
	}
	mergedFrom := ""
	if live != id {
		mergedFrom = id
	}
	return w.describe(live), mergedFrom, true
}

// describe lists the attackers and sessions of a live identity.
func (w *Worker) describe(id string) *apiv1.AttackerIdentity {
	out := &apiv1.AttackerIdentity{Id: id}
	if rec, ok := w.engine.Identity(id); ok {
		out.Created = timestamppb.New(rec.Created)
	}
	w.mu.Lock()
	snapshot := make(map[string][]string, len(w.sessions))
	for attacker, sessions := range w.sessions {
		for s := range sessions {
			snapshot[attacker] = append(snapshot[attacker], s)
		}
	}
	w.mu.Unlock()
	for attacker, sessions := range snapshot {
		member := false
		for _, s := range sessions {
			if w.engine.IdentityOf(s) == id {
				member = true
				out.Sessions++
			}
		}
		if member {
			out.AttackerIds = append(out.AttackerIds, attacker)
		}
	}
	slices.Sort(out.AttackerIds)
	return out
}
