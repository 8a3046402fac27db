// Package ticket issues short-lived, single-use tickets that stand for a
// value, such as a session that opens a WebSocket or event stream where a
// header cannot carry the session token. Memory serves one process; Redis
// lets a ticket issued by one replica be redeemed at another.
package ticket

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors.
var (
	// ErrInvalid covers an unknown, expired and already redeemed ticket
	// alike, so a caller learns nothing about tickets it does not hold.
	ErrInvalid = errors.New("ticket unknown, expired or already used")
	// ErrInvalidTTL is returned by Issue for a TTL that is not positive.
	ErrInvalidTTL = errors.New("ticket ttl must be positive")
)

// Store issues and redeems tickets.
type Store interface {
	// Issue returns a new ticket that Redeem exchanges for value once,
	// within ttl.
	Issue(ctx context.Context, value string, ttl time.Duration) (string, error)
	// Redeem returns the value of ticket and invalidates it, or
	// ErrInvalid. Of concurrent redemptions of one ticket, one succeeds.
	Redeem(ctx context.Context, ticket string) (string, error)
}

// ticketBytes is a ticket's entropy: 256 bits, so guessing a live one is
// hopeless.
const ticketBytes = 32

// newTicket returns a random ticket and the key it is stored under. Only
// its hash is stored, so a dump of the store yields no usable ticket.
func newTicket() (ticket, key string, err error) {
	buf := make([]byte, ticketBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", "", fmt.Errorf("issue ticket: %w", err)
	}
	ticket = base64.RawURLEncoding.EncodeToString(buf)
	return ticket, keyOf(ticket), nil
}

func keyOf(ticket string) string {
	sum := sha256.Sum256([]byte(ticket))
	return hex.EncodeToString(sum[:])
}
