package api

import (
	"context"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

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
		out = append(out, &apiv1.Agent{
			Id:                   a.ID,
			Name:                 a.Name,
			EnrolledAt:           timestampOrNil(a.EnrolledAt),
			LastSeen:             timestampOrNil(a.LastSeen),
			Connected:            s.presence != nil && s.presence.Connected(a.ID),
			Version:              a.Version,
			CertificateSerial:    a.CertificateSerial,
			CertificateExpiresAt: timestampOrNil(a.CertificateExpiresAt),
		})
	}
	return connect.NewResponse(&apiv1.ListAgentsResponse{Agents: out}), nil
}

// timestampOrNil leaves an unset time unset rather than sending 1970.
func timestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
