package subject

import (
	"errors"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern string
		subject string
		want    bool
	}{
		{"event.ssh.auth.attempt", "event.ssh.auth.attempt", true},
		{"event.ssh.auth.attempt", "event.ssh.auth", false},
		{"event.ssh.auth", "event.ssh.auth.attempt", false},
		{"event.*.command", "event.ssh.command", true},
		{"event.*.command", "event.ssh.auth.attempt", false},
		{"event.*", "event.ssh", true},
		{"event.*", "event", false},
		{"event.*", "event.ssh.command", false},
		{"*", "event", true},
		{"*", "event.ssh", false},
		{"event.>", "event.ssh", true},
		{"event.>", "event.ssh.auth.attempt", true},
		{"event.>", "event", false},
		{">", "event", true},
		{">", "a.b.c", true},
		{"event.*.auth.>", "event.http.auth.attempt", true},
		{"event.*.auth.>", "event.http.auth", false},
		{"event.*.auth.>", "event.http.command", false},
		{"*.*.*", "a.b.c", true},
		{"*.*.*", "a.b", false},
		{"a.b", "a.bc", false},
		{"ab", "a", false},
		{"agent.*.status", "agent.0195a1b2-0000-7000-8000-0000000000a1.status", true},
		{"agent.*.status", "agent.a1.heartbeat", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.subject, func(t *testing.T) {
			if err := ValidatePattern(tt.pattern); err != nil {
				t.Fatalf("ValidatePattern(%q) = %v", tt.pattern, err)
			}
			if got := Match(tt.pattern, tt.subject); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.subject, got, tt.want)
			}
		})
	}
}

func TestValidatePattern(t *testing.T) {
	tests := []struct {
		pattern string
		valid   bool
	}{
		{"event.ssh", true},
		{"event.*.command", true},
		{"event.>", true},
		{">", true},
		{"", false},
		{"event.", false},
		{".event", false},
		{"event..ssh", false},
		{"event.>.ssh", false},
		{"event.ss h", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			err := ValidatePattern(tt.pattern)
			if (err == nil) != tt.valid {
				t.Fatalf("ValidatePattern(%q) = %v, want valid=%v", tt.pattern, err, tt.valid)
			}
			if err != nil && !errors.Is(err, ErrInvalidSubject) {
				t.Errorf("error %v does not wrap ErrInvalidSubject", err)
			}
		})
	}
}

func TestValidateRejectsWildcards(t *testing.T) {
	for _, s := range []string{"event.*", "event.>", "*"} {
		if err := Validate(s); err == nil {
			t.Errorf("Validate(%q) = nil, want error", s)
		}
	}
}
