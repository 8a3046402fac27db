package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/internal/netguard"
	"github.com/decnet/decnet/subject"
)

// Spec is the set of fields a caller sets on a subscription.
type Spec struct {
	Name string
	// URL is the destination. Update keeps the current one when empty.
	URL    string
	Format Format
	// Subjects are NATS-style patterns such as "credential.>".
	Subjects []string
	Enabled  bool
	// RateLimit is deliveries per minute; zero means DefaultRateLimit.
	RateLimit int
	// Authorization is sent as the Authorization header, as TheHive
	// needs ("Bearer <api key>"). Update keeps the current one when
	// empty, and removes it when ClearAuthorization is set.
	Authorization      auth.Secret
	ClearAuthorization bool
}

// Subscription is a subscription as the API shows it: no URL path, no
// secret, no Authorization value.
type Subscription struct {
	ID   string
	Name string
	// Destination is scheme://host[:port] of the URL. The rest of a URL
	// may be a credential (Slack, Teams and Discord put their token in
	// the path), so it is never shown again after creation.
	Destination      string
	Format           Format
	Subjects         []string
	Enabled          bool
	RateLimit        int
	HasAuthorization bool
	// PreviousSecretExpiresAt is when the secret replaced by the last
	// rotation stops signing; zero when none signs any more.
	PreviousSecretExpiresAt time.Time
	CreatedAt               time.Time
	UpdatedAt               time.Time

	// Breaker is the circuit breaker's state; Enabled false is the
	// third visible state, paused by an admin.
	Breaker             BreakerState
	ConsecutiveFailures int
	// Queued is the number of notices waiting in this replica.
	Queued int
}

// subState is a record with its sealed fields opened, as the worker and
// the sender use it.
type subState struct {
	rec           Record
	url           *url.URL
	secret        auth.Secret
	previous      auth.Secret
	authorization auth.Secret
}

func (s subState) matches(subj string) bool {
	return slices.ContainsFunc(s.rec.Subjects, func(p string) bool { return subject.Match(p, subj) })
}

// signingSecrets returns the secrets that sign at now: the current one,
// and the previous one during its grace period.
func (s subState) signingSecrets(now time.Time) []auth.Secret {
	if !s.previous.Empty() && now.Before(s.rec.PreviousExpiresAt) {
		return []auth.Secret{s.secret, s.previous}
	}
	return []auth.Secret{s.secret}
}

