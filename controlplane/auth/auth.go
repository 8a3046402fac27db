// Package auth holds the control plane's users and API sessions: argon2id
// password hashes, the first administrator, bearer tokens and session
// cookies, the Connect interceptor and HTTP middleware that require a
// session, and the login rate limit.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Sentinel errors. The API maps them to Connect codes.
var (
	// ErrInvalidCredentials covers an unknown user and a wrong password
	// alike, so a caller cannot probe for user names.
	ErrInvalidCredentials = errors.New("invalid user name or password")
	ErrRateLimited        = errors.New("too many login attempts")
	// ErrTOTPRequired is returned by a login with the right password but
	// no TOTP code, for a user who enabled TOTP.
	ErrTOTPRequired = errors.New("a TOTP code is required for this user")
	// ErrUnauthenticated covers a missing, unknown and expired session.
	ErrUnauthenticated = errors.New("missing, invalid or expired session")
)

// CookieName is the dashboard's session cookie.
const CookieName = "decnet_session"

// DefaultSessionLifetime is how long a login lasts.
const DefaultSessionLifetime = 12 * time.Hour

// tokenBytes is the bearer token's entropy: 256 bits, so guessing a live
// token is hopeless even without the rate limit.
const tokenBytes = 32

// Log field keys.
const (
	fieldUser      = "username"
	fieldSource    = "source"
	fieldProcedure = "procedure"
)

// Config holds the dependencies and settings of an Authenticator.
type Config struct {
	Store  store.Store
	Logger zerolog.Logger
	// Now is the clock for session expiry. Default time.Now.
	Now func() time.Time
	// SessionLifetime defaults to DefaultSessionLifetime.
	SessionLifetime time.Duration
	// Limiter slows password guessing, with one key per source address
	// and one per user name. Default: a TokenBucket with its default
	// sizes on the same clock.
	Limiter Limiter
	// RequireAdminTOTP makes admins without a TOTP authenticator enroll
	// one before they can call anything else.
	RequireAdminTOTP bool
	// RequireAdminTOTPFunc, when set, replaces RequireAdminTOTP and is
	// asked at every login and session check, so an admin may change
	// the rule at runtime.
	RequireAdminTOTPFunc func() bool
}

// Authenticator logs users in and checks sessions.
type Authenticator struct {
	store    store.Store
	log      zerolog.Logger
	now      func() time.Time
	lifetime time.Duration
	limiter  Limiter
	// requireAdminTOTP is Config.RequireAdminTOTPFunc, or returns
	// Config.RequireAdminTOTP.
	requireAdminTOTP func() bool

	// dummyHash is verified when the user does not exist, so that an
	// unknown name costs the same time as a wrong password.
	dummyOnce sync.Once
	dummyHash string

	// hashSlots caps concurrent password checks, each of which holds
	// DefaultParams().Memory, so a burst of logins cannot exhaust memory.
	hashSlots chan struct{}
	slotWait  time.Duration
}

// maxConcurrentHashes is how many password checks run at once. A login
// waits at most hashSlotWait for a slot. One check with DefaultParams took
// about 24 ms on a 2-vCPU Xeon, so the wait covers a queue of dozens.
const (
	maxConcurrentHashes = 2
	hashSlotWait        = 2 * time.Second
)

// Session is an authenticated API session.
type Session struct {
	Username  string
	Role      apiv1.Role
	ExpiresAt time.Time
	// PasswordChangeRequired is set when the user still has a password
	// someone else chose.
	PasswordChangeRequired bool
	// APITokenID is set when the caller used an API token rather than a
	// login session.
	APITokenID string
	// Scopes are the API token's scopes, never empty for a token, and
	// nil for a login session, which has no scopes to narrow its role.
	Scopes []string
	// TOTPEnrollmentRequired is set for an admin without TOTP when the
	// operator requires it: the session may only enroll.
	TOTPEnrollmentRequired bool
	tokenHash              []byte
}

