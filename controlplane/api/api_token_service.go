package api

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type apiTokenService struct{ *API }

var _ apiv1connect.ApiTokenServiceHandler = (*apiTokenService)(nil)

// CreateApiToken issues a token for the caller and returns it once.
func (s *apiTokenService) CreateApiToken(ctx context.Context, req *connect.Request[apiv1.CreateApiTokenRequest]) (*connect.Response[apiv1.CreateApiTokenResponse], error) {
	sess, _ := auth.SessionFromContext(ctx)
	t, secret, err := s.auth.CreateAPIToken(ctx, sess, req.Msg.GetName(), req.Msg.GetRole(), req.Msg.GetScopes(), req.Msg.GetTtl().AsDuration())
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.CreateApiTokenResponse{Token: apiTokenMessage(t), Secret: secret.Reveal()}), nil
}

// ListApiTokens returns the caller's tokens, or every user's for an admin
// who asks.
func (s *apiTokenService) ListApiTokens(ctx context.Context, req *connect.Request[apiv1.ListApiTokensRequest]) (*connect.Response[apiv1.ListApiTokensResponse], error) {
	sess, _ := auth.SessionFromContext(ctx)
	username := sess.Username
	if req.Msg.GetAllUsers() {
		if !auth.Allows(sess.Role, apiv1.Access_ACCESS_ADMIN) {
			return nil, connect.NewError(connect.CodePermissionDenied, auth.ErrPermissionDenied)
		}
		username = ""
	}
	tokens, err := s.store.ListAPITokens(ctx, username)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	out := make([]*apiv1.ApiToken, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, apiTokenMessage(t))
	}
	return connect.NewResponse(&apiv1.ListApiTokensResponse{Tokens: out}), nil
}

// RevokeApiToken revokes one of the caller's tokens, or any for an admin.
// Another user's token is reported as not found to a non-admin.
func (s *apiTokenService) RevokeApiToken(ctx context.Context, req *connect.Request[apiv1.RevokeApiTokenRequest]) (*connect.Response[apiv1.RevokeApiTokenResponse], error) {
	procedure := req.Spec().Procedure
	sess, _ := auth.SessionFromContext(ctx)
	if !auth.Allows(sess.Role, apiv1.Access_ACCESS_ADMIN) {
		owned, err := s.store.ListAPITokens(ctx, sess.Username)
		if err != nil {
			return nil, s.toConnectError(ctx, procedure, err)
		}
		found := false
		for _, t := range owned {
			found = found || t.ID == req.Msg.GetId()
		}
		if !found {
			return nil, s.toConnectError(ctx, procedure, store.ErrNotFound)
		}
	}
	t, err := s.store.RevokeAPIToken(ctx, req.Msg.GetId(), s.now().UTC())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	s.log.Info().Str(fieldUser, sess.Username).Str("token_id", t.ID).Msg("api token revoked")
	return connect.NewResponse(&apiv1.RevokeApiTokenResponse{Token: apiTokenMessage(t)}), nil
}

func apiTokenMessage(t store.APIToken) *apiv1.ApiToken {
	return &apiv1.ApiToken{
		Id: t.ID, Name: t.Name, Username: t.Username, Role: auth.ParseRole(t.Role), Scopes: t.Scopes,
		CreatedAt: timestamppb.New(t.CreatedAt), ExpiresAt: timestamppb.New(t.ExpiresAt), RevokedAt: timestampOrNil(t.RevokedAt),
	}
}
