package bridge

import (
	"context"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Position marks a point in a Source. Committing a position acknowledges
// every event read before it. Positions only grow, and their meaning is
// the Source's own.
type Position uint64

// Source is the origin of the events the client sends: on the agent, the
// disk spool. Delivery is at-least-once. Events read but not committed are
// read again after Rewind.
type Source interface {
	// Read blocks until at least one event is available or ctx ends. It
	// returns at most maxEvents events whose encoded sizes sum to at most
	// maxBytes (one larger event is still returned alone), and the position
	// that commits them.
	Read(ctx context.Context, maxEvents, maxBytes int) ([]*eventv1.Event, Position, error)
	// Commit marks every event before pos as delivered, durably. Committed
	// events are never read again.
	Commit(pos Position) error
	// Rewind moves the read position back to the oldest uncommitted
	// event, so that the next Read returns it again.
	Rewind() error
}