// New returns an Authenticator.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Store == nil {
		return nil, errors.New("new authenticator: nil store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.Limiter == nil {
		cfg.Limiter = NewTokenBucket(TokenBucketConfig{Now: cfg.Now})
	}
	requireTOTP := cfg.RequireAdminTOTPFunc
	if requireTOTP == nil {
		fixed := cfg.RequireAdminTOTP
		requireTOTP = func() bool { return fixed }
	}
	return &Authenticator{
		store:    cfg.Store,
		log:      cfg.Logger.With().Str("component", "auth").Logger(),
		now:      cfg.Now,
		lifetime: cfg.SessionLifetime,
		limiter:  cfg.Limiter,

		requireAdminTOTP: requireTOTP,
		hashSlots:        make(chan struct{}, maxConcurrentHashes),
		slotWait:         hashSlotWait,
	}, nil
}

// Login checks username and password and opens a session. source is the
// client's address ("host:port" or a host) for the rate limit. It returns
// ErrRateLimited or ErrInvalidCredentials when the login is refused.
func (a *Authenticator) Login(ctx context.Context, username string, password Secret, source string) (Secret, Session, error) {
	return a.LoginTOTP(ctx, username, password, "", source)
}

// LoginTOTP is Login with the code of the user's authenticator app, which
// users who enabled TOTP must give: without it the login fails with
// ErrTOTPRequired, and with a wrong or replayed code like a wrong
// password.
func (a *Authenticator) LoginTOTP(ctx context.Context, username string, password, totp Secret, source string) (Secret, Session, error) {
	log := a.log.With().Str(fieldUser, username).Str(fieldSource, source).Logger()
	if !a.allowAttempt(source, username) {
		log.Warn().Msg("login rate limited")
		return "", Session{}, ErrRateLimited
	}

	// A login that cannot get a hashing slot soon is refused as rate
	// limited, so a flood of logins from many sources neither queues
	// without bound nor holds more than maxConcurrentHashes hashes' memory.
	slotWait := time.NewTimer(a.slotWait)
	defer slotWait.Stop()
	select {
	case a.hashSlots <- struct{}{}:
		defer func() { <-a.hashSlots }()
	case <-slotWait.C:
		log.Warn().Msg("login rejected: all password checks busy")
		return "", Session{}, ErrRateLimited
	case <-ctx.Done():
		return "", Session{}, ctx.Err()
	}

	user, err := a.store.GetUser(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.burnTime(password)
		log.Info().Msg("login failed")
		return "", Session{}, ErrInvalidCredentials
	case err != nil:
		return "", Session{}, fmt.Errorf("log in %q: %w", username, err)
	}

	ok, err := VerifyPassword(user.PasswordHash, password)
	if err != nil {
		return "", Session{}, fmt.Errorf("log in %q: verify password: %w", username, err)
	}
	if !ok {
		log.Info().Msg("login failed")
		return "", Session{}, ErrInvalidCredentials
	}
	if user.TOTPSecret != "" {
		if totp.Empty() {
			log.Info().Msg("login needs a TOTP code")
			return "", Session{}, ErrTOTPRequired
		}
		step, valid := verifyTOTP(user.TOTPSecret, totp.Reveal(), a.now(), user.TOTPLastStep)
		if valid {
			if valid, err = a.store.UseTOTPStep(ctx, user.Username, step); err != nil {
				return "", Session{}, fmt.Errorf("log in %q: %w", username, err)
			}
		}
		if !valid {
			log.Info().Msg("login failed: wrong TOTP code")
			return "", Session{}, ErrInvalidCredentials
		}
	}

	token, err := newToken()
	if err != nil {
		return "", Session{}, fmt.Errorf("log in %q: %w", username, err)
	}
	now := a.now()
	stored := store.APISession{
		TokenHash: hashToken(token),
		Username:  user.Username,
		CreatedAt: now,
		ExpiresAt: now.Add(a.lifetime),
	}
	if err := a.store.CreateAPISession(ctx, stored); err != nil {
		return "", Session{}, fmt.Errorf("log in %q: %w", username, err)
	}

	log.Info().Time("expires_at", stored.ExpiresAt).Msg("login succeeded")
	return token, Session{
		Username: stored.Username, Role: ParseRole(user.Role), ExpiresAt: stored.ExpiresAt, tokenHash: stored.TokenHash,
		PasswordChangeRequired: user.MustChangePassword,
		TOTPEnrollmentRequired: a.totpEnrollmentRequired(user),
	}, nil
}

