package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no command", args: nil, wantErr: "invalid usage"},
		{name: "unknown command", args: []string{"start"}, wantErr: `unknown command "start"`},
		{name: "enroll without server", args: []string{"enroll", "--token", "x"}, wantErr: "--server is required"},
		{name: "enroll without token", args: []string{"enroll", "--server", "https://127.0.0.1:1"}, wantErr: "token"},
		{name: "run without identity", args: []string{"run", "--data-dir", "DIR", "--metrics-listen", ""}, wantErr: "decnet-agent enroll"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DECNET_ENROLL_TOKEN", "")
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "DIR", t.TempDir())
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestEnrollRejectsTwoTokenSources(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("DNT1.x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DECNET_ENROLL_TOKEN", "")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"enroll", "--server", "https://127.0.0.1:1", "--token", "DNT1.y", "--token-file", file, "--data-dir", t.TempDir()}, &stdout, &stderr)
	if err == nil {
		t.Fatal("enroll accepted --token and --token-file together")
	}
}
