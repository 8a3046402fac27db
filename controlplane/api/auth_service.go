package api

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type authService struct{ *API }

var _ apiv1connect.AuthServiceHandler = (*authService)(nil)

// Login returns a bearer token and sets the same token as an HttpOnly,
// SameSite=Strict session cookie for the dashboard.
func (s *authService) Login(ctx context.Context, req *connect.Request[apiv1.LoginRequest]) (*connect.Response[apiv1.LoginResponse], error) {
	procedure := req.Spec().Procedure
	if req.Msg.GetUsername() == "" || req.Msg.GetPassword() == "" {
		return nil, s.toConnectError(ctx, procedure, invalidArgument("username and password are required"))
	}

	// NOTE: the rate limit keys on the TCP peer, so behind a reverse
	// proxy every client shares the proxy's budget.
	token, sess, err := s.auth.LoginTOTP(ctx, req.Msg.GetUsername(), auth.Secret(req.Msg.GetPassword()), auth.Secret(req.Msg.GetTotpCode()), req.Peer().Addr)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}

	resp := connect.NewResponse(&apiv1.LoginResponse{
		Token:     token.Reveal(),
		ExpiresAt: timestamppb.New(sess.ExpiresAt),
		Username:  sess.Username,
		Role:      sess.Role,

		PasswordChangeRequired: sess.PasswordChangeRequired,
		TotpEnrollmentRequired: sess.TOTPEnrollmentRequired,
	})
	resp.Header().Add("Set-Cookie", auth.SessionCookie(token, sess.ExpiresAt, s.secure).String())
	return resp, nil
}

// Logout ends the calling session and clears the cookie.
func (s *authService) Logout(ctx context.Context, req *connect.Request[apiv1.LogoutRequest]) (*connect.Response[apiv1.LogoutResponse], error) {
	sess, ok := auth.SessionFromContext(ctx)
	if !ok {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, auth.ErrUnauthenticated)
	}
	if err := s.auth.Logout(ctx, sess); err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	resp := connect.NewResponse(&apiv1.LogoutResponse{})
	resp.Header().Add("Set-Cookie", auth.ClearSessionCookie(s.secure).String())
	return resp, nil
}

// GetLoginOptions reports the ways of signing in.
func (s *authService) GetLoginOptions(context.Context, *connect.Request[apiv1.GetLoginOptionsRequest]) (*connect.Response[apiv1.GetLoginOptionsResponse], error) {
	return connect.NewResponse(&apiv1.GetLoginOptionsResponse{SingleSignOnPath: s.ssoPath}), nil
}
