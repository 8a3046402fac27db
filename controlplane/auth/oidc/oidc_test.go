package oidc

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// testSecret is the client secret; no log line or page may contain it.
const testSecret = "s3cr3t-client-secret-do-not-log-7f9a"

// cheap keeps the unusable password hashes fast.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

// storeAccounts implements Users and Sessions over the real store, the
// way the auth package is expected to. The SSO mark lives in a set here;
// in production it must persist with the user.
type storeAccounts struct {
	st  store.Store
	mu  sync.Mutex
	sso map[string]bool
}

func (a *storeAccounts) SyncSSOUser(ctx context.Context, username, role, _ string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := a.st.GetUser(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		password, err := auth.GeneratePassword(32)
		if err != nil {
			return err
		}
		hash, err := auth.HashPasswordWithParams(password, cheap)
		if err != nil {
			return err
		}
		if err := a.st.CreateUser(ctx, store.User{Username: username, PasswordHash: hash, Role: role, CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
		a.sso[username] = true
		return nil
	case err != nil:
		return err
	}
	if !a.sso[username] {
		return ErrNotSSOUser
	}
	return a.st.SetUserRole(ctx, username, role)
}

func (a *storeAccounts) StartSession(ctx context.Context, username string) (auth.Secret, time.Time, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	// The same stored form as the auth package's password login.
	sum := sha256.Sum256([]byte(token))
	now := time.Now()
	s := store.APISession{TokenHash: sum[:], Username: username, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := a.st.CreateAPISession(ctx, s); err != nil {
		return "", time.Time{}, err
	}
	return auth.Secret(token), s.ExpiresAt, nil
}

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one DECNET dashboard with SSO against one test provider.
type env struct {
	t        *testing.T
	op       *testProvider
	dash     *httptest.Server
	handler  *Handler
	st       *sqlite.Store
	accounts *storeAccounts
	authn    *auth.Authenticator
	logs     *syncBuffer
}

const dashboardBody = "decnet dashboard"

func newEnv(t *testing.T, tweak func(*Config)) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	authn, err := auth.New(auth.Config{Store: st})
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}

	e := &env{t: t, st: st, authn: authn, logs: &syncBuffer{}, accounts: &storeAccounts{st: st, sso: make(map[string]bool)}}
	e.dash = httptest.NewUnstartedServer(nil)
	dashURL := "http://" + e.dash.Listener.Addr().String()
	e.op = startProvider(t, "decnet-dashboard", testSecret, dashURL+CallbackPath)

	cfg := Config{
		Issuer:       e.op.URL,
		ClientID:     "decnet-dashboard",
		ClientSecret: testSecret,
		RedirectURL:  dashURL + CallbackPath,
		RoleClaim:    "groups",
		RoleMap:      map[string]string{"soc-admins": auth.RoleAdmin, "soc-analysts": auth.RoleAnalyst},
		Users:        e.accounts,
		Sessions:     e.accounts,
		Logger:       zerolog.New(e.logs).Level(zerolog.DebugLevel),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	e.handler, err = New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	e.handler.Mount(mux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, dashboardBody) })
	e.dash.Config.Handler = mux
	e.dash.Start()
	t.Cleanup(e.dash.Close)

	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), testSecret) {
			t.Errorf("the client secret appears in the log:\n%s", e.logs.String())
		}
	})
	return e
}

