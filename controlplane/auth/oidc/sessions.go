package oidc

import (
	"context"
	"time"

	"github.com/decnet/decnet/controlplane/auth"
)

// Sessions opens API sessions, the same kind a password login opens.
type Sessions interface {
	// StartSession opens a session for username and returns its bearer
	// token and expiry, which the callback puts in the dashboard's
	// session cookie.
	StartSession(ctx context.Context, username string) (token auth.Secret, expires time.Time, err error)
}
