// Package tokens creates, lists and revokes bootstrap tokens: the domain
// logic behind `decnet tokens` and the TokenService API.
package tokens

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/google/uuid"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/pki"
)

// DefaultTTL is how long a bootstrap token stays valid: long enough to
// copy it to a sensor, short enough that a leaked one is soon useless.
const DefaultTTL = 15 * time.Minute

// MaxTTL bounds a requested lifetime, because a token is a bearer secret
// that enrolls a sensor into the fleet.
const MaxTTL = 7 * 24 * time.Hour

// State is a token's stage in its life: valid, used, expired or revoked.
type State string

// Token states, in the order State checks them.
const (
	StateUsed    State = "used"
	StateRevoked State = "revoked"
	StateExpired State = "expired"
	StateValid   State = "valid"
)

// StateOf returns the state of t at now. A used token stays used even if
// revoked later, because the revocation did not stop that enrollment.
func StateOf(t store.Token, now time.Time) State {
	switch {
	case !t.UsedAt.IsZero():
		return StateUsed
	case !t.RevokedAt.IsZero():
		return StateRevoked
	case !now.Before(t.ExpiresAt):
		return StateExpired
	default:
		return StateValid
	}
}

// Request describes a token to create.
type Request struct {
	// AgentName becomes the agent certificate's common name.
	AgentName string
	// TTL is the token's lifetime; zero means DefaultTTL.
	TTL time.Duration
	// Labels are copied to the agent record at enrollment; see
	// CheckLabels.
	Labels map[string]string
}

// Issued is a bootstrap token as returned once to its creator. Token is the
// only copy of the secret; the store keeps its hash.
type Issued struct {
	Token     string            `json:"token"`
	AgentID   string            `json:"agent_id"`
	AgentName string            `json:"agent_name"`
	Labels    map[string]string `json:"labels,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// Create stores a single-use bootstrap token for a new agent, pinned to the
// CA root with this fingerprint, and returns it.
func Create(ctx context.Context, st store.Store, rootFingerprint [32]byte, req Request, now time.Time) (Issued, error) {
	if err := pki.CheckAgentName(req.AgentName); err != nil {
		return Issued{}, fmt.Errorf("create bootstrap token: %w: %w", ErrInvalid, err)
	}
	ttl := req.TTL
	switch {
	case ttl == 0:
		ttl = DefaultTTL
	case ttl < 0 || ttl > MaxTTL:
		return Issued{}, fmt.Errorf("create bootstrap token: %w: ttl %s is outside (0, %s]", ErrInvalid, ttl, MaxTTL)
	}
	if err := CheckLabels(req.Labels); err != nil {
		return Issued{}, fmt.Errorf("create bootstrap token: %w", err)
	}

	agentID := uuid.NewString()
	token, err := pki.NewBootstrapToken(agentID, rootFingerprint)
	if err != nil {
		return Issued{}, err
	}
	labels := maps.Clone(req.Labels)
	if len(labels) == 0 {
		labels = nil
	}
	stored := store.Token{
		Hash:      token.Hash(),
		AgentID:   agentID,
		AgentName: req.AgentName,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
		Labels:    labels,
	}
	if err := st.CreateToken(ctx, stored); err != nil {
		return Issued{}, fmt.Errorf("create bootstrap token: %w", err)
	}
	return Issued{
		Token:     token.Encode(),
		AgentID:   agentID,
		AgentName: req.AgentName,
		Labels:    labels,
		CreatedAt: now,
		ExpiresAt: stored.ExpiresAt,
	}, nil
}

// Revoke revokes the token of the agent with this id, so it no longer
// enrolls. It returns an error wrapping store.ErrNotFound when no token
// names the agent.
func Revoke(ctx context.Context, st store.Store, agentID string, now time.Time) (store.Token, error) {
	if _, err := uuid.Parse(agentID); err != nil {
		return store.Token{}, fmt.Errorf("revoke bootstrap token: %w: agent id %q is not a UUID", ErrInvalid, agentID)
	}
	t, err := st.RevokeToken(ctx, agentID, now)
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke bootstrap token: %w", err)
	}
	return t, nil
}