// browser returns a client with a cookie jar that stops before the
// dashboard's callback, so a test can inspect or tamper with it.
func (e *env) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatalf("cookie jar: %v", err)
	}
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == CallbackPath || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// startLogin runs the flow up to the provider's redirect back to DECNET
// and returns that callback URL.
func (e *env) startLogin(c *http.Client) *url.URL {
	e.t.Helper()
	resp, err := c.Get(e.dash.URL + LoginPath)
	if err != nil {
		e.t.Fatalf("GET login: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || loc.Path != CallbackPath {
		e.t.Fatalf("login flow ended with %d at %s, want a redirect to %s; body: %s", resp.StatusCode, resp.Request.URL, CallbackPath, body)
	}
	return loc
}

// result is what the dashboard answered to the callback.
type result struct {
	status  int
	body    string
	session string // the session cookie's value, "" when none was set
	landed  string // body of the page the redirect led to
}

// finish requests the callback URL and follows the redirect to the
// dashboard root.
func (e *env) finish(c *http.Client, callback *url.URL) result {
	e.t.Helper()
	once := *c
	once.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := once.Get(callback.String())
	if err != nil {
		e.t.Fatalf("GET callback: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	r := result{status: resp.StatusCode, body: string(body)}
	for _, ck := range resp.Cookies() {
		if ck.Name == auth.CookieName {
			r.session = ck.Value
			if !ck.HttpOnly || ck.Path != "/" {
				e.t.Errorf("session cookie %+v is not HttpOnly with path /", ck)
			}
		}
	}
	if strings.Contains(r.body, testSecret) {
		e.t.Errorf("the client secret appears in the callback page")
	}
	if resp.StatusCode == http.StatusSeeOther {
		loc, err := resp.Location()
		if err != nil {
			e.t.Fatalf("callback redirect: %v", err)
		}
		page, err := c.Get(loc.String())
		if err != nil {
			e.t.Fatalf("GET %s: %v", loc, err)
		}
		b, _ := io.ReadAll(page.Body)
		_ = page.Body.Close()
		r.landed = string(b)
	}
	return r
}

func (e *env) login(c *http.Client) result {
	e.t.Helper()
	return e.finish(c, e.startLogin(c))
}

// sessionRole checks a session cookie the way every API call does.
func (e *env) sessionRole(token string) (string, apiv1.Role) {
	e.t.Helper()
	s, err := e.authn.Authenticate(context.Background(), auth.Secret(token))
	if err != nil {
		e.t.Fatalf("Authenticate session cookie: %v", err)
	}
	return s.Username, s.Role
}

func TestAdminGroupGetsAdminSession(t *testing.T) {
	e := newEnv(t, nil)
	e.op.addUser(testUser{Subject: "u1", Username: "alice", Email: "alice@example.org", Verified: true,
		Claims: map[string]any{"groups": []string{"staff", "soc-admins"}}})
	e.op.signInAs("u1")

	c := e.browser()
	r := e.login(c)
	if r.status != http.StatusSeeOther || r.session == "" {
		t.Fatalf("callback = %d, session cookie %q, body %q; want 303 with a session cookie", r.status, r.session, r.body)
	}
	if r.landed != dashboardBody {
		t.Errorf("landed on %q, want the dashboard root", r.landed)
	}
	user, role := e.sessionRole(r.session)
	if user != "alice" || role != apiv1.Role_ROLE_ADMIN {
		t.Errorf("session = %s/%v, want alice/ROLE_ADMIN", user, role)
	}

	// The jar now sends the cookie the API reads.
	dashURL, _ := url.Parse(e.dash.URL)
	var sent string
	for _, ck := range c.Jar.Cookies(dashURL) {
		if ck.Name == auth.CookieName {
			sent = ck.Value
		}
	}
	if sent != r.session {
		t.Errorf("browser holds session cookie %q, want %q", sent, r.session)
	}

	// An SSO user has no usable password.
	for _, pw := range []auth.Secret{"", "verysecure", auth.Secret(testSecret)} {
		if _, _, err := e.authn.Login(context.Background(), "alice", pw, "127.0.0.2:5000"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("password login of the SSO user = %v, want ErrInvalidCredentials", err)
		}
	}
	if !strings.Contains(e.logs.String(), `"message":"oidc login succeeded"`) || !strings.Contains(e.logs.String(), `"matched_values":["soc-admins"]`) {
		t.Errorf("log lacks the success entry with the matched group:\n%s", e.logs.String())
	}
}

func TestRoleFollowsGroupsAtEachLogin(t *testing.T) {
	e := newEnv(t, nil)
	e.op.addUser(testUser{Subject: "u1", Username: "alice", Claims: map[string]any{"groups": []string{"soc-admins", "soc-analysts"}}})
	e.op.signInAs("u1")
	first := e.login(e.browser())
	if _, role := e.sessionRole(first.session); role != apiv1.Role_ROLE_ADMIN {
		t.Fatalf("first login role = %v, want ROLE_ADMIN (highest match wins)", role)
	}

	// Alice leaves the admin group at the provider.
	e.op.addUser(testUser{Subject: "u1", Username: "alice", Claims: map[string]any{"groups": []string{"soc-analysts"}}})
	second := e.login(e.browser())
	if _, role := e.sessionRole(second.session); role != apiv1.Role_ROLE_ANALYST {
		t.Errorf("second login role = %v, want ROLE_ANALYST", role)
	}
	// Roles are read per call, so the earlier session is demoted too.
	if _, role := e.sessionRole(first.session); role != apiv1.Role_ROLE_ANALYST {
		t.Errorf("first session's role after the change = %v, want ROLE_ANALYST", role)
	}
}

func TestGroupsFromUserinfo(t *testing.T) {
	e := newEnv(t, nil)
	e.op.addUser(testUser{Subject: "u1", Username: "alice", Claims: map[string]any{"groups": []string{"soc-analysts"}}})
	e.op.signInAs("u1")
	e.op.set(func(p *testProvider) { p.groupsInUserinfoOnly = true })
	r := e.login(e.browser())
	if r.status != http.StatusSeeOther {
		t.Fatalf("callback = %d, want 303; body %q", r.status, r.body)
	}
	if _, role := e.sessionRole(r.session); role != apiv1.Role_ROLE_ANALYST {
		t.Errorf("role = %v, want ROLE_ANALYST from the userinfo groups", role)
	}
	e.op.set(func(p *testProvider) {
		if p.userinfoCalls != 1 {
			t.Errorf("userinfo endpoint called %d times, want 1", p.userinfoCalls)
		}
		// With the groups in the ID token, userinfo is not needed.
		p.groupsInUserinfoOnly = false
	})
	e.login(e.browser())
	e.op.set(func(p *testProvider) {
		if p.userinfoCalls != 1 {
			t.Errorf("userinfo endpoint called %d times in all, want 1", p.userinfoCalls)
		}
	})
}

func TestUnmappedUser(t *testing.T) {
	tests := []struct {
		name        string
		defaultRole string
		claims      map[string]any
		wantStatus  int
		wantRole    apiv1.Role
	}{
		{"no mapped group is refused", "", map[string]any{"groups": []string{"staff"}}, http.StatusForbidden, 0},
		{"no group claim is refused", "", nil, http.StatusForbidden, 0},
		{"no mapped group gets the default", auth.RoleViewer, map[string]any{"groups": []string{"staff"}}, http.StatusSeeOther, apiv1.Role_ROLE_VIEWER},
		{"a single string claim maps", "", map[string]any{"groups": "soc-analysts"}, http.StatusSeeOther, apiv1.Role_ROLE_ANALYST},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.DefaultRole = tc.defaultRole })
			e.op.addUser(testUser{Subject: "u2", Username: "bob", Claims: tc.claims})
			e.op.signInAs("u2")
			r := e.login(e.browser())
			if r.status != tc.wantStatus {
				t.Fatalf("callback = %d, want %d; body %q", r.status, tc.wantStatus, r.body)
			}
			if tc.wantStatus != http.StatusSeeOther {
				if r.session != "" {
					t.Errorf("refused login set a session cookie")
				}
				if !strings.Contains(r.body, ErrNoRole.Error()) {
					t.Errorf("page %q does not explain the refusal", r.body)
				}
				if _, err := e.st.GetUser(context.Background(), "bob"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("refused user was created: %v", err)
				}
				return
			}
			if _, role := e.sessionRole(r.session); role != tc.wantRole {
				t.Errorf("role = %v, want %v", role, tc.wantRole)
			}
		})
	}
}

