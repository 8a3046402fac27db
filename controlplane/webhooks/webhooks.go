// Package webhooks delivers the control plane's notices to HTTP
// destinations: signed generic JSON, or messages shaped for Slack,
// Microsoft Teams, Discord and TheHive.
//
// Each subscription has its own worker and bounded queue. A notice that
// matches a subscription's subject patterns passes the suppression rules
// first. Notices about one attacker within a quiet period are grouped:
// the first goes out at once, the rest in one follow-up. Deliveries are
// rate limited and sent with retries behind a circuit breaker. Whatever
// cannot be delivered lands in the dead letters, from where an operator
// replays it, and every attempt is written to the delivery audit log.
//
// Destinations go through netguard. Refused ranges are rejected when a
// subscription is created and again on every connection, which is made
// to the checked address. Redirects are never followed.
//
// Signing secrets, Authorization values and URLs are sealed at rest with
// the caller's key, never logged, and returned only by the call that
// creates them.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/netguard"
)

// Defaults of Config.
const (
	// DefaultQuietPeriod groups a scan of a whole network, which takes a
	// few minutes, into one incident.
	DefaultQuietPeriod = 10 * time.Minute
	// DefaultQueueSize holds about an hour of notices at the default rate
	// limit before notices go to the dead letters.
	DefaultQueueSize = 256
	// DefaultMaxAttempts with the default backoff retries for about 20
	// minutes, long enough for a receiver restart or a short outage.
	DefaultMaxAttempts = 10
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = 5 * time.Minute
	// DefaultBreakerThreshold consecutive failed attempts open the
	// breaker: a dead receiver costs five requests, not one per notice.
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = time.Minute
	// DefaultRequestTimeout bounds one attempt, body included, and is
	// generous for chat services, which usually respond within a second.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultRateLimit is deliveries per minute, about the one message
	// per second that chat services accept per webhook (an estimate).
	DefaultRateLimit = 60
	// DefaultRotationGrace keeps the old secret valid for a day, time
	// enough to roll the new one out to every receiver.
	DefaultRotationGrace = 24 * time.Hour
	// DefaultReloadInterval is how often subscriptions and suppression
	// rules are read again, so changes made through another replica
	// apply here too.
	DefaultReloadInterval = 30 * time.Second
)

// Limits of a subscription.
const (
	maxNameLen          = 100
	maxURLLen           = 2048
	maxSubjects         = 32
	maxRateLimit        = 6000
	maxAuthorizationLen = 4096
	maxRotationGrace    = 30 * 24 * time.Hour
	// maxGroups bounds the attackers grouped at once per subscription;
	// past it notices are delivered without grouping.
	maxGroups = 10000
	// storeTimeout bounds one audit or dead-letter write.
	storeTimeout = 5 * time.Second
	// resolveTimeout bounds the lookup of a new destination's name.
	resolveTimeout = 5 * time.Second
	// deadQueueSize bounds dead letters waiting to be written after a
	// queue overflow; past it they are only counted.
	deadQueueSize = 1024
)

// Sentinel errors. The API maps ErrInvalid to InvalidArgument and
// ErrQueueFull to ResourceExhausted; store.ErrNotFound and store.ErrExists
// pass through from the Store.
var (
	ErrInvalid   = errors.New("invalid webhook")
	ErrQueueFull = errors.New("webhook queue full")
)

// Config configures a Dispatcher. Zero durations and counts take the
// defaults above.
type Config struct {
	Store     Store
	Publisher *topics.Publisher[*apiv1.Notice]
	// Key seals secrets at rest: KeySize bytes, kept outside the store.
	Key []byte
	// Guard checks destinations. Nil means a zero Guard, which refuses
	// every private and special range. Tests set Resolver, Dialer and
	// Allow.
	Guard *netguard.Guard
	// AllowHTTP permits http:// destinations; https only otherwise.
	AllowHTTP bool
	// AllowHTTPFunc, when set, replaces AllowHTTP and is asked on every
	// check, so an admin may change it at runtime.
	AllowHTTPFunc func() bool
	Logger        zerolog.Logger
	Registerer    prometheus.Registerer
	// Clock is the time source; nil means the system clock.
	Clock Clock

	// QuietPeriod groups notices about one attacker; negative disables
	// grouping.
	QuietPeriod      time.Duration
	QueueSize        int
	MaxAttempts      int
	MinBackoff       time.Duration
	MaxBackoff       time.Duration
	BreakerThreshold int
	BreakerCooldown  time.Duration
	RequestTimeout   time.Duration
	ReloadInterval   time.Duration
}

