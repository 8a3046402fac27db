package api

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/auth"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type userService struct{ *API }

var _ apiv1connect.UserServiceHandler = (*userService)(nil)

// GetCurrentUser returns the caller's account.
func (s *userService) GetCurrentUser(ctx context.Context, req *connect.Request[apiv1.GetCurrentUserRequest]) (*connect.Response[apiv1.GetCurrentUserResponse], error) {
	sess, _ := auth.SessionFromContext(ctx)
	u, err := s.store.GetUser(ctx, sess.Username)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.GetCurrentUserResponse{User: auth.UserMessage(u)}), nil
}

// ChangePassword replaces the caller's password and ends their other
// sessions.
func (s *userService) ChangePassword(ctx context.Context, req *connect.Request[apiv1.ChangePasswordRequest]) (*connect.Response[apiv1.ChangePasswordResponse], error) {
	procedure := req.Spec().Procedure
	sess, _ := auth.SessionFromContext(ctx)
	err := s.auth.ChangePassword(ctx, sess, auth.Secret(req.Msg.GetCurrentPassword()), auth.Secret(req.Msg.GetNewPassword()), req.Peer().Addr)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		// Not Unauthenticated: the session is fine, the check failed.
		return nil, s.toConnectError(ctx, procedure, invalidArgument("the current password is wrong"))
	}
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	s.log.Info().Str(fieldUser, sess.Username).Msg("password changed")
	return connect.NewResponse(&apiv1.ChangePasswordResponse{}), nil
}

// ListUsers returns every user by name.
func (s *userService) ListUsers(ctx context.Context, req *connect.Request[apiv1.ListUsersRequest]) (*connect.Response[apiv1.ListUsersResponse], error) {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	out := make([]*apiv1.User, 0, len(users))
	for _, u := range users {
		out = append(out, auth.UserMessage(u))
	}
	return connect.NewResponse(&apiv1.ListUsersResponse{Users: out}), nil
}

// CreateUser creates a user and returns the generated password once.
func (s *userService) CreateUser(ctx context.Context, req *connect.Request[apiv1.CreateUserRequest]) (*connect.Response[apiv1.CreateUserResponse], error) {
	procedure := req.Spec().Procedure
	password, err := s.auth.CreateUser(ctx, req.Msg.GetUsername(), req.Msg.GetRole())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	u, err := s.store.GetUser(ctx, req.Msg.GetUsername())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	s.log.Info().Str(fieldUser, username(ctx)).Str("created_user", u.Username).Str("role", u.Role).Msg("user created")
	return connect.NewResponse(&apiv1.CreateUserResponse{User: auth.UserMessage(u), Password: password.Reveal()}), nil
}

// SetUserRole changes a user's role.
func (s *userService) SetUserRole(ctx context.Context, req *connect.Request[apiv1.SetUserRoleRequest]) (*connect.Response[apiv1.SetUserRoleResponse], error) {
	procedure := req.Spec().Procedure
	role := auth.RoleName(req.Msg.GetRole())
	if role == "" {
		return nil, s.toConnectError(ctx, procedure, auth.ErrInvalidRole)
	}
	if err := s.store.SetUserRole(ctx, req.Msg.GetUsername(), role); err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	u, err := s.store.GetUser(ctx, req.Msg.GetUsername())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	s.log.Info().Str(fieldUser, username(ctx)).Str("target_user", u.Username).Str("role", role).Msg("user role changed")
	return connect.NewResponse(&apiv1.SetUserRoleResponse{User: auth.UserMessage(u)}), nil
}

// ResetUserPassword gives the user a generated password, returned once.
func (s *userService) ResetUserPassword(ctx context.Context, req *connect.Request[apiv1.ResetUserPasswordRequest]) (*connect.Response[apiv1.ResetUserPasswordResponse], error) {
	password, err := s.auth.ResetPassword(ctx, req.Msg.GetUsername())
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	s.log.Info().Str(fieldUser, username(ctx)).Str("target_user", req.Msg.GetUsername()).Msg("user password reset; sessions ended")
	return connect.NewResponse(&apiv1.ResetUserPasswordResponse{Password: password.Reveal()}), nil
}

// DeleteUser deletes a user and their sessions.
func (s *userService) DeleteUser(ctx context.Context, req *connect.Request[apiv1.DeleteUserRequest]) (*connect.Response[apiv1.DeleteUserResponse], error) {
	procedure := req.Spec().Procedure
	if req.Msg.GetUsername() == username(ctx) {
		return nil, s.toConnectError(ctx, procedure, auth.ErrDeleteSelf)
	}
	if err := s.store.DeleteUser(ctx, req.Msg.GetUsername()); err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	s.log.Info().Str(fieldUser, username(ctx)).Str("target_user", req.Msg.GetUsername()).Msg("user deleted")
	return connect.NewResponse(&apiv1.DeleteUserResponse{}), nil
}

// BeginTotpEnrollment returns a new TOTP key for the caller, once.
func (s *userService) BeginTotpEnrollment(ctx context.Context, req *connect.Request[apiv1.BeginTotpEnrollmentRequest]) (*connect.Response[apiv1.BeginTotpEnrollmentResponse], error) {
	sess, _ := auth.SessionFromContext(ctx)
	secret, url, err := s.auth.BeginTOTPEnrollment(ctx, sess)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.BeginTotpEnrollmentResponse{Secret: secret, Url: url}), nil
}

// ConfirmTotpEnrollment activates the caller's pending TOTP key.
func (s *userService) ConfirmTotpEnrollment(ctx context.Context, req *connect.Request[apiv1.ConfirmTotpEnrollmentRequest]) (*connect.Response[apiv1.ConfirmTotpEnrollmentResponse], error) {
	sess, _ := auth.SessionFromContext(ctx)
	if err := s.auth.ConfirmTOTPEnrollment(ctx, sess, auth.Secret(req.Msg.GetCode())); err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.ConfirmTotpEnrollmentResponse{}), nil
}

// DisableTotp turns the caller's TOTP off after checking a code.
func (s *userService) DisableTotp(ctx context.Context, req *connect.Request[apiv1.DisableTotpRequest]) (*connect.Response[apiv1.DisableTotpResponse], error) {
	sess, _ := auth.SessionFromContext(ctx)
	if err := s.auth.DisableTOTP(ctx, sess, auth.Secret(req.Msg.GetCode())); err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.DisableTotpResponse{}), nil
}

// ResetUserTotp turns another user's TOTP off and ends their sessions.
func (s *userService) ResetUserTotp(ctx context.Context, req *connect.Request[apiv1.ResetUserTotpRequest]) (*connect.Response[apiv1.ResetUserTotpResponse], error) {
	if err := s.auth.ResetTOTP(ctx, req.Msg.GetUsername()); err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	s.log.Info().Str(fieldUser, username(ctx)).Str("target_user", req.Msg.GetUsername()).Msg("user totp reset; sessions ended")
	return connect.NewResponse(&apiv1.ResetUserTotpResponse{}), nil
}
