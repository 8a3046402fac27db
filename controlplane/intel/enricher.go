package intel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"

	"github.com/decnet/decnet/controlplane/cache"
	"github.com/decnet/decnet/internal/netguard"
)

// Defaults for Config.
const (
	// DefaultTTL keeps a complete report for a day: reputations move
	// slowly, and the daily quotas of the free plans are small.
	DefaultTTL = 24 * time.Hour
	// DefaultErrorTTL keeps a report in which a provider failed for a
	// short while only, so the failed provider is asked again soon.
	DefaultErrorTTL = 15 * time.Minute
	// DefaultMaxConcurrent is the number of requests in flight per
	// provider. The free plans throttle bursts.
	DefaultMaxConcurrent = 2
	// DefaultMaxInlineWait is the longest Retry-After a lookup waits out
	// before asking again. A longer one pauses the provider instead.
	DefaultMaxInlineWait = 5 * time.Second
	// DefaultLookupTimeout bounds one enrichment across all providers.
	DefaultLookupTimeout = 60 * time.Second
	// defaultPause is the first pause after a 429 without Retry-After;
	// it doubles with each further 429 up to maxPause.
	defaultPause = time.Minute
	maxPause     = time.Hour
	// Refresh retry bounds for list downloads that failed.
	minRefreshRetry = time.Minute
	maxRefreshRetry = 30 * time.Minute
	// cacheKeyPrefix versions the cached JSON. Bump it when Report
	// changes incompatibly.
	cacheKeyPrefix = "intel:v1:"
)

// Log field keys.
const (
	fieldComponent  = "component"
	fieldProvider   = "provider"
	fieldAddr       = "addr"
	fieldPause      = "pause"
	fieldRetryAfter = "retry_after"
	fieldEntries    = "entries"
	fieldNextTry    = "next_try"
)

