package api

import (
	"context"
	"errors"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/auth"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// AgentUpdates is implemented by AgentStatuses that can report when they
// learn something new about an agent.
type AgentUpdates interface {
	WatchUpdates(fn func(agentID string)) (stop func())
}

// agentUpdateInterval is the shortest time between two updates of one
// agent on a stream: heartbeats of a busy fleet are not worth a reload
// each.
const agentUpdateInterval = time.Second

// StreamAgentUpdates sends the ids of agents this replica hears from.
func (s *agentService) StreamAgentUpdates(ctx context.Context, req *connect.Request[apiv1.StreamAgentUpdatesRequest], stream *connect.ServerStream[apiv1.StreamAgentUpdatesResponse]) error {
	procedure := req.Spec().Procedure
	watcher, ok := s.statuses.(AgentUpdates)
	if !ok {
		return connect.NewError(connect.CodeUnimplemented, errors.New("this server reports no agent updates"))
	}
	sess, _ := auth.SessionFromContext(ctx)
	release, ok := s.streams.acquire(sess.Username)
	if !ok {
		return errTooManyStreams
	}
	defer release()

	// Pending ids are a set, so a flood of heartbeats costs memory per
	// agent, not per heartbeat, and the watcher never blocks.
	var mu sync.Mutex
	pending := map[string]struct{}{}
	wake := make(chan struct{}, 1)
	stop := watcher.WatchUpdates(func(agentID string) {
		mu.Lock()
		pending[agentID] = struct{}{}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer stop()

	if err := stream.Send(nil); err != nil {
		s.log.Debug().Err(err).Str(fieldProcedure, procedure).Msg("stream send failed")
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		}
		mu.Lock()
		ids := make([]string, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		clear(pending)
		mu.Unlock()
		for _, id := range ids {
			if err := stream.Send(&apiv1.StreamAgentUpdatesResponse{AgentId: id}); err != nil {
				s.log.Debug().Err(err).Str(fieldProcedure, procedure).Msg("stream send failed")
				return nil
			}
		}
		// Updates that arrive meanwhile wait for the next round.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(agentUpdateInterval):
		}
	}
}
