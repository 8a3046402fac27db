package config

import (
	"strings"
	"testing"
)

const validSeed = "00112233445566778899aabbccddeeff"

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{
			name: "valid",
			yaml: `
deckies:
  - name: web-01
    seed: ` + validSeed + `
    services:
      - {name: ssh, persona: openssh-9.2p1-debian12, listen: "127.0.0.1:2222"}
      - {name: http, listen: "127.0.0.1:0"}
`,
		},
		{name: "empty file", yaml: "", wantErr: "empty file"},
		{name: "no deckies", yaml: "deckies: []\n", wantErr: "no deckies"},
		{
			name:    "unknown key",
			yaml:    "deckies:\n  - name: a\n    seed: " + validSeed + "\n    colour: red\n",
			wantErr: "field colour not found",
		},
		{
			name:    "bad name",
			yaml:    "deckies:\n  - name: Web_01\n    seed: " + validSeed + "\n    services: [{name: ssh, listen: '127.0.0.1:0'}]\n",
			wantErr: "invalid name",
		},
		{
			name:    "short seed",
			yaml:    "deckies:\n  - name: a\n    seed: abcd\n    services: [{name: ssh, listen: '127.0.0.1:0'}]\n",
			wantErr: "seed too short",
		},
		{
			name:    "seed not hex",
			yaml:    "deckies:\n  - name: a\n    seed: zz\n    services: [{name: ssh, listen: '127.0.0.1:0'}]\n",
			wantErr: "want hexadecimal",
		},
		{
			name:    "bad listen",
			yaml:    "deckies:\n  - name: a\n    seed: " + validSeed + "\n    services: [{name: ssh, listen: 'localhost:22'}]\n",
			wantErr: "invalid listen address",
		},
		{
			name:    "duplicate listen",
			yaml:    "deckies:\n  - name: a\n    seed: " + validSeed + "\n    services: [{name: ssh, listen: '127.0.0.1:22'}, {name: http, listen: '127.0.0.1:22'}]\n",
			wantErr: "already used by a/ssh",
		},
		{
			name: "duplicate decky",
			yaml: "deckies:\n  - name: a\n    seed: " + validSeed + "\n    services: [{name: ssh, listen: '127.0.0.1:0'}]\n" +
				"  - name: a\n    seed: " + validSeed + "\n    services: [{name: ssh, listen: '127.0.0.1:0'}]\n",
			wantErr: "duplicate name",
		},
		{
			name:    "no services",
			yaml:    "deckies:\n  - name: a\n    seed: " + validSeed + "\n",
			wantErr: "no services",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got := len(cfg.Deckies[0].Services); got != 2 {
					t.Fatalf("services = %d, want 2", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDevDefaultRoundTrip(t *testing.T) {
	a, err := DevDefault()
	if err != nil {
		t.Fatal(err)
	}
	b, err := DevDefault()
	if err != nil {
		t.Fatal(err)
	}
	if a.Deckies[0].Seed == b.Deckies[0].Seed {
		t.Fatal("two default configurations share a seed")
	}

	data, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(Marshal(DevDefault())): %v", err)
	}
	if back.Deckies[0].Seed != a.Deckies[0].Seed {
		t.Fatalf("seed changed in round trip: %q != %q", back.Deckies[0].Seed, a.Deckies[0].Seed)
	}
}
