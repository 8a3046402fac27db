// Package livesettings holds the few control plane settings that an admin
// may change while the server runs: event retention, the admin TOTP rule,
// the live stream cap and the webhook destination policy.
//
// The flags of `decnet server` give the defaults. Overrides are one
// document in the store, so every replica on a database reads them. Each
// replica applies its own update at once and reloads the document every
// ReloadInterval to pick up updates made on other replicas; a reload
// every few seconds needs no message bus and heals a missed update by
// itself. Components read the values through getters on every use
// instead of copying them at start.
package livesettings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
)

// Bounds of the overrides, enforced by Update and Load.
const (
	// MinRetention keeps the hourly prune from racing the ingest of
	// events that arrive a little late.
	MinRetention = time.Hour
	// MaxRetention is far beyond any sensible period; it keeps the
	// cutoff computation away from time overflow.
	MaxRetention = 100 * 365 * 24 * time.Hour
	// MaxStreamsPerUser bounds what one account may hold of the
	// fan-out's buffers.
	MaxStreamsPerUser = 100
	// MaxWebhookCIDRs keeps the per-connection allow check short.
	MaxWebhookCIDRs = 32
)

// DefaultReloadInterval is how often a replica rereads the overrides, so
// an update on another replica applies within that time.
const DefaultReloadInterval = 5 * time.Second

// The store document that holds the overrides.
const (
	documentKind = "settings"
	documentID   = "runtime"
)

// ErrInvalid is matched by every validation error of Update.
var ErrInvalid = errors.New("invalid setting")

// Values are the effective runtime settings.
type Values struct {
	// Retention is how long raw events are kept; zero keeps them forever.
	Retention        time.Duration
	RequireAdminTOTP bool
	StreamsPerUser   int
	WebhookAllowHTTP bool
	WebhookAllow     []netip.Prefix
}

// Field names one runtime value.
type Field int

// The runtime values, in the order the API lists them.
const (
	FieldRetention Field = iota + 1
	FieldRequireAdminTOTP
	FieldStreamsPerUser
	FieldWebhookAllowHTTP
	FieldWebhookAllow
)

// Change is an update: a nil field keeps its value, and Reset returns
// fields to their default.
type Change struct {
	Retention        *time.Duration
	RequireAdminTOTP *bool
	StreamsPerUser   *int
	WebhookAllowHTTP *bool
	WebhookAllow     *[]netip.Prefix
	Reset            []Field
}

// overrides is the stored document; a nil field is not overridden.
type overrides struct {
	// Retention is in nanoseconds, as time.Duration encodes.
	Retention        *time.Duration `json:"retention,omitempty"`
	RequireAdminTOTP *bool          `json:"require_admin_totp,omitempty"`
	StreamsPerUser   *int           `json:"streams_per_user,omitempty"`
	WebhookAllowHTTP *bool          `json:"webhook_allow_http,omitempty"`
	WebhookAllow     *[]string      `json:"webhook_allow,omitempty"`
}

// Documents is the part of store.Store the settings use.
type Documents interface {
	PutDocument(ctx context.Context, d store.Document) error
	GetDocument(ctx context.Context, kind, id string) (store.Document, error)
}

// Config configures Settings.
type Config struct {
	// Store holds the overrides; nil keeps them in memory only, which
	// suits tests and a single replica without persistence.
	Store Documents
	// Defaults are the values of the flags.
	Defaults Values
	// ReloadInterval is DefaultReloadInterval when zero.
	ReloadInterval time.Duration
	Logger         zerolog.Logger
	Now            func() time.Time
	// Tick returns the channel that paces the reloads; a time.Ticker of
	// ReloadInterval when nil. Tests send on their own channel instead
	// of waiting.
	Tick func(interval time.Duration) (<-chan time.Time, func())
	// Reloaded, when set, is called after each reload by Run with its
	// error, so tests know when one finished.
	Reloaded func(error)
}

// state is one consistent snapshot, swapped as a whole.
type state struct {
	values     Values
	overridden []Field
	stored     overrides
}

// Settings holds the effective values. Its getters are safe for
// concurrent use and cheap enough to call on every request.
type Settings struct {
	cfg Config
	log zerolog.Logger
	cur atomic.Pointer[state]
	// mu serialises updates on this replica; see Update for replicas.
	mu sync.Mutex
}

