package controlplane

import (
	"context"
	"time"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/tokens"
	"github.com/decnet/decnet/pki"
)

// DefaultTokenTTL is how long a bootstrap token stays valid by default.
const DefaultTokenTTL = tokens.DefaultTTL

// IssuedToken is a bootstrap token as returned once to its creator. Token is
// the only copy of the secret; the store keeps its hash.
type IssuedToken = tokens.Issued

// CreateToken creates a single-use bootstrap token without labels for a new
// agent called name, pinned to the CA's root. A zero or negative ttl
// means DefaultTokenTTL. Use tokens.Create for labels.
func CreateToken(ctx context.Context, st store.Store, ca *pki.CA, name string, ttl time.Duration, now time.Time) (IssuedToken, error) {
	if ttl < 0 {
		ttl = 0
	}
	return tokens.Create(ctx, st, ca.RootFingerprint(), tokens.Request{AgentName: name, TTL: ttl}, now)
}
