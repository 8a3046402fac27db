//go:build integration

package replica_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/decnet/decnet/controlplane/replica"
	"github.com/decnet/decnet/internal/pgtest"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m))
}

func TestLockDatabase(t *testing.T) {
	tests := []struct {
		name          string
		first, second bool // Shared: the replica has Redis
		wantErr       bool
	}{
		{"both with redis", true, true, false},
		{"second without redis", true, false, true},
		{"first without redis", false, true, true},
		{"neither with redis", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := pgtest.NewDatabase(t)
			first, err := replica.LockDatabase(ctx, replica.DatabaseLockConfig{DSN: dsn, Shared: tt.first})
			if err != nil {
				t.Fatalf("first replica: %v", err)
			}
			second, err := replica.LockDatabase(ctx, replica.DatabaseLockConfig{DSN: dsn, Shared: tt.second})
			if tt.wantErr {
				if !errors.Is(err, replica.ErrReplicaWithoutRedis) {
					t.Errorf("second replica: %v, want ErrReplicaWithoutRedis", err)
				}
			} else if err != nil {
				t.Errorf("second replica: %v", err)
			} else {
				_ = second.Close()
			}

			// Once the first replica stopped, the second starts either way.
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			if err == nil {
				return
			}
			second, err = replica.LockDatabase(ctx, replica.DatabaseLockConfig{DSN: dsn, Shared: tt.second})
			if err != nil {
				t.Fatalf("second replica after the first stopped: %v", err)
			}
			_ = second.Close()
		})
	}
}
