package api

import (
	"context"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// needsID reports whether a procedure rejects an empty request as invalid.
func needsID(procedure string) bool {
	switch procedure {
	case apiv1connect.AgentServiceDecommissionAgentProcedure,
		apiv1connect.AgentServiceGetAgentProcedure,
		apiv1connect.AgentServiceSetAgentConfigProcedure,
		apiv1connect.SessionServiceGetSessionRecordingProcedure:
		return true
	}
	return false
}

// fixedStatuses reports one status and heartbeat for every agent.
type fixedStatuses struct {
	status    apiv1.AgentStatus
	changedAt time.Time
	last      *apiv1.AgentHeartbeat
}

func (f fixedStatuses) AgentStatus(context.Context, string) AgentState {
	return AgentState{Status: f.status, ChangedAt: f.changedAt, Heartbeat: f.last}
}

func TestListAgentsStatus(t *testing.T) {
	changedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	statuses := fixedStatuses{
		status:    apiv1.AgentStatus_AGENT_STATUS_DEGRADED,
		changedAt: changedAt,
		last:      &apiv1.AgentHeartbeat{ReceivedAt: timestamppb.New(changedAt), EmitDroppedEvents: 12},
	}
	f := newFixture(t, options{statuses: statuses})
	token := f.login(t)
	agents := apiv1connect.NewAgentServiceClient(f.h1, f.srv.URL)

	resp, err := agents.ListAgents(context.Background(), withToken(&apiv1.ListAgentsRequest{}, token))
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if len(resp.Msg.GetAgents()) != 1 {
		t.Fatalf("ListAgents returned %d agents, want 1", len(resp.Msg.GetAgents()))
	}
	got := resp.Msg.GetAgents()[0]
	if got.GetStatus() != apiv1.AgentStatus_AGENT_STATUS_DEGRADED {
		t.Errorf("status = %s, want degraded", got.GetStatus())
	}
	if !got.GetStatusChangedAt().AsTime().Equal(changedAt) {
		t.Errorf("status changed at %v, want %v", got.GetStatusChangedAt().AsTime(), changedAt)
	}
	if got.GetLastHeartbeat().GetEmitDroppedEvents() != 12 {
		t.Errorf("last heartbeat = %v, want 12 dropped events", got.GetLastHeartbeat())
	}
}

func TestListAgentsWithoutStatuses(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	agents := apiv1connect.NewAgentServiceClient(f.h1, f.srv.URL)

	resp, err := agents.ListAgents(context.Background(), withToken(&apiv1.ListAgentsRequest{}, token))
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if got := resp.Msg.GetAgents()[0]; got.GetStatus() != apiv1.AgentStatus_AGENT_STATUS_OFFLINE || got.GetLastHeartbeat() != nil {
		t.Errorf("agent = %v, want offline without a heartbeat", got)
	}
}

func TestSetAgentConfig(t *testing.T) {
	var (
		mu     sync.Mutex
		pushed []string
	)
	f := newFixture(t, options{pushConfig: func(_ context.Context, id string) error {
		mu.Lock()
		defer mu.Unlock()
		pushed = append(pushed, id)
		return nil
	}})
	token := f.login(t)
	ctx := context.Background()
	agents := apiv1connect.NewAgentServiceClient(f.h1, f.srv.URL)

	for want := uint64(1); want <= 2; want++ {
		resp, err := agents.SetAgentConfig(ctx, withToken(&apiv1.SetAgentConfigRequest{AgentId: agentID, Document: []byte("deckies: []\n")}, token))
		if err != nil {
			t.Fatalf("SetAgentConfig: %v", err)
		}
		if resp.Msg.GetVersion() != want {
			t.Errorf("SetAgentConfig returned version %d, want %d", resp.Msg.GetVersion(), want)
		}
	}
	mu.Lock()
	if len(pushed) != 2 || pushed[0] != agentID {
		t.Errorf("PushConfig called with %v, want %s twice", pushed, agentID)
	}
	mu.Unlock()

	// The agent reports version 1 applied and rejects version 2.
	if err := f.store.RecordAppliedConfig(ctx, agentID, 1, "no deckies", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := agents.GetAgent(ctx, withToken(&apiv1.GetAgentRequest{Id: agentID}, token))
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	got := resp.Msg.GetAgent()
	if got.GetDesiredConfigVersion() != 2 || got.GetAppliedConfigVersion() != 1 || got.GetConfigError() != "no deckies" {
		t.Errorf("GetAgent versions desired %d applied %d error %q, want 2, 1 and %q",
			got.GetDesiredConfigVersion(), got.GetAppliedConfigVersion(), got.GetConfigError(), "no deckies")
	}
	if string(resp.Msg.GetDesiredConfig()) != "deckies: []\n" {
		t.Errorf("GetAgent desired config = %q, want the document", resp.Msg.GetDesiredConfig())
	}

	errorCases := []struct {
		name string
		req  *apiv1.SetAgentConfigRequest
		want connect.Code
	}{
		{"unknown agent", &apiv1.SetAgentConfigRequest{AgentId: "0195a1b2-0000-7000-8000-0000000000ff", Document: []byte("x")}, connect.CodeNotFound},
		{"empty id", &apiv1.SetAgentConfigRequest{Document: []byte("x")}, connect.CodeInvalidArgument},
		{"empty document", &apiv1.SetAgentConfigRequest{AgentId: agentID}, connect.CodeInvalidArgument},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agents.SetAgentConfig(ctx, withToken(tc.req, token))
			if connect.CodeOf(err) != tc.want {
				t.Errorf("SetAgentConfig: %v, want %s", err, tc.want)
			}
		})
	}

	if _, err := f.store.RevokeAgent(ctx, agentID, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = agents.SetAgentConfig(ctx, withToken(&apiv1.SetAgentConfigRequest{AgentId: agentID, Document: []byte("x")}, token))
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("SetAgentConfig of a decommissioned agent: %v, want %s", err, connect.CodeFailedPrecondition)
	}
}

func TestGetAgentErrors(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	agents := apiv1connect.NewAgentServiceClient(f.h1, f.srv.URL)

	tests := []struct {
		name string
		id   string
		want connect.Code
	}{
		{"unknown agent", "0195a1b2-0000-7000-8000-0000000000ff", connect.CodeNotFound},
		{"empty id", "", connect.CodeInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agents.GetAgent(context.Background(), withToken(&apiv1.GetAgentRequest{Id: tc.id}, token))
			if connect.CodeOf(err) != tc.want {
				t.Errorf("GetAgent: %v, want %s", err, tc.want)
			}
		})
	}
}
