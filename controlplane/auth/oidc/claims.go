package oidc

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/decnet/decnet/controlplane/auth"
)

// Limits on what a claim may carry. A provider is trusted, but a
// misconfigured one that emits every directory group must not make each
// login walk megabytes.
const (
	maxClaimValues   = 1024
	maxClaimValueLen = 512
	maxClaimDepth    = 8
)

// Reasons a login is rejected. Each is shown to the user as is, so none
// names a secret or an internal detail.
var (
	ErrNoRole         = errors.New("your account at the identity provider is in no group that grants access to DECNET")
	ErrNoUsername     = errors.New("the identity provider did not send a usable user name")
	ErrEmailDomain    = errors.New("your email domain is not allowed to sign in to DECNET")
	ErrClaimMalformed = errors.New("the identity provider sent a malformed claim")
)

// ErrClaimMissing is returned by ClaimStrings for a claim that is absent
// or null.
var ErrClaimMissing = errors.New("claim missing")

// usernamePattern is a copy of the auth package's user name rule, because
// a name that breaks it could not be managed from the dashboard.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// roleRank orders roles so the highest matching one wins.
var roleRank = map[string]int{auth.RoleViewer: 1, auth.RoleAnalyst: 2, auth.RoleAdmin: 3}

// lookupClaim returns the value of name in claims. A name present as a
// top-level key wins; otherwise a dotted name walks nested objects, as
// Keycloak's "realm_access.roles" needs.
func lookupClaim(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	parts := strings.Split(name, ".")
	if len(parts) < 2 || len(parts) > maxClaimDepth {
		return nil, false
	}
	var cur any = claims
	for _, p := range parts {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// ClaimStrings returns the strings of claim name: one for a string claim,
// each element for an array of strings. It returns ErrClaimMissing for
// a missing or null claim and ErrClaimMalformed for any other shape or for
// values beyond the limits.
func ClaimStrings(claims map[string]any, name string) ([]string, error) {
	v, ok := lookupClaim(claims, name)
	if !ok || v == nil {
		return nil, ErrClaimMissing
	}
	switch t := v.(type) {
	case string:
		if len(t) > maxClaimValueLen {
			return nil, fmt.Errorf("claim %q: value too long: %w", name, ErrClaimMalformed)
		}
		return []string{t}, nil
	case []any:
		if len(t) > maxClaimValues {
			return nil, fmt.Errorf("claim %q: %d values: %w", name, len(t), ErrClaimMalformed)
		}
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok || len(s) > maxClaimValueLen {
				return nil, fmt.Errorf("claim %q: element is not a short string: %w", name, ErrClaimMalformed)
			}
			out = append(out, s)
		}
		return out, nil
	case []string:
		if len(t) > maxClaimValues {
			return nil, fmt.Errorf("claim %q: %d values: %w", name, len(t), ErrClaimMalformed)
		}
		return append([]string(nil), t...), nil
	}
	return nil, fmt.Errorf("claim %q: %T is neither a string nor an array: %w", name, v, ErrClaimMalformed)
}

// identity is what a login decides from the ID token's claims.
type identity struct {
	Username string
	Role     string
	// Matched are the claim values that granted Role, for the audit log.
	Matched []string
}

// policy turns claims into an identity.
type policy struct {
	usernameClaim string
	roleClaim     string
	roleMap       map[string]string
	defaultRole   string
	domains       []string
}

// decide maps claims to a user name and role, or returns one of the
// exported errors that explains the rejection.
func (p policy) decide(claims map[string]any) (identity, error) {
	names, err := ClaimStrings(claims, p.usernameClaim)
	if err != nil || len(names) != 1 || !usernamePattern.MatchString(names[0]) {
		return identity{}, ErrNoUsername
	}
	id := identity{Username: names[0]}

	if len(p.domains) > 0 {
		if err := p.checkEmail(claims); err != nil {
			return identity{}, err
		}
	}

	values, err := ClaimStrings(claims, p.roleClaim)
	switch {
	case errors.Is(err, ErrClaimMissing):
		values = nil
	case err != nil:
		return identity{}, err
	}
	best := 0
	for _, v := range values {
		role, ok := p.roleMap[v]
		if !ok {
			continue
		}
		switch r := roleRank[role]; {
		case r > best:
			best, id.Role, id.Matched = r, role, []string{v}
		case r == best:
			id.Matched = append(id.Matched, v)
		}
	}
	if id.Role == "" {
		if p.defaultRole == "" {
			return identity{}, ErrNoRole
		}
		id.Role = p.defaultRole
	}
	return id, nil
}

// checkEmail admits an email in one of the allowed domains unless the
// provider marks it unverified. A missing email_verified is accepted,
// because some providers never send it.
func (p policy) checkEmail(claims map[string]any) error {
	emails, err := ClaimStrings(claims, "email")
	if err != nil || len(emails) != 1 {
		return ErrEmailDomain
	}
	if verified, ok := claims["email_verified"].(bool); ok && !verified {
		return ErrEmailDomain
	}
	at := strings.LastIndexByte(emails[0], '@')
	if at < 1 {
		return ErrEmailDomain
	}
	domain := strings.ToLower(emails[0][at+1:])
	for _, d := range p.domains {
		if domain == d {
			return nil
		}
	}
	return ErrEmailDomain
}
