package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// API token scopes narrow what a token may call within its role. A scope
// is "<resource>:read", "<resource>:write", "*:read" or "*", where the
// resource is the scope option of a service ("events" for EventService).
// Procedures declared idempotency_level = NO_SIDE_EFFECTS need read, all
// others write, and write includes read. A procedure may name the scope it
// needs with the method_scope option instead.
const (
	// ScopeAll allows everything the token's role allows.
	ScopeAll = "*"
	// ScopeAllRead allows every procedure that changes nothing.
	ScopeAllRead = "*:read"

	scopeRead  = "read"
	scopeWrite = "write"
)

// maxTokenScopes bounds the scopes of one token. There are fewer than 20
// services, so 32 fits every resource in both forms with room to spare.
const maxTokenScopes = 32

// Errors of token scopes.
var (
	ErrInvalidScope = errors.New(`scopes are "*", "*:read" or "<resource>:read" or "<resource>:write" with a resource of the API`)
	// ErrTokenScopeTooWide is returned when a token creates a token with
	// a scope it lacks itself.
	ErrTokenScopeTooWide = errors.New("a token cannot give a new token a scope it does not have")
	// ErrScopeDenied is returned for a call outside the token's scopes.
	ErrScopeDenied = errors.New("permission denied: the API token's scopes do not allow this call")
)

// scopeRule is the scope one procedure needs.
type scopeRule struct {
	resource string
	write    bool
}

func (r scopeRule) String() string {
	if r.write {
		return r.resource + ":" + scopeWrite
	}
	return r.resource + ":" + scopeRead
}

// ScopeOf returns the scope the procedure needs, such as "events:read",
// or "" for a procedure outside the API.
func ScopeOf(procedure string) string {
	accessOnce.Do(loadAccessRules)
	rule, ok := scopeRules[procedure]
	if !ok {
		return ""
	}
	return rule.String()
}

// ScopeResources returns the resource names the API's services declare,
// sorted.
func ScopeResources() []string {
	accessOnce.Do(loadAccessRules)
	return slices.Sorted(func(yield func(string) bool) {
		for r := range scopeResources {
			if !yield(r) {
				return
			}
		}
	})
}

// ScopesAllow reports whether a session with scopes may call the
// procedure. Nil scopes, those of a login session, allow every procedure.
// Paths outside the API, such as downloads, declare no resource and need
// a scope that reads everything.
func ScopesAllow(scopes []string, procedure string) bool {
	if scopes == nil {
		return true
	}
	accessOnce.Do(loadAccessRules)
	rule, ok := scopeRules[procedure]
	if !ok {
		rule = scopeRule{resource: ScopeAll}
	}
	return slices.ContainsFunc(scopes, func(have string) bool { return grants(have, rule) })
}

// grants reports whether one scope allows what rule needs.
func grants(have string, rule scopeRule) bool {
	switch have {
	case ScopeAll:
		return true
	case ScopeAllRead:
		return !rule.write
	}
	resource, access, _ := strings.Cut(have, ":")
	if resource != rule.resource {
		return false
	}
	return access == scopeWrite || (access == scopeRead && !rule.write)
}

// covers reports whether scopes allow everything the scope want allows,
// so that a token cannot mint a token wider than itself.
func covers(scopes []string, want string) bool {
	switch want {
	case ScopeAll:
		return slices.Contains(scopes, ScopeAll)
	case ScopeAllRead:
		return slices.Contains(scopes, ScopeAll) || slices.Contains(scopes, ScopeAllRead)
	}
	resource, access, _ := strings.Cut(want, ":")
	rule := scopeRule{resource: resource, write: access == scopeWrite}
	return slices.ContainsFunc(scopes, func(have string) bool { return grants(have, rule) })
}

// ParseScopes checks the scopes a token is to have and returns them
// without duplicates, in the order given. It returns ErrInvalidScope for a
// malformed scope or an unknown resource, so that a typo does not make a
// token that can call nothing.
func ParseScopes(in []string) ([]string, error) {
	if len(in) > maxTokenScopes {
		return nil, fmt.Errorf("%w: at most %d scopes", ErrInvalidScope, maxTokenScopes)
	}
	accessOnce.Do(loadAccessRules)
	out := make([]string, 0, len(in))
	for _, raw := range in {
		scope := strings.TrimSpace(raw)
		if !validScope(scope) {
			return nil, fmt.Errorf("%w: %q", ErrInvalidScope, truncateScope(scope))
		}
		if !slices.Contains(out, scope) {
			out = append(out, scope)
		}
	}
	return out, nil
}

func validScope(scope string) bool {
	if scope == ScopeAll || scope == ScopeAllRead {
		return true
	}
	resource, access, ok := strings.Cut(scope, ":")
	return ok && scopeResources[resource] && (access == scopeRead || access == scopeWrite)
}

// truncateScope keeps an error message short whatever the caller sent.
func truncateScope(s string) string {
	const maxShown = 64
	if len(s) > maxShown {
		return s[:maxShown] + "…"
	}
	return s
}
