package bridge_test

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/bridge"
)

// TestClientRateLimitsDialFailureLogs checks that while the control plane
// is unreachable the client logs the first failed attempt and every 10th
// at warning level and the others at debug level.
func TestClientRateLimitsDialFailureLogs(t *testing.T) {
	env := newTestEnv(t)

	// A UDP socket that never replies, so every handshake times out.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })

	const attempts = 25
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu     sync.Mutex
		sleeps int
	)
	client, err := bridge.NewClient(bridge.ClientConfig{
		Addresses:   []string{silent.LocalAddr().String()},
		TLSConfig:   env.ca.clientTLS(t, testAgentID, env.ca),
		Source:      env.spool,
		DialTimeout: 20 * time.Millisecond,
		// Sleep runs once after each failed attempt, so it ends the run
		// after the last one.
		Sleep: func(ctx context.Context, _ time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			sleeps++
			if sleeps == attempts {
				cancel()
			}
			return ctx.Err()
		},
		Logger: zerolog.New(&logs).Level(zerolog.DebugLevel),
	})
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	if err := client.Run(ctx); err != nil {
		t.Fatalf("Run() = %v", err)
	}

	var levels []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry struct {
			Level      string `json:"level"`
			Message    string `json:"message"`
			Reconnects int    `json:"reconnects"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if entry.Message != "bridge connection attempt failed" {
			continue
		}
		if entry.Reconnects != len(levels)+1 {
			t.Errorf("failure %d logged with reconnects=%d", len(levels)+1, entry.Reconnects)
		}
		levels = append(levels, entry.Level)
	}

	if len(levels) != attempts {
		t.Fatalf("logged %d failed attempts, want %d", len(levels), attempts)
	}
	for i, level := range levels {
		failure := i + 1
		want := "debug"
		if failure == 1 || failure%10 == 0 {
			want = "warn"
		}
		if level != want {
			t.Errorf("failure %d logged at %s, want %s", failure, level, want)
		}
	}
}
