// Package export delivers stored events and notices to security
// information and event management systems: RFC 5424 syslog over TCP or
// TLS with a JSON or CEF body, newline-delimited ECS JSON or CEF lines to
// a rotated file or a TCP sink, Splunk HTTP Event Collector, and the
// Elasticsearch bulk API.
//
// Every output has its own topic filter, bounded queue, batching and
// retry loop. Offering a record never blocks: a full queue drops the
// record and counts it, so a slow or dead SIEM cannot slow ingest.
package export

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/netguard"
)

// Log field keys, kept constant so log queries stay stable.
const (
	logKeyComponent = "component"
	logKeyOutput    = "output"
	logKeyAttempt   = "attempt"
	logKeyRecords   = "records"
	// logKeyFailedBatches counts batches given up on in a row.
	logKeyFailedBatches = "failed_batches"
)

// resubscribeDelay spaces re-subscriptions after the broker dropped the
// exporter for falling behind, so a stuck output cannot spin the loop.
const resubscribeDelay = time.Second

// Config configures an Exporter.
type Config struct {
	// Outputs to deliver to; names must be unique.
	Outputs []OutputConfig
	// Events is the live feed of stored events; nil exports no events.
	Events fanout.Broker
	// EventBuffer is the subscription buffer on Events; non-positive
	// means fanout.DefaultBuffer.
	EventBuffer int
	// Notices publishes control-plane notices; nil exports no notices.
	Notices *topics.Publisher[*apiv1.Notice]
	// Guard checks and pins every outbound connection. Required when an
	// output dials out; SIEMs usually sit in private ranges, so the
	// operator lists them in Guard.Allow.
	Guard *netguard.Guard
	// Product and Version describe this DECNET build in CEF headers and
	// ECS observer fields.
	Product string
	Version string
	Logger  zerolog.Logger
	// Registerer receives the per-output counters; nil registers none.
	Registerer prometheus.Registerer
	// Clock drives batching and backoff; nil means the wall clock.
	Clock Clock
	// Suppressor holds the operator's suppression rules. Required when
	// an output sets ApplySuppression.
	Suppressor Suppressor
}

// Exporter feeds records from the broker and the notice publisher to
// its outputs.
type Exporter struct {
	cfg     Config
	outputs []*Output
	log     zerolog.Logger
}

// New validates cfg and builds every output; nothing connects until Run.
func New(cfg Config) (*Exporter, error) {
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Product == "" {
		cfg.Product = defaultProduct
	}
	if cfg.Version == "" {
		cfg.Version = "unknown"
	}
	log := cfg.Logger.With().Str(logKeyComponent, "export").Logger()

	metrics, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new exporter: %w", err)
	}
	seen := map[string]bool{}
	outputs := make([]*Output, 0, len(cfg.Outputs))
	for i := range cfg.Outputs {
		oc := cfg.Outputs[i]
		if seen[oc.Name] {
			return nil, fmt.Errorf("new exporter: output %q: %w", oc.Name, ErrDuplicateName)
		}
		if oc.ApplySuppression && cfg.Suppressor == nil {
			return nil, fmt.Errorf("new exporter: output %q: apply_suppression set but no suppression rules are available", oc.Name)
		}
		seen[oc.Name] = true
		out, err := newOutput(oc, cfg, metrics, log)
		if err != nil {
			return nil, fmt.Errorf("new exporter: %w", err)
		}
		outputs = append(outputs, out)
	}
	return &Exporter{cfg: cfg, outputs: outputs, log: log}, nil
}

// ErrDuplicateName is returned by New when two outputs share a name.
var ErrDuplicateName = errors.New("duplicate output name")

// Outputs returns the configured outputs, for their counters.
func (e *Exporter) Outputs() []*Output { return e.outputs }

// Output returns the output called name.
func (e *Exporter) Output(name string) (*Output, bool) {
	for _, o := range e.outputs {
		if o.cfg.Name == name {
			return o, true
		}
	}
	return nil, false
}

// ErrNoOutput is returned by Test for a name no output has.
var ErrNoOutput = errors.New("no such export output")

// SubjectTest is the subject of the notice Test sends.
const SubjectTest = "export.test"

// testTimeout bounds one test send, connection included, so the caller
// learns about an unreachable destination within a request's time.
const testTimeout = 20 * time.Second

// Test sends one synthetic SubjectTest notice to the output called name,
// whatever its topic filter, and returns the destination's verdict.
func (e *Exporter) Test(ctx context.Context, name string) error {
	o, ok := e.Output(name)
	if !ok {
		return fmt.Errorf("test output %q: %w", name, ErrNoOutput)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("test output %q: %w", name, err)
	}
	n := &apiv1.Notice{
		Id:      id.String(),
		Subject: SubjectTest,
		Time:    timestamppb.New(e.cfg.Clock.Now()),
		Summary: "DECNET export test for output " + name,
	}
	r, _ := NoticeRecord(n)
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	return o.Test(ctx, r)
}

