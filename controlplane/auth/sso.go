package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

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

// Audit log procedures of the changes single sign-on makes outside any
// API call, named like API procedures so the audit page lists them alike.
const (
	AuditSSOCreateUser  = "oidc/CreateUser"
	AuditSSOSetUserRole = "oidc/SetUserRole"
)

// SyncSSOUser creates username as a single sign-on user with role, or
// sets the role of the existing one, so a group change at the provider
// applies at the next login. It returns ErrNotSSOUser for a local user.
// source is the browser's address, for the audit entry that records a
// created user or a changed role.
func (a *Authenticator) SyncSSOUser(ctx context.Context, username, role, source string) error {
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
			return a.SyncSSOUser(ctx, username, role, source)
		}
		if err != nil {
			return err
		}
		a.log.Info().Str(fieldUser, username).Str("role", role).Msg("sso user created")
		a.auditSSO(ctx, AuditSSOCreateUser, ssoChange{Username: username, Role: role}, source)
		return nil
	case err != nil:
		return fmt.Errorf("sync sso user %q: %w", username, err)
	case !u.SSO:
		return ErrNotSSOUser
	case u.Role != role:
		a.log.Info().Str(fieldUser, username).Str("role", role).Str("previous_role", u.Role).Msg("sso user role changed")
		if err := a.store.SetUserRole(ctx, username, role); err != nil {
			return err
		}
		a.auditSSO(ctx, AuditSSOSetUserRole, ssoChange{Username: username, Role: role, PreviousRole: u.Role}, source)
	}
	return nil
}

// ssoChange is the request JSON of a single sign-on audit entry.
type ssoChange struct {
	Username     string `json:"username"`
	Role         string `json:"role"`
	PreviousRole string `json:"previous_role,omitempty"`
}

// auditSSO records a change single sign-on made, as the user it was made
// for, since no other session was involved. A failed write is logged and
// the login continues, because refusing it would not undo the change.
func (a *Authenticator) auditSSO(ctx context.Context, procedure string, change ssoChange, source string) {
	log := a.log.With().Str(fieldUser, change.Username).Str(fieldProcedure, procedure).Logger()
	id, err := uuid.NewV7()
	if err != nil {
		log.Error().Err(err).Msg("audit entry lost: no id")
		return
	}
	request, err := json.Marshal(change)
	if err != nil {
		log.Error().Err(err).Msg("audit entry lost: encode request")
		return
	}
	entry := store.AuditEntry{
		ID:        id.String(),
		Time:      a.now().UTC(),
		Username:  change.Username,
		Role:      change.Role,
		Procedure: procedure,
		Request:   string(request),
		Outcome:   "ok",
		Source:    source,
	}
	// The browser may leave once the session is set; the entry must stay.
	writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditWriteTimeout)
	defer cancel()
	if err := a.store.AppendAudit(writeCtx, entry); err != nil {
		log.Error().Err(err).Msg("audit entry lost")
	}
}

// auditWriteTimeout bounds the write of one audit entry, as for API calls.
const auditWriteTimeout = 5 * time.Second

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
