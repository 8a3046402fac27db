package webhooks

import (
	"context"
	"net/netip"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Store keeps subscriptions, the delivery audit log, dead letters and
// suppression rules. Backends return errors wrapping store.ErrNotFound for
// unknown ids and store.ErrExists for a duplicate id, so the API maps them
// like every other store error. MemoryStore is the in-process backend.
type Store interface {
	CreateSubscription(ctx context.Context, r Record) error
	// UpdateSubscription replaces the record with r.ID.
	UpdateSubscription(ctx context.Context, r Record) error
	// DeleteSubscription removes the record, its dead letters and its
	// delivery log.
	DeleteSubscription(ctx context.Context, id string) error
	GetSubscription(ctx context.Context, id string) (Record, error)
	// ListSubscriptions returns every record, oldest first.
	ListSubscriptions(ctx context.Context) ([]Record, error)

	// AddDelivery appends one attempt to the audit log. Backends may
	// bound the log per subscription and drop the oldest entries.
	AddDelivery(ctx context.Context, d Delivery) error
	// ListDeliveries returns the newest attempts first.
	ListDeliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error)

	AddDeadLetter(ctx context.Context, dl DeadLetter) error
	// ListDeadLetters returns up to limit dead letters of a subscription
	// (every subscription when subscriptionID is empty), oldest first.
	ListDeadLetters(ctx context.Context, subscriptionID string, limit int) ([]DeadLetter, error)
	// TakeDeadLetters removes and returns the dead letters of a
	// subscription: the one with id, or up to limit of them, oldest first,
	// when id is empty. Removal and return are one step, so two replicas
	// replaying at once never send a dead letter twice. An unknown id is
	// ErrNotFound.
	TakeDeadLetters(ctx context.Context, subscriptionID, id string, limit int) ([]DeadLetter, error)

	CreateSuppression(ctx context.Context, s Suppression) error
	DeleteSuppression(ctx context.Context, id string) error
	ListSuppressions(ctx context.Context) ([]Suppression, error)
}

// Record is a subscription as stored. Its secrets and its URL are sealed
// with AES-256-GCM under the dispatcher's key, because a Slack, Teams or
// Discord URL is itself a credential. Each sealed value is bound to the
// record id and the field, so it cannot be moved to another record or field.
type Record struct {
	ID   string
	Name string
	// SealedURL is the destination URL, sealed.
	SealedURL []byte
	// Origin is scheme://host[:port] of the URL: enough to show which
	// service receives the notices without revealing a URL's token.
	Origin   string
	Format   Format
	Subjects []string
	Enabled  bool
	// RateLimit is deliveries per minute.
	RateLimit int
	// SealedSecret is the signing secret, sealed.
	SealedSecret []byte
	// SealedPrevious is the secret replaced by the last rotation, sealed,
	// still signing until PreviousExpiresAt. Empty when there is none.
	SealedPrevious    []byte
	PreviousExpiresAt time.Time
	// SealedAuthorization is the Authorization header value, sealed;
	// empty when the destination needs none.
	SealedAuthorization []byte
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Outcome is the result of one delivery attempt.
type Outcome string

// Outcomes of an attempt.
const (
	// OutcomeDelivered is a 2xx response.
	OutcomeDelivered Outcome = "delivered"
	// OutcomeRetry is a failure that will be tried again.
	OutcomeRetry Outcome = "retry"
	// OutcomeFailed is a final failure; the notice went to the dead
	// letters unless it was a test.
	OutcomeFailed Outcome = "failed"
)

// Delivery is one attempt in the audit log. Error never holds the URL,
// headers or secrets.
type Delivery struct {
	ID             string
	SubscriptionID string
	NoticeID       string
	Subject        string
	// Attempt counts from 1 for each notice.
	Attempt    int
	Time       time.Time
	StatusCode int
	Duration   time.Duration
	Outcome    Outcome
	Error      string
	// Test marks a test message sent by Test.
	Test bool
}

// DeliveryQuery selects audit entries.
type DeliveryQuery struct {
	// SubscriptionID selects one subscription; empty means all.
	SubscriptionID string
	// NoticeID selects the attempts of one notice; empty means all.
	NoticeID string
	// Limit caps the result; zero or negative means 100.
	Limit int
}

// Reasons a notice becomes a dead letter.
const (
	ReasonAttemptsExhausted = "attempts exhausted"
	ReasonFinalStatus       = "final status"
	ReasonRefused           = "destination refused"
	ReasonCircuitOpen       = "circuit open"
	ReasonQueueFull         = "queue full"
	ReasonRender            = "render failed"
	ReasonShutdown          = "shut down before delivery"
)

// DeadLetter is a notice that could not be delivered. Replay sends it
// again, rendered with the subscription's current format.
type DeadLetter struct {
	ID             string
	SubscriptionID string
	Notice         *apiv1.Notice
	// Incident is set when the notice is the summary of a group.
	Incident   *Incident
	Reason     string
	Attempts   int
	StatusCode int
	Error      string
	CreatedAt  time.Time
}

// Suppression drops notices before delivery. Every criterion that is set
// must match; at least one must be set. A rule with only a time window
// silences everything during it, as for a maintenance window.
type Suppression struct {
	ID string
	// SubscriptionID limits the rule to one subscription; empty means all.
	SubscriptionID string
	// Prefix matches the attacker's source address.
	Prefix netip.Prefix
	// AgentID matches the agent that saw the event.
	AgentID string
	// Decky matches the decky; a reuse notice matches when every target
	// is on this decky.
	Decky string
	// NotBefore and NotAfter bound when the rule applies; zero means
	// unbounded on that side.
	NotBefore time.Time
	NotAfter  time.Time
	// Reason is a note for people, such as "internal vulnerability scanner".
	Reason    string
	CreatedAt time.Time
}
