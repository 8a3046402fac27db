package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/pki"
)

// DefaultTokenTTL is how long a bootstrap token stays valid: long enough to
// copy it to a sensor, short enough that a leaked one is soon useless.
const DefaultTokenTTL = 15 * time.Minute

// IssuedToken is a bootstrap token as returned once to its creator. Token is
// the only copy of the secret; the store keeps its hash.
type IssuedToken struct {
	Token     string    `json:"token"`
	AgentID   string    `json:"agent_id"`
	AgentName string    `json:"agent_name"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateToken creates a single-use bootstrap token for a new agent called
// name, pinned to the CA's root.
func CreateToken(ctx context.Context, st store.Store, ca *pki.CA, name string, ttl time.Duration, now time.Time) (IssuedToken, error) {
	if err := pki.CheckAgentName(name); err != nil {
		return IssuedToken{}, err
	}
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}

	agentID := uuid.NewString()
	token, err := pki.NewBootstrapToken(agentID, ca.RootFingerprint())
	if err != nil {
		return IssuedToken{}, err
	}
	expires := now.Add(ttl)
	err = st.CreateToken(ctx, store.Token{
		Hash:      token.Hash(),
		AgentID:   agentID,
		AgentName: name,
		CreatedAt: now,
		ExpiresAt: expires,
	})
	if err != nil {
		return IssuedToken{}, fmt.Errorf("create bootstrap token: %w", err)
	}
	return IssuedToken{Token: token.Encode(), AgentID: agentID, AgentName: name, ExpiresAt: expires}, nil
}
