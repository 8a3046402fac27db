//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/postgres"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/internal/pgtest"
	"github.com/decnet/decnet/pki"
)

// TestBackupRestorePostgres backs up a PostgreSQL store with pg_dump
// through decnet backup, unpacks it with decnet restore, loads the dump
// into an empty database with pg_restore and finds the credential again.
func TestBackupRestorePostgres(t *testing.T) {
	pgRestore, err := exec.LookPath("pg_restore")
	if err != nil {
		t.Fatal("pg_restore not installed: run integration/setup.sh as root")
	}
	ctx := context.Background()
	server := pgtest.Start(t, pgtest.Options{})
	dsn := server.NewDatabase(t)

	st, err := postgres.Open(ctx, dsn, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("pg-backup-secret")
	ev := &eventv1.Event{
		Id:          "01935b6e-1c2a-7b3c-8d4e-5f6a7b8c9d0e",
		Time:        timestamppb.New(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)),
		Decky:       "edge-01",
		Service:     "ssh",
		Kind:        "auth.attempt",
		Source:      &eventv1.Endpoint{Address: "127.0.0.2", Port: 50000},
		Destination: &eventv1.Endpoint{Address: "127.0.0.1", Port: 22},
		SessionId:   "01935b6e-1c2a-7b3c-8d4e-000000000001",
		Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Principal: "root", SecretKind: "plaintext", Mechanism: "ssh_password", Secret: secret,
		}},
	}
	if _, err := st.IngestEvents(ctx, "0190a5d4-0000-7000-8000-000000000001", []*eventv1.Event{ev}, time.Now()); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	_ = st.Close()

	dataDir := t.TempDir()
	if _, err := pki.LoadOrCreateCA(filepath.Join(dataDir, "ca"), time.Now); err != nil {
		t.Fatal(err)
	}
	dsnFile := filepath.Join(t.TempDir(), "database-url")
	if err := os.WriteFile(dsnFile, []byte(dsn), 0o600); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "backup.tar.gz")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"backup", "--data-dir", dataDir, "--store", "postgres", "--database-url-file", dsnFile, "--out", archive}, &stdout, &stderr); err != nil {
		t.Fatalf("backup: %v (%s)", err, stderr.String())
	}
	if bytes.Contains(stdout.Bytes(), []byte(dsn)) || bytes.Contains(stderr.Bytes(), []byte(dsn)) {
		t.Error("backup printed the database URL")
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if err := run(ctx, []string{"restore", "--data-dir", restored, "--from", archive}, &stdout, &stderr); err != nil {
		t.Fatalf("restore: %v (%s)", err, stderr.String())
	}
	dump := filepath.Join(restored, "postgres.dump")
	if _, err := os.Stat(dump); err != nil {
		t.Fatalf("restored archive lacks the PostgreSQL dump: %v", err)
	}
	if _, err := os.Stat(filepath.Join(restored, "ca", "ca.key")); err != nil {
		t.Fatalf("restored archive lacks the CA key: %v", err)
	}

	target := server.NewDatabase(t)
	if out, err := exec.Command(pgRestore, "--no-owner", "--dbname", target, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v: %s", err, out)
	}
	back, err := postgres.Open(ctx, target, zerolog.Nop())
	if err != nil {
		t.Fatalf("open restored database: %v", err)
	}
	defer back.Close()
	page, err := back.ListCredentials(ctx, store.CredentialQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].GetPrincipal() != "root" || !bytes.Equal(page.Items[0].GetSecret(), secret) {
		t.Fatalf("restored credentials = %v, want the one root credential", page.Items)
	}
}
