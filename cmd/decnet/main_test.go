package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/decnet/decnet/pki"
)

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no command", args: nil, wantErr: "invalid usage"},
		{name: "unknown command", args: []string{"launch"}, wantErr: `unknown command "launch"`},
		{name: "tokens without subcommand", args: []string{"tokens"}, wantErr: "want a subcommand"},
		{name: "tokens create without name", args: []string{"tokens", "create", "--data-dir", "DIR"}, wantErr: "--name is required"},
		{name: "bad log format", args: []string{"server", "--log-format", "xml"}, wantErr: "invalid --log-format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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

func TestTokensCreateJSON(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"tokens", "create", "--data-dir", dir, "--name", "sensor-01", "--format", "json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("tokens create: %v (%s)", err, stderr.String())
	}

	var issued struct {
		Token     string `json:"token"`
		AgentID   string `json:"agent_id"`
		AgentName string `json:"agent_name"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &issued); err != nil {
		t.Fatalf("decode output %q: %v", stdout.String(), err)
	}
	token, err := pki.ParseBootstrapToken(issued.Token)
	if err != nil {
		t.Fatalf("printed token does not parse: %v", err)
	}
	if token.AgentID() != issued.AgentID || issued.AgentName != "sensor-01" {
		t.Fatalf("output %+v does not match the token's agent %s", issued, token.AgentID())
	}

	stdout.Reset()
	if err := run(context.Background(), []string{"tokens", "list", "--data-dir", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("tokens list: %v", err)
	}
	if !strings.Contains(stdout.String(), issued.AgentID) || !strings.Contains(stdout.String(), "valid") {
		t.Fatalf("tokens list output lacks the new valid token:\n%s", stdout.String())
	}
	if strings.Contains(stdout.String(), issued.Token) {
		t.Fatal("tokens list printed the token secret")
	}
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "decnet ") {
		t.Fatalf("version output %q", stdout.String())
	}
	if !errors.Is(run(context.Background(), nil, &stdout, &stdout), errUsage) {
		t.Fatal("run with no arguments is not a usage error")
	}
}
