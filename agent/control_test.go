package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
)

const validDecoys = `deckies:
  - name: web-01
    seed: 000102030405060708090a0b0c0d0e0f
    services:
      - name: ssh
        listen: 127.0.0.1:0
`

func TestApplierAppliesAndPersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := newApplier(dir, func() *bridgev1.Heartbeat { return &bridgev1.Heartbeat{} })
	if err != nil {
		t.Fatalf("newApplier: %v", err)
	}
	if got := a.Heartbeat().GetAppliedConfigVersion(); got != 0 {
		t.Fatalf("applied version before any push = %d, want 0", got)
	}

	if err := a.ApplyConfig(ctx, &bridgev1.DesiredConfig{Version: 1, Document: []byte(validDecoys)}); err != nil {
		t.Fatalf("ApplyConfig version 1: %v", err)
	}
	path := filepath.Join(dir, PushedDecoysFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read pushed config: %v", err)
	}
	if string(data) != validDecoys {
		t.Errorf("pushed config file = %q, want the document", data)
	}
	if got := a.Heartbeat().GetAppliedConfigVersion(); got != 1 {
		t.Errorf("applied version = %d, want 1", got)
	}

	// The same version again is a no-op: the file is not written, which
	// removing it shows.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := a.ApplyConfig(ctx, &bridgev1.DesiredConfig{Version: 1, Document: []byte("not: [valid")}); err != nil {
		t.Errorf("ApplyConfig of the applied version = %v, want no-op", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("pushed config file after a no-op: %v, want not written", err)
	}

	// A restarted agent reports the version it applied before.
	again, err := newApplier(dir, func() *bridgev1.Heartbeat { return &bridgev1.Heartbeat{} })
	if err != nil {
		t.Fatalf("newApplier after restart: %v", err)
	}
	if got := again.Applied(); got != 1 {
		t.Errorf("applied version after restart = %d, want 1", got)
	}
}

func TestApplierRejectsInvalidConfig(t *testing.T) {
	dir := t.TempDir()
	a, err := newApplier(dir, func() *bridgev1.Heartbeat { return &bridgev1.Heartbeat{} })
	if err != nil {
		t.Fatalf("newApplier: %v", err)
	}

	tests := []struct {
		name     string
		version  uint64
		document string
		wantErr  string
	}{
		{"unknown key", 2, "deckies: []\nextra: 1\n", "field extra not found"},
		{"no deckies", 2, "deckies: []\n", "no deckies"},
		{"version zero", 0, validDecoys, "version 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := a.ApplyConfig(context.Background(), &bridgev1.DesiredConfig{Version: tc.version, Document: []byte(tc.document)})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ApplyConfig = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
	if got := a.Applied(); got != 0 {
		t.Errorf("applied version after rejections = %d, want 0", got)
	}
	if _, err := os.Stat(filepath.Join(dir, PushedDecoysFile)); !os.IsNotExist(err) {
		t.Errorf("pushed config file after rejections: %v, want none", err)
	}
}

func TestApplierReload(t *testing.T) {
	ctx := context.Background()
	a, err := newApplier(t.TempDir(), func() *bridgev1.Heartbeat { return &bridgev1.Heartbeat{} })
	if err != nil {
		t.Fatalf("newApplier: %v", err)
	}
	reload := &bridgev1.Command{Id: 1, Kind: bridgev1.CommandKind_COMMAND_KIND_RELOAD}
	if err := a.RunCommand(ctx, reload); err == nil {
		t.Error("reload without a pushed config succeeded, want an error")
	}
	if err := a.ApplyConfig(ctx, &bridgev1.DesiredConfig{Version: 1, Document: []byte(validDecoys)}); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	if err := a.RunCommand(ctx, reload); err != nil {
		t.Errorf("reload = %v, want nil", err)
	}
	if err := a.RunCommand(ctx, &bridgev1.Command{Id: 2}); err == nil {
		t.Error("unspecified command succeeded, want an error")
	}
}
