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
	// ErrTokenInvalid covers unknown, expired, revoked and already used
	// bootstrap tokens alike; the enrollment endpoint does not tell them
	// apart to the caller.
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
	// CredentialTargets returns, for each key, the decky and service
	// targets its credentials were tried on. Keys without credentials are
	// absent from the map.
	CredentialTargets(ctx context.Context, keys []CredentialKey) (map[CredentialKey][]*apiv1.CredentialTarget, error)
	// ListCredentialReuse returns up to limit credentials tried on two or
	// more targets, most recently used first.
	ListCredentialReuse(ctx context.Context, limit int) ([]*apiv1.CredentialReuse, error)
	// Overview returns the totals of everything stored and the histogram,
	// counts and busiest attackers and credentials of q's window. Secret
	// values are set; the caller masks them.
	Overview(ctx context.Context, q OverviewQuery) (*apiv1.GetOverviewResponse, error)
	// ListRecordings returns session recordings without their content,
	// newest first.
	ListRecordings(ctx context.Context, q RecordingQuery) (Page[*apiv1.SessionRecording], error)
	// GetRecording returns a session's recording and its content, or
	// ErrNotFound.
	GetRecording(ctx context.Context, sessionID string) (*apiv1.SessionRecording, []byte, error)

	// CreateToken stores a bootstrap token by its hash.
	CreateToken(ctx context.Context, t Token) error
	// ConsumeToken marks the token with this hash used and returns it. It
	// returns ErrTokenInvalid when the token is unknown, expired at now,
	// revoked or used already; at most one caller ever succeeds per token.
	ConsumeToken(ctx context.Context, hash []byte, now time.Time) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes the token for the agent id at the given time and
	// returns it. Revoking again keeps the first time, and a used token
	// can be revoked too: the record shows it, and the agent is not
	// affected.
	// It returns ErrNotFound when no token names that agent.
	RevokeToken(ctx context.Context, agentID string, at time.Time) (Token, error)

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

	// SetDesiredConfig stores document as the agent's desired
	// configuration under the next version number, starting at 1, and
	// returns that version. It returns ErrNotFound for an agent that was
	// never enrolled.
	SetDesiredConfig(ctx context.Context, agentID string, document []byte, at time.Time) (version uint64, err error)
	// RecordAppliedConfig records the configuration version the agent
	// reports as applied and the error of its last rejected push (empty
	// when none). It returns ErrNotFound for an agent that was never
	// enrolled.
	RecordAppliedConfig(ctx context.Context, agentID string, applied uint64, applyError string, at time.Time) error
	// GetAgentConfig returns the agent's desired and applied
	// configuration, all zero for an agent that has none yet. It returns
	// ErrNotFound for an agent that was never enrolled.
	GetAgentConfig(ctx context.Context, agentID string) (AgentConfig, error)

	// CreateUser returns ErrExists when the name is taken.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns ErrNotFound for an unknown name.
	GetUser(ctx context.Context, username string) (User, error)
	CountUsers(ctx context.Context) (int, error)
	// ListUsers returns every user by name.
	ListUsers(ctx context.Context) ([]User, error)
	// SetUserRole changes a user's role; ErrNotFound for an unknown name.
	SetUserRole(ctx context.Context, username, role string) error
	// SetUserPassword replaces a user's password hash and must-change
	// flag and deletes the user's sessions except the one whose token
	// hash is keep (nil keeps none). ErrNotFound for an unknown name.
	SetUserPassword(ctx context.Context, username, passwordHash string, mustChange bool, keep []byte) error
	// DeleteUser deletes a user and their sessions; ErrNotFound for an
	// unknown name.
	DeleteUser(ctx context.Context, username string) error
	// SetUserTOTP stores the user's active and pending TOTP keys (empty
	// for none) and resets the last step; ErrNotFound for an unknown name.
	SetUserTOTP(ctx context.Context, username, secret, pending string) error
	// UseTOTPStep records step as the user's last TOTP step if it is later
	// than the stored one and reports whether it was; two concurrent
	// logins with one code cannot both succeed.
	UseTOTPStep(ctx context.Context, username string, step uint64) (bool, error)

	// CreateAPIToken stores a token by the hash of its secret.
	CreateAPIToken(ctx context.Context, t APIToken) error
	// GetAPITokenByHash returns the live token (not revoked, not expired
	// at now) with this hash, or ErrNotFound.
	GetAPITokenByHash(ctx context.Context, hash []byte, now time.Time) (APIToken, error)
	// ListAPITokens returns the tokens of username, or of every user when
	// username is empty, newest first.
	ListAPITokens(ctx context.Context, username string) ([]APIToken, error)
	// RevokeAPIToken revokes the token at the given time (the first
	// revocation time stays) and returns it; ErrNotFound for an unknown id.
	RevokeAPIToken(ctx context.Context, id string, at time.Time) (APIToken, error)

	// PutDocument stores or replaces the document (kind, id), in group
	// grp at time at.
	PutDocument(ctx context.Context, d Document) error
	// GetDocument returns ErrNotFound for an unknown document.
	GetDocument(ctx context.Context, kind, id string) (Document, error)
	// ListDocuments returns up to limit documents of kind, in group grp
	// when it is not empty, newest first.
	ListDocuments(ctx context.Context, kind, grp string, limit int) ([]Document, error)
	// DeleteDocument returns ErrNotFound for an unknown document.
	DeleteDocument(ctx context.Context, kind, id string) error
	// DeleteDocuments deletes every document of kind in group grp.
	DeleteDocuments(ctx context.Context, kind, grp string) error
	// TakeDocuments deletes and returns, in one step, the document id of
	// kind in group grp, or when id is empty up to limit of the group's
	// oldest first: two replicas never take the same document.
	TakeDocuments(ctx context.Context, kind, grp, id string, limit int) ([]Document, error)
	// PruneDocuments deletes the documents of kind older than before and
	// returns how many.
	PruneDocuments(ctx context.Context, kind string, before time.Time) (int64, error)

	// AppendAudit records one audit entry; its id is a UUIDv7.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns audit entries newest first.
	ListAudit(ctx context.Context, q AuditQuery) (Page[AuditEntry], error)

	CreateAPISession(ctx context.Context, s APISession) error
	// GetAPISession returns ErrNotFound for an unknown or expired hash.
	GetAPISession(ctx context.Context, tokenHash []byte, now time.Time) (APISession, error)
	// GetSessionUser returns a live session with its user in one round
	// trip, the read behind every authenticated call; ErrNotFound for an
	// unknown or expired hash or a deleted user.
	GetSessionUser(ctx context.Context, tokenHash []byte, now time.Time) (APISession, User, error)
	DeleteAPISession(ctx context.Context, tokenHash []byte) error

	// PruneEvents deletes the raw events whose event time is before the
	// cutoff, or with dryRun only counts them. Aggregates stay: attackers
	// keep their counters, first and last seen, addresses and targets, and
	// credentials keep their rows, which then name an event id that is no
	// longer stored. An event id pruned once is stored again if an agent
	// sends it again.
	PruneEvents(ctx context.Context, before time.Time, dryRun bool) (PruneReport, error)

	// Ping reports whether the store serves a read, for readiness
	// checks. It must not wait behind writes.
	Ping(ctx context.Context) error
	Close() error
}

