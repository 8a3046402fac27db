package auth

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestScopesAllow(t *testing.T) {
	const (
		listEvents   = "/decnet.api.v1.EventService/ListEvents"
		createHook   = "/decnet.api.v1.WebhookService/CreateWebhook"
		listHooks    = "/decnet.api.v1.WebhookService/ListWebhooks"
		streamTicket = "/decnet.api.v1.AuthService/IssueStreamTicket"
		download     = "/downloads/decnet-agent"
	)
	tests := []struct {
		scopes    []string
		procedure string
		want      bool
	}{
		{nil, createHook, true},
		{[]string{"*"}, createHook, true},
		{[]string{"*"}, download, true},
		{[]string{"*:read"}, listEvents, true},
		{[]string{"*:read"}, createHook, false},
		{[]string{"*:read"}, download, true},
		{[]string{"events:read"}, listEvents, true},
		{[]string{"events:read"}, listHooks, false},
		{[]string{"events:read"}, streamTicket, true},
		{[]string{"events:read"}, download, false},
		{[]string{"webhooks:read"}, createHook, false},
		{[]string{"webhooks:write"}, createHook, true},
		{[]string{"webhooks:write"}, listHooks, true},
		{[]string{"events:read", "webhooks:write"}, createHook, true},
		{[]string{}, listEvents, false},
	}
	for _, tc := range tests {
		if got := ScopesAllow(tc.scopes, tc.procedure); got != tc.want {
			t.Errorf("ScopesAllow(%q, %s) = %v, want %v", tc.scopes, tc.procedure, got, tc.want)
		}
	}
}

func TestParseScopes(t *testing.T) {
	got, err := ParseScopes([]string{" events:read ", "*:read", "events:read", "api-tokens:write"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"events:read", "*:read", "api-tokens:write"}; !slices.Equal(got, want) {
		t.Errorf("ParseScopes = %q, want %q", got, want)
	}

	for _, bad := range []string{"", "events", "event:read", "events:admin", "*:write", "events:read webhooks:write", strings.Repeat("x", 500) + ":read"} {
		if _, err := ParseScopes([]string{bad}); !errors.Is(err, ErrInvalidScope) {
			t.Errorf("ParseScopes(%.20q) error = %v, want ErrInvalidScope", bad, err)
		}
	}
	many := make([]string, maxTokenScopes+1)
	for i := range many {
		many[i] = "events:read"
	}
	if _, err := ParseScopes(many); !errors.Is(err, ErrInvalidScope) {
		t.Errorf("ParseScopes(%d scopes) error = %v, want ErrInvalidScope", len(many), err)
	}
}

func TestScopeCovers(t *testing.T) {
	tests := []struct {
		have []string
		want string
		ok   bool
	}{
		{[]string{"*"}, "*", true},
		{[]string{"*:read"}, "*", false},
		{[]string{"*:read"}, "*:read", true},
		{[]string{"*:read"}, "events:read", true},
		{[]string{"*:read"}, "events:write", false},
		{[]string{"events:write"}, "events:read", true},
		{[]string{"events:write"}, "*:read", false},
		{[]string{"events:read"}, "events:write", false},
		{[]string{"events:read"}, "attackers:read", false},
	}
	for _, tc := range tests {
		if got := covers(tc.have, tc.want); got != tc.ok {
			t.Errorf("covers(%q, %q) = %v, want %v", tc.have, tc.want, got, tc.ok)
		}
	}
}
