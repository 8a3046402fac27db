package oidc

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/auth"
)

func TestClaimStrings(t *testing.T) {
	claims := decodeClaims(t, `{
		"groups": ["a", "b"],
		"role": "admin",
		"empty": [],
		"null": null,
		"number": 3,
		"mixed": ["a", 1],
		"realm_access": {"roles": ["soc-admins"]},
		"dotted.name": "top-level wins",
		"dotted": {"name": "nested"}
	}`)
	tests := []struct {
		name    string
		want    []string
		wantErr error
	}{
		{"groups", []string{"a", "b"}, nil},
		{"role", []string{"admin"}, nil},
		{"empty", []string{}, nil},
		{"null", nil, ErrClaimMissing},
		{"missing", nil, ErrClaimMissing},
		{"number", nil, ErrClaimMalformed},
		{"mixed", nil, ErrClaimMalformed},
		{"realm_access.roles", []string{"soc-admins"}, nil},
		{"realm_access.missing", nil, ErrClaimMissing},
		{"dotted.name", []string{"top-level wins"}, nil},
		{"role.sub", nil, ErrClaimMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ClaimStrings(claims, tc.name)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("ClaimStrings(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if tc.wantErr == nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ClaimStrings(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}

	many := make([]any, maxClaimValues+1)
	for i := range many {
		many[i] = "g"
	}
	if _, err := ClaimStrings(map[string]any{"groups": many}, "groups"); !errors.Is(err, ErrClaimMalformed) {
		t.Errorf("%d values: error = %v, want ErrClaimMalformed", len(many), err)
	}
	if _, err := ClaimStrings(map[string]any{"groups": strings.Repeat("x", maxClaimValueLen+1)}, "groups"); !errors.Is(err, ErrClaimMalformed) {
		t.Errorf("long value: error = %v, want ErrClaimMalformed", err)
	}
}

func TestDecide(t *testing.T) {
	p := policy{
		usernameClaim: "preferred_username",
		roleClaim:     "groups",
		roleMap:       map[string]string{"soc-admins": auth.RoleAdmin, "soc-analysts": auth.RoleAnalyst, "readers": auth.RoleViewer},
	}
	tests := []struct {
		name    string
		claims  string
		want    identity
		wantErr error
	}{
		{"highest wins", `{"preferred_username":"alice","groups":["readers","soc-admins","soc-analysts"]}`,
			identity{Username: "alice", Role: auth.RoleAdmin, Matched: []string{"soc-admins"}}, nil},
		{"case matters", `{"preferred_username":"alice","groups":["SOC-ADMINS"]}`, identity{}, ErrNoRole},
		{"no user name", `{"groups":["soc-admins"]}`, identity{}, ErrNoUsername},
		{"user name with a slash", `{"preferred_username":"a/b","groups":["soc-admins"]}`, identity{}, ErrNoUsername},
		{"user name as array", `{"preferred_username":["a","b"],"groups":["soc-admins"]}`, identity{}, ErrNoUsername},
		{"groups as object", `{"preferred_username":"alice","groups":{"soc-admins":true}}`, identity{}, ErrClaimMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.decide(decodeClaims(t, tc.claims))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("decide error = %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestShownDecision(t *testing.T) {
	_, err := ClaimStrings(map[string]any{"groups": 1}, "groups")
	if got := shownDecision(err); !errors.Is(got, ErrClaimMalformed) || got != ErrClaimMalformed { //nolint:errorlint // the identity is the point: the wrapped cause must not be shown
		t.Errorf("shownDecision(%v) = %v, want ErrClaimMalformed alone", err, got)
	}
	if got := shownDecision(errors.New("other")); got != errInternal { //nolint:errorlint // the identity is the point, as above
		t.Errorf("shownDecision(other) = %v, want errInternal", got)
	}
}

func TestParseRoleMap(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"", map[string]string{}, false},
		{"soc-admins=admin, soc-analysts=analyst,", map[string]string{"soc-admins": "admin", "soc-analysts": "analyst"}, false},
		{"cn=admins=admin", map[string]string{"cn=admins": "admin"}, false},
		{"soc-admins=root", nil, true},
		{"=admin", nil, true},
		{"soc-admins", nil, true},
		{"g=admin,g=viewer", nil, true},
	}
	for _, tc := range tests {
		got, err := ParseRoleMap(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseRoleMap(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseRoleMap(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	valid := func() Config {
		return Config{
			Issuer: "https://idp.example.org", ClientID: "decnet", ClientSecret: testSecret,
			RedirectURL: "https://decnet.example.org/auth/oidc/callback",
			RoleMap:     map[string]string{"g": auth.RoleAdmin},
			Users:       &storeAccounts{}, Sessions: &storeAccounts{},
		}
	}
	if _, err := New(valid()); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "issuer is required"},
		{"issuer not a URL", func(c *Config) { c.Issuer = "idp" }, "not an http(s) URL"},
		{"wrong callback path", func(c *Config) { c.RedirectURL = "https://decnet.example.org/callback" }, "must be /auth/oidc/callback"},
		{"unknown role", func(c *Config) { c.RoleMap = map[string]string{"g": "root"} }, "unknown role"},
		{"nothing can match", func(c *Config) { c.RoleMap = nil }, "every user would be rejected"},
		{"bad default", func(c *Config) { c.DefaultRole = "guest" }, "default role"},
		{"open redirect", func(c *Config) { c.PostLoginPath = "//evil.test/" }, "not a local path"},
		{"no users", func(c *Config) { c.Users = nil }, "users is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %v, want one containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("config error names the client secret: %v", err)
			}
		})
	}
}

func TestFlowSealer(t *testing.T) {
	s, err := newFlowSealer([]byte("client secret"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	f := flow{State: "st", Nonce: "no", Verifier: "ve", Expires: now.Add(time.Minute).Unix()}
	v, err := s.seal(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.open(v, now)
	if err != nil || got != f {
		t.Fatalf("open = %+v, %v; want %+v", got, err, f)
	}
	if _, err := s.open(v, now.Add(time.Minute)); !errors.Is(err, ErrFlowInvalid) {
		t.Errorf("open at expiry = %v, want ErrFlowInvalid", err)
	}
	other, _ := newFlowSealer([]byte("another secret"))
	if _, err := other.open(v, now); !errors.Is(err, ErrFlowInvalid) {
		t.Errorf("open with another key = %v, want ErrFlowInvalid", err)
	}
	flipped := []byte(v)
	flipped[len(flipped)/2] ^= 1
	if _, err := s.open(string(flipped), now); !errors.Is(err, ErrFlowInvalid) {
		t.Errorf("open of a changed cookie = %v, want ErrFlowInvalid", err)
	}
	// Same secret, same key: a second replica opens the first one's cookie.
	replica, _ := newFlowSealer([]byte("client secret"))
	if _, err := replica.open(v, now); err != nil {
		t.Errorf("replica open = %v", err)
	}
}

func decodeClaims(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// FuzzDecide feeds ID token payloads, as the library decodes them, to the
// claim extraction and role mapping.
func FuzzDecide(f *testing.F) {
	f.Add(`{"preferred_username":"alice","groups":["soc-admins"]}`, "groups")
	f.Add(`{"preferred_username":"a","realm_access":{"roles":["x",null]}}`, "realm_access.roles")
	f.Add(`{"email":"a@b","email_verified":false,"groups":"soc-analysts"}`, "groups")
	f.Add(`{"a":{"b":{"c":{"d":1}}}}`, "a.b.c.d.e.f.g.h.i")
	p := policy{usernameClaim: "preferred_username", roleMap: map[string]string{"soc-admins": auth.RoleAdmin, "soc-analysts": auth.RoleAnalyst}, domains: []string{"b"}}
	f.Fuzz(func(t *testing.T, payload, roleClaim string) {
		var claims map[string]any
		if json.Unmarshal([]byte(payload), &claims) != nil {
			return
		}
		if values, err := ClaimStrings(claims, roleClaim); err == nil && len(values) > maxClaimValues {
			t.Fatalf("%d values pass the limit", len(values))
		}
		q := p
		q.roleClaim = roleClaim
		id, err := q.decide(claims)
		if err != nil {
			return
		}
		if !usernamePattern.MatchString(id.Username) || !validRole(id.Role) {
			t.Fatalf("decide accepted %+v", id)
		}
	})
}

// FuzzParseRoleMap checks that every accepted map holds only valid roles.
func FuzzParseRoleMap(f *testing.F) {
	f.Add("soc-admins=admin,soc-analysts=analyst")
	f.Add("cn=x=viewer,,=")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseRoleMap(s)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || !validRole(v) {
				t.Fatalf("ParseRoleMap(%q) accepted %q=%q", s, k, v)
			}
		}
	})
}

// FuzzFlowOpen feeds cookie values from the browser to the flow decoder.
func FuzzFlowOpen(f *testing.F) {
	s, err := newFlowSealer([]byte("fuzz"))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	want := flow{State: "a", Nonce: "b", Verifier: "c", Expires: now.Add(time.Minute).Unix()}
	good, _ := s.seal(want)
	f.Add(good)
	f.Add("")
	f.Add(strings.Repeat("A", 100))
	f.Fuzz(func(t *testing.T, v string) {
		got, err := s.open(v, now)
		// Each fuzz worker seals its own copy, so any accepted value must
		// carry exactly what was sealed: nothing else can be forged.
		if err == nil && got != want {
			t.Fatalf("open accepted a forged cookie %q: %+v", v, got)
		}
	})
}