// IngestResult is the outcome of IngestEvents.
type IngestResult struct {
	// Stored are the events stored for the first time, with their
	// attacker id, in batch order.
	Stored     []*apiv1.StoredEvent
	Duplicates int
}

// PruneReport counts what PruneEvents deleted, or on a dry run what it
// would delete.
type PruneReport struct {
	Before time.Time
	DryRun bool
	// Rows maps a table name to the number of rows deleted from it. Every
	// table PruneEvents deletes from has an entry, zero included.
	Rows map[string]int64
	// Partitions names the whole day partitions of the events table that
	// were dropped (PostgreSQL only). Their rows are counted in
	// Rows["events"].
	Partitions []string
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

// AttackerQuery selects attackers in the order Sort and Ascending give,
// which by default is most recently seen first. Zero filter fields match
// every attacker; set ones must all match.
type AttackerQuery struct {
	// Address is an address in its canonical text form.
	Address string
	// AddressPrefix matches the start of any of the attacker's addresses,
	// byte for byte.
	AddressPrefix string
	// Service and Decky match the attacker's targets; set together, they
	// must match the same target.
	Service string
	Decky   string
	// Principal matches a principal the attacker tried in an
	// authentication attempt whose credential is still stored.
	Principal     string
	MinEventCount uint64
	// SeenSince keeps attackers last seen at or after it, SeenUntil those
	// first seen before it.
	SeenSince time.Time
	SeenUntil time.Time

	Sort      AttackerSort
	Ascending bool
	PageSize  int
	PageToken string
}

// AttackerSort is the column a list of attackers is sorted by. The zero
// value is last seen.
type AttackerSort int

// The attacker sort columns. Their values appear in page tokens, so they
// never change.
const (
	SortLastSeen AttackerSort = iota
	SortFirstSeen
	SortEventCount
	SortAuthAttemptCount
)

func (s AttackerSort) valid() bool {
	return s >= SortLastSeen && s <= SortAuthAttemptCount
}

// KeyOf returns a's value of the sort column as a page token carries it:
// Unix nanoseconds for times, the count for counts.
func (s AttackerSort) KeyOf(a *apiv1.Attacker) int64 {
	switch s {
	case SortFirstSeen:
		return a.GetFirstSeen().AsTime().UnixNano()
	case SortEventCount:
		return int64(a.GetEventCount())
	case SortAuthAttemptCount:
		return int64(a.GetAuthAttemptCount())
	default:
		return a.GetLastSeen().AsTime().UnixNano()
	}
}

// CredentialQuery selects credentials, newest first.
type CredentialQuery struct {
	AttackerID string
	Principal  string
	PageSize   int
	PageToken  string
}

// APIToken is a token for automation, stored by the SHA-256 of its
// secret.
type APIToken struct {
	ID       string
	Hash     []byte `json:"-"`
	Name     string
	Username string
	Role     string
	// Scopes are what the token may call within its role. The store
	// keeps them as given; none of them may contain white space.
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	// RevokedAt is zero unless revoked.
	RevokedAt time.Time
}

// Document is a small record kept by features without tables of their
// own; Data is theirs to encode.
type Document struct {
	Kind  string
	ID    string
	Group string
	At    time.Time
	Data  []byte
}

// AuditEntry is one change made through the API.
type AuditEntry struct {
	ID        string
	Time      time.Time
	Username  string
	Role      string
	Procedure string
	// Request is the request as JSON without its secret fields.
	Request string
	// Outcome is "ok" or the error code returned.
	Outcome string
	Source  string
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	Username  string
	PageSize  int
	PageToken string
}

// CredentialKey identifies one credential whatever carried it: reuse is
// the same key on two or more targets.
type CredentialKey struct {
	// SHA256 is the digest as a string of 32 bytes, so the key can be a
	// map key.
	SHA256     string
	SecretKind string
	Principal  string
}

// RecordingQuery selects session recordings, newest first.
type RecordingQuery struct {
	AttackerID string
	PageSize   int
	PageToken  string
}

// TakeCast removes the recording from a session.recorded event and returns
// it, nil for any other event. Stores keep recordings apart from the
// events, so that event lists and live streams do not carry them; the
// event keeps the recording's metadata.
func TakeCast(ev *eventv1.Event) []byte {
	rec := ev.GetSessionRecorded()
	if rec == nil {
		return nil
	}
	cast := rec.GetCast()
	rec.Cast = nil
	if cast == nil {
		cast = []byte{}
	}
	return cast
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
	// RevokedAt is zero unless the token was revoked.
	RevokedAt time.Time
	// Labels are copied to the agent when the token enrolls it. Nil and
	// empty are the same.
	Labels map[string]string
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
	// Labels come from the bootstrap token. UpsertAgent with nil Labels
	// keeps the stored ones, so renewals need not carry them.
	Labels map[string]string
}

// AgentConfig is the configuration the control plane pushes to an agent
// and what the agent reported back.
type AgentConfig struct {
	AgentID string
	// DesiredVersion is 0 while no configuration was set.
	DesiredVersion uint64
	Document       []byte
	DesiredAt      time.Time
	// AppliedVersion is the version the agent last reported as applied.
	AppliedVersion uint64
	// ApplyError is the agent's error for the last rejected push, or empty.
	ApplyError string
	ReportedAt time.Time
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
	// MustChangePassword is set while the user still has a password
	// someone else chose.
	MustChangePassword bool
	// TOTPSecret is the active TOTP key in base32; empty when the second
	// factor is off. TOTPPending is a key being enrolled.
	TOTPSecret  string `json:"-"`
	TOTPPending string `json:"-"`
	// TOTPLastStep is the last TOTP time step accepted.
	TOTPLastStep uint64
	// SSO marks a user created by single sign-on, who logs in only
	// through the identity provider.
	SSO bool
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

// ReuseGroups builds the reuse records of keys from their targets, in the
// order of keys, keeping only keys with two or more targets.
func ReuseGroups(keys []CredentialKey, targets map[CredentialKey][]*apiv1.CredentialTarget) []*apiv1.CredentialReuse {
	var out []*apiv1.CredentialReuse
	for _, k := range keys {
		t := targets[k]
		if len(t) < 2 {
			continue
		}
		out = append(out, &apiv1.CredentialReuse{SecretSha256: []byte(k.SHA256), SecretKind: k.SecretKind, Principal: k.Principal, Targets: t})
	}
	return out
}
