package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

// ErrNotSSOUser is returned when single sign-on names a user that exists
// as a local password user: the two are never merged.
var ErrNotSSOUser = errors.New("a local DECNET user with this name exists; ask an admin to rename or remove it")

// ErrSSOUser is returned for a password operation on a single sign-on
// user, whose password lives at the identity provider.
var ErrSSOUser = errors.New("this user signs in through the identity provider; manage the password there")

// ssoPasswordLength is the length of the random password single sign-on
// users get, which nobody knows, so password login fails for them.
const ssoPasswordLength = 32

// SyncSSOUser creates username as a single sign-on user with role, or
// sets the role of the existing one, so a group change at the provider
// applies at the next login. It returns ErrNotSSOUser for a local user.
func (a *Authenticator) SyncSSOUser(ctx context.Context, username, role string) error {
	if ParseRole(role) == 0 {
		return ErrInvalidRole
	}
	u, err := a.store.GetUser(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		password, err := GeneratePassword(ssoPasswordLength)
		if err != nil {
			return err
		}
		hash, err := HashPassword(password)
		if err != nil {
			return fmt.Errorf("create sso user %q: %w", username, err)
		}
		err = a.store.CreateUser(ctx, store.User{Username: username, PasswordHash: hash, Role: role, CreatedAt: a.now().UTC(), SSO: true})
		if errors.Is(err, store.ErrExists) {
			// Created by a concurrent login: sync that one.
			return a.SyncSSOUser(ctx, username, role)
		}
		if err == nil {
			a.log.Info().Str(fieldUser, username).Str("role", role).Msg("sso user created")
		}
		return err
	case err != nil:
		return fmt.Errorf("sync sso user %q: %w", username, err)
	case !u.SSO:
		return ErrNotSSOUser
	case u.Role != role:
		a.log.Info().Str(fieldUser, username).Str("role", role).Str("previous_role", u.Role).Msg("sso user role changed")
		return a.store.SetUserRole(ctx, username, role)
	}
	return nil
}

// StartSession opens a session for a user another mechanism authenticated
// (single sign-on) and returns its bearer token.
func (a *Authenticator) StartSession(ctx context.Context, username string) (Secret, time.Time, error) {
	token, err := newToken()
	if err != nil {
		return "", time.Time{}, err
	}
	now := a.now()
	stored := store.APISession{TokenHash: hashToken(token), Username: username, CreatedAt: now, ExpiresAt: now.Add(a.lifetime)}
	if err := a.store.CreateAPISession(ctx, stored); err != nil {
		return "", time.Time{}, fmt.Errorf("start session of %q: %w", username, err)
	}
	a.log.Info().Str(fieldUser, username).Time("expires_at", stored.ExpiresAt).Msg("sso login succeeded")
	return token, stored.ExpiresAt, nil
}
