// Package store defines the control plane's persistent state. Backends live
// in subpackages (store/sqlite today); every backend must pass the same
// conformance tests.
package store

import (
	"context"
	"errors"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Sentinel errors. Backends wrap them so callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	// ErrTokenInvalid covers unknown, expired and already used bootstrap
	// tokens alike; the enrollment endpoint does not tell them apart to
	// the caller.
	ErrTokenInvalid = errors.New("bootstrap token invalid, expired or already used")
	ErrExists       = errors.New("already exists")
)

// Store is the control plane's persistent state.
type Store interface {
	// IngestEvents stores a batch in one transaction: the events (ignoring
	// ids already stored), the attackers they come from, and the
	// credentials they carry. It returns the events stored for the first
	// time, in batch order, and how many were duplicates. When it returns
	// nil the batch is durable.
	IngestEvents(ctx context.Context, agentID string, events []*eventv1.Event, receivedAt time.Time) (IngestResult, error)
	ListEvents(ctx context.Context, q EventQuery) (Page[*apiv1.StoredEvent], error)
	ListAttackers(ctx context.Context, q AttackerQuery) (Page[*apiv1.Attacker], error)
	// GetAttacker returns ErrNotFound for an unknown id.
	GetAttacker(ctx context.Context, id string) (*apiv1.Attacker, error)
	ListCredentials(ctx context.Context, q CredentialQuery) (Page[*apiv1.Credential], error)

	// CreateToken stores a bootstrap token by its hash.
	CreateToken(ctx context.Context, t Token) error
	// ConsumeToken marks the token with this hash used and returns it. It
	// returns ErrTokenInvalid when the token is unknown, expired at now or
	// used already; at most one caller ever succeeds per token.
	ConsumeToken(ctx context.Context, hash []byte, now time.Time) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)

	// UpsertAgent records an enrollment or a new certificate.
	UpsertAgent(ctx context.Context, a Agent) error
	// TouchAgent records that the agent connected or sent events.
	TouchAgent(ctx context.Context, id, version string, seen time.Time) error
	ListAgents(ctx context.Context) ([]Agent, error)
	// GetAgent returns ErrNotFound for an agent that was never enrolled.
	GetAgent(ctx context.Context, id string) (Agent, error)
	// RevokeAgent decommissions the agent at the given time and returns
	// it. Revoking an agent again keeps the first time. It returns
	// ErrNotFound for an agent that was never enrolled. Nothing clears a
	// revocation: the sensor enrolls again under a new id.
	RevokeAgent(ctx context.Context, id string, at time.Time) (Agent, error)

	// CreateUser returns ErrExists when the name is taken.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns ErrNotFound for an unknown name.
	GetUser(ctx context.Context, username string) (User, error)
	CountUsers(ctx context.Context) (int, error)

	CreateAPISession(ctx context.Context, s APISession) error
	// GetAPISession returns ErrNotFound for an unknown or expired hash.
	GetAPISession(ctx context.Context, tokenHash []byte, now time.Time) (APISession, error)
	DeleteAPISession(ctx context.Context, tokenHash []byte) error

	Close() error
}

// IngestResult is the outcome of IngestEvents.
type IngestResult struct {
	// Stored are the events stored for the first time, with their
	// attacker id, in batch order.
	Stored     []*apiv1.StoredEvent
	Duplicates int
}

// Page is one page of a list. NextPageToken is empty on the last page.
type Page[T any] struct {
	Items         []T
	NextPageToken string
}

// EventQuery selects events, newest first.
type EventQuery struct {
	Filter    *apiv1.EventFilter
	PageSize  int
	PageToken string
}

// AttackerQuery selects attackers, most recently seen first.
type AttackerQuery struct {
	Address   string
	PageSize  int
	PageToken string
}

// CredentialQuery selects credentials, newest first.
type CredentialQuery struct {
	AttackerID string
	Principal  string
	PageSize   int
	PageToken  string
}

// Token is a bootstrap token as stored: only the SHA-256 of its secret.
type Token struct {
	Hash      []byte
	AgentID   string
	AgentName string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is zero until the token is consumed.
	UsedAt time.Time
}

// Agent is an enrolled agent.
type Agent struct {
	ID                   string
	Name                 string
	EnrolledAt           time.Time
	LastSeen             time.Time
	Version              string
	CertificateSerial    string
	CertificateExpiresAt time.Time
	// RevokedAt is zero while the agent is active and set once it is
	// decommissioned.
	RevokedAt time.Time
}

// Revoked reports whether the agent is decommissioned.
func (a Agent) Revoked() bool { return !a.RevokedAt.IsZero() }

// User is a dashboard and API user. PasswordHash is an encoded argon2id
// hash, never the password.
type User struct {
	Username     string
	PasswordHash string `json:"-"`
	Role         string
	CreatedAt    time.Time
}

// APISession is a logged-in session, stored by the SHA-256 of its bearer
// token.
type APISession struct {
	TokenHash []byte `json:"-"`
	Username  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Page sizes for list calls.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ClampPageSize maps a requested page size to the one served.
func ClampPageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	default:
		return n
	}
}
