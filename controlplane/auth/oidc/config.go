package oidc

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/auth"
)

// Defaults of Config.
const (
	// DefaultUsernameClaim is the standard OpenID Connect claim for a
	// human-readable login name.
	DefaultUsernameClaim = "preferred_username"
	// DefaultRoleClaim is the usual name of the group membership claim.
	DefaultRoleClaim = "groups"
	// DefaultPostLoginPath is where a successful login lands: the
	// dashboard root.
	DefaultPostLoginPath = "/"
	// DefaultFlowLifetime bounds the time between the redirect to the
	// provider and the callback. Ten minutes is an estimate that covers a
	// password manager and a second factor at the provider.
	DefaultFlowLifetime = 10 * time.Minute
	// defaultProviderTimeout bounds each call to the provider (discovery,
	// token exchange, keys), so a hung provider cannot hold a callback.
	defaultProviderTimeout = 10 * time.Second
)

// Mount points of the handlers.
const (
	LoginPath    = "/auth/oidc/login"
	CallbackPath = "/auth/oidc/callback"
)

// DefaultScopes are requested when Config.Scopes is empty. "openid" is
// required by the protocol; profile and email carry the user name and
// the address the domain check reads.
var DefaultScopes = []string{"openid", "profile", "email"}

// Config holds the settings and dependencies of a Handler.
type Config struct {
	// Issuer is the provider's issuer URL exactly as its discovery
	// document states it; ID tokens from any other issuer are refused.
	Issuer string
	// ClientID is DECNET's client id at the provider, and the audience
	// every accepted ID token must name.
	ClientID string
	// ClientSecret authenticates DECNET at the token endpoint. It is never
	// logged and never leaves the process except towards the provider.
	ClientSecret auth.Secret `json:"-"`
	// RedirectURL is the absolute callback URL registered at the provider:
	// https://<dashboard>/auth/oidc/callback.
	RedirectURL string
	// Scopes requested; DefaultScopes when empty. "openid" is added when
	// missing.
	Scopes []string

	// RoleClaim names the claim that carries groups or roles, a string or
	// an array of strings. A dotted name such as "realm_access.roles"
	// walks nested objects when no top-level claim has that exact name.
	// DefaultRoleClaim when empty.
	RoleClaim string
	// RoleMap maps claim values to DECNET role names (viewer, analyst,
	// admin). When several values match, the highest role wins.
	RoleMap map[string]string
	// DefaultRole is the role of a user none of whose values matches
	// RoleMap. Empty rejects such users.
	DefaultRole string
	// UsernameClaim names the claim used as the DECNET user name
	// (preferred_username or email). DefaultUsernameClaim when empty.
	UsernameClaim string
	// AllowedEmailDomains, when not empty, admits only users whose email
	// claim ends in one of these domains and is not marked unverified.
	AllowedEmailDomains []string

	// PostLoginPath is the local path the browser is sent to after a
	// login, DefaultPostLoginPath when empty.
	PostLoginPath string
	// FlowLifetime is the maximum duration of a login at the provider,
	// DefaultFlowLifetime when zero.
	FlowLifetime time.Duration
	// FlowKey seals the cookie that carries state, nonce and PKCE verifier
	// between login and callback. Replicas behind one load balancer need
	// the same key. When empty it is derived from ClientSecret, which they
	// share already. With neither, a random key per process is used.
	FlowKey auth.Secret `json:"-"`

	Users    Users
	Sessions Sessions
	Logger   zerolog.Logger
	// Now is the clock for the flow cookie's expiry. Default time.Now.
	// NOTE: the ID token's exp and iat are checked by the OIDC library
	// against time.Now, which cannot be injected.
	Now func() time.Time
	// HTTPClient talks to the provider. Default: a client with a
	// ten-second timeout.
	HTTPClient *http.Client
}

// ParseRoleMap parses "value=role,value=role", the form of the
// --oidc-role-map flag. Values may contain '=' only before the last one,
// so a group name like "cn=admins,ou=x" must be written without commas;
// roles must be viewer, analyst or admin.
func ParseRoleMap(s string) (map[string]string, error) {
	out := make(map[string]string)
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		i := strings.LastIndexByte(item, '=')
		if i <= 0 {
			return nil, fmt.Errorf("parse role map entry %q: want value=role", item)
		}
		value, role := strings.TrimSpace(item[:i]), strings.TrimSpace(item[i+1:])
		if value == "" {
			return nil, fmt.Errorf("parse role map entry %q: empty claim value", item)
		}
		if !validRole(role) {
			return nil, fmt.Errorf("parse role map entry %q: %w", item, auth.ErrInvalidRole)
		}
		if prev, ok := out[value]; ok && prev != role {
			return nil, fmt.Errorf("parse role map: %q maps to both %s and %s", value, prev, role)
		}
		out[value] = role
	}
	return out, nil
}

// withDefaults validates cfg and returns it with defaults filled in.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("issuer is required"))
	} else if u, err := url.Parse(cfg.Issuer); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("issuer %q is not an http(s) URL", cfg.Issuer))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("client id is required"))
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("redirect URL %q is not an absolute http(s) URL", cfg.RedirectURL))
	} else if u.Path != CallbackPath {
		errs = append(errs, fmt.Errorf("redirect URL path %q must be %s", u.Path, CallbackPath))
	}
	for value, role := range cfg.RoleMap {
		if !validRole(role) {
			errs = append(errs, fmt.Errorf("role map: %q maps to unknown role %q", value, role))
		}
	}
	if cfg.DefaultRole != "" && !validRole(cfg.DefaultRole) {
		errs = append(errs, fmt.Errorf("default role %q: %w", cfg.DefaultRole, auth.ErrInvalidRole))
	}
	if cfg.DefaultRole == "" && len(cfg.RoleMap) == 0 {
		errs = append(errs, errors.New("role map is empty and no default role is set, so every user would be rejected: set --oidc-role-map or a default role"))
	}
	if cfg.Users == nil {
		errs = append(errs, errors.New("users is required"))
	}
	if cfg.Sessions == nil {
		errs = append(errs, errors.New("sessions is required"))
	}
	if cfg.PostLoginPath == "" {
		cfg.PostLoginPath = DefaultPostLoginPath
	}
	if !isLocalPath(cfg.PostLoginPath) {
		errs = append(errs, fmt.Errorf("post-login path %q is not a local path", cfg.PostLoginPath))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("oidc config: %w", err)
	}

	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	if !containsString(cfg.Scopes, "openid") {
		cfg.Scopes = append([]string{"openid"}, cfg.Scopes...)
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = DefaultRoleClaim
	}
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = DefaultUsernameClaim
	}
	domains := make([]string, 0, len(cfg.AllowedEmailDomains))
	for _, d := range cfg.AllowedEmailDomains {
		if d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@")); d != "" {
			domains = append(domains, d)
		}
	}
	cfg.AllowedEmailDomains = domains
	if cfg.FlowLifetime <= 0 {
		cfg.FlowLifetime = DefaultFlowLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultProviderTimeout}
	}
	return cfg, nil
}

// isLocalPath reports whether p is an absolute path on this host, not a
// scheme-relative or absolute URL that would send the browser elsewhere.
func isLocalPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "/\\")
}

// validRole reports whether name is a stored DECNET role name.
func validRole(name string) bool { return auth.RoleName(auth.ParseRole(name)) != "" }

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