func TestLocalUserIsNotTakenOver(t *testing.T) {
	e := newEnv(t, nil)
	hash, err := auth.HashPasswordWithParams("local password 123", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateUser(context.Background(), store.User{Username: "root", PasswordHash: hash, Role: auth.RoleViewer, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	e.op.addUser(testUser{Subject: "u3", Username: "root", Claims: map[string]any{"groups": []string{"soc-admins"}}})
	e.op.signInAs("u3")
	r := e.login(e.browser())
	if r.status != http.StatusForbidden || r.session != "" {
		t.Fatalf("callback = %d with session %q, want 403 and none", r.status, r.session)
	}
	u, err := e.st.GetUser(context.Background(), "root")
	if err != nil || u.Role != auth.RoleViewer {
		t.Errorf("local user after SSO attempt = %+v, %v; want role viewer unchanged", u, err)
	}
}

func TestEmailDomain(t *testing.T) {
	tests := []struct {
		name     string
		email    string
		verified bool
		want     int
	}{
		{"allowed domain", "carol@Example.org", true, http.StatusSeeOther},
		{"other domain", "carol@example.org.evil.test", true, http.StatusForbidden},
		{"unverified address", "carol@example.org", false, http.StatusForbidden},
		{"no address", "", true, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.AllowedEmailDomains = []string{"@example.org"} })
			// The claim is set explicitly: the provider library omits a
			// false email_verified.
			e.op.addUser(testUser{Subject: "u4", Username: "carol", Email: tc.email,
				Claims: map[string]any{"groups": []string{"soc-analysts"}, "email_verified": tc.verified}})
			e.op.signInAs("u4")
			r := e.login(e.browser())
			if r.status != tc.want {
				t.Fatalf("callback = %d, want %d; body %q", r.status, tc.want, r.body)
			}
			if tc.want == http.StatusForbidden && !strings.Contains(r.body, ErrEmailDomain.Error()) {
				t.Errorf("page %q does not name the domain rule", r.body)
			}
		})
	}
}

