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

// AgentStatuses reports the status the control plane derives from agent
// heartbeats.
type AgentStatuses interface {
	// AgentStatus returns the agent's status, when it last changed (zero
	// if unknown) and its last heartbeat (nil if none). Connected reports
	// whether the agent holds a bridge connection to any replica; ok is
	// false when nothing is known beyond this process.
	AgentStatus(ctx context.Context, agentID string) AgentState
}

// AgentState is what AgentStatuses knows of one agent.
type AgentState struct {
	Status    apiv1.AgentStatus
	ChangedAt time.Time
	Heartbeat *apiv1.AgentHeartbeat
	// Connected is set when the agent holds a connection to this or
	// another replica.
	Connected bool
}

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
		// NOTE: one configuration query per agent; a join in the store
		// would replace it once fleets reach thousands of agents.
		cfg, err := s.store.GetAgentConfig(ctx, a.ID)
		if err != nil {
			return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
		}
		out = append(out, s.agentMessage(ctx, a, cfg))
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
	cfg, err := s.store.GetAgentConfig(ctx, a.ID)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.DecommissionAgentResponse{Agent: s.agentMessage(ctx, a, cfg)}), nil
}

// GetAgent returns one agent with its desired configuration document.
func (s *agentService) GetAgent(ctx context.Context, req *connect.Request[apiv1.GetAgentRequest]) (*connect.Response[apiv1.GetAgentResponse], error) {
	id := req.Msg.GetId()
	if id == "" {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, connect.NewError(connect.CodeInvalidArgument, errors.New("id is required")))
	}
	a, err := s.store.GetAgent(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	cfg, err := s.store.GetAgentConfig(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.GetAgentResponse{Agent: s.agentMessage(ctx, a, cfg), DesiredConfig: hideSeeds(cfg.Document)}), nil
}

// SetAgentConfig stores the document as the agent's next desired
// configuration and pushes it. The agent validates the document because
// it alone has the decoy implementations. Its verdict appears as the
// agent's config_error.
func (s *agentService) SetAgentConfig(ctx context.Context, req *connect.Request[apiv1.SetAgentConfigRequest]) (*connect.Response[apiv1.SetAgentConfigResponse], error) {
	id := req.Msg.GetAgentId()
	switch {
	case id == "":
		return nil, s.toConnectError(ctx, req.Spec().Procedure, connect.NewError(connect.CodeInvalidArgument, errors.New("agent_id is required")))
	case len(req.Msg.GetDocument()) == 0:
		return nil, s.toConnectError(ctx, req.Spec().Procedure, connect.NewError(connect.CodeInvalidArgument, errors.New("document is required")))
	}
	a, err := s.store.GetAgent(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	if a.Revoked() {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, connect.NewError(connect.CodeFailedPrecondition, errors.New("agent is decommissioned")))
	}

	current, err := s.store.GetAgentConfig(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	document, err := restoreSeeds(req.Msg.GetDocument(), current.Document)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, connect.NewError(connect.CodeInvalidArgument, err))
	}
	version, err := s.store.SetDesiredConfig(ctx, id, document, s.now())
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	s.log.Info().Str(fieldAgentID, id).Str(fieldUser, username(ctx)).Uint64(fieldConfigVersion, version).Msg("agent configuration set")
	// The version is stored, so a failed push is retried when the agent
	// next reports another version; the caller still gets the version.
	if err := s.pushConfig(ctx, id); err != nil {
		s.log.Warn().Err(err).Str(fieldAgentID, id).Uint64(fieldConfigVersion, version).Msg("push agent configuration failed")
	}
	return connect.NewResponse(&apiv1.SetAgentConfigResponse{Version: version}), nil
}

func (s *agentService) agentMessage(ctx context.Context, a store.Agent, cfg store.AgentConfig) *apiv1.Agent {
	state := AgentState{Status: apiv1.AgentStatus_AGENT_STATUS_OFFLINE}
	if s.statuses != nil {
		state = s.statuses.AgentStatus(ctx, a.ID)
	}
	return &apiv1.Agent{
		Status:               state.Status,
		StatusChangedAt:      timestampOrNil(state.ChangedAt),
		LastHeartbeat:        state.Heartbeat,
		DesiredConfigVersion: cfg.DesiredVersion,
		AppliedConfigVersion: cfg.AppliedVersion,
		ConfigError:          cfg.ApplyError,
		Id:                   a.ID,
		Name:                 a.Name,
		EnrolledAt:           timestampOrNil(a.EnrolledAt),
		LastSeen:             timestampOrNil(a.LastSeen),
		Connected:            state.Connected || (s.presence != nil && s.presence.Connected(a.ID)),
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
