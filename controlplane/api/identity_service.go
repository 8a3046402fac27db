package api

import (
	"context"
	"math"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/identity"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// Identities answers reads of attacker identities; the identity worker
// implements it.
type Identities interface {
	AttackerIdentity(attackerID string) (*apiv1.AttackerIdentity, bool)
	Identity(id string) (identity *apiv1.AttackerIdentity, mergedFrom string, ok bool)
	// ListIdentities returns one page of live identities, largest first;
	// see identity.Worker.ListIdentities for the order.
	ListIdentities(q identity.IdentityQuery) (store.Page[*apiv1.AttackerIdentity], error)
}

type identityService struct{ *API }

var _ apiv1connect.IdentityServiceHandler = (*identityService)(nil)

// GetAttackerIdentity returns the identity of an attacker's sessions.
func (s *identityService) GetAttackerIdentity(ctx context.Context, req *connect.Request[apiv1.GetAttackerIdentityRequest]) (*connect.Response[apiv1.GetAttackerIdentityResponse], error) {
	id, err := normalizeUUID(req.Msg.GetAttackerId(), "attacker_id")
	if err != nil || id == "" {
		return nil, invalidArgument("attacker_id must be an attacker's UUID")
	}
	if s.identities == nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, store.ErrNotFound)
	}
	identity, ok := s.identities.AttackerIdentity(id)
	if !ok {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, store.ErrNotFound)
	}
	return connect.NewResponse(&apiv1.GetAttackerIdentityResponse{Identity: identity}), nil
}

// GetIdentity returns an identity; a merged id returns its winner.
func (s *identityService) GetIdentity(ctx context.Context, req *connect.Request[apiv1.GetIdentityRequest]) (*connect.Response[apiv1.GetIdentityResponse], error) {
	if s.identities == nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, store.ErrNotFound)
	}
	identity, mergedFrom, ok := s.identities.Identity(req.Msg.GetId())
	if !ok {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, store.ErrNotFound)
	}
	return connect.NewResponse(&apiv1.GetIdentityResponse{Identity: identity, MergedFrom: mergedFrom}), nil
}

// ListIdentities returns live identities, largest first. Without an
// identity worker it returns an empty list.
func (s *identityService) ListIdentities(ctx context.Context, req *connect.Request[apiv1.ListIdentitiesRequest]) (*connect.Response[apiv1.ListIdentitiesResponse], error) {
	if s.identities == nil {
		return connect.NewResponse(&apiv1.ListIdentitiesResponse{}), nil
	}
	page, err := s.identities.ListIdentities(identity.IdentityQuery{
		MinAttackers: int(min(req.Msg.GetMinAttackers(), math.MaxInt32)),
		PageSize:     int(req.Msg.GetPageSize()),
		PageToken:    req.Msg.GetPageToken(),
	})
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.ListIdentitiesResponse{Identities: page.Items, NextPageToken: page.NextPageToken}), nil
}
