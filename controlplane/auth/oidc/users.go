package oidc

import (
	"context"

	"github.com/decnet/decnet/controlplane/auth"
)

// ErrNotSSOUser is returned by Users.SyncSSOUser when the name belongs to
// a local user with a password: single sign-on never takes over such an
// account, whatever the provider claims.
var ErrNotSSOUser = auth.ErrNotSSOUser

// Users keeps the local user record of each single sign-on user.
type Users interface {
	// SyncSSOUser creates username as a single sign-on user with role and
	// a password nobody knows, so password login fails for it; or sets the
	// role of the existing single sign-on user, so a provider group
	// change takes effect at the next login. It returns ErrNotSSOUser
	// when username is a local password user. source is the browser's
	// address, for the audit log entry of a created user or a changed
	// role.
	SyncSSOUser(ctx context.Context, username, role, source string) error
}
