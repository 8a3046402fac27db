package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decnet/decnet/pki"
)

func TestCACommands(t *testing.T) {
	dir := t.TempDir()
	offline := filepath.Join(t.TempDir(), "root.key")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"ca", "init", "--data-dir", dir, "--root-key-offline", offline}, &stdout, &stderr); err != nil {
		t.Fatalf("ca init: %v (%s)", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "ca", pki.CAKeyFile)); !os.IsNotExist(err) {
		t.Errorf("ca.key still in the data directory after --root-key-offline: %v", err)
	}
	if _, err := os.Stat(offline); err != nil {
		t.Errorf("offline root key: %v", err)
	}
	before, err := os.ReadFile(filepath.Join(dir, "ca", pki.IntermediateCertificateFile))
	if err != nil {
		t.Fatal(err)
	}

	err = run(context.Background(), []string{"ca", "rotate-intermediate", "--data-dir", dir}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "root key is not in the CA directory") {
		t.Errorf("rotate-intermediate without the key: error = %v, want one about the root key", err)
	}
	if err := run(context.Background(), []string{"ca", "rotate-intermediate", "--data-dir", dir, "--root-key", offline}, &stdout, &stderr); err != nil {
		t.Fatalf("rotate-intermediate: %v", err)
	}
	after, err := os.ReadFile(filepath.Join(dir, "ca", pki.IntermediateCertificateFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(before, after) {
		t.Error("intermediate unchanged after rotate-intermediate")
	}
}

func TestTokensLabelsAndRevoke(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"tokens", "create", "--data-dir", dir, "--name", "sensor-02",
		"--label", "site=paris", "--label", "zone=dmz", "--format", "json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("tokens create: %v (%s)", err, stderr.String())
	}
	var issued struct {
		Token   string            `json:"token"`
		AgentID string            `json:"agent_id"`
		Labels  map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &issued); err != nil {
		t.Fatalf("decode output %q: %v", stdout.String(), err)
	}
	if issued.Labels["site"] != "paris" || issued.Labels["zone"] != "dmz" {
		t.Errorf("labels = %v, want site=paris and zone=dmz", issued.Labels)
	}

	for _, bad := range []string{"noequals", "Bad=x", "k=a b"} {
		err := run(context.Background(), []string{"tokens", "create", "--data-dir", dir, "--name", "s", "--label", bad}, &stdout, &stderr)
		if err == nil {
			t.Errorf("tokens create --label %q succeeded, want an error", bad)
		}
	}

	stdout.Reset()
	if err := run(context.Background(), []string{"tokens", "revoke", "--data-dir", dir, issued.AgentID}, &stdout, &stderr); err != nil {
		t.Fatalf("tokens revoke: %v", err)
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"tokens", "list", "--data-dir", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("tokens list: %v", err)
	}
	var line string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.Contains(l, issued.AgentID) {
			line = l
		}
	}
	if !strings.Contains(line, "revoked") || !strings.Contains(line, "site=paris,zone=dmz") {
		t.Errorf("tokens list line %q, want state revoked and labels site=paris,zone=dmz", line)
	}
	if strings.Contains(stdout.String(), issued.Token) {
		t.Error("tokens list printed the token secret")
	}

	err = run(context.Background(), []string{"tokens", "revoke", "--data-dir", dir, "0195a1b2-0000-7000-8000-0000000000ff"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no token for agent") {
		t.Errorf("revoke of an unknown agent: error = %v, want no token for agent", err)
	}
}
