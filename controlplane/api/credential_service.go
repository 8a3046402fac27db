package api

import (
	"context"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type credentialService struct{ *API }

var _ apiv1connect.CredentialServiceHandler = (*credentialService)(nil)

// ListCredentials returns captured credentials, newest first. They are
// attacker data: analysts and admins get the secret values, viewers get
// everything but them.
func (s *credentialService) ListCredentials(ctx context.Context, req *connect.Request[apiv1.ListCredentialsRequest]) (*connect.Response[apiv1.ListCredentialsResponse], error) {
	procedure := req.Spec().Procedure
	attackerID, err := normalizeUUID(req.Msg.GetAttackerId(), "attacker_id")
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}

	page, err := s.store.ListCredentials(ctx, store.CredentialQuery{
		AttackerID: attackerID,
		Principal:  req.Msg.GetPrincipal(),
		PageSize:   int(req.Msg.GetPageSize()),
		PageToken:  req.Msg.GetPageToken(),
	})
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	if masksSecrets(ctx) {
		for _, c := range page.Items {
			c.Secret, c.SecretMasked = nil, true
		}
	}
	return connect.NewResponse(&apiv1.ListCredentialsResponse{Credentials: page.Items, NextPageToken: page.NextPageToken}), nil
}

// ListCredentialReuse returns credentials tried on two or more targets.
// It carries digests and principals, never secret values, so every role
// sees it whole.
func (s *credentialService) ListCredentialReuse(ctx context.Context, req *connect.Request[apiv1.ListCredentialReuseRequest]) (*connect.Response[apiv1.ListCredentialReuseResponse], error) {
	reuse, err := s.store.ListCredentialReuse(ctx, int(req.Msg.GetPageSize()))
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.ListCredentialReuseResponse{Reuse: reuse}), nil
}