// Config configures an Enricher. Zero fields take the defaults. A zero
// Config gives an Enricher with no provider, which never makes a request.
type Config struct {
	// Providers are asked in this order. Names must be unique. Build them
	// with NewGreyNoise, NewAbuseIPDB, NewThreatFox, NewFeodo, NewDROP
	// and NewRDNS.
	Providers []Provider
	// GeoIP adds a Location to every report. Nil means none. The
	// Enricher's Close closes it.
	GeoIP *GeoIP
	// Cache stores reports per address. Nil means an in-process
	// cache.Memory with the Enricher's clock.
	Cache cache.Cache
	// TTL is how long a report without a failed provider stays cached. Default DefaultTTL.
	TTL time.Duration
	// ErrorTTL is the cache lifetime of a report with a failed provider.
	// Default DefaultErrorTTL.
	ErrorTTL time.Duration
	// MaxConcurrent bounds the requests in flight per provider. Default
	// DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxInlineWait is the longest Retry-After waited out within a
	// lookup. Default DefaultMaxInlineWait. Negative means never wait.
	MaxInlineWait time.Duration
	// LookupTimeout bounds one enrichment. Default DefaultLookupTimeout.
	LookupTimeout time.Duration
	// LookupNonPublic sends addresses in loopback, private, link-local
	// and other special ranges to the providers. The default (false)
	// skips them, because such an address belongs to the operator's own
	// network and must not leave the machine. Tests whose
	// attackers come from 127.0.0.x set it.
	LookupNonPublic bool
	Logger          zerolog.Logger
	// Now is the clock for cache times, pauses and backoff. Default
	// time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends. Default a timer. Tests inject one
	// that records the wait and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Enricher looks addresses up with every configured provider, caches the
// reports and keeps list providers fresh.
type Enricher struct {
	cfg     Config
	log     zerolog.Logger
	states  []*providerState
	flights singleflight.Group
	public  netguard.Guard
}

// providerState is the per-provider semaphore and rate-limit pause.
type providerState struct {
	p   Provider
	sem chan struct{}

	mu          sync.Mutex
	pausedUntil time.Time
	strikes     int
}

// New validates cfg and returns an Enricher.
func New(cfg Config) (*Enricher, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Cache == nil {
		cfg.Cache = cache.NewMemory(cache.MemoryConfig{Now: cfg.Now})
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.ErrorTTL <= 0 {
		cfg.ErrorTTL = DefaultErrorTTL
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.MaxInlineWait == 0 {
		cfg.MaxInlineWait = DefaultMaxInlineWait
	}
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = DefaultLookupTimeout
	}

	e := &Enricher{cfg: cfg, log: cfg.Logger.With().Str(fieldComponent, "intel").Logger()}
	seen := map[string]bool{}
	for _, p := range cfg.Providers {
		if p == nil {
			return nil, fmt.Errorf("%w: nil provider", ErrInvalidConfig)
		}
		if seen[p.Name()] {
			return nil, fmt.Errorf("%w: provider %q configured twice", ErrInvalidConfig, p.Name())
		}
		seen[p.Name()] = true
		e.states = append(e.states, &providerState{p: p, sem: make(chan struct{}, cfg.MaxConcurrent)})
	}
	return e, nil
}

// Close releases the GeoIP databases.
func (e *Enricher) Close() error { return e.cfg.GeoIP.Close() }

// Lookup returns the report for addr, from the cache when it holds one.
// Provider failures are reported in each Result, not as an error. The
// error is for an invalid address or the end of ctx. Concurrent lookups
// of one address share one round of requests.
func (e *Enricher) Lookup(ctx context.Context, addr netip.Addr) (Report, error) {
	if !addr.IsValid() {
		return Report{}, errors.New("lookup: invalid address")
	}
	addr = addr.Unmap().WithZone("")

	if !e.cfg.LookupNonPublic {
		if err := e.public.Check(addr); err != nil {
			return Report{Addr: addr, Verdict: VerdictUnknown, CheckedAt: e.cfg.Now(), Skipped: "non-public address"}, nil //nolint:nilerr // a rejected address is skipped, as the report records, not a failed lookup
		}
	}
	if len(e.states) == 0 && e.cfg.GeoIP == nil {
		return Report{Addr: addr, Verdict: VerdictUnknown, CheckedAt: e.cfg.Now(), Skipped: "no provider configured"}, nil
	}

	key := cacheKeyPrefix + addr.String()
	if r, ok := e.cached(ctx, key); ok {
		return r, nil
	}

	ch := e.flights.DoChan(key, func() (any, error) {
		// The shared round outlives any one caller's cancellation, so
		// the first caller giving up does not fail the others.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.LookupTimeout)
		defer cancel()
		r := e.enrich(fctx, addr)
		e.store(fctx, key, r)
		return r, nil
	})
	select {
	case <-ctx.Done():
		return Report{}, fmt.Errorf("lookup %s: %w", addr, ctx.Err())
	case res := <-ch:
		return res.Val.(Report), nil
	}
}

// Forget drops the cached report for addr, so the next Lookup queries the
// providers again (an operator's "refresh intel").
func (e *Enricher) Forget(ctx context.Context, addr netip.Addr) error {
	if !addr.IsValid() {
		return errors.New("forget: invalid address")
	}
	if err := e.cfg.Cache.Delete(ctx, cacheKeyPrefix+addr.Unmap().WithZone("").String()); err != nil {
		return fmt.Errorf("forget %s: %w", addr, err)
	}
	return nil
}

func (e *Enricher) cached(ctx context.Context, key string) (Report, bool) {
	b, err := e.cfg.Cache.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, cache.ErrNotFound) {
			e.log.Warn().Err(err).Msg("intel cache read failed")
		}
		return Report{}, false
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil || !r.Addr.IsValid() {
		e.log.Warn().Err(err).Msg("intel cache entry unreadable, looking up again")
		return Report{}, false
	}
	r.Cached = true
	return r, true
}

func (e *Enricher) store(ctx context.Context, key string, r Report) {
	ttl := e.cfg.TTL
	for _, res := range r.Results {
		if res.Error != "" {
			ttl = e.cfg.ErrorTTL
			break
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		e.log.Error().Err(err).Msg("intel report not encodable")
		return
	}
	if err := e.cfg.Cache.Set(ctx, key, b, ttl); err != nil {
		e.log.Warn().Err(err).Msg("intel cache write failed")
	}
}

// enrich queries every provider at once and waits for all of them.
func (e *Enricher) enrich(ctx context.Context, addr netip.Addr) Report {
	r := Report{Addr: addr, CheckedAt: e.cfg.Now(), Results: make([]Result, len(e.states))}
	var wg sync.WaitGroup
	for i, st := range e.states {
		wg.Go(func() { r.Results[i] = e.check(ctx, st, addr) })
	}
	loc, err := e.cfg.GeoIP.Lookup(addr)
	if err != nil {
		e.log.Warn().Err(err).Str(fieldAddr, addr.String()).Msg("geoip lookup failed")
	}
	r.Location = loc
	wg.Wait()
	r.Verdict = Aggregate(r.Results)
	return r
}

// check queries one provider. It waits out a short Retry-After once
// and pauses the provider on a longer one.
func (e *Enricher) check(ctx context.Context, st *providerState, addr netip.Addr) Result {
	name := st.p.Name()
	log := e.log.With().Str(fieldProvider, name).Str(fieldAddr, addr.String()).Logger()
	fail := func(err error) Result {
		return Result{Provider: name, Verdict: VerdictUnknown, Error: errorCategory(err)}
	}

	for attempt := 0; ; attempt++ {
		if until, paused := st.paused(e.cfg.Now()); paused {
			log.Debug().Time(fieldNextTry, until).Msg("intel provider paused, skipped")
			return fail(ErrPaused)
		}
		res, err := st.call(ctx, addr)
		if err == nil {
			st.succeeded()
			res.Provider = name
			if res.Verdict == "" {
				res.Verdict = VerdictUnknown
			}
			return res
		}

		var rl *RateLimitError
		if !errors.As(err, &rl) {
			log.Warn().Err(err).Msg("intel provider failed")
			return fail(err)
		}
		if attempt == 0 && rl.RetryAfter > 0 && rl.RetryAfter <= e.cfg.MaxInlineWait {
			log.Debug().Dur(fieldRetryAfter, rl.RetryAfter).Msg("intel provider rate limited, waiting")
			if err := e.cfg.Sleep(ctx, rl.RetryAfter); err != nil {
				return fail(err)
			}
			continue
		}
		pause := st.pause(e.cfg.Now(), rl.RetryAfter)
		log.Warn().Dur(fieldPause, pause).Msg("intel provider rate limited, pausing")
		return fail(err)
	}
}

// call runs one request under the provider's semaphore.
func (st *providerState) call(ctx context.Context, addr netip.Addr) (Result, error) {
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	defer func() { <-st.sem }()
	return st.p.Check(ctx, addr)
}

func (st *providerState) paused(now time.Time) (time.Time, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pausedUntil, now.Before(st.pausedUntil)
}

// pause stops requests to the provider for retryAfter, or, when the
// provider sent none, for a doubling pause starting at defaultPause.
func (st *providerState) pause(now time.Time, retryAfter time.Duration) time.Duration {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.strikes++
	d := retryAfter
	if d <= 0 {
		d = defaultPause << min(st.strikes-1, 6)
		d = min(d, maxPause)
	}
	if until := now.Add(d); until.After(st.pausedUntil) {
		st.pausedUntil = until
	}
	return d
}

func (st *providerState) succeeded() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.strikes = 0
}

// Run keeps the list providers fresh until ctx ends: each is downloaded
// at once, then every RefreshInterval, and after a failure again after a
// doubling delay. Run returns nil when ctx ends. An Enricher without list
// providers just waits.
func (e *Enricher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, st := range e.states {
		if r, ok := st.p.(Refresher); ok {
			wg.Go(func() { e.refreshLoop(ctx, st.p.Name(), r) })
		}
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

func (e *Enricher) refreshLoop(ctx context.Context, name string, r Refresher) {
	log := e.log.With().Str(fieldProvider, name).Logger()
	retry := minRefreshRetry
	for {
		wait := r.RefreshInterval()
		if err := r.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			wait = min(retry, wait)
			log.Warn().Err(err).Dur(fieldNextTry, wait).Msg("intel list refresh failed")
			retry = min(retry*2, maxRefreshRetry)
		} else {
			retry = minRefreshRetry
			ev := log.Info()
			if l, ok := r.(*List); ok {
				ev = ev.Int(fieldEntries, l.Len())
			}
			ev.Msg("intel list refreshed")
		}
		if err := e.cfg.Sleep(ctx, wait); err != nil {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
