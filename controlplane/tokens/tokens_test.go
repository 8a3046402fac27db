package tokens

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

func TestParseLabels(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name    string
		args    []string
		want    map[string]string
		wantErr string
	}{
		{"none", nil, nil, ""},
		{"two", []string{"site=paris", "rack.id=r-12_B"}, map[string]string{"site": "paris", "rack.id": "r-12_B"}, ""},
		{"empty value", []string{"canary="}, map[string]string{"canary": ""}, ""},
		{"no equals", []string{"site"}, nil, "is not key=value"},
		{"empty key", []string{"=x"}, nil, "label key is empty"},
		{"upper-case key", []string{"Site=x"}, nil, "must start with a-z or 0-9"},
		{"key with space", []string{"a b=x"}, nil, "may contain only"},
		{"value with space", []string{"k=a b"}, nil, "may contain only"},
		{"value with comma-free unicode", []string{"k=é"}, nil, "may contain only"},
		{"long key", []string{long + "=x"}, nil, "longer than 63"},
		{"long value", []string{"k=" + long}, nil, "longer than 63"},
		{"duplicate", []string{"k=1", "k=2"}, nil, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLabels(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("error = %v, want ErrInvalid containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLabels: %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("labels = %v, want %v", got, tt.want)
			}
		})
	}

	many := make(map[string]string)
	for i := range maxLabels + 1 {
		many[string(rune('a'+i))] = "x"
	}
	if err := CheckLabels(many); !errors.Is(err, ErrInvalid) {
		t.Errorf("CheckLabels(%d labels) error = %v, want ErrInvalid", len(many), err)
	}
}

func TestStateOf(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	base := store.Token{ExpiresAt: now.Add(time.Minute)}
	tests := []struct {
		name   string
		modify func(*store.Token)
		want   State
	}{
		{"valid", func(*store.Token) {}, StateValid},
		{"expired", func(t *store.Token) { t.ExpiresAt = now }, StateExpired},
		{"revoked", func(t *store.Token) { t.RevokedAt = now }, StateRevoked},
		{"revoked and expired", func(t *store.Token) { t.RevokedAt = now; t.ExpiresAt = now }, StateRevoked},
		{"used then revoked", func(t *store.Token) { t.UsedAt = now; t.RevokedAt = now }, StateUsed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := base
			tt.modify(&tok)
			if got := StateOf(tok, now); got != tt.want {
				t.Errorf("StateOf = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFormatLabels(t *testing.T) {
	if got := FormatLabels(nil); got != "-" {
		t.Errorf("FormatLabels(nil) = %q, want -", got)
	}
	if got := FormatLabels(map[string]string{"z": "1", "a": "2"}); got != "a=2,z=1" {
		t.Errorf("FormatLabels = %q, want a=2,z=1", got)
	}
}
