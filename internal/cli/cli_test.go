package cli

import (
	"flag"
	"strings"
	"testing"
)

func TestParseEnvFallback(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantDir  string
		wantPort int
		wantErr  string
	}{
		{name: "defaults", wantDir: "/var/lib/decnet", wantPort: 1},
		{name: "flag", args: []string{"--data-dir", "/a"}, wantDir: "/a", wantPort: 1},
		{name: "env", env: map[string]string{"DECNET_DATA_DIR": "/b", "DECNET_PORT": "7"}, wantDir: "/b", wantPort: 7},
		{name: "flag and same env", args: []string{"--data-dir", "/a"}, env: map[string]string{"DECNET_DATA_DIR": "/a"}, wantDir: "/a", wantPort: 1},
		{name: "flag and other env", args: []string{"--data-dir", "/a"}, env: map[string]string{"DECNET_DATA_DIR": "/b"}, wantErr: "conflicts with DECNET_DATA_DIR"},
		{name: "bad env value", env: map[string]string{"DECNET_PORT": "x"}, wantErr: "invalid DECNET_PORT"},
		{name: "stray argument", args: []string{"extra"}, wantErr: `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			dir := fs.String("data-dir", "/var/lib/decnet", "")
			port := fs.Int("port", 1, "")

			err := Parse(fs, tt.args, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if *dir != tt.wantDir {
				t.Errorf("data-dir = %q, want %q", *dir, tt.wantDir)
			}
			if *port != tt.wantPort {
				t.Errorf("port = %d, want %d", *port, tt.wantPort)
			}
		})
	}
}

func TestNewLoggerRejectsUnknownLevel(t *testing.T) {
	if _, err := NewLogger(nil, "loud", false); err == nil {
		t.Fatal("NewLogger accepted level \"loud\"")
	}
}
