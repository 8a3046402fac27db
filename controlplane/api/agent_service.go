package api

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type agentService struct{ *API }

var _ apiv1connect.AgentServiceHandler = (*agentService)(nil)

// ListAgents returns every enrolled agent with whether it is connected now.
func (s *agentService) ListAgents(ctx context.Context, req *connect.Request[apiv1.ListAgentsRequest]) (*connect.Response[apiv1.ListAgentsResponse], error) {
	agents, err := s.store.ListAgents(ctx)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}

	out := make([]*apiv1.Agent, 0, len(agents))
	for _, a := range agents {
		out = append(out, s.agentMessage(a))
	}
	return connect.NewResponse(&apiv1.ListAgentsResponse{Agents: out}), nil
}

// DecommissionAgent revokes the agent in the store and closes its live
// connection. Revoking a decommissioned agent again succeeds and keeps the
// first time.
func (s *agentService) DecommissionAgent(ctx context.Context, req *connect.Request[apiv1.DecommissionAgentRequest]) (*connect.Response[apiv1.DecommissionAgentResponse], error) {
	id := req.Msg.GetId()
	if id == "" {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, connect.NewError(connect.CodeInvalidArgument, errors.New("id is required")))
	}
	a, err := s.store.RevokeAgent(ctx, id, s.now())
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	s.onDecommission(a.ID)
	s.log.Info().Str(fieldAgentID, a.ID).Str(fieldUser, username(ctx)).Time(fieldRevokedAt, a.RevokedAt).Msg("agent decommissioned")
	return connect.NewResponse(&apiv1.DecommissionAgentResponse{Agent: s.agentMessage(a)}), nil
}

func (s *agentService) agentMessage(a store.Agent) *apiv1.Agent {
	return &apiv1.Agent{
		Id:                   a.ID,
		Name:                 a.Name,
		EnrolledAt:           timestampOrNil(a.EnrolledAt),
		LastSeen:             timestampOrNil(a.LastSeen),
		Connected:            s.presence != nil && s.presence.Connected(a.ID),
		Version:              a.Version,
		CertificateSerial:    a.CertificateSerial,
		CertificateExpiresAt: timestampOrNil(a.CertificateExpiresAt),
		Revoked:              a.Revoked(),
		DecommissionedAt:     timestampOrNil(a.RevokedAt),
	}
}

// timestampOrNil leaves an unset time unset rather than sending 1970.
func timestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
