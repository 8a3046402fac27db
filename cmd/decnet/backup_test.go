package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/pki"
)

// seedDataDir creates a data directory with a CA, a reset key, an admin
// password file and a store holding one event at the given time.
func seedDataDir(t *testing.T, eventTime time.Time) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := pki.LoadOrCreateCA(filepath.Join(dir, "ca"), time.Now); err != nil {
		t.Fatalf("create CA: %v", err)
	}

	for name, mode := range map[string]os.FileMode{"bridge-reset.key": 0o600, "admin-password": 0o600} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name+" secret"), mode); err != nil {
			t.Fatal(err)
		}
	}

	st, err := sqlite.Open(ctx, filepath.Join(dir, "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	ev := &eventv1.Event{
		Id: id.String(), Time: timestamppb.New(eventTime), Decky: "web-01", Service: "ssh",
		Kind: "connection.opened", SessionId: id.String(),
		Source:      &eventv1.Endpoint{Address: "127.0.0.2", Port: 40000},
		Destination: &eventv1.Endpoint{Address: "127.0.0.1", Port: 22},
	}
	if _, err := st.IngestEvents(ctx, cliAgentID, []*eventv1.Event{ev}, time.Now()); err != nil {
		t.Fatalf("seed event: %v", err)
	}
	return dir
}

func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	src := seedDataDir(t, time.Now())
	out := filepath.Join(t.TempDir(), "backup.tar.gz")

	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"backup", "--data-dir", src, "--store", "sqlite", "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("backup: %v (%s)", err, stderr.String())
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive stat = %v, %v; want mode 0600", fi, err)
	}
	if err := run(ctx, []string{"backup", "--data-dir", src, "--store", "sqlite", "--out", out}, &stdout, &stderr); err == nil {
		t.Errorf("backup over an existing archive succeeded, want an error")
	}

	dst := filepath.Join(t.TempDir(), "restored")
	if err := run(ctx, []string{"restore", "--data-dir", dst, "--from", out}, &stdout, &stderr); err != nil {
		t.Fatalf("restore: %v (%s)", err, stderr.String())
	}
	for _, name := range []string{"bridge-reset.key", "admin-password", "ca/ca.crt", "ca/ca.key", "ca/intermediate.crt", "ca/intermediate.key"} {
		want, err := os.Stat(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.Stat(filepath.Join(dst, name))
		if err != nil {
			t.Errorf("restored %s: %v", name, err)
			continue
		}
		if got.Mode().Perm() != want.Mode().Perm() {
			t.Errorf("restored %s mode = %v, want %v", name, got.Mode().Perm(), want.Mode().Perm())
		}
		if strings.HasSuffix(name, ".key") && got.Mode().Perm() != 0o600 {
			t.Errorf("restored key %s mode = %v, want 0600", name, got.Mode().Perm())
		}
		a, _ := os.ReadFile(filepath.Join(src, name))
		b, _ := os.ReadFile(filepath.Join(dst, name))
		if !bytes.Equal(a, b) {
			t.Errorf("restored %s differs from the original", name)
		}
	}
	if _, err := pki.LoadOrCreateCA(filepath.Join(dst, "ca"), time.Now); err != nil {
		t.Errorf("load restored CA: %v", err)
	}

	st, err := sqlite.Open(ctx, filepath.Join(dst, "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("open restored store: %v", err)
	}
	page, err := st.ListEvents(ctx, store.EventQuery{})
	_ = st.Close()
	if err != nil || len(page.Items) != 1 {
		t.Errorf("restored events = %d, %v; want 1", len(page.Items), err)
	}

	if err := run(ctx, []string{"restore", "--data-dir", dst, "--from", out}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("restore into a non-empty directory = %v, want a not-empty error", err)
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	dir := seedDataDir(t, time.Now().Add(-48*time.Hour))

	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr bool
	}{
		{"missing older-than", []string{"retention", "--data-dir", dir}, "", true},
		{"keeps newer", []string{"retention", "--data-dir", dir, "--store", "sqlite", "--older-than", "72h"}, "events: deleted 0 rows", false},
		{"dry run", []string{"retention", "--data-dir", dir, "--store", "sqlite", "--older-than", "24h", "--dry-run"}, "events: would delete 1 rows", false},
		{"prunes", []string{"retention", "--data-dir", dir, "--store", "sqlite", "--older-than", "24h"}, "events: deleted 1 rows", false},
		{"nothing left", []string{"retention", "--data-dir", dir, "--store", "sqlite", "--older-than", "24h"}, "events: deleted 0 rows", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(ctx, tc.args, &stdout, &stderr)
			if (err != nil) != tc.wantErr {
				t.Fatalf("run(%q) = %v, want error %t", tc.args, err, tc.wantErr)
			}
			if !strings.Contains(stdout.String(), tc.want) {
				t.Errorf("run(%q) printed %q, want %q", tc.args, stdout.String(), tc.want)
			}
		})
	}
}
