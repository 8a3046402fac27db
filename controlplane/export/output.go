package export

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/subject"
)

// Delivery defaults. They follow the ingest batch of 100 events or
// 250 ms, so an output keeps pace with one ingest batch per send.
const (
	// defaultQueue holds about ten ingest batches: enough to ride out a
	// short SIEM restart, small enough to bound memory per output.
	defaultQueue = 4096
	// defaultBatchSize matches the ingest batch.
	defaultBatchSize = 100
	// defaultBatchDelay matches the ingest flush interval.
	defaultBatchDelay = 250 * time.Millisecond
	// defaultMaxAttempts gives up on a batch after about a minute of
	// backoff, after which the queue would be full anyway.
	defaultMaxAttempts = 8
	// backoffBase and backoffCap bound the delay between attempts.
	backoffBase = 500 * time.Millisecond
	backoffCap  = 30 * time.Second
)

// OutputConfig configures one output. Exactly one of Syslog, Lines,
// Splunk and Elastic is set.
type OutputConfig struct {
	// Name labels the output in metrics and logs.
	Name string
	// Topics are NATS-style patterns over record topics ("event.<kind>"
	// for events, the subject for notices); empty means everything.
	Topics []string

	Syslog  *SyslogConfig
	Lines   *LinesConfig
	Splunk  *SplunkConfig
	Elastic *ElasticConfig

	// QueueSize bounds the records waiting for delivery.
	QueueSize int
	// BatchSize and BatchDelay close a batch: whichever comes first.
	BatchSize  int
	BatchDelay time.Duration
	// MaxAttempts bounds the sends of one batch, the first included.
	MaxAttempts int
	// ApplySuppression drops records that a suppression rule covering
	// every webhook matches, as webhooks drop them. Off by default: a
	// SIEM usually wants everything, including what alerting silences.
	ApplySuppression bool
}

// sender sends batches to one destination. Send is called from a single
// goroutine.
type sender interface {
	// Send delivers batch. On error it returns the records worth another
	// attempt (nil when none is); the others were delivered or rejected
	// for good.
	Send(ctx context.Context, batch []Record) (retry []Record, err error)
	Close() error
}

// Stats are an output's counters since it was built, and its state now.
type Stats struct {
	// Delivered records were accepted by the destination.
	Delivered uint64
	// Dropped records found the queue full.
	Dropped uint64
	// Failed records were rejected for good or ran out of attempts.
	Failed uint64
	// Suppressed records matched a suppression rule and were not queued.
	Suppressed uint64
	// Queued records wait for delivery now.
	Queued int
	// LastError describes the latest failed send, retried or not; empty
	// when no send failed. LastErrorAt is when it happened and
	// LastDeliveredAt when the destination last accepted a batch, so a
	// reader can tell whether the output has recovered since.
	LastError       string
	LastErrorAt     time.Time
	LastDeliveredAt time.Time
}

// maxLastError bounds the stored error text. Part of it may come from
// the destination's response, which DECNET does not control.
const maxLastError = 512

// Output is one destination with its filter, queue and delivery loop.
type Output struct {
	cfg     OutputConfig
	sink    sender
	clock   Clock
	queue   chan Record
	metrics *metrics
	log     zerolog.Logger

	delivered, dropped, failed, suppressed atomic.Uint64

	// sending holds the one token that allows a call to the sink, whose
	// Send is not safe for concurrent use: the delivery loop and test
	// sends take turns.
	sending chan struct{}

	// mu guards the outcome times and text below.
	mu              sync.Mutex
	lastError       string
	lastErrorAt     time.Time
	lastDeliveredAt time.Time

	// failedRun counts batches given up on since the last success; only
	// the delivery goroutine touches it.
	failedRun int
}

func newOutput(oc OutputConfig, cfg Config, m *metrics, log zerolog.Logger) (*Output, error) {
	if oc.Name == "" {
		return nil, errors.New("output: name is required")
	}
	for _, p := range oc.Topics {
		if err := subject.ValidatePattern(p); err != nil {
			return nil, fmt.Errorf("output %q: %w", oc.Name, err)
		}
	}
	sink, err := newSink(oc, cfg)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", oc.Name, err)
	}
	return newOutputWithSink(oc, sink, cfg.Clock, m, log), nil
}

// newSink builds the one sink oc names.
func newSink(oc OutputConfig, cfg Config) (sender, error) {
	set := 0
	for _, b := range []bool{oc.Syslog != nil, oc.Lines != nil, oc.Splunk != nil, oc.Elastic != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("exactly one of syslog, lines, splunk and elastic must be set")
	}
	f := formatter{product: cfg.Product, version: cfg.Version}
	switch {
	case oc.Syslog != nil:
		return newSyslogSink(*oc.Syslog, cfg.Guard, f)
	case oc.Lines != nil:
		return newLinesSink(*oc.Lines, cfg.Guard, f)
	case oc.Splunk != nil:
		return newSplunkSink(*oc.Splunk, cfg.Guard, f)
	default:
		return newElasticSink(*oc.Elastic, cfg.Guard, f)
	}
}

