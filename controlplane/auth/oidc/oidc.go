// Package oidc signs dashboard users in through an OpenID Connect
// provider: the authorization code flow with PKCE, state and nonce, ID
// token verification, and a DECNET role taken from a group or role claim
// at every login.
package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/decnet/decnet/controlplane/auth"
)

// Log field keys.
const (
	fieldUser    = "username"
	fieldRole    = "role"
	fieldMatched = "matched_values"
	fieldIssuer  = "issuer"
	fieldReason  = "reason"
	fieldError   = "error"
	fieldSource  = "source"
)

// errProvider is the message shown when the provider is unreachable or
// returns an error. The cause goes to the log only.
var errProvider = errors.New("the identity provider could not complete the sign-in; try again or ask an admin")

// errTokenRejected is the message shown for an ID token that fails
// verification.
var errTokenRejected = errors.New("the ID token from the identity provider failed verification; start the sign-in again")

// errInternal is the message shown when DECNET itself fails.
var errInternal = errors.New("DECNET could not complete the sign-in; ask an admin to check the server log")

// Handler serves LoginPath and CallbackPath.
type Handler struct {
	cfg    Config
	policy policy
	sealer *flowSealer
	log    zerolog.Logger
	secure bool

	// The relying party is built on first use, so the control plane starts
	// while the provider is down. A failed discovery is retried at the next
	// login.
	rpMu  sync.Mutex
	party rp.RelyingParty
}

// New returns a Handler. It does not contact the provider.
func New(cfg Config) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	key := cfg.FlowKey
	if key.Empty() {
		key = cfg.ClientSecret
	}
	sealer, err := newFlowSealer([]byte(key.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("new oidc handler: %w", err)
	}
	redirect, _ := url.Parse(cfg.RedirectURL) // validated by withDefaults
	return &Handler{
		cfg: cfg,
		policy: policy{
			usernameClaim: cfg.UsernameClaim,
			roleClaim:     cfg.RoleClaim,
			roleMap:       cfg.RoleMap,
			defaultRole:   cfg.DefaultRole,
			domains:       cfg.AllowedEmailDomains,
		},
		sealer: sealer,
		log:    cfg.Logger.With().Str("component", "oidc").Str(fieldIssuer, cfg.Issuer).Logger(),
		secure: redirect.Scheme == "https",
	}, nil
}

// Mount registers both handlers on mux, such as api.API.
func (h *Handler) Mount(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("GET "+LoginPath, http.HandlerFunc(h.Login))
	mux.Handle("GET "+CallbackPath, http.HandlerFunc(h.Callback))
}

// relyingParty returns the relying party, running discovery on first use.
func (h *Handler) relyingParty(ctx context.Context) (rp.RelyingParty, error) {
	h.rpMu.Lock()
	defer h.rpMu.Unlock()
	if h.party != nil {
		return h.party, nil
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, h.cfg.Issuer, h.cfg.ClientID, h.cfg.ClientSecret.Reveal(), h.cfg.RedirectURL, h.cfg.Scopes,
		rp.WithHTTPClient(h.cfg.HTTPClient),
		// Accept the algorithms the discovery document lists, not only the
		// library's RS256 default. go-jose has no "none" algorithm.
		rp.WithSigningAlgsFromDiscovery(),
		rp.WithVerifierOpts(rp.WithNonce(nonceFromContext)),
	)
	if err != nil {
		return nil, fmt.Errorf("discover provider: %w", err)
	}
	h.party = party
	return party, nil
}

type nonceKey struct{}

// nonceFromContext returns the nonce of the flow being completed for the
// ID token verifier, because the relying party is shared and the nonce is not.
func nonceFromContext(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey{}).(string)
	return n
}

