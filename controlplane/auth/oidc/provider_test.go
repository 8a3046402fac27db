package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// testProvider is a real OpenID provider (zitadel's op package) on a
// loopback port, with an in-memory storage that signs in whichever user
// the test sets as current, so no login form has to be scripted. Its
// knobs make it misbehave the ways a hostile or broken provider would.
type testProvider struct {
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	current  string
	users    map[string]testUser
	clientID string
	secret   string
	redirect string
	// Knobs.
	// mutateIDToken, when set, rewrites the claims of the ID token the
	// token endpoint returns, re-signed with signWith (the provider's own
	// key when nil): a token minted for another client, expired, or
	// signed by a stranger.
	mutateIDToken func(claims map[string]any)
	signWith      *rsa.PrivateKey
	nonceOverride string        // replaces the nonce the client sent
	idLifetime    time.Duration // ID token lifetime; an hour when zero
	// groupsInUserinfoOnly keeps "groups" out of the ID token and serves it
	// at the userinfo endpoint only.
	groupsInUserinfoOnly bool
	userinfoCalls        int

	requests map[string]*testAuthRequest
	codes    map[string]string // code -> request id
	tokens   map[string]string // access token id -> subject
	key      *rsa.PrivateKey
	seq      int
}

// testUser is an account at the provider.
type testUser struct {
	Subject  string
	Username string
	Email    string
	Verified bool
	// Claims are added to the ID token as they are ("groups" and others).
	Claims map[string]any
}

func startProvider(t *testing.T, clientID, secret, redirect string) *testProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate provider key: %v", err)
	}
	p := &testProvider{
		users: make(map[string]testUser), clientID: clientID, secret: secret, redirect: redirect,
		requests: make(map[string]*testAuthRequest), codes: make(map[string]string),
		tokens: make(map[string]string), key: key,
	}
	p.srv = httptest.NewUnstartedServer(nil)
	p.URL = "http://" + p.srv.Listener.Addr().String()

	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		t.Fatalf("provider crypto key: %v", err)
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:          cryptoKey,
		CodeMethodS256:     true,
		SupportedUILocales: []language.Tag{language.English},
	}, p, op.StaticIssuer(p.URL), op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("new provider: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.autoLogin)
	mux.Handle("POST /oauth/token", p.rewriteIDToken(provider))
	mux.Handle("/", provider)
	p.srv.Config.Handler = mux
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testProvider) addUser(u testUser) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[u.Subject] = u
}

// signInAs makes the next authorization requests sign in subject.
func (p *testProvider) signInAs(subject string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current = subject
}

func (p *testProvider) set(f func(p *testProvider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// autoLogin stands in for the provider's login page: it approves the
// request for the current user and returns to the provider's callback.
func (p *testProvider) autoLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	p.mu.Lock()
	req, ok := p.requests[id]
	if ok && p.current != "" {
		req.subject = p.current
		req.done = true
		req.authTime = time.Now()
	}
	p.mu.Unlock()
	if !ok || !req.done {
		http.Error(w, "no such request or no user", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, p.URL+"/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}

// rewriteIDToken applies mutateIDToken to the token endpoint's answer.
func (p *testProvider) rewriteIDToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		mutate, key := p.mutateIDToken, p.signWith
		if key == nil {
			key = p.key
		}
		p.mu.Unlock()
		if mutate == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusOK {
			http.Error(w, "test provider: token endpoint failed: "+rec.Body.String(), http.StatusInternalServerError)
			return
		}
		raw, _ := body["id_token"].(string)
		parts := strings.Split(raw, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[min(1, len(parts)-1)])
		var claims map[string]any
		if err == nil {
			err = json.Unmarshal(payload, &claims)
		}
		if err != nil {
			http.Error(w, "test provider: decode ID token", http.StatusInternalServerError)
			return
		}
		mutate(claims)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "test-key"))
		if err == nil {
			payload, err = json.Marshal(claims)
		}
		var jws *jose.JSONWebSignature
		if err == nil {
			jws, err = signer.Sign(payload)
		}
		if err == nil {
			body["id_token"], err = jws.CompactSerialize()
		}
		if err != nil {
			http.Error(w, "test provider: sign ID token", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
}

type testAuthRequest struct {
	id        string
	req       *zoidc.AuthRequest
	nonce     string
	audience  []string
	subject   string
	done      bool
	authTime  time.Time
	challenge *zoidc.CodeChallenge
}

func (a *testAuthRequest) GetID() string                          { return a.id }
func (a *testAuthRequest) GetACR() string                         { return "" }
func (a *testAuthRequest) GetAMR() []string                       { return []string{"pwd"} }
func (a *testAuthRequest) GetAudience() []string                  { return a.audience }
func (a *testAuthRequest) GetAuthTime() time.Time                 { return a.authTime }
func (a *testAuthRequest) GetClientID() string                    { return a.req.ClientID }
func (a *testAuthRequest) GetCodeChallenge() *zoidc.CodeChallenge { return a.challenge }
func (a *testAuthRequest) GetNonce() string                       { return a.nonce }
func (a *testAuthRequest) GetRedirectURI() string                 { return a.req.RedirectURI }
func (a *testAuthRequest) GetResponseType() zoidc.ResponseType    { return a.req.ResponseType }
func (a *testAuthRequest) GetResponseMode() zoidc.ResponseMode    { return a.req.ResponseMode }
func (a *testAuthRequest) GetScopes() []string                    { return a.req.Scopes }
func (a *testAuthRequest) GetState() string                       { return a.req.State }
func (a *testAuthRequest) GetSubject() string                     { return a.subject }
func (a *testAuthRequest) Done() bool                             { return a.done }

var errTestNotFound = errors.New("not found")

func (p *testProvider) CreateAuthRequest(_ context.Context, req *zoidc.AuthRequest, _ string) (op.AuthRequest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	a := &testAuthRequest{id: "req" + strconv.Itoa(p.seq), req: req, nonce: req.Nonce, audience: []string{p.clientID}}
	if p.nonceOverride != "" {
		a.nonce = p.nonceOverride
	}
	if req.CodeChallenge != "" {
		a.challenge = &zoidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	p.requests[a.id] = a
	return a, nil
}

func (p *testProvider) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.requests[id]; ok {
		return a, nil
	}
	return nil, errTestNotFound
}

func (p *testProvider) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.requests[p.codes[code]]; ok {
		return a, nil
	}
	return nil, errTestNotFound
}

func (p *testProvider) SaveAuthCode(_ context.Context, id, code string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.codes[code] = id
	return nil
}

func (p *testProvider) DeleteAuthRequest(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.requests, id)
	for c, rid := range p.codes {
		if rid == id {
			delete(p.codes, c)
		}
	}
	return nil
}

func (p *testProvider) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	id := "at" + strconv.Itoa(p.seq)
	p.tokens[id] = req.GetSubject()
	return id, time.Now().Add(5 * time.Minute), nil
}

