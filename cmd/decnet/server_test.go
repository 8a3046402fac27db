package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveDatabaseURL(t *testing.T) {
	const dsn = "postgres://decnet:s3cret@db.internal:5432/decnet"
	file := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(file, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		store   string
		file    string
		env     string
		want    string
		wantErr bool
	}{
		{name: "default is sqlite", want: ""},
		{name: "explicit sqlite ignores env", store: "sqlite", env: dsn, want: ""},
		{name: "env selects postgres", env: dsn, want: dsn},
		{name: "file selects postgres", file: file, want: dsn},
		{name: "postgres from env", store: "postgres", env: dsn, want: dsn},
		{name: "postgres without url", store: "postgres", wantErr: true},
		{name: "url on the flag", store: dsn, want: dsn},
		{name: "unknown store", store: "mysql://x", wantErr: true},
		{name: "missing file", file: filepath.Join(t.TempDir(), "absent"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == databaseURLEnv {
					return tt.env
				}
				return ""
			}
			got, err := resolveDatabaseURL(tt.store, tt.file, getenv)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error reveals the password: %v", err)
			}
			if got != tt.want {
				t.Errorf("url = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSecretURLRedacts(t *testing.T) {
	u := secretURL{value: "redis://:hunter2@127.0.0.1:6379/0"}
	if s := u.String(); strings.Contains(s, "hunter2") {
		t.Errorf("String() = %q reveals the password", s)
	}
}