// Offer hands a record to every output whose filter matches its topic,
// except to outputs that apply suppression when a rule matches it. It
// never blocks.
func (e *Exporter) Offer(r Record) {
	checked, suppressed := false, false
	for _, o := range e.outputs {
		if !o.accepts(r) {
			continue
		}
		if o.cfg.ApplySuppression {
			// The rules are read once per record, and only when an
			// output applies them.
			if !checked {
				suppressed, checked = e.suppressed(r), true
			}
			if suppressed {
				o.suppress()
				continue
			}
		}
		o.enqueue(r)
	}
}

func (e *Exporter) suppressed(r Record) bool {
	if r.Notice != nil {
		return e.cfg.Suppressor.SuppressesNotice(r.Notice)
	}
	return e.cfg.Suppressor.SuppressesEvent(r.Event)
}

// OfferEvents offers stored events as "event.<kind>" records.
func (e *Exporter) OfferEvents(evs []*apiv1.StoredEvent) {
	for _, se := range evs {
		if r, ok := EventRecord(se); ok {
			e.Offer(r)
		}
	}
}

// Run subscribes to the configured sources and delivers until ctx ends.
func (e *Exporter) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, o := range e.outputs {
		g.Go(func() error { return o.Run(ctx) })
	}

	if e.cfg.Notices != nil {
		unsubscribe, err := e.cfg.Notices.Subscribe(">", func(_ string, n *apiv1.Notice) {
			if r, ok := NoticeRecord(n); ok {
				e.Offer(r)
			}
		})
		if err != nil {
			return fmt.Errorf("run exporter: %w", err)
		}
		defer unsubscribe()
	}
	if e.cfg.Events != nil {
		g.Go(func() error { return e.pumpEvents(ctx) })
	}

	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// pumpEvents moves broker events to the outputs. The broker closes a
// subscription that falls behind; the exporter then subscribes again and
// counts the gap as lost rather than replaying it, since outputs are a
// best-effort copy of what the store keeps.
func (e *Exporter) pumpEvents(ctx context.Context) error {
	for {
		ch, cancel := e.cfg.Events.Subscribe(e.cfg.EventBuffer)
		e.drain(ctx, ch)
		cancel()
		select {
		case <-ctx.Done():
			return nil
		default:
		}
		e.log.Warn().Msg("event subscription dropped, resubscribing")
		select {
		case <-ctx.Done():
			return nil
		case <-e.cfg.Clock.After(resubscribeDelay):
		}
	}
}

// drain returns ctx.Err() when ctx ends and nil when ch was closed.
func (e *Exporter) drain(ctx context.Context, ch <-chan *apiv1.StoredEvent) {
	for {
		select {
		case <-ctx.Done():
			return
		case se, ok := <-ch:
			if !ok {
				return
			}
			if r, ok := EventRecord(se); ok {
				e.Offer(r)
			}
		}
	}
}

// EventTopicPrefix starts the topic of every exported event; the rest is
// the event kind.
const EventTopicPrefix = "event."

// Record is one item to export: a stored event or a notice.
type Record struct {
	// Topic is "event.<kind>" for events and the subject for notices;
	// output filters match it.
	Topic  string
	Event  *apiv1.StoredEvent
	Notice *apiv1.Notice
}

// EventRecord wraps a stored event; false when it has no event or kind.
func EventRecord(se *apiv1.StoredEvent) (Record, bool) {
	kind := se.GetEvent().GetKind()
	if kind == "" || strings.ContainsAny(kind, " \t\r\n") {
		return Record{}, false
	}
	return Record{Topic: EventTopicPrefix + kind, Event: se}, true
}

// NoticeRecord wraps a notice; false when it has no subject.
func NoticeRecord(n *apiv1.Notice) (Record, bool) {
	if n.GetSubject() == "" {
		return Record{}, false
	}
	return Record{Topic: n.GetSubject(), Notice: n}, true
}

// ID is the event or notice id.
func (r Record) ID() string {
	if r.Notice != nil {
		return r.Notice.GetId()
	}
	return r.Event.GetEvent().GetId()
}

// Time is when the event happened or the notice was raised.
func (r Record) Time() time.Time {
	if r.Notice != nil {
		return r.Notice.GetTime().AsTime()
	}
	return r.Event.GetEvent().GetTime().AsTime()
}