// newOutputWithSink wraps a sink in a filter, queue and delivery loop.
// oc's sink fields are ignored. m may be nil; clock nil means the wall
// clock.
func newOutputWithSink(oc OutputConfig, sink sender, clock Clock, m *metrics, log zerolog.Logger) *Output {
	if clock == nil {
		clock = realClock{}
	}
	if oc.QueueSize <= 0 {
		oc.QueueSize = defaultQueue
	}
	if oc.BatchSize <= 0 {
		oc.BatchSize = defaultBatchSize
	}
	if oc.BatchDelay <= 0 {
		oc.BatchDelay = defaultBatchDelay
	}
	if oc.MaxAttempts <= 0 {
		oc.MaxAttempts = defaultMaxAttempts
	}
	sending := make(chan struct{}, 1)
	sending <- struct{}{}
	return &Output{
		cfg:     oc,
		sink:    sink,
		clock:   clock,
		queue:   make(chan Record, oc.QueueSize),
		metrics: m,
		log:     log.With().Str(logKeyOutput, oc.Name).Logger(),
		sending: sending,
	}
}

// Name is the output's configured name.
func (o *Output) Name() string { return o.cfg.Name }

// Config returns the output's configuration with the delivery defaults
// filled in. It holds the output's secrets: callers that show it must
// leave them out.
func (o *Output) Config() OutputConfig { return o.cfg }

// Stats returns the output's counters and state.
func (o *Output) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return Stats{
		Delivered: o.delivered.Load(), Dropped: o.dropped.Load(), Failed: o.failed.Load(), Suppressed: o.suppressed.Load(),
		Queued:    len(o.queue),
		LastError: o.lastError, LastErrorAt: o.lastErrorAt, LastDeliveredAt: o.lastDeliveredAt,
	}
}

// Matches reports whether the output's filter selects topic.
func (o *Output) Matches(topic string) bool {
	if len(o.cfg.Topics) == 0 {
		return true
	}
	for _, p := range o.cfg.Topics {
		if subject.Match(p, topic) {
			return true
		}
	}
	return false
}

// accepts reports whether r has a valid topic the filter selects.
func (o *Output) accepts(r Record) bool {
	return subject.Validate(r.Topic) == nil && o.Matches(r.Topic)
}

// Offer queues r when the filter selects it. It never blocks: a full
// queue drops r and counts it. Suppression is the Exporter's to apply.
func (o *Output) Offer(r Record) {
	if o.accepts(r) {
		o.enqueue(r)
	}
}

// suppress counts a record a suppression rule kept from the queue.
func (o *Output) suppress() {
	o.suppressed.Add(1)
	o.metrics.add(o.cfg.Name, outcomeSuppressed, 1)
}

func (o *Output) enqueue(r Record) {
	select {
	case o.queue <- r:
	default:
		o.dropped.Add(1)
		o.metrics.add(o.cfg.Name, outcomeDropped, 1)
	}
}

// Run delivers queued records until ctx ends, then closes the sink.
// Exporter.Run calls it; callers of Exporter must not call it again.
func (o *Output) Run(ctx context.Context) error {
	defer func() {
		if err := o.sink.Close(); err != nil {
			o.log.Debug().Err(err).Msg("close sink failed")
		}
	}()

	batch := make([]Record, 0, o.cfg.BatchSize)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return nil
		case r := <-o.queue:
			batch = append(batch, r)
		}
		batch = o.fill(ctx, batch)
		o.deliver(ctx, batch)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// fill adds queued records to batch until it is full or the batch delay,
