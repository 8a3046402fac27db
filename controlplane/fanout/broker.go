package fanout

import (
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Broker publishes stored events to every current subscriber.
//
// Publish never blocks on a subscriber. A subscriber whose buffer is full
// when an event arrives is dropped: its channel is closed, and it must
// subscribe again and catch up through the event list. A closed channel
// that the subscriber did not cancel therefore means it fell behind. This
// is chosen over skipping events, because a live view with silent gaps
// looks complete when it is not.
//
// Subscribers share the published messages and must not modify them.
type Broker interface {
	Publish(evs []*apiv1.StoredEvent)
	// Subscribe returns a channel with room for buffer events and a
	// cancel function that ends the subscription and closes the channel.
	// Cancel may be called more than once.
	Subscribe(buffer int) (ch <-chan *apiv1.StoredEvent, cancel func())
}

// DefaultBuffer is the subscriber buffer used for a non-positive size. It
// absorbs a burst of about one ingest batch.
const DefaultBuffer = 256
