package agent

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/config"
	"github.com/decnet/decnet/agent/enroll"
)

func TestBuiltinsListsDecoys(t *testing.T) {
	builtins := Builtins()
	for _, name := range []string{"ssh", "http"} {
		if _, ok := builtins[name]; !ok {
			t.Errorf("Builtins lacks %q", name)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	decoys := &config.Decoys{Deckies: []config.Decky{{
		Name:     "edge-01",
		Seed:     "00112233445566778899aabbccddeeff",
		Services: []config.Service{{Name: "gopher", Listen: "127.0.0.1:0"}},
	}}}
	valid := tls.Certificate{Leaf: &x509.Certificate{NotAfter: time.Now().Add(time.Hour)}}
	expired := tls.Certificate{Leaf: &x509.Certificate{NotAfter: time.Now().Add(-time.Hour)}}
	identity := &enroll.Identity{AgentID: "0190a5d4-0000-7000-8000-000000000001", Name: "edge", BridgeAddresses: []string{"127.0.0.1:1"}, Certificate: valid}

	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "no identity", cfg: Config{Decoys: decoys}, wantErr: "run decnet-agent enroll"},
		{name: "no decoys", cfg: Config{Identity: identity}, wantErr: "no decoy configuration"},
		{name: "unknown service", cfg: Config{Identity: identity, Decoys: decoys}, wantErr: `unknown service "gopher"`},
		{
			name:    "no bridge address",
			cfg:     Config{Identity: &enroll.Identity{AgentID: identity.AgentID, Certificate: valid}, Decoys: decoys},
			wantErr: "no bridge address",
		},
		{
			name:    "expired certificate",
			cfg:     Config{Identity: &enroll.Identity{AgentID: identity.AgentID, Certificate: expired}, Decoys: decoys},
			wantErr: "agent certificate expired",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.DataDir = t.TempDir()
			tt.cfg.Logger = zerolog.Nop()
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
