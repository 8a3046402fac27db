package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/attack"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// SubjectTechnique is the notice published the first time an attacker's
// events match an ATT&CK technique.
const SubjectTechnique = "attack.technique.detected"

// techniqueQueue bounds the batches waiting for the tagger.
const techniqueQueue = 1024

// techniqueTagger tags stored events with ATT&CK techniques on its own
// goroutine and keeps, per attacker, which techniques matched.
type techniqueTagger struct {
	tagger  *attack.Tagger
	docs    store.Store
	notices *topics.Publisher[*apiv1.Notice]
	queue   chan []*apiv1.StoredEvent
	dropped prometheus.Counter
	log     zerolog.Logger
	now     func() time.Time
	// rulesPath is a rules file reloaded when it changes; empty keeps the
	// embedded default rules.
	rulesPath string
}

func newTechniqueTagger(docs store.Store, notices *topics.Publisher[*apiv1.Notice], rulesPath string, reg prometheus.Registerer, log zerolog.Logger, now func() time.Time) (*techniqueTagger, error) {
	t := &techniqueTagger{
		tagger: attack.NewTagger(attack.Default(), now), docs: docs, notices: notices,
		queue: make(chan []*apiv1.StoredEvent, techniqueQueue), log: log.With().Str("component", "attack").Logger(),
		now: now, rulesPath: rulesPath,
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "decnet_attack_batches_dropped_total",
			Help: "Batches of stored events not tagged with ATT&CK techniques because the tagger was behind.",
		}),
	}
	if reg != nil {
		if err := reg.Register(t.dropped); err != nil {
			return nil, fmt.Errorf("register attack metrics: %w", err)
		}
	}
	return t, nil
}

// Observe queues a stored batch; it never blocks.
func (t *techniqueTagger) Observe(stored []*apiv1.StoredEvent) {
	select {
	case t.queue <- stored:
	default:
		t.dropped.Inc()
	}
}

// Run tags queued batches and reloads the rules file until ctx ends.
func (t *techniqueTagger) Run(ctx context.Context) error {
	if t.rulesPath != "" {
		go func() {
			_ = attack.Watch(ctx, t.rulesPath, func(rs *attack.RuleSet, err error) {
				if err != nil {
					t.log.Error().Err(err).Str("path", t.rulesPath).Msg("ATT&CK rules file rejected; the previous rules stay in force")
					return
				}
				if rs != nil {
					t.tagger.SetRules(rs)
					t.log.Info().Str("path", t.rulesPath).Int("rules", rs.Len()).Msg("ATT&CK rules loaded")
				}
			})
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-t.queue:
			if err := t.process(ctx, batch); err != nil && ctx.Err() == nil {
				t.log.Error().Err(err).Msg("record ATT&CK techniques failed")
			}
		}
	}
}

type attackerTechnique struct{ attacker, technique string }

func (t *techniqueTagger) process(ctx context.Context, batch []*apiv1.StoredEvent) error {
	found := map[attackerTechnique]*attack.StoredTechnique{}
	for _, se := range batch {
		if se.GetAttackerId() == "" {
			continue
		}
		at := se.GetEvent().GetTime().AsTime()
		for _, tag := range t.tagger.Observe(se.GetAttackerId(), se.GetEvent()) {
			k := attackerTechnique{se.GetAttackerId(), tag.TechniqueID}
			st := found[k]
			if st == nil {
				st = &attack.StoredTechnique{Tag: tag, First: at, Last: at}
				found[k] = st
			}
			st.Count++
			if at.Before(st.First) {
				st.First = at
			}
			if at.After(st.Last) {
				st.Last = at
			}
		}
	}
	var errs []error
	for k, st := range found {
		id := k.attacker + "/" + k.technique
		old, err := t.docs.GetDocument(ctx, attack.DocumentKind, id)
		isNew := errors.Is(err, store.ErrNotFound)
		if err != nil && !isNew {
			errs = append(errs, err)
			continue
		}
		if !isNew {
			var prev attack.StoredTechnique
			if err := json.Unmarshal(old.Data, &prev); err == nil {
				st.Tag, st.Count = prev.Tag, st.Count+prev.Count
				if prev.First.Before(st.First) {
					st.First = prev.First
				}
				if prev.Last.After(st.Last) {
					st.Last = prev.Last
				}
			}
		}
		data, err := json.Marshal(st)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := t.docs.PutDocument(ctx, store.Document{Kind: attack.DocumentKind, ID: id, Group: k.attacker, At: st.Last, Data: data}); err != nil {
			errs = append(errs, err)
			continue
		}
		if isNew {
			t.publish(k.attacker, st)
		}
	}
	return errors.Join(errs...)
}

func (t *techniqueTagger) publish(attackerID string, st *attack.StoredTechnique) {
	n := &apiv1.Notice{
		Id: uuid.Must(uuid.NewV7()).String(), Subject: SubjectTechnique, Time: timestamppb.New(t.now()), AttackerId: attackerID,
		Summary: fmt.Sprintf("attacker matched %s %s (%s)", st.TechniqueID, st.TechniqueName, st.Tactic),
	}
	if err := t.notices.Publish(n.GetSubject(), n); err != nil {
		t.log.Warn().Err(err).Msg("publish technique notice failed")
	}
}
