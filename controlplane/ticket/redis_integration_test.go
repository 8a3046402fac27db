//go:build integration

package ticket_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/decnet/decnet/controlplane/ticket"
	"github.com/decnet/decnet/controlplane/ticket/tickettest"
	"github.com/decnet/decnet/internal/redistest"
)

func TestRedis(t *testing.T) {
	srv := redistest.Start(t)
	tickettest.Run(t, func(t *testing.T) (ticket.Store, func(time.Duration)) {
		client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { _ = client.Close() })
		if err := client.FlushDB(context.Background()).Err(); err != nil {
			t.Fatalf("flush: %v", err)
		}
		s, err := ticket.NewRedis(ticket.RedisConfig{Client: client})
		if err != nil {
			t.Fatal(err)
		}
		// Redis expires keys on its own clock, so time moves by sleeping.
		return s, time.Sleep
	})
}
