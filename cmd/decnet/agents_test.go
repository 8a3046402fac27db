package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
)

const cliAgentID = "0195a1b2-0000-7000-8000-0000000000c1"

// seedAgentStore creates a SQLite store with one active agent and
// returns its data directory.
func seedAgentStore(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	err = st.UpsertAgent(ctx, store.Agent{ID: cliAgentID, Name: "sensor-07", EnrolledAt: time.Now(), CertificateSerial: "0a", CertificateExpiresAt: time.Now().Add(time.Hour)})
	if closeErr := st.Close(); err != nil || closeErr != nil {
		t.Fatalf("seed store: %v, %v", err, closeErr)
	}
	return dir
}

func TestAgentsDecommission(t *testing.T) {
	ctx := context.Background()
	dir := seedAgentStore(t)

	list := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(ctx, []string{"agents", "list", "--data-dir", dir}, &stdout, &stderr); err != nil {
			t.Fatalf("agents list: %v (%s)", err, stderr.String())
		}
		return stdout.String()
	}
	if out := list(); !strings.Contains(out, cliAgentID) || !strings.Contains(out, "active") {
		t.Fatalf("agents list before decommission lacks the active agent:\n%s", out)
	}

	// The id before the flags works as well as after them.
	for _, args := range [][]string{
		{"agents", "decommission", "--data-dir", dir, cliAgentID},
		{"agents", "decommission", cliAgentID, "--data-dir", dir},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(ctx, args, &stdout, &stderr); err != nil {
			t.Fatalf("run(%q): %v (%s)", args, err, stderr.String())
		}
		if !strings.Contains(stdout.String(), "decommissioned") {
			t.Errorf("run(%q) printed %q", args, stdout.String())
		}
	}
	if out := list(); !strings.Contains(out, "decommissioned") || strings.Contains(out, "active") {
		t.Fatalf("agents list after decommission does not show it:\n%s", out)
	}

	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown agent", []string{"agents", "decommission", "--data-dir", dir, "0195a1b2-0000-7000-8000-0000000000ff"}, "no agent with id"},
		{"no id", []string{"agents", "decommission", "--data-dir", dir}, "want exactly one agent id"},
		{"two ids", []string{"agents", "decommission", "--data-dir", dir, cliAgentID, cliAgentID}, "want exactly one agent id"},
		{"no subcommand", []string{"agents"}, "want a subcommand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(ctx, tt.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSplitPositional(t *testing.T) {
	tests := []struct {
		args              []string
		flags, positional []string
	}{
		{[]string{"--data-dir", "D", "ID"}, []string{"--data-dir", "D"}, []string{"ID"}},
		{[]string{"ID", "--data-dir=D"}, []string{"--data-dir=D"}, []string{"ID"}},
		{[]string{"-data-dir", "D", "--", "-ID"}, []string{"-data-dir", "D"}, []string{"-ID"}},
	}
	for _, tt := range tests {
		flags, pos := splitPositional(tt.args, "data-dir")
		if !slices.Equal(flags, tt.flags) || !slices.Equal(pos, tt.positional) {
			t.Errorf("splitPositional(%q) = %q, %q, want %q, %q", tt.args, flags, pos, tt.flags, tt.positional)
		}
	}
}
