package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// APITokenPrefix starts every API token, so that secret scanners and
// readers of a leaked file can tell what it is.
const APITokenPrefix = "decnet_pat_" //nolint:gosec // G101: the public prefix of tokens, not a credential

// API token lifetimes.
const (
	DefaultAPITokenTTL = 90 * 24 * time.Hour
	minAPITokenTTL     = time.Hour
	maxAPITokenTTL     = 366 * 24 * time.Hour
)

// Errors of API token management.
var (
	ErrTokenRoleTooHigh = errors.New("a token cannot have a higher role than its user")
	ErrTokenTTL         = errors.New("token lifetime must be between 1 hour and 8784 hours (366 days)")
	ErrTokenName        = errors.New("token names have 1 to 64 characters")
)

// CreateAPIToken issues a token for the session's user and returns its
// secret, which is never stored. No scopes mean the session's own: "*"
// for a login session. A token session can only give scopes it has.
func (a *Authenticator) CreateAPIToken(ctx context.Context, s Session, name string, role apiv1.Role, scopes []string, ttl time.Duration) (store.APIToken, Secret, error) {
	if name == "" || len(name) > 64 {
		return store.APIToken{}, "", ErrTokenName
	}
	scopes, err := ParseScopes(scopes)
	if err != nil {
		return store.APIToken{}, "", err
	}
	if len(scopes) == 0 {
		scopes = s.Scopes
	}
	if len(scopes) == 0 {
		scopes = []string{ScopeAll}
	}
	if s.Scopes != nil {
		for _, want := range scopes {
			if !covers(s.Scopes, want) {
				return store.APIToken{}, "", ErrTokenScopeTooWide
			}
		}
	}
	if role == apiv1.Role_ROLE_UNSPECIFIED {
		role = s.Role
	}
	if RoleName(role) == "" {
		return store.APIToken{}, "", ErrInvalidRole
	}
	if role > s.Role {
		return store.APIToken{}, "", ErrTokenRoleTooHigh
	}
	if ttl == 0 {
		ttl = DefaultAPITokenTTL
	}
	if ttl < minAPITokenTTL || ttl > maxAPITokenTTL {
		return store.APIToken{}, "", ErrTokenTTL
	}
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return store.APIToken{}, "", fmt.Errorf("generate api token: %w", err)
	}
	secret := Secret(APITokenPrefix + base64.RawURLEncoding.EncodeToString(b))
	id, err := uuid.NewV7()
	if err != nil {
		return store.APIToken{}, "", fmt.Errorf("generate api token id: %w", err)
	}
	now := a.now().UTC()
	t := store.APIToken{
		ID: id.String(), Hash: hashToken(secret), Name: name, Username: s.Username, Role: RoleName(role),
		Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	if err := a.store.CreateAPIToken(ctx, t); err != nil {
		return store.APIToken{}, "", err
	}
	a.log.Info().Str(fieldUser, s.Username).Str("token_id", t.ID).Str("role", t.Role).Strs("scopes", t.Scopes).
		Time("expires_at", t.ExpiresAt).Msg("api token created")
	return t, secret, nil
}

// authenticateAPIToken returns the session an API token stands for: its
// user, with the lower of the token's role and the user's current role,
// and the token's scopes.
func (a *Authenticator) authenticateAPIToken(ctx context.Context, token Secret) (Session, error) {
	t, err := a.store.GetAPITokenByHash(ctx, hashToken(token), a.now())
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, fmt.Errorf("authenticate api token: %w", err)
	}
	u, err := a.store.GetUser(ctx, t.Username)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, fmt.Errorf("authenticate api token: %w", err)
	}
	role := min(ParseRole(t.Role), ParseRole(u.Role))
	scopes := t.Scopes
	if len(scopes) == 0 {
		// The migration gives older tokens "*"; a store that returns
		// none still must not turn a token into a login session.
		scopes = []string{ScopeAll}
	}
	return Session{Username: t.Username, Role: role, ExpiresAt: t.ExpiresAt, APITokenID: t.ID, Scopes: scopes}, nil
}