// Login starts the authorization code flow: it seals a fresh state, nonce
// and PKCE verifier into the flow cookie and redirects to the provider.
func (h *Handler) Login(w http.ResponseWriter, r *http.Request) {
	log := h.log.With().Str(fieldSource, r.RemoteAddr).Logger()
	party, err := h.relyingParty(r.Context())
	if err != nil {
		log.Error().Str(fieldError, err.Error()).Msg("oidc login failed: provider discovery")
		h.fail(w, http.StatusBadGateway, errProvider)
		return
	}

	var f flow
	for _, dst := range []*string{&f.State, &f.Nonce, &f.Verifier} {
		if *dst, err = randomToken(); err != nil {
			log.Error().Str(fieldError, err.Error()).Msg("oidc login failed")
			h.fail(w, http.StatusInternalServerError, errInternal)
			return
		}
	}
	f.Expires = h.cfg.Now().Add(h.cfg.FlowLifetime).Unix()
	value, err := h.sealer.seal(f)
	if err != nil {
		log.Error().Str(fieldError, err.Error()).Msg("oidc login failed")
		h.fail(w, http.StatusInternalServerError, errInternal)
		return
	}

	http.SetCookie(w, h.flowCookie(value, int(h.cfg.FlowLifetime/time.Second)))
	target := rp.AuthURL(f.State, party,
		rp.WithCodeChallenge(zoidc.NewSHACodeChallenge(f.Verifier)),
		rp.AuthURLOpt(rp.WithURLParam("nonce", f.Nonce)),
	)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// flowCookie returns the cookie of the sealed flow. It is SameSite=Lax,
// not Strict like the session cookie, because the callback is a top-level
// navigation from the provider's site and browsers withhold Strict cookies
// on it.
func (h *Handler) flowCookie(value string, maxAge int) *http.Cookie {
	if maxAge <= 0 {
		maxAge = -1
	}
	return &http.Cookie{ //nolint:gosec // G124: Secure is false only when the redirect URL is plain HTTP
		Name:     flowCookieName,
		Value:    value,
		Path:     "/auth/oidc/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// Callback completes the flow. It checks state against the flow cookie,
// exchanges the code with the PKCE verifier and verifies the ID token
// (signature, issuer, audience, expiry, nonce). It then maps the claims
// to a role, syncs the local user, opens a session and sets the session
// cookie.
func (h *Handler) Callback(w http.ResponseWriter, r *http.Request) {
	log := h.log.With().Str(fieldSource, r.RemoteAddr).Logger()
	w.Header().Set("Cache-Control", "no-store")
	// The flow cookie is single-use whatever the outcome.
	http.SetCookie(w, h.flowCookie("", -1))

	q := r.URL.Query()
	var f flow
	cookie, err := r.Cookie(flowCookieName)
	if err == nil {
		f, err = h.sealer.open(cookie.Value, h.cfg.Now())
	}
	if err != nil || subtle.ConstantTimeCompare([]byte(f.State), []byte(q.Get("state"))) != 1 {
		log.Warn().Str(fieldReason, "state").Msg("oidc callback rejected")
		h.fail(w, http.StatusBadRequest, ErrFlowInvalid)
		return
	}
	if e := q.Get("error"); e != "" {
		// The error code is an RFC 6749 token and safe to log. The
		// description is free text, so it is left out.
		log.Warn().Str(fieldReason, "provider error").Str(fieldError, truncate(e, 64)).Msg("oidc callback rejected")
		h.fail(w, http.StatusForbidden, errProvider)
		return
	}
	code := q.Get("code")
	if code == "" {
		log.Warn().Str(fieldReason, "no code").Msg("oidc callback rejected")
		h.fail(w, http.StatusBadRequest, ErrFlowInvalid)
		return
	}

	party, err := h.relyingParty(r.Context())
	if err != nil {
		log.Error().Str(fieldError, err.Error()).Msg("oidc callback failed: provider discovery")
		h.fail(w, http.StatusBadGateway, errProvider)
		return
	}
	ctx := context.WithValue(r.Context(), nonceKey{}, f.Nonce)
	tokens, err := rp.CodeExchange[*zoidc.IDTokenClaims](ctx, code, party, rp.WithCodeVerifier(f.Verifier))
	if err != nil {
		status, shown := classifyExchangeError(err)
		log.Warn().Str(fieldReason, "code exchange").Str(fieldError, err.Error()).Msg("oidc callback rejected")
		h.fail(w, status, shown)
		return
	}

	claims, err := h.claims(ctx, party, tokens)
	if err != nil {
		log.Warn().Str(fieldReason, "userinfo").Str(fieldError, err.Error()).Msg("oidc callback rejected")
		h.fail(w, http.StatusBadGateway, errProvider)
		return
	}
	id, err := h.policy.decide(claims)
	if err != nil {
		log.Warn().Str(fieldReason, "claims").Str(fieldError, err.Error()).
			Str("subject", tokens.IDTokenClaims.Subject).Msg("oidc login rejected")
		h.fail(w, http.StatusForbidden, shownDecision(err))
		return
	}
	log = log.With().Str(fieldUser, id.Username).Str(fieldRole, id.Role).Logger()

	if err := h.cfg.Users.SyncSSOUser(r.Context(), id.Username, id.Role, r.RemoteAddr); err != nil {
		if errors.Is(err, ErrNotSSOUser) {
			log.Warn().Str(fieldReason, "local user").Msg("oidc login rejected")
			h.fail(w, http.StatusForbidden, ErrNotSSOUser)
			return
		}
		log.Error().Str(fieldError, err.Error()).Msg("oidc login failed: sync user")
		h.fail(w, http.StatusInternalServerError, errInternal)
		return
	}
	token, expires, err := h.cfg.Sessions.StartSession(r.Context(), id.Username)
	if err != nil {
		log.Error().Str(fieldError, err.Error()).Msg("oidc login failed: start session")
		h.fail(w, http.StatusInternalServerError, errInternal)
		return
	}

	http.SetCookie(w, auth.SessionCookie(token, expires, h.secure))
	log.Info().Strs(fieldMatched, id.Matched).Time("expires_at", expires).Msg("oidc login succeeded")
	http.Redirect(w, r, h.cfg.PostLoginPath, http.StatusSeeOther)
}

// claims returns the ID token's claims. When the ID token lacks the user
// name or role claim, as with providers that keep group lists out of ID
// tokens, it adds the claims of the userinfo endpoint, and the ID token's
// values win where both have one.
func (h *Handler) claims(ctx context.Context, party rp.RelyingParty, tokens *zoidc.Tokens[*zoidc.IDTokenClaims]) (map[string]any, error) {
	claims := tokens.IDTokenClaims.Claims
	_, hasUser := lookupClaim(claims, h.cfg.UsernameClaim)
	_, hasRole := lookupClaim(claims, h.cfg.RoleClaim)
	if (hasUser && hasRole) || party.UserinfoEndpoint() == "" {
		return claims, nil
	}

	// Userinfo checks that the endpoint's subject is the ID token's.
	info, err := rp.Userinfo[*zoidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, party)
	if err != nil {
		return nil, fmt.Errorf("read userinfo: %w", err)
	}
	merged := maps.Clone(info.Claims)
	if merged == nil {
		merged = make(map[string]any, len(claims))
	}
	maps.Copy(merged, claims)
	return merged, nil
}

// shownDecision returns the fixed message for a rejection by the claims
// policy, without the claim names and counts the wrapped error carries.
func shownDecision(err error) error {
	for _, e := range []error{ErrNoRole, ErrNoUsername, ErrEmailDomain, ErrClaimMalformed} {
		if errors.Is(err, e) {
			return e
		}
	}
	return errInternal
}

// classifyExchangeError separates an ID token that failed verification
// from a failed request to the provider.
func classifyExchangeError(err error) (int, error) {
	for _, e := range []error{
		zoidc.ErrIssuerInvalid, zoidc.ErrAudience, zoidc.ErrAzpMissing, zoidc.ErrAzpInvalid,
		zoidc.ErrSignatureInvalid, zoidc.ErrSignatureUnsupportedAlg, zoidc.ErrSignatureMissing,
		zoidc.ErrSignatureMultiple, zoidc.ErrExpired, zoidc.ErrIatInFuture, zoidc.ErrIatToOld,
		zoidc.ErrIatMissing, zoidc.ErrNonceInvalid, zoidc.ErrSubjectMissing, zoidc.ErrAtHash,
		zoidc.ErrParse, zoidc.ErrKeyNone, zoidc.ErrKeyMultiple,
	} {
		if errors.Is(err, e) {
			return http.StatusForbidden, errTokenRejected
		}
	}
	return http.StatusBadGateway, errProvider
}

// errorPage is the page of a refused or failed sign-in. The message is one
// of this package's fixed errors, never provider or user input.
var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DECNET sign-in failed</title></head>
<body><h1>Sign-in failed</h1><p>{{.Message}}</p><p><a href="{{.Retry}}">Try again</a></p></body></html>
`))

// fail writes the error page with status.
func (h *Handler) fail(w http.ResponseWriter, status int, shown error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = errorPage.Execute(w, struct{ Message, Retry string }{shown.Error(), LoginPath})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
