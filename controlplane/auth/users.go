package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// MinPasswordLength is the shortest password a user may choose.
const MinPasswordLength = 12

// maxPasswordLength bounds the input of the password hash.
const maxPasswordLength = 1024

// generatedPasswordLength is the length of passwords an admin hands out.
const generatedPasswordLength = 20

// Errors of user management, each a message the caller can act on.
var (
	ErrWeakPassword    = fmt.Errorf("the new password must have at least %d characters", MinPasswordLength)
	ErrInvalidUsername = errors.New("user names have 1 to 64 characters: letters, digits, '.', '_', '-' and '@'")
	ErrInvalidRole     = errors.New("role must be viewer, analyst or admin")
	ErrDeleteSelf      = errors.New("an admin cannot delete their own account")
)

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// ChangePassword checks the caller's current password, stores the new one
// and ends the caller's other sessions. A wrong current password counts
// against the login rate limits of the source and of the user.
func (a *Authenticator) ChangePassword(ctx context.Context, s Session, current, next Secret, source string) error {
	if utf8.RuneCountInString(next.Reveal()) < MinPasswordLength || len(next.Reveal()) > maxPasswordLength {
		return ErrWeakPassword
	}
	if !a.allowAttempt(source, s.Username) {
		return ErrRateLimited
	}
	user, err := a.store.GetUser(ctx, s.Username)
	if err != nil {
		return fmt.Errorf("change password of %q: %w", s.Username, err)
	}
	ok, err := VerifyPassword(user.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("change password of %q: %w", s.Username, err)
	}
	if !ok {
		a.log.Info().Str(fieldUser, s.Username).Msg("password change refused: wrong current password")
		return ErrInvalidCredentials
	}
	hash, err := HashPassword(next)
	if err != nil {
		return fmt.Errorf("change password of %q: %w", s.Username, err)
	}
	if err := a.store.SetUserPassword(ctx, s.Username, hash, false, s.tokenHash); err != nil {
		return fmt.Errorf("change password of %q: %w", s.Username, err)
	}
	a.log.Info().Str(fieldUser, s.Username).Msg("password changed; other sessions ended")
	return nil
}

// CreateUser creates a user with a generated password, which it returns;
// the user must change it at the first login.
func (a *Authenticator) CreateUser(ctx context.Context, username string, role apiv1.Role) (Secret, error) {
	if !usernamePattern.MatchString(username) {
		return "", ErrInvalidUsername
	}
	if RoleName(role) == "" {
		return "", ErrInvalidRole
	}
	password, err := GeneratePassword(generatedPasswordLength)
	if err != nil {
		return "", err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return "", fmt.Errorf("create user %q: %w", username, err)
	}
	u := store.User{Username: username, PasswordHash: hash, Role: RoleName(role), CreatedAt: a.now().UTC(), MustChangePassword: true}
	if err := a.store.CreateUser(ctx, u); err != nil {
		return "", err
	}
	return password, nil
}

// ResetPassword gives a user a generated password, which it returns, ends
// their sessions and makes them change it.
func (a *Authenticator) ResetPassword(ctx context.Context, username string) (Secret, error) {
	if u, err := a.store.GetUser(ctx, username); err == nil && u.SSO {
		return "", ErrSSOUser
	}
	password, err := GeneratePassword(generatedPasswordLength)
	if err != nil {
		return "", err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return "", fmt.Errorf("reset password of %q: %w", username, err)
	}
	if err := a.store.SetUserPassword(ctx, username, hash, true, nil); err != nil {
		return "", err
	}
	return password, nil
}

// UserMessage converts a stored user for the API.
func UserMessage(u store.User) *apiv1.User {
	return &apiv1.User{
		Username:               u.Username,
		Role:                   ParseRole(u.Role),
		CreatedAt:              timestamppb.New(u.CreatedAt),
		PasswordChangeRequired: u.MustChangePassword,
		TotpEnabled:            u.TOTPSecret != "",
	}
}
