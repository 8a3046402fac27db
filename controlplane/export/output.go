package export

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

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

// Stats are an output's counters since it was built.
type Stats struct {
	// Delivered records were accepted by the destination.
	Delivered uint64
	// Dropped records found the queue full.
	Dropped uint64
	// Failed records were rejected for good or ran out of attempts.
	Failed uint64
}

// Output is one destination with its filter, queue and delivery loop.
type Output struct {
	cfg     OutputConfig
	sink    sender
	clock   Clock
	queue   chan Record
	metrics *metrics
	log     zerolog.Logger

	delivered, dropped, failed atomic.Uint64

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
	return &Output{
		cfg:     oc,
		sink:    sink,
		clock:   clock,
		queue:   make(chan Record, oc.QueueSize),
		metrics: m,
		log:     log.With().Str(logKeyOutput, oc.Name).Logger(),
	}
}

// Name is the output's configured name.
func (o *Output) Name() string { return o.cfg.Name }

// Stats returns the output's counters.
func (o *Output) Stats() Stats {
	return Stats{Delivered: o.delivered.Load(), Dropped: o.dropped.Load(), Failed: o.failed.Load()}
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

// Offer queues r when the filter selects it. It never blocks: a full
// queue drops r and counts it.
func (o *Output) Offer(r Record) {
	if subject.Validate(r.Topic) != nil || !o.Matches(r.Topic) {
		return
	}
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
		retry, err := o.sink.Send(ctx, pending)
		if err == nil {
			o.count(outcomeDelivered, len(pending))
			o.logSuccess()
			return
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
