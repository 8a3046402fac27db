//go:build integration

package fanout_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/fanout/fanouttest"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/internal/redistest"
)

// startRedisBroker runs a Redis broker until the test ends and waits for
// its subscription.
func startRedisBroker(t *testing.T, addr, channel string) *fanout.Redis {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr})
	b, err := fanout.NewRedis(fanout.RedisConfig{Client: client, Channel: channel})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		_ = client.Close()
	})
	select {
	case <-b.Ready():
	case err := <-done:
		t.Fatalf("Run returned before subscribing: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("redis subscription not ready within 10 s")
	}
	return b
}

func TestRedisBroker(t *testing.T) {
	srv := redistest.Start(t)
	fanouttest.Run(t, func(t *testing.T) (fanout.Broker, fanout.Broker) {
		// A channel per pair keeps the cases apart on one server.
		channel := "decnet:test:" + t.Name()
		return startRedisBroker(t, srv.Addr(), channel), startRedisBroker(t, srv.Addr(), channel)
	})
}

// TestRedisBrokerOutage checks that subscribers are dropped when Redis goes
// away, since events published meanwhile cannot reach them.
func TestRedisBrokerOutage(t *testing.T) {
	srv := redistest.Start(t)
	b := startRedisBroker(t, srv.Addr(), "decnet:test:outage")
	ch, cancel := b.Subscribe(0)
	defer cancel()

	srv.Stop()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("subscriber received an event, want its channel closed")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("subscriber not dropped within 30 s of Redis stopping")
	}

	// Local delivery continues while Redis is down.
	ch2, cancel2 := b.Subscribe(0)
	defer cancel2()
	b.Publish([]*apiv1.StoredEvent{{Event: &eventv1.Event{Id: "local"}}})
	if ev := <-ch2; ev.GetEvent().GetId() != "local" {
		t.Errorf("local event %q, want local", ev.GetEvent().GetId())
	}
}
