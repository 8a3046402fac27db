package enroll_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decnet/decnet/agent/enroll"
)

func TestTokenFromSources(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("  DNT1.from-file\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	largeFile := filepath.Join(dir, "large")
	if err := os.WriteFile(largeFile, []byte(strings.Repeat("x", 5000)), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		flag    string
		file    string
		env     string
		want    string
		wantErr string
	}{
		{name: "flag", flag: " DNT1.from-flag ", want: "DNT1.from-flag"},
		{name: "file trimmed", file: tokenFile, want: "DNT1.from-file"},
		{name: "environment", env: "DNT1.from-env\n", want: "DNT1.from-env"},
		{name: "none", wantErr: "missing bootstrap token"},
		{name: "whitespace flag counts as none", flag: "  ", wantErr: "missing bootstrap token"},
		{name: "flag and file", flag: "a", file: tokenFile, wantErr: "given by --token and --token-file; pass exactly one"},
		{name: "flag and environment", flag: "a", env: "b", wantErr: "given by --token and DECNET_ENROLL_TOKEN"},
		{name: "file and environment", file: tokenFile, env: "b", wantErr: "given by --token-file and DECNET_ENROLL_TOKEN"},
		{name: "all three", flag: "a", file: tokenFile, env: "b", wantErr: "--token and --token-file and DECNET_ENROLL_TOKEN"},
		{name: "missing file", file: filepath.Join(dir, "absent"), wantErr: "no such file"},
		{name: "empty file", file: emptyFile, wantErr: "is empty"},
		{name: "large file", file: largeFile, wantErr: "larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(key string) string {
				if key == enroll.TokenEnv {
					return tt.env
				}
				return ""
			}

			got, err := enroll.TokenFromSources(tt.flag, tt.file, getenv)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("TokenFromSources = %q, want an error", got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("TokenFromSources: %v", err)
			}
			if got != tt.want {
				t.Errorf("token = %q, want %q", got, tt.want)
			}
		})
	}
}