func (p *testProvider) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("refresh tokens not supported")
}

func (p *testProvider) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (p *testProvider) TerminateSession(context.Context, string, string) error { return nil }

func (p *testProvider) RevokeToken(context.Context, string, string, string) *zoidc.Error { return nil }

func (p *testProvider) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

type testSigningKey struct{ key *rsa.PrivateKey }

func (k testSigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k testSigningKey) Key() any                                    { return k.key }
func (k testSigningKey) ID() string                                  { return "test-key" }

type testPublicKey struct{ key *rsa.PrivateKey }

func (k testPublicKey) ID() string                         { return "test-key" }
func (k testPublicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k testPublicKey) Use() string                        { return "sig" }
func (k testPublicKey) Key() any                           { return &k.key.PublicKey }

func (p *testProvider) SigningKey(context.Context) (op.SigningKey, error) {
	return testSigningKey{p.key}, nil
}

func (p *testProvider) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (p *testProvider) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{testPublicKey{p.key}}, nil
}

func (p *testProvider) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id != p.clientID {
		return nil, errTestNotFound
	}
	lifetime := p.idLifetime
	if lifetime == 0 {
		lifetime = time.Hour
	}
	return &testClient{id: id, redirect: p.redirect, loginURL: p.URL + "/login", idLifetime: lifetime}, nil
}

func (p *testProvider) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != p.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.secret)) != 1 {
		return errors.New("wrong client credentials")
	}
	return nil
}

func (p *testProvider) SetUserinfoFromScopes(context.Context, *zoidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (p *testProvider) SetUserinfoFromRequest(_ context.Context, info *zoidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	return p.fill(info, req.GetSubject(), true)
}

func (p *testProvider) SetUserinfoFromToken(_ context.Context, info *zoidc.UserInfo, _, subject, _ string) error {
	return p.fill(info, subject, false)
}

func (p *testProvider) fill(info *zoidc.UserInfo, subject string, idToken bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !idToken {
		p.userinfoCalls++
	}
	u, ok := p.users[subject]
	if !ok {
		return errTestNotFound
	}
	info.Subject = u.Subject
	info.PreferredUsername = u.Username
	info.Email = u.Email
	info.EmailVerified = zoidc.Bool(u.Verified)
	for k, v := range u.Claims {
		if k == "groups" && idToken && p.groupsInUserinfoOnly {
			continue
		}
		info.AppendClaims(k, v)
	}
	return nil
}

func (p *testProvider) SetIntrospectionFromToken(context.Context, *zoidc.IntrospectionResponse, string, string, string) error {
	return nil
}

func (p *testProvider) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (p *testProvider) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errTestNotFound
}

func (p *testProvider) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}

func (p *testProvider) Health(context.Context) error { return nil }

// testClient is DECNET's registration at the provider: a confidential
// web client with one redirect URI.
type testClient struct {
	id, redirect, loginURL string
	idLifetime             time.Duration
}

func (c *testClient) GetID() string                       { return c.id }
func (c *testClient) RedirectURIs() []string              { return []string{c.redirect} }
func (c *testClient) PostLogoutRedirectURIs() []string    { return nil }
func (c *testClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *testClient) AuthMethod() zoidc.AuthMethod        { return zoidc.AuthMethodBasic }
func (c *testClient) ResponseTypes() []zoidc.ResponseType {
	return []zoidc.ResponseType{zoidc.ResponseTypeCode}
}
func (c *testClient) GrantTypes() []zoidc.GrantType { return []zoidc.GrantType{zoidc.GrantTypeCode} }
func (c *testClient) LoginURL(id string) string {
	return c.loginURL + "?authRequestID=" + url.QueryEscape(id)
}
func (c *testClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *testClient) IDTokenLifetime() time.Duration      { return c.idLifetime }

// DevMode lets the provider accept an http:// redirect URI on loopback.
func (c *testClient) DevMode() bool { return true }
func (c *testClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *testClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *testClient) IsScopeAllowed(string) bool           { return true }
func (c *testClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *testClient) ClockSkew() time.Duration             { return 0 }
