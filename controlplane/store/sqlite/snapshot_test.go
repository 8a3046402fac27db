package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
)

func TestSnapshotWhileOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "decnet.db")
	s, err := Open(ctx, src, zerolog.Nop())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.CreateUser(ctx, store.User{Username: "alice", PasswordHash: "x", Role: "admin", CreatedAt: created}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}

	dest := filepath.Join(dir, "copy.db")
	if err := Snapshot(ctx, src, dest); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if err := Snapshot(ctx, src, dest); err == nil {
		t.Errorf("Snapshot onto an existing file succeeded, want an error")
	}
	fi, err := os.Stat(dest)
	if err != nil {
		t.Fatalf("stat snapshot: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode = %v, want 0600", fi.Mode().Perm())
	}

	c, err := Open(ctx, dest, zerolog.Nop())
	if err != nil {
		t.Fatalf("Open snapshot: %v", err)
	}
	defer c.Close()
	u, err := c.GetUser(ctx, "alice")
	if err != nil {
		t.Fatalf("GetUser from snapshot: %v", err)
	}
	if !u.CreatedAt.Equal(created) || u.Role != "admin" {
		t.Errorf("user from snapshot = %+v, want the stored one", u)
	}
}
