package fanout

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Defaults for RedisConfig fields left zero.
const (
	// DefaultRedisChannel is the pub/sub channel replicas share.
	DefaultRedisChannel = "decnet:events"
	// defaultQueue is how many batches wait for Redis. An ingest batch is
	// at most a few hundred events, so this covers seconds of a flood
	// while Redis is slow.
	defaultQueue = 1024
	// retryDelay spaces reconnection attempts while Redis is down.
	retryDelay = time.Second
)

// RedisConfig configures a Redis broker.
type RedisConfig struct {
	// Client is the connection pool; the caller closes it.
	Client redis.UniversalClient
	// Channel is the pub/sub channel. Default DefaultRedisChannel.
	Channel string
	// Hub delivers to this replica's subscribers. Default: a new Hub.
	Hub *Hub
	// Queue is how many batches may wait to be sent to Redis. Default
	// 1024.
	Queue  int
	Logger zerolog.Logger
}

// Redis is a Broker for replicas that share a Redis server: every replica
// delivers to its own subscribers through its Hub, and sends what it
// publishes to the others over Redis pub/sub.
//
// A replica delivers its own events directly and skips their echo from
// Redis, so no subscriber receives an event twice. Pub/sub keeps nothing for a
// replica that is not listening, so when the subscription breaks, every
// local subscriber is dropped as if it had fallen behind, and catches up
// through the event list.
type Redis struct {
	client  redis.UniversalClient
	channel string
	hub     *Hub
	log     zerolog.Logger
	// origin marks this replica's messages.
	origin [16]byte
	out    chan []byte
	ready  chan struct{}
	// unsent counts batches not sent to Redis because the queue was full.
	unsent atomic.Uint64
}

var _ Broker = (*Redis)(nil)

// NewRedis returns a Redis broker. Run must be running for other replicas'
// events to arrive and for this one's to leave.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("new redis broker: nil client")
	}
	if cfg.Channel == "" {
		cfg.Channel = DefaultRedisChannel
	}
	if cfg.Hub == nil {
		cfg.Hub = New()
	}
	if cfg.Queue <= 0 {
		cfg.Queue = defaultQueue
	}
	return &Redis{
		client:  cfg.Client,
		channel: cfg.Channel,
		hub:     cfg.Hub,
		log:     cfg.Logger.With().Str("component", "fanout.redis").Logger(),
		origin:  uuid.New(),
		out:     make(chan []byte, cfg.Queue),
		ready:   make(chan struct{}),
	}, nil
}

// Publish delivers evs to this replica's subscribers and queues them for
// the other replicas. It never blocks: when the queue is full the batch
// reaches only this replica.
func (r *Redis) Publish(evs []*apiv1.StoredEvent) {
	if len(evs) == 0 {
		return
	}
	r.hub.Publish(evs)

	// ListEventsResponse is the existing message that carries a list of
	// stored events; its page token stays empty.
	body, err := proto.Marshal(&apiv1.ListEventsResponse{Events: evs})
	if err != nil {
		r.log.Error().Err(err).Msg("encode events for other replicas failed")
		return
	}
	msg := make([]byte, 0, len(r.origin)+len(body))
	msg = append(append(msg, r.origin[:]...), body...)
	select {
	case r.out <- msg:
	default:
		// NOTE: subscribers on other replicas miss this batch without
		// being dropped; they see it on their next list.
		if r.unsent.Add(1) == 1 {
			r.log.Warn().Int("events", len(evs)).Msg("redis publish queue full, events not sent to other replicas")
		}
	}
}

// Subscribe subscribes to the events of every replica.
func (r *Redis) Subscribe(buffer int) (<-chan *apiv1.StoredEvent, func()) {
	return r.hub.Subscribe(buffer)
}

// Ready is closed once the first Redis subscription is active, so events
// published by other replicas from then on arrive.
func (r *Redis) Ready() <-chan struct{} { return r.ready }

// Unsent returns how many batches did not reach Redis because the queue
// was full.
func (r *Redis) Unsent() uint64 { return r.unsent.Load() }

// Run sends this replica's events and receives the others' until ctx ends.
func (r *Redis) Run(ctx context.Context) error {
	pubsub := r.client.Subscribe(ctx, r.channel)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.send(ctx) })
	g.Go(func() error { return r.receive(ctx, pubsub) })
	g.Go(func() error {
		// Receive blocks in a read that ignores ctx; closing the
		// subscription ends it.
		<-ctx.Done()
		_ = pubsub.Close()
		return nil
	})
	return g.Wait()
}

func (r *Redis) send(ctx context.Context) error {
	failing := false
	for {
		var msg []byte
		select {
		case <-ctx.Done():
			return nil
		case msg = <-r.out:
		}
		err := r.client.Publish(ctx, r.channel, msg).Err()
		switch {
		case err != nil && ctx.Err() != nil:
			return nil //nolint:nilerr // a publish error after cancellation is the shutdown itself
		case err != nil && !failing:
			r.log.Warn().Err(err).Msg("publish events to redis failed")
			failing = true
		case err == nil && failing:
			r.log.Info().Msg("publish events to redis recovered")
			failing = false
		}
	}
}

func (r *Redis) receive(ctx context.Context, pubsub *redis.PubSub) error {
	subscribed := false
	failing := false
	for {
		m, err := pubsub.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil //nolint:nilerr // a receive error after cancellation is the shutdown itself
			}
			if !failing {
				r.log.Warn().Err(err).Msg("receive events from redis failed")
				failing = true
			}
			// Whatever was published meanwhile is lost to this replica.
			r.hub.dropAll()
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(retryDelay):
			}
			continue
		}

		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if !subscribed {
				subscribed = true
				close(r.ready)
				continue
			}
			// A subscribe after the first is go-redis reconnecting; the
			// gap before it may have held events.
			r.hub.dropAll()
			if failing {
				r.log.Info().Msg("receive events from redis recovered")
				failing = false
			}
		case *redis.Message:
			if err := r.deliver([]byte(m.Payload)); err != nil {
				r.log.Warn().Err(err).Msg("drop malformed message from redis")
			}
		}
	}
}

// deliver hands another replica's events to the local hub.
func (r *Redis) deliver(msg []byte) error {
	if len(msg) < len(r.origin) {
		return errors.New("decode events: message too short")
	}
	if [16]byte(msg[:len(r.origin)]) == r.origin {
		return nil
	}
	var batch apiv1.ListEventsResponse
	if err := proto.Unmarshal(msg[len(r.origin):], &batch); err != nil {
		return fmt.Errorf("decode events: %w", err)
	}
	r.hub.Publish(batch.GetEvents())
	return nil
}