func (c *Config) setDefaults() {
	setDefault(&c.QuietPeriod, DefaultQuietPeriod)
	setDefault(&c.QueueSize, DefaultQueueSize)
	setDefault(&c.MaxAttempts, DefaultMaxAttempts)
	setDefault(&c.MinBackoff, DefaultMinBackoff)
	setDefault(&c.MaxBackoff, DefaultMaxBackoff)
	setDefault(&c.BreakerThreshold, DefaultBreakerThreshold)
	setDefault(&c.BreakerCooldown, DefaultBreakerCooldown)
	setDefault(&c.RequestTimeout, DefaultRequestTimeout)
	setDefault(&c.ReloadInterval, DefaultReloadInterval)
	if c.Guard == nil {
		c.Guard = &netguard.Guard{}
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Dispatcher delivers notices to subscriptions. Its methods are safe for
// concurrent use; the API handlers call them directly.
type Dispatcher struct {
	cfg     Config
	log     zerolog.Logger
	sealer  *sealer
	client  *http.Client
	metrics metrics
	// jitter spreads a backoff delay; tests replace it.
	jitter func(time.Duration) time.Duration

	suppressions atomic.Pointer[[]Suppression]
	deadq        chan DeadLetter
	// subscribed is true while Run receives notices.
	subscribed atomic.Bool

	mu      sync.Mutex
	workers map[string]*worker
	// runCtx is set while Run runs; workers started then use it.
	runCtx context.Context
	wg     sync.WaitGroup
}

type metrics struct {
	attempts    *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	lost        prometheus.Counter
	suppressed  prometheus.Counter
	grouped     prometheus.Counter
}

// New returns a Dispatcher; call Run to start delivering. The
// subscription methods work before Run.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil || cfg.Publisher == nil {
		return nil, errors.New("new webhook dispatcher: store and publisher are required")
	}
	s, err := newSealer(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("new webhook dispatcher: %w", err)
	}
	cfg.setDefaults()
	d := &Dispatcher{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("component", "webhooks").Logger(),
		sealer: s,
		// Zero redirects: the client returns a 3xx as the response.
		client:  cfg.Guard.HTTPClient(cfg.RequestTimeout, 0),
		jitter:  equalJitter,
		deadq:   make(chan DeadLetter, deadQueueSize),
		workers: map[string]*worker{},
		metrics: metrics{
			attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "decnet_webhook_attempts_total",
				Help: "Webhook delivery attempts by outcome (delivered, retry, failed).",
			}, []string{"outcome"}),
			deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "decnet_webhook_dead_letters_total",
				Help: "Notices that went to the webhook dead letters, by reason.",
			}, []string{"reason"}),
			lost: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "decnet_webhook_dead_letters_lost_total",
				Help: "Dead letters dropped because the store could not take them.",
			}),
			suppressed: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "decnet_webhook_suppressed_total",
				Help: "Notices dropped by a webhook suppression rule.",
			}),
			grouped: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "decnet_webhook_grouped_total",
				Help: "Notices held back in a quiet period and summarised in an incident follow-up.",
			}),
		},
	}
	d.suppressions.Store(&[]Suppression{})
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{d.metrics.attempts, d.metrics.deadLetters, d.metrics.lost, d.metrics.suppressed, d.metrics.grouped} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register webhook metrics: %w", err)
			}
		}
	}
	return d, nil
}

// equalJitter returns a delay between d/2 and d, so retries of many
// subscriptions after one outage do not arrive together.
func equalJitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1) //nolint:gosec // G404: retry jitter, not a secret
}

// Run delivers notices until ctx ends. It returns an error only when the
// subscriptions cannot be loaded at start.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.mu.Lock()
	if d.runCtx != nil {
		d.mu.Unlock()
		return errors.New("run webhook dispatcher: already running")
	}
	d.runCtx = ctx
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.runCtx = nil
		d.mu.Unlock()
		d.wg.Wait()

		// The workers have stopped; a later Run starts them again.
		d.mu.Lock()
		for _, w := range d.workers {
			w.cancel = nil
		}
		d.mu.Unlock()
	}()

	if err := d.Reload(ctx); err != nil {
		return fmt.Errorf("run webhook dispatcher: %w", err)
	}
	d.mu.Lock()
	for _, w := range d.workers {
		d.start(ctx, w)
	}
	d.mu.Unlock()

	unsubscribe, err := d.cfg.Publisher.Subscribe(">", d.intake)
	if err != nil {
		return fmt.Errorf("run webhook dispatcher: %w", err)
	}
	defer unsubscribe()
	d.subscribed.Store(true)
	defer d.subscribed.Store(false)

	reload := time.NewTicker(d.cfg.ReloadInterval)
	defer reload.Stop()
	for {
		select {
		case <-ctx.Done():
			// Overflow dead letters still waiting are written, with
			// storeDeadLetter's own timeout.
			for {
				select {
				case dl := <-d.deadq:
					d.storeDeadLetter(ctx, dl)
				default:
					return nil
				}
			}
		case dl := <-d.deadq:
			d.storeDeadLetter(ctx, dl)
		case <-reload.C:
			if err := d.Reload(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn().Err(err).Msg("reload webhook subscriptions failed; keeping the previous ones")
			}
		}
	}
}

