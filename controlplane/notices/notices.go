// Package notices turns stored events into notices, the messages webhooks
// and exports deliver: credential.captured for every authentication
// attempt and credential.reuse.detected when one credential reaches a
// second decky or service. Notices are published in process on
// NATS-style subjects; each replica publishes those of the events it
// ingested, so replicas never deliver one notice twice.
package notices

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Subjects of the notices this package publishes.
//
//nolint:gosec // G101: subject names that mention credentials, not credentials
const (
	SubjectCredentialCaptured = "credential.captured"
	SubjectCredentialReuse    = "credential.reuse.detected"
)

// queueBatches bounds the batches waiting for the worker. A full queue
// drops the batch's notices, never its events, and counts them.
const queueBatches = 1024

// lookupTimeout bounds the reuse query of one batch.
const lookupTimeout = 10 * time.Second

// Config configures a Notifier.
type Config struct {
	Store      store.Store
	Publisher  *topics.Publisher[*apiv1.Notice]
	Logger     zerolog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Notifier derives notices from stored batches on its own goroutine, so
// the ingest path never waits for it.
type Notifier struct {
	cfg     Config
	queue   chan []*apiv1.StoredEvent
	dropped prometheus.Counter
	log     zerolog.Logger
}

// New returns a Notifier; call Run to start it.
func New(cfg Config) (*Notifier, error) {
	if cfg.Store == nil || cfg.Publisher == nil {
		return nil, fmt.Errorf("new notifier: store and publisher are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	n := &Notifier{
		cfg:   cfg,
		queue: make(chan []*apiv1.StoredEvent, queueBatches),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "decnet_notice_batches_dropped_total",
			Help: "Batches of stored events whose notices were dropped because the notifier was behind.",
		}),
		log: cfg.Logger.With().Str("component", "notices").Logger(),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(n.dropped); err != nil {
			return nil, fmt.Errorf("register notice metrics: %w", err)
		}
	}
	return n, nil
}

// Observe queues a stored batch. It never blocks.
func (n *Notifier) Observe(stored []*apiv1.StoredEvent) {
	select {
	case n.queue <- stored:
	default:
		n.dropped.Inc()
	}
}

// Run derives notices until ctx ends.
func (n *Notifier) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case batch := <-n.queue:
			n.process(ctx, batch)
		}
	}
}

// process publishes the notices of one batch.
func (n *Notifier) process(ctx context.Context, batch []*apiv1.StoredEvent) {
	var (
		keys   []store.CredentialKey
		seen   = map[store.CredentialKey]bool{}
		latest = map[store.CredentialKey]*apiv1.StoredEvent{}
		// inBatch counts the attempts of each key on each target in this
		// batch, to tell a target first reached in this batch.
		inBatch = map[reuseTarget]uint64{}
	)
	for _, se := range batch {
		auth := se.GetEvent().GetAuthAttempt()
		if auth == nil {
			continue
		}
		n.publish(n.captured(se))
		k := keyOf(se)
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		latest[k] = se
		inBatch[reuseTarget{key: k, decky: se.GetEvent().GetDecky(), service: se.GetEvent().GetService()}]++
	}
	if len(keys) == 0 {
		return
	}
	lookupCtx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	targets, err := n.cfg.Store.CredentialTargets(lookupCtx, keys)
	if err != nil {
		n.log.Error().Err(err).Int("keys", len(keys)).Msg("credential reuse lookup failed; this batch's reuse notices are lost")
		return
	}
	for _, k := range keys {
		ts := targets[k]
		if len(ts) < 2 {
			continue
		}
		// Reuse is news when this batch brought a target: one whose
		// every attempt is in this batch.
		isNew := false
		for _, t := range ts {
			if c := inBatch[reuseTarget{key: k, decky: t.GetDecky(), service: t.GetService()}]; c > 0 && c == t.GetAttempts() {
				isNew = true
			}
		}
		if isNew {
			n.publish(n.reuse(k, ts, latest[k]))
		}
	}
}

type reuseTarget struct {
	key            store.CredentialKey
	decky, service string
}

func keyOf(se *apiv1.StoredEvent) store.CredentialKey {
	auth := se.GetEvent().GetAuthAttempt()
	sum := auth.GetSecretSha256()
	if len(sum) == 0 {
		s := sha256.Sum256(auth.GetSecret())
		sum = s[:]
	}
	return store.CredentialKey{SHA256: string(sum), SecretKind: auth.GetSecretKind(), Principal: auth.GetPrincipal()}
}

// captured builds the credential.captured notice of one attempt. The
// secret value stays in the store: notices leave the control plane, so
// they carry the digest only.
func (n *Notifier) captured(se *apiv1.StoredEvent) *apiv1.Notice {
	ev := proto.Clone(se).(*apiv1.StoredEvent)
	auth := ev.GetEvent().GetAuthAttempt()
	auth.Secret = nil
	summary := fmt.Sprintf("%s tried %q by %s on %s/%s", ev.GetEvent().GetSource().GetAddress(), auth.GetPrincipal(),
		auth.GetMechanism(), ev.GetEvent().GetDecky(), ev.GetEvent().GetService())
	return n.notice(SubjectCredentialCaptured, ev.GetAttackerId(), summary, func(m *apiv1.Notice) {
		m.Detail = &apiv1.Notice_Event{Event: ev}
	})
}

func (n *Notifier) reuse(k store.CredentialKey, targets []*apiv1.CredentialTarget, latest *apiv1.StoredEvent) *apiv1.Notice {
	summary := fmt.Sprintf("credential for %q (%s) tried on %d targets", k.Principal, k.SecretKind, len(targets))
	return n.notice(SubjectCredentialReuse, latest.GetAttackerId(), summary, func(m *apiv1.Notice) {
		m.Detail = &apiv1.Notice_CredentialReuse{CredentialReuse: &apiv1.CredentialReuse{
			SecretSha256: []byte(k.SHA256), SecretKind: k.SecretKind, Principal: k.Principal, Targets: targets,
		}}
	})
}

func (n *Notifier) notice(subject, attackerID, summary string, detail func(*apiv1.Notice)) *apiv1.Notice {
	m := &apiv1.Notice{
		Id:         uuid.Must(uuid.NewV7()).String(),
		Subject:    subject,
		Time:       timestamppb.New(n.cfg.Now()),
		AttackerId: attackerID,
		Summary:    summary,
	}
	detail(m)
	return m
}

func (n *Notifier) publish(m *apiv1.Notice) {
	if err := n.cfg.Publisher.Publish(m.GetSubject(), m); err != nil {
		n.log.Error().Err(err).Str("subject", m.GetSubject()).Msg("publish notice failed")
	}
}