func (d *Dispatcher) open(r Record) (subState, error) {
	st := subState{rec: r}
	raw, err := d.sealer.open(r.ID, fieldURL, r.SealedURL)
	if err != nil {
		return st, fmt.Errorf("open subscription %s url: %w", r.ID, err)
	}
	if st.url, err = url.Parse(string(raw)); err != nil {
		return st, fmt.Errorf("open subscription %s url: stored value does not parse", r.ID)
	}
	for _, f := range []struct {
		name   string
		sealed []byte
		into   *auth.Secret
	}{
		{fieldSecret, r.SealedSecret, &st.secret},
		{fieldPrevious, r.SealedPrevious, &st.previous},
		{fieldAuthorization, r.SealedAuthorization, &st.authorization},
	} {
		plain, err := d.sealer.open(r.ID, f.name, f.sealed)
		if err != nil {
			return st, fmt.Errorf("open subscription %s %s: %w", r.ID, f.name, err)
		}
		*f.into = auth.Secret(plain)
	}
	return st, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// checkSpec validates the fields of s other than the URL and fills in
// defaults.
func checkSpec(s *Spec) error {
	s.Name = strings.TrimSpace(s.Name)
	switch {
	case s.Name == "":
		return invalid("name is required")
	case len(s.Name) > maxNameLen:
		return invalid("name is longer than %d bytes", maxNameLen)
	}
	if s.Format == "" {
		s.Format = FormatGeneric
	}
	if !slices.Contains(formats, s.Format) {
		return invalid("unknown format %q", s.Format)
	}
	if len(s.Subjects) == 0 {
		return invalid("at least one subject pattern is required")
	}
	if len(s.Subjects) > maxSubjects {
		return invalid("more than %d subject patterns", maxSubjects)
	}
	for _, p := range s.Subjects {
		if err := subject.ValidatePattern(p); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	// The Wazuh API refuses more requests than its limit, so a higher
	// rate would turn bursts into failures that trip the breaker.
	limit, def := maxRateLimit, DefaultRateLimit
	if s.Format == FormatWazuh {
		limit, def = WazuhRateLimit, WazuhRateLimit
	}
	if s.RateLimit == 0 {
		s.RateLimit = def
	}
	if s.RateLimit < 0 || s.RateLimit > limit {
		return invalid("rate limit must be 1 to %d deliveries per minute for format %s", limit, s.Format)
	}
	a := s.Authorization.Reveal()
	if len(a) > maxAuthorizationLen || strings.ContainsAny(a, "\r\n\x00") {
		return invalid("authorization must be one line of at most %d bytes", maxAuthorizationLen)
	}
	return nil
}

// checkURL parses and checks a destination: https (http only when
// allowed), no user info, a host that is not a refused literal and whose
// every address is allowed now. The send path checks the address again,
// since the name may resolve elsewhere later.
func (d *Dispatcher) checkURL(ctx context.Context, raw string) (*url.URL, error) {
	if len(raw) > maxURLLen {
		return nil, invalid("url is longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid("url does not parse")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && d.allowHTTP():
	case u.Scheme == "http":
		return nil, invalid("url must use https")
	default:
		return nil, invalid("url scheme must be https")
	}
	if u.User != nil {
		return nil, invalid("url must not carry user info; use the authorization field")
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, invalid("url needs a host")
	}
	if err := d.cfg.Guard.CheckURL(u); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := d.checkResolved(ctx, u.Hostname()); err != nil {
		return nil, err
	}
	return u, nil
}

// checkResolved resolves a host name through the guard's resolver and
// refuses it when any address is refused, as the guard's dialer would.
func (d *Dispatcher) checkResolved(ctx context.Context, host string) error {
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return nil // a literal, checked by CheckURL
	}
	var r netguard.Resolver = net.DefaultResolver
	if d.cfg.Guard.Resolver != nil {
		r = d.cfg.Guard.Resolver
	}
	rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := r.LookupNetIP(rctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return invalid("url host %q does not resolve", host)
	}
	for _, a := range addrs {
		if err := d.cfg.Guard.Check(a); err != nil {
			var re *netguard.RefusedError
			if errors.As(err, &re) {
				re.Host = host
			}
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	return nil
}

func origin(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// Create stores a new subscription and returns it with its signing
// secret. The secret is returned only here and by Rotate.
func (d *Dispatcher) Create(ctx context.Context, s Spec) (Subscription, auth.Secret, error) {
	if err := checkSpec(&s); err != nil {
		return Subscription{}, "", err
	}
	u, err := d.checkURL(ctx, s.URL)
	if err != nil {
		return Subscription{}, "", err
	}

	now := d.cfg.Clock.Now().UTC()
	secret := newSecret()
	r := Record{
		ID:        newID(),
		Name:      s.Name,
		Origin:    origin(u),
		Format:    s.Format,
		Subjects:  slices.Clone(s.Subjects),
		Enabled:   s.Enabled,
		RateLimit: s.RateLimit,
		CreatedAt: now,
		UpdatedAt: now,
	}
	r.SealedURL = d.sealer.seal(r.ID, fieldURL, []byte(u.String()))
	r.SealedSecret = d.sealer.seal(r.ID, fieldSecret, []byte(secret.Reveal()))
	r.SealedAuthorization = d.sealer.seal(r.ID, fieldAuthorization, []byte(s.Authorization.Reveal()))

	if err := d.cfg.Store.CreateSubscription(ctx, r); err != nil {
		return Subscription{}, "", fmt.Errorf("create webhook: %w", err)
	}
	if err := d.apply(r); err != nil {
		return Subscription{}, "", fmt.Errorf("create webhook: %w", err)
	}
	d.log.Info().Str(fieldSubscription, r.ID).Str(fieldOrigin, r.Origin).Str("format", string(r.Format)).Msg("webhook created")
	return d.view(r), secret, nil
}

// Update replaces the subscription's settings with s. An empty URL or
// Authorization keeps the current value; the signing secret is kept
// (Rotate changes it).
func (d *Dispatcher) Update(ctx context.Context, id string, s Spec) (Subscription, error) {
	if err := checkSpec(&s); err != nil {
		return Subscription{}, err
	}
	r, err := d.cfg.Store.GetSubscription(ctx, id)
	if err != nil {
		return Subscription{}, fmt.Errorf("update webhook: %w", err)
	}
	if s.URL != "" {
		u, err := d.checkURL(ctx, s.URL)
		if err != nil {
			return Subscription{}, err
		}
		r.Origin = origin(u)
		r.SealedURL = d.sealer.seal(r.ID, fieldURL, []byte(u.String()))
	}
	switch {
	case s.ClearAuthorization:
		r.SealedAuthorization = nil
	case !s.Authorization.Empty():
		r.SealedAuthorization = d.sealer.seal(r.ID, fieldAuthorization, []byte(s.Authorization.Reveal()))
	}
	r.Name, r.Format, r.Subjects, r.Enabled, r.RateLimit = s.Name, s.Format, slices.Clone(s.Subjects), s.Enabled, s.RateLimit
	r.UpdatedAt = d.cfg.Clock.Now().UTC()
	if err := d.cfg.Store.UpdateSubscription(ctx, r); err != nil {
		return Subscription{}, fmt.Errorf("update webhook: %w", err)
	}
	if err := d.apply(r); err != nil {
		return Subscription{}, fmt.Errorf("update webhook: %w", err)
	}
	return d.view(r), nil
}

// Delete removes a subscription with its dead letters and audit log.
// Notices queued for it are dropped.
func (d *Dispatcher) Delete(ctx context.Context, id string) error {
	if err := d.cfg.Store.DeleteSubscription(ctx, id); err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if w, ok := d.workers[id]; ok {
		d.removeLocked(id, w)
	}
	return nil
}

// Get returns one subscription.
func (d *Dispatcher) Get(ctx context.Context, id string) (Subscription, error) {
	r, err := d.cfg.Store.GetSubscription(ctx, id)
	if err != nil {
		return Subscription{}, fmt.Errorf("get webhook: %w", err)
	}
	return d.view(r), nil
}

// List returns every subscription, oldest first.
func (d *Dispatcher) List(ctx context.Context) ([]Subscription, error) {
	recs, err := d.cfg.Store.ListSubscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	out := make([]Subscription, 0, len(recs))
	for _, r := range recs {
		out = append(out, d.view(r))
	}
	return out, nil
}

// Rotate replaces the signing secret and returns the new one. The old
// secret keeps signing, as a second v1 signature, for grace, so receivers
// can switch without losing a delivery. Zero grace means
// DefaultRotationGrace, negative ends it at once, and at most 30 days is
// accepted. A secret that was still in its grace period is dropped.
func (d *Dispatcher) Rotate(ctx context.Context, id string, grace time.Duration) (Subscription, auth.Secret, error) {
	switch {
	case grace == 0:
		grace = DefaultRotationGrace
	case grace > maxRotationGrace:
		return Subscription{}, "", invalid("grace is longer than %s", maxRotationGrace)
	case grace < 0:
		grace = 0
	}
	r, err := d.cfg.Store.GetSubscription(ctx, id)
	if err != nil {
		return Subscription{}, "", fmt.Errorf("rotate webhook secret: %w", err)
	}
	st, err := d.open(r)
	if err != nil {
		return Subscription{}, "", fmt.Errorf("rotate webhook secret: %w", err)
	}

	now := d.cfg.Clock.Now().UTC()
	secret := newSecret()
	r.SealedSecret = d.sealer.seal(r.ID, fieldSecret, []byte(secret.Reveal()))
	r.SealedPrevious = d.sealer.seal(r.ID, fieldPrevious, []byte(st.secret.Reveal()))
	r.PreviousExpiresAt = now.Add(grace)
	r.UpdatedAt = now
	if err := d.cfg.Store.UpdateSubscription(ctx, r); err != nil {
		return Subscription{}, "", fmt.Errorf("rotate webhook secret: %w", err)
	}
	if err := d.apply(r); err != nil {
		return Subscription{}, "", fmt.Errorf("rotate webhook secret: %w", err)
	}
	d.log.Info().Str(fieldSubscription, r.ID).Time("previous_expires_at", r.PreviousExpiresAt).Msg("webhook secret rotated")
	return d.view(r), secret, nil
}

func (d *Dispatcher) view(r Record) Subscription {
	now := d.cfg.Clock.Now()
	s := Subscription{
		ID: r.ID, Name: r.Name, Destination: r.Origin, Format: r.Format, Subjects: slices.Clone(r.Subjects),
		Enabled: r.Enabled, RateLimit: r.RateLimit, HasAuthorization: len(r.SealedAuthorization) > 0,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Breaker: BreakerClosed,
	}
	if len(r.SealedPrevious) > 0 && now.Before(r.PreviousExpiresAt) {
		s.PreviousSecretExpiresAt = r.PreviousExpiresAt
	}
	if w, ok := d.worker(r.ID); ok {
		s.Breaker, s.ConsecutiveFailures = w.breaker.snapshot(now)
		s.Queued = len(w.queue)
	}
	return s
}

// AddSuppression stores a rule; its ID and CreatedAt are set here.
func (d *Dispatcher) AddSuppression(ctx context.Context, s Suppression) (Suppression, error) {
	if msg := s.validate(); msg != "" {
		return Suppression{}, invalid("%s", msg)
	}
	s.ID = newID()
	s.CreatedAt = d.cfg.Clock.Now().UTC()
	if err := d.cfg.Store.CreateSuppression(ctx, s); err != nil {
		return Suppression{}, fmt.Errorf("add webhook suppression: %w", err)
	}
	return s, d.reloadSuppressions(ctx)
}

// DeleteSuppression removes a rule.
func (d *Dispatcher) DeleteSuppression(ctx context.Context, id string) error {
	if err := d.cfg.Store.DeleteSuppression(ctx, id); err != nil {
		return fmt.Errorf("delete webhook suppression: %w", err)
	}
	return d.reloadSuppressions(ctx)
}

// ListSuppressions returns every rule.
func (d *Dispatcher) ListSuppressions(ctx context.Context) ([]Suppression, error) {
	rules, err := d.cfg.Store.ListSuppressions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhook suppressions: %w", err)
	}
	return rules, nil
}

func (d *Dispatcher) reloadSuppressions(ctx context.Context) error {
	rules, err := d.cfg.Store.ListSuppressions(ctx)
	if err != nil {
		return fmt.Errorf("reload webhook suppressions: %w", err)
	}
	d.suppressions.Store(&rules)
	return nil
}

// ListDeliveries returns audit log entries, newest first.
func (d *Dispatcher) ListDeliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error) {
	out, err := d.cfg.Store.ListDeliveries(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return out, nil
}

// ListDeadLetters returns dead letters, oldest first.
func (d *Dispatcher) ListDeadLetters(ctx context.Context, subscriptionID string, limit int) ([]DeadLetter, error) {
	out, err := d.cfg.Store.ListDeadLetters(ctx, subscriptionID, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook dead letters: %w", err)
	}
	return out, nil
}

// allowHTTP reports whether http:// destinations are accepted now.
func (d *Dispatcher) allowHTTP() bool {
	if d.cfg.AllowHTTPFunc != nil {
		return d.cfg.AllowHTTPFunc()
	}
	return d.cfg.AllowHTTP
}