// start runs w's worker under ctx. d.mu is held.
func (d *Dispatcher) start(ctx context.Context, w *worker) {
	if w.cancel != nil {
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.work(wctx, w)
	}()
}

// Reload reads subscriptions and suppression rules from the store again.
// Run calls it periodically, so that changes made through another replica
// apply here too. Changes made through this Dispatcher apply at once.
func (d *Dispatcher) Reload(ctx context.Context) error {
	rules, err := d.cfg.Store.ListSuppressions(ctx)
	if err != nil {
		return fmt.Errorf("reload suppressions: %w", err)
	}
	d.suppressions.Store(&rules)

	recs, err := d.cfg.Store.ListSubscriptions(ctx)
	if err != nil {
		return fmt.Errorf("reload subscriptions: %w", err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.ID] = true
		if err := d.apply(r); err != nil {
			// One unreadable record must not stop the others.
			d.log.Error().Err(err).Str(fieldSubscription, r.ID).Msg("webhook subscription unreadable; check the key")
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, w := range d.workers {
		if !seen[id] {
			d.removeLocked(id, w)
		}
	}
	return nil
}

// apply makes the worker of r match r, creating it when needed.
func (d *Dispatcher) apply(r Record) error {
	st, err := d.open(r)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	w, ok := d.workers[r.ID]
	if !ok {
		w = &worker{
			id:      r.ID,
			queue:   make(chan item, d.cfg.QueueSize),
			breaker: newBreaker(d.cfg.BreakerThreshold, d.cfg.BreakerCooldown),
			groups:  map[string]*group{},
		}
		d.workers[r.ID] = w
		if d.runCtx != nil {
			d.start(d.runCtx, w)
		}
	}
	w.setState(st)
	return nil
}

func (d *Dispatcher) removeLocked(id string, w *worker) {
	if w.cancel != nil {
		w.cancel()
	}
	delete(d.workers, id)
}

func (d *Dispatcher) worker(id string) (*worker, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w, ok := d.workers[id]
	return w, ok
}

// intake runs on the publisher's goroutine: it only matches, applies the
// suppression rules and queues.
func (d *Dispatcher) intake(_ string, n *apiv1.Notice) {
	d.mu.Lock()
	ws := make([]*worker, 0, len(d.workers))
	for _, w := range d.workers {
		ws = append(ws, w)
	}
	d.mu.Unlock()

	rules := *d.suppressions.Load()
	now := d.cfg.Clock.Now()
	for _, w := range ws {
		st := w.state()
		if !st.rec.Enabled || !st.matches(n.GetSubject()) {
			continue
		}
		it := item{msg: message{notice: n}}
		// Suppressed notices never take a place in the queue, so a
		// suppressed internal scanner cannot crowd out real alerts.
		if rule, ok := suppressed(rules, w.id, it.msg, now); ok {
			d.metrics.suppressed.Inc()
			d.log.Debug().Str(fieldSubscription, w.id).Str(fieldNotice, n.GetId()).Str(fieldRule, rule.ID).Msg("notice suppressed")
			continue
		}
		select {
		case w.queue <- it:
		default:
			d.queueDeadLetter(DeadLetter{SubscriptionID: w.id, Notice: n, Reason: ReasonQueueFull})
		}
	}
}

// queueDeadLetter hands dl to Run's goroutine without blocking.
func (d *Dispatcher) queueDeadLetter(dl DeadLetter) {
	d.metrics.deadLetters.WithLabelValues(dl.Reason).Inc()
	select {
	case d.deadq <- dl:
	default:
		d.metrics.lost.Inc()
	}
}

// storeDeadLetter writes dl. It outlives ctx by storeTimeout so that
// what fails at shutdown is still kept.
func (d *Dispatcher) storeDeadLetter(ctx context.Context, dl DeadLetter) {
	if dl.ID == "" {
		dl.ID = newID()
	}
	if dl.CreatedAt.IsZero() {
		dl.CreatedAt = d.cfg.Clock.Now().UTC()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := d.cfg.Store.AddDeadLetter(sctx, dl); err != nil {
		d.metrics.lost.Inc()
		d.log.Error().Err(err).Str(fieldSubscription, dl.SubscriptionID).Str(fieldNotice, dl.Notice.GetId()).
			Str(fieldReason, dl.Reason).Msg("store webhook dead letter failed; the notice is lost")
	}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Log field keys.
const (
	fieldSubscription = "subscription_id"
	fieldNotice       = "notice_id"
	fieldSubject      = "subject"
	fieldReason       = "reason"
	fieldStatus       = "status"
	fieldAttempt      = "attempt"
	fieldOrigin       = "origin"
	fieldRule         = "suppression_id"
)