// counted from its first record, has passed.
func (o *Output) fill(ctx context.Context, batch []Record) []Record {
	if len(batch) >= o.cfg.BatchSize {
		return batch
	}
	deadline := o.clock.After(o.cfg.BatchDelay)
	for len(batch) < o.cfg.BatchSize {
		// Records already waiting join the batch even when the delay
		// has passed, so a backlog drains in full batches.
		select {
		case r := <-o.queue:
			batch = append(batch, r)
			continue
		default:
		}
		select {
		case r := <-o.queue:
			batch = append(batch, r)
		case <-deadline:
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}

// deliver sends batch, retrying what the sink hands back with backoff,
// and counts each record once.
func (o *Output) deliver(ctx context.Context, batch []Record) {
	pending := batch
	for attempt := 1; ; attempt++ {
		retry, err := o.send(ctx, pending)
		if err == nil {
			o.count(outcomeDelivered, len(pending))
			o.logSuccess()
			return
		}
		if ctx.Err() == nil {
			o.noteError(err)
		}

		// Records neither handed back for retry nor reported in a
		// rejectedError were delivered, so the counters stay exact.
		rejected := 0
		var re *rejectedError
		if errors.As(err, &re) {
			rejected = re.Count
		}
		o.count(outcomeFailed, rejected)
		o.count(outcomeDelivered, len(pending)-len(retry)-rejected)

		if len(retry) == 0 {
			o.logFailure(attempt, len(pending), err)
			return
		}
		if ctx.Err() != nil {
			// Shutting down: the batch is lost, which is not news.
			o.count(outcomeFailed, len(retry))
			return
		}
		if attempt >= o.cfg.MaxAttempts {
			o.logFailure(attempt, len(retry), err)
			o.count(outcomeFailed, len(retry))
			return
		}
		o.log.Debug().Err(err).Int(logKeyAttempt, attempt).Int(logKeyRecords, len(retry)).Msg("send failed, retrying")

		select {
		case <-ctx.Done():
			o.count(outcomeFailed, len(retry))
			return
		case <-o.clock.After(backoff(attempt)):
		}
		pending = retry
	}
}

// send hands batch to the sink once it is the caller's turn, and notes
// a success.
func (o *Output) send(ctx context.Context, batch []Record) ([]Record, error) {
	select {
	case <-o.sending:
	case <-ctx.Done():
		return batch, ctx.Err()
	}
	retry, err := o.sink.Send(ctx, batch)
	o.sending <- struct{}{}
	if err == nil {
		o.mu.Lock()
		o.lastDeliveredAt = o.clock.Now()
		o.mu.Unlock()
	}
	return retry, err
}

// noteError keeps err as the latest failure.
func (o *Output) noteError(err error) {
	msg := ErrorText(err)
	o.mu.Lock()
	o.lastError, o.lastErrorAt = msg, o.clock.Now()
	o.mu.Unlock()
}

// ErrorText is err cut to maxLastError bytes of valid UTF-8, so it
// always fits in an API response. Sinks keep secrets out of their
// errors: URLs lose their query and credentials travel only in headers.
func ErrorText(err error) string {
	msg := strings.ToValidUTF8(err.Error(), "?")
	if len(msg) > maxLastError {
		cut := maxLastError
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// Test sends r to the destination at once, bypassing the filter, the
// queue and the retries, and returns the destination's verdict. It waits
// for a batch in flight to finish first. Its outcome is not counted in
// Stats, which describe the records the output exports.
func (o *Output) Test(ctx context.Context, r Record) error {
	select {
	case <-o.sending:
	case <-ctx.Done():
		return fmt.Errorf("test output %q: %w", o.cfg.Name, ctx.Err())
	}
	defer func() { o.sending <- struct{}{} }()
	if _, err := o.sink.Send(ctx, []Record{r}); err != nil {
		return fmt.Errorf("test output %q: %w", o.cfg.Name, err)
	}
	return nil
}

// logEvery is how often a run of failed batches is logged at warn
// level: the first, then every logEvery-th, the rest at debug, so a SIEM
// that is down for an hour does not flood the log.
const logEvery = 100

// logFailure logs a batch that was given up on.
func (o *Output) logFailure(attempt, n int, err error) {
	o.failedRun++
	level := zerolog.DebugLevel
	if o.failedRun == 1 || o.failedRun%logEvery == 0 {
		level = zerolog.WarnLevel
	}
	o.log.WithLevel(level).Err(err).Int(logKeyAttempt, attempt).Int(logKeyRecords, n).Int(logKeyFailedBatches, o.failedRun).Msg("send failed")
}

// logSuccess ends a run of failures.
func (o *Output) logSuccess() {
	if o.failedRun > 0 {
		o.log.Info().Int(logKeyFailedBatches, o.failedRun).Msg("send recovered")
		o.failedRun = 0
	}
}

func (o *Output) count(outcome string, n int) {
	if n <= 0 {
		return
	}
	switch outcome {
	case outcomeDelivered:
		o.delivered.Add(uint64(n))
	case outcomeFailed:
		o.failed.Add(uint64(n))
	}
	o.metrics.add(o.cfg.Name, outcome, n)
}

// rejectedError tells the delivery loop how many records of a
// batch the destination rejected for good, so they are counted as failed
// rather than delivered.
type rejectedError struct {
	Count int
	Err   error
}

func (e *rejectedError) Error() string {
	return fmt.Sprintf("%d records rejected: %v", e.Count, e.Err)
}

func (e *rejectedError) Unwrap() error { return e.Err }

// backoff is the delay before attempt+1: exponential from backoffBase,
// capped, with full jitter so outputs that failed together do not retry
// together.
func backoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 16 {
		d = min(backoffBase<<(attempt-1), backoffCap)
	}
	return d/2 + rand.N(d/2+1) //nolint:gosec // G404: retry jitter, not a secret
}

// retryAll is the retry set of a sink that failed without delivering
// anything, for errors worth another attempt.
func retryAll(batch []Record, err error) ([]Record, error) {
	return batch, err
}

// rejectAll reports a batch the destination will never accept.
func rejectAll(batch []Record, err error) ([]Record, error) {
	return nil, &rejectedError{Count: len(batch), Err: err}
}