// New returns Settings showing the defaults. Call Load to apply the
// stored overrides before serving.
func New(cfg Config) (*Settings, error) {
	if cfg.Defaults.StreamsPerUser < 1 {
		return nil, errors.New("new live settings: default streams per user must be positive")
	}
	if cfg.ReloadInterval <= 0 {
		cfg.ReloadInterval = DefaultReloadInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tick == nil {
		cfg.Tick = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	s := &Settings{cfg: cfg, log: cfg.Logger.With().Str("component", "livesettings").Logger()}
	s.cur.Store(&state{values: cfg.Defaults})
	return s, nil
}

// Values returns the effective values. The caller must not modify the
// WebhookAllow slice.
func (s *Settings) Values() Values { return s.cur.Load().values }

// Overridden lists the values whose stored override wins, in Field order.
func (s *Settings) Overridden() []Field { return slices.Clone(s.cur.Load().overridden) }

// Retention returns the event retention; zero keeps events forever.
func (s *Settings) Retention() time.Duration { return s.Values().Retention }

// RequireAdminTOTP reports whether admins must enroll TOTP.
func (s *Settings) RequireAdminTOTP() bool { return s.Values().RequireAdminTOTP }

// StreamsPerUser returns the live stream cap per user.
func (s *Settings) StreamsPerUser() int { return s.Values().StreamsPerUser }

// WebhookAllowHTTP reports whether http:// webhook URLs are accepted.
func (s *Settings) WebhookAllowHTTP() bool { return s.Values().WebhookAllowHTTP }

// WebhookAllow returns the private networks webhooks may reach.
func (s *Settings) WebhookAllow() []netip.Prefix { return s.Values().WebhookAllow }

// Load reads the stored overrides and applies them.
func (s *Settings) Load(ctx context.Context) error {
	if s.cfg.Store == nil {
		return nil
	}
	doc, err := s.cfg.Store.GetDocument(ctx, documentKind, documentID)
	if errors.Is(err, store.ErrNotFound) {
		s.apply(overrides{})
		return nil
	}
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	var o overrides
	if err := json.Unmarshal(doc.Data, &o); err != nil {
		return fmt.Errorf("load settings: decode: %w", err)
	}
	// A document written by a newer or a tampered binary must not
	// install values this one refuses; keep what runs now.
	if _, err := s.merge(o); err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	s.apply(o)
	return nil
}

// Run reloads the overrides every ReloadInterval until ctx ends. A failed
// reload keeps the current values and is retried at the next tick.
func (s *Settings) Run(ctx context.Context) error {
	if s.cfg.Store == nil {
		<-ctx.Done()
		return nil
	}
	tick, stop := s.cfg.Tick(s.cfg.ReloadInterval)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
		err := s.Load(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("reload settings failed")
		}
		if s.cfg.Reloaded != nil {
			s.cfg.Reloaded(err)
		}
	}
}

// Update validates c, stores the new overrides and applies them on this
// replica at once. Other replicas apply them at their next reload.
//
// NOTE: two admins updating different values on different replicas in
// the same instant may lose one change: the document is read, changed
// and written back without a version check. Settings change rarely and
// by hand, and the response shows the caller what was stored.
func (s *Settings) Update(ctx context.Context, c Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if err := s.Load(ctx); err != nil {
		return err
	}
	o, err := s.cur.Load().stored.with(c)
	if err != nil {
		return err
	}
	if _, err := s.merge(o); err != nil {
		return err
	}
	if s.cfg.Store != nil {
		data, err := json.Marshal(o)
		if err != nil {
			return fmt.Errorf("update settings: encode: %w", err)
		}
		doc := store.Document{Kind: documentKind, ID: documentID, At: s.cfg.Now().UTC(), Data: data}
		if err := s.cfg.Store.PutDocument(ctx, doc); err != nil {
			return fmt.Errorf("update settings: %w", err)
		}
	}
	s.apply(o)
	return nil
}

// apply installs o over the defaults; o has been validated.
func (s *Settings) apply(o overrides) {
	v, err := s.merge(o)
	if err != nil {
		return
	}
	var fields []Field
	if o.Retention != nil {
		fields = append(fields, FieldRetention)
	}
	if o.RequireAdminTOTP != nil {
		fields = append(fields, FieldRequireAdminTOTP)
	}
	if o.StreamsPerUser != nil {
		fields = append(fields, FieldStreamsPerUser)
	}
	if o.WebhookAllowHTTP != nil {
		fields = append(fields, FieldWebhookAllowHTTP)
	}
	if o.WebhookAllow != nil {
		fields = append(fields, FieldWebhookAllow)
	}
	s.cur.Store(&state{values: v, overridden: fields, stored: o})
}

// merge returns the defaults with o applied. Only the overrides are
// validated: the flags have their own checks, and a server started with
// a value outside the API's bounds keeps it until an admin changes it.
func (s *Settings) merge(o overrides) (Values, error) {
	v := s.cfg.Defaults
	if o.Retention != nil {
		if err := checkRetention(*o.Retention); err != nil {
			return Values{}, err
		}
		v.Retention = *o.Retention
	}
	if o.RequireAdminTOTP != nil {
		v.RequireAdminTOTP = *o.RequireAdminTOTP
	}
	if o.StreamsPerUser != nil {
		if err := checkStreams(*o.StreamsPerUser); err != nil {
			return Values{}, err
		}
		v.StreamsPerUser = *o.StreamsPerUser
	}
	if o.WebhookAllowHTTP != nil {
		v.WebhookAllowHTTP = *o.WebhookAllowHTTP
	}
	if o.WebhookAllow != nil {
		prefixes, err := ParsePrefixes(*o.WebhookAllow)
		if err != nil {
			return Values{}, err
		}
		v.WebhookAllow = prefixes
	}
	return v, nil
}

// with returns o changed by c.
func (o overrides) with(c Change) (overrides, error) {
	for _, f := range c.Reset {
		set := false
		switch f {
		case FieldRetention:
			o.Retention, set = nil, c.Retention != nil
		case FieldRequireAdminTOTP:
			o.RequireAdminTOTP, set = nil, c.RequireAdminTOTP != nil
		case FieldStreamsPerUser:
			o.StreamsPerUser, set = nil, c.StreamsPerUser != nil
		case FieldWebhookAllowHTTP:
			o.WebhookAllowHTTP, set = nil, c.WebhookAllowHTTP != nil
		case FieldWebhookAllow:
			o.WebhookAllow, set = nil, c.WebhookAllow != nil
		default:
			return o, fmt.Errorf("%w: unknown setting %d to reset", ErrInvalid, f)
		}
		if set {
			return o, fmt.Errorf("%w: a setting cannot be both set and reset", ErrInvalid)
		}
	}
	if c.Retention != nil {
		o.Retention = c.Retention
	}
	if c.RequireAdminTOTP != nil {
		o.RequireAdminTOTP = c.RequireAdminTOTP
	}
	if c.StreamsPerUser != nil {
		o.StreamsPerUser = c.StreamsPerUser
	}
	if c.WebhookAllowHTTP != nil {
		o.WebhookAllowHTTP = c.WebhookAllowHTTP
	}
	if c.WebhookAllow != nil {
		if len(*c.WebhookAllow) > MaxWebhookCIDRs {
			return o, fmt.Errorf("%w: at most %d webhook networks", ErrInvalid, MaxWebhookCIDRs)
		}
		strs := make([]string, len(*c.WebhookAllow))
		for i, p := range *c.WebhookAllow {
			strs[i] = p.String()
		}
		o.WebhookAllow = &strs
	}
	return o, nil
}

func checkRetention(d time.Duration) error {
	switch {
	case d < 0:
		return fmt.Errorf("%w: retention must not be negative", ErrInvalid)
	case d > 0 && d < MinRetention:
		return fmt.Errorf("%w: retention must be zero (keep forever) or at least %v", ErrInvalid, MinRetention)
	case d > MaxRetention:
		return fmt.Errorf("%w: retention must be at most %v", ErrInvalid, MaxRetention)
	}
	return nil
}

func checkStreams(n int) error {
	if n < 1 || n > MaxStreamsPerUser {
		return fmt.Errorf("%w: streams per user must be between 1 and %d", ErrInvalid, MaxStreamsPerUser)
	}
	return nil
}

// ParsePrefixes parses CIDRs for WebhookAllow, refusing default routes
// and more than MaxWebhookCIDRs.
func ParsePrefixes(cidrs []string) ([]netip.Prefix, error) {
	if len(cidrs) > MaxWebhookCIDRs {
		return nil, fmt.Errorf("%w: at most %d webhook networks", ErrInvalid, MaxWebhookCIDRs)
	}
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("%w: %q is not a network in CIDR notation", ErrInvalid, c)
		}
		if err := checkPrefix(p); err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// checkPrefix refuses a prefix of length zero: allowing every address
// would switch the webhook guard off, which the flags of decnet server
// can still do on purpose but an API call should not.
func checkPrefix(p netip.Prefix) error {
	if p.Bits() == 0 {
		return fmt.Errorf("%w: %s would allow every address", ErrInvalid, p)
	}
	return nil
}
