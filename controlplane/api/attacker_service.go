package api

import (
	"context"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/attack"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type attackerService struct{ *API }

var _ apiv1connect.AttackerServiceHandler = (*attackerService)(nil)

// ListAttackers returns attackers, most recently seen first.
func (s *attackerService) ListAttackers(ctx context.Context, req *connect.Request[apiv1.ListAttackersRequest]) (*connect.Response[apiv1.ListAttackersResponse], error) {
	procedure := req.Spec().Procedure
	address, err := normalizeIP(req.Msg.GetAddress(), "address")
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}

	page, err := s.store.ListAttackers(ctx, store.AttackerQuery{
		Address:   address,
		PageSize:  int(req.Msg.GetPageSize()),
		PageToken: req.Msg.GetPageToken(),
	})
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.ListAttackersResponse{Attackers: page.Items, NextPageToken: page.NextPageToken}), nil
}

// GetAttacker returns one attacker: NotFound for an unknown id,
// InvalidArgument for an id that is not a UUID.
func (s *attackerService) GetAttacker(ctx context.Context, req *connect.Request[apiv1.GetAttackerRequest]) (*connect.Response[apiv1.GetAttackerResponse], error) {
	procedure := req.Spec().Procedure
	if req.Msg.GetId() == "" {
		return nil, s.toConnectError(ctx, procedure, invalidArgument("id is required"))
	}
	id, err := normalizeUUID(req.Msg.GetId(), "id")
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}

	a, err := s.store.GetAttacker(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	if a.Techniques, err = attack.AttackerTechniques(ctx, s.store, id); err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	if a.Behaviour, a.Traversal, err = attackerBehaviour(ctx, s.store, id); err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.GetAttackerResponse{Attacker: a}), nil
}