func TestRejectedCallbacks(t *testing.T) {
	strangerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		setup  func(p *testProvider)
		tamper func(e *env, c *http.Client, u *url.URL)
		want   int
		page   string
		log    string
	}{
		{
			name: "tampered state",
			tamper: func(_ *env, _ *http.Client, u *url.URL) {
				q := u.Query()
				q.Set("state", q.Get("state")+"x")
				u.RawQuery = q.Encode()
			},
			want: http.StatusBadRequest, page: ErrFlowInvalid.Error(), log: `"reason":"state"`,
		},
		{
			name: "flow cookie from another browser",
			tamper: func(e *env, c *http.Client, _ *url.URL) {
				// A fresh jar: the callback arrives without this flow's cookie,
				// as when an attacker sends a victim their own callback link.
				c.Jar, _ = cookiejar.New(nil)
			},
			want: http.StatusBadRequest, page: ErrFlowInvalid.Error(), log: `"reason":"state"`,
		},
		{
			name:  "wrong nonce",
			setup: func(p *testProvider) { p.nonceOverride = "attacker-chosen-nonce" },
			want:  http.StatusForbidden, page: errTokenRejected.Error(), log: "nonce",
		},
		{
			name: "token minted for another client",
			setup: func(p *testProvider) {
				p.mutateIDToken = func(c map[string]any) { c["aud"] = []string{"some-other-app"}; c["azp"] = "some-other-app" }
			},
			want: http.StatusForbidden, page: errTokenRejected.Error(), log: "audience",
		},
		{
			name: "token from another issuer",
			setup: func(p *testProvider) {
				p.mutateIDToken = func(c map[string]any) { c["iss"] = "https://idp.invalid" }
			},
			want: http.StatusForbidden, page: errTokenRejected.Error(), log: "issuer",
		},
		{
			name: "token signed by a stranger",
			setup: func(p *testProvider) {
				p.mutateIDToken = func(c map[string]any) { c["groups"] = []string{"soc-admins"} }
				p.signWith = strangerKey
			},
			want: http.StatusForbidden, page: errTokenRejected.Error(), log: "signature",
		},
		{
			name: "expired token rewritten",
			setup: func(p *testProvider) {
				p.mutateIDToken = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
			},
			want: http.StatusForbidden, page: errTokenRejected.Error(), log: "expired",
		},
		{
			name:  "expired ID token",
			setup: func(p *testProvider) { p.idLifetime = -time.Minute },
			want:  http.StatusForbidden, page: errTokenRejected.Error(), log: "expired",
		},
		{
			name: "provider error",
			tamper: func(_ *env, _ *http.Client, u *url.URL) {
				u.RawQuery = url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"},
					"error_description": {"user " + testSecret + " cancelled"}}.Encode()
			},
			want: http.StatusForbidden, page: errProvider.Error(), log: `"error":"access_denied"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.op.addUser(testUser{Subject: "u1", Username: "alice", Claims: map[string]any{"groups": []string{"soc-admins"}}})
			e.op.signInAs("u1")
			if tc.setup != nil {
				e.op.set(tc.setup)
			}
			c := e.browser()
			u := e.startLogin(c)
			if tc.tamper != nil {
				tc.tamper(e, c, u)
			}
			r := e.finish(c, u)
			if r.status != tc.want || r.session != "" {
				t.Fatalf("callback = %d with session %q, want %d and none; body %q", r.status, r.session, tc.want, r.body)
			}
			if !strings.Contains(r.body, tc.page) {
				t.Errorf("page %q lacks %q", r.body, tc.page)
			}
			if logs := e.logs.String(); !strings.Contains(logs, tc.log) || !strings.Contains(logs, "oidc callback rejected") {
				t.Errorf("log lacks %q:\n%s", tc.log, logs)
			}
			if _, err := e.st.GetUser(context.Background(), "alice"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("rejected login created the user: %v", err)
			}
		})
	}
}

func TestCallbackIsSingleUse(t *testing.T) {
	e := newEnv(t, nil)
	e.op.addUser(testUser{Subject: "u1", Username: "alice", Claims: map[string]any{"groups": []string{"soc-admins"}}})
	e.op.signInAs("u1")
	c := e.browser()
	u := e.startLogin(c)
	if r := e.finish(c, u); r.status != http.StatusSeeOther {
		t.Fatalf("first callback = %d, want 303", r.status)
	}
	// The flow cookie was cleared, so replaying the callback fails even
	// though the browser still exists.
	if r := e.finish(c, u); r.status != http.StatusBadRequest || r.session != "" {
		t.Errorf("replayed callback = %d with session %q, want 400 and none", r.status, r.session)
	}
}

func TestFlowCookieExpires(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, func(c *Config) { c.Now = clock })
	e.op.addUser(testUser{Subject: "u1", Username: "alice", Claims: map[string]any{"groups": []string{"soc-admins"}}})
	e.op.signInAs("u1")
	c := e.browser()
	u := e.startLogin(c)
	mu.Lock()
	now = now.Add(DefaultFlowLifetime + time.Second)
	mu.Unlock()
	if r := e.finish(c, u); r.status != http.StatusBadRequest {
		t.Errorf("late callback = %d, want 400", r.status)
	}
}

func TestLoginCookieAndRedirect(t *testing.T) {
	e := newEnv(t, nil)
	c := e.browser()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(e.dash.URL + LoginPath)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("login = %d (%v), want 302", resp.StatusCode, err)
	}
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), e.op.URL+"/authorize?") || q.Get("client_id") != "decnet-dashboard" ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		len(q.Get("state")) != 43 || len(q.Get("nonce")) != 43 || q.Get("response_type") != "code" {
		t.Errorf("authorization URL %s lacks PKCE S256, state, nonce or the client id", loc)
	}
	if strings.Contains(loc.String(), testSecret) {
		t.Errorf("authorization URL carries the client secret")
	}
	var flowCookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == flowCookieName {
			flowCookie = ck
		}
	}
	if flowCookie == nil || !flowCookie.HttpOnly || flowCookie.SameSite != http.SameSiteLaxMode ||
		flowCookie.MaxAge != int(DefaultFlowLifetime/time.Second) || flowCookie.Path != "/auth/oidc/" {
		t.Fatalf("flow cookie = %+v, want HttpOnly, SameSite=Lax, 600 s, path /auth/oidc/", flowCookie)
	}
	for _, part := range []string{q.Get("state"), q.Get("nonce")} {
		if strings.Contains(flowCookie.Value, part) {
			t.Errorf("flow cookie shows its contents in clear")
		}
	}
}

func TestProviderDown(t *testing.T) {
	e := newEnv(t, nil)
	e.op.srv.Close()
	resp, err := e.browser().Get(e.dash.URL + LoginPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), errProvider.Error()) {
		t.Errorf("login with the provider down = %d %q, want 502 with the provider message", resp.StatusCode, body)
	}
}

// With the real authenticator behind it, a sign-on that provisions a user
// and a later one that changes the role from the groups claim each leave
// an audit entry with the browser's address.
func TestSSOChangesAudited(t *testing.T) {
	accounts := &envAuthenticator{}
	e := newEnv(t, func(cfg *Config) { cfg.Users, cfg.Sessions = accounts, accounts })
	accounts.Authenticator = e.authn
	e.op.addUser(testUser{Subject: "u1", Username: "alice", Claims: map[string]any{"groups": []string{"soc-analysts"}}})
	e.op.signInAs("u1")
	if r := e.login(e.browser()); r.status != http.StatusSeeOther || r.session == "" {
		t.Fatalf("first login = %d, body %q", r.status, r.body)
	}
	e.op.addUser(testUser{Subject: "u1", Username: "alice", Claims: map[string]any{"groups": []string{"soc-admins"}}})
	if r := e.login(e.browser()); r.status != http.StatusSeeOther {
		t.Fatalf("second login = %d, body %q", r.status, r.body)
	}
	// A third login with the same groups changes nothing.
	if r := e.login(e.browser()); r.status != http.StatusSeeOther {
		t.Fatalf("third login = %d, body %q", r.status, r.body)
	}

	page, err := e.st.ListAudit(context.Background(), store.AuditQuery{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("audit log has %d entries for alice, want 2: %+v", len(page.Items), page.Items)
	}
	want := []struct{ procedure, role, request string }{
		{auth.AuditSSOSetUserRole, auth.RoleAdmin, `{"username":"alice","role":"admin","previous_role":"analyst"}`},
		{auth.AuditSSOCreateUser, auth.RoleAnalyst, `{"username":"alice","role":"analyst"}`},
	}
	for i, w := range want {
		got := page.Items[i]
		if got.Procedure != w.procedure || got.Role != w.role || got.Request != w.request || got.Outcome != "ok" {
			t.Errorf("entry %d = %+v, want %s as %s with %s", i, got, w.procedure, w.role, w.request)
		}
		if !strings.HasPrefix(got.Source, "127.0.0.1:") {
			t.Errorf("entry %d source = %q, want the browser's loopback address", i, got.Source)
		}
	}
}

// envAuthenticator lets a test hand the env's own authenticator, made
// inside newEnv, to the handler newEnv configures.
type envAuthenticator struct{ *auth.Authenticator }
