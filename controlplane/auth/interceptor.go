package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// TokenFromHeader returns the bearer token of an "Authorization: Bearer"
// header, or else the session cookie's value, or "".
func TokenFromHeader(h http.Header) Secret {
	if authz := h.Get("Authorization"); authz != "" {
		scheme, token, ok := strings.Cut(authz, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return Secret(strings.TrimSpace(token))
		}
		return ""
	}
	// HTTP/2 clients may split cookies over several header fields.
	for _, line := range h.Values("Cookie") {
		cookies, err := http.ParseCookie(line)
		if err != nil {
			continue
		}
		for _, c := range cookies {
			if c.Name == CookieName {
				return Secret(c.Value)
			}
		}
	}
	return ""
}

// Interceptor returns a Connect interceptor that requires a session for
// every procedure except the public ones, and stores the session in the
// handler's context. Calls without one fail with CodeUnauthenticated.
func (a *Authenticator) Interceptor() connect.Interceptor {
	return &interceptor{auth: a}
}

type interceptor struct {
	auth *Authenticator
}

func (i *interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		ctx, err := i.auth.authorize(ctx, req.Spec().Procedure, req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i *interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i *interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := i.auth.authorize(ctx, conn.Spec().Procedure, conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// authorize returns ctx with the caller's session, or a Connect error.
// Procedures of the API carry their access rule and token scope. Any other
// path needs a session of any role, and an API token needs a scope that
// reads everything.
func (a *Authenticator) authorize(ctx context.Context, procedure string, h http.Header) (context.Context, error) {
	access := apiv1.Access_ACCESS_VIEWER
	if hasAccessRule(procedure) {
		access = AccessOf(procedure)
	}
	if access == apiv1.Access_ACCESS_PUBLIC {
		return ctx, nil
	}
	s, err := a.Authenticate(ctx, TokenFromHeader(h))
	if err != nil {
		return ctx, a.connectError(procedure, err)
	}
	if s.TOTPEnrollmentRequired && !enrollmentProcedures[procedure] {
		return ctx, connect.NewError(connect.CodePermissionDenied, ErrTOTPEnrollFirst)
	}
	// A password someone else chose may be known to them, so until the
	// user picks their own the session reads but changes nothing: every
	// change in the audit log is the user's own. API tokens are exempt:
	// the user made them with a password of their own. Paths outside
	// the API are downloads and streams, which read.
	if s.PasswordChangeRequired && s.APITokenID == "" && isAPIProcedure(procedure) &&
		!ChangesNothing(procedure) && !enrollmentProcedures[procedure] {
		return ctx, connect.NewError(connect.CodePermissionDenied, ErrChangePasswordFirst)
	}
	if !Allows(s.Role, access) {
		a.log.Info().Str(fieldUser, s.Username).Str(fieldProcedure, procedure).Str("role", RoleName(s.Role)).Msg("call refused: role too low")
		return ctx, connect.NewError(connect.CodePermissionDenied, ErrPermissionDenied)
	}
	if !ScopesAllow(s.Scopes, procedure) {
		a.log.Info().Str(fieldUser, s.Username).Str(fieldProcedure, procedure).Str("token_id", s.APITokenID).
			Strs("scopes", s.Scopes).Msg("call refused: outside the token's scopes")
		return ctx, connect.NewError(connect.CodePermissionDenied, ErrScopeDenied)
	}
	return WithSession(ctx, s), nil
}

// connectError maps an Authenticate error to the error returned to the
// client, and logs the ones that are not the client's fault.
func (a *Authenticator) connectError(procedure string, err error) *connect.Error {
	if errors.Is(err, ErrUnauthenticated) {
		return connect.NewError(connect.CodeUnauthenticated, ErrUnauthenticated)
	}
	a.log.Error().Err(err).Str(fieldProcedure, procedure).Msg("check session failed")
	return connect.NewError(connect.CodeUnavailable, errors.New("session check failed; retry later"))
}

// Middleware requires a session for plain HTTP handlers, such as downloads
// next to the Connect API. It rejects a request without one with status
// 401, in the error format of the request's protocol.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	errWriter := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := a.authorize(r.Context(), r.URL.Path, r.Header)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="decnet"`)
			_ = errWriter.Write(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
