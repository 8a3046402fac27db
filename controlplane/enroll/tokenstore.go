package enroll

import (
	"context"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

// TokenStore is the part of store.Store that enrollment needs.
type TokenStore interface {
	// ConsumeToken marks the token with this hash used and returns it, or
	// returns an error wrapping store.ErrTokenInvalid when the token is
	// unknown, expired at now or used already.
	ConsumeToken(ctx context.Context, hash []byte, now time.Time) (store.Token, error)
	// UpsertAgent records the enrolled agent and its certificate.
	UpsertAgent(ctx context.Context, a store.Agent) error
}