// totpEnrollmentRequired reports whether the operator requires TOTP of
// this user and the user has none.
func (a *Authenticator) totpEnrollmentRequired(u store.User) bool {
	return a.requireAdminTOTP() && ParseRole(u.Role) == apiv1.Role_ROLE_ADMIN && u.TOTPSecret == ""
}

// burnTime verifies password against a throwaway hash.
func (a *Authenticator) burnTime(password Secret) {
	a.dummyOnce.Do(func() {
		// An error leaves dummyHash empty, and VerifyPassword then fails
		// fast; the timing difference is the only cost.
		a.dummyHash, _ = HashPassword("decnet-timing-equaliser")
	})
	_, _ = VerifyPassword(a.dummyHash, password)
}

// Logout ends the session.
func (a *Authenticator) Logout(ctx context.Context, s Session) error {
	if len(s.tokenHash) == 0 {
		return ErrUnauthenticated
	}
	if err := a.store.DeleteAPISession(ctx, s.tokenHash); err != nil {
		return fmt.Errorf("log out %q: %w", s.Username, err)
	}
	a.log.Info().Str(fieldUser, s.Username).Msg("logout")
	return nil
}

// Authenticate returns the live session of token, or ErrUnauthenticated.
func (a *Authenticator) Authenticate(ctx context.Context, token Secret) (Session, error) {
	if token.Empty() {
		return Session{}, ErrUnauthenticated
	}
	if strings.HasPrefix(token.Reveal(), APITokenPrefix) {
		return a.authenticateAPIToken(ctx, token)
	}
	hash := hashToken(token)
	// The user is read with the session on every call, so a role change
	// or a deleted user takes effect at once.
	s, u, err := a.store.GetSessionUser(ctx, hash, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, fmt.Errorf("authenticate session: %w", err)
	}
	return Session{
		Username: s.Username, Role: ParseRole(u.Role), ExpiresAt: s.ExpiresAt, PasswordChangeRequired: u.MustChangePassword,
		TOTPEnrollmentRequired: a.totpEnrollmentRequired(u), tokenHash: hash,
	}, nil
}

func newToken() (Secret, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate session token: %w", err)
	}
	return Secret(base64.RawURLEncoding.EncodeToString(b)), nil
}

// hashToken returns the stored form of a bearer token. A plain SHA-256 is
// enough because the token has 256 random bits, unlike a password.
func hashToken(token Secret) []byte {
	sum := sha256.Sum256([]byte(token.Reveal()))
	return sum[:]
}

type sessionKey struct{}

// WithSession returns ctx carrying s.
func WithSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFromContext returns the session the interceptor or middleware
// stored in ctx.
func SessionFromContext(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}

// SessionCookie returns the cookie that carries token to the dashboard.
// secure must be true when the server speaks TLS, so the browser never
// sends the cookie in clear text.
func SessionCookie(token Secret, expires time.Time, secure bool) *http.Cookie {
	return &http.Cookie{ //nolint:gosec // G124: Secure is false only when the server speaks plain HTTP
		Name:     CookieName,
		Value:    token.Reveal(),
		Path:     "/",
		Expires:  expires,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteStrictMode,
	}
}

// ClearSessionCookie returns a cookie that makes the browser delete the
// session cookie.
func ClearSessionCookie(secure bool) *http.Cookie {
	return &http.Cookie{ //nolint:gosec // G124: Secure is false only when the server speaks plain HTTP
		Name:     CookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteStrictMode,
	}
}
