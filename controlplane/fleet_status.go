package controlplane

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/bridge"
	"github.com/decnet/decnet/controlplane/api"
	"github.com/decnet/decnet/controlplane/cache"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
)

// Status derivation constants.
const (
	// missedHeartbeats is how many heartbeat intervals may pass without
	// one before a connected agent counts as offline.
	missedHeartbeats = 3
	// backlogEvents is the spool backlog below which growth between two
	// heartbeats is normal traffic, not a problem: two default batches of
	// 500 events are sent in well under one round of acknowledgements.
	backlogEvents = 1000
	// statusSweepInterval is how often agents are checked for missed
	// heartbeats. It bounds how late an offline transition is published.
	statusSweepInterval = time.Second
)

// StatusChange is published on the subject agent.<id>.status whenever the
// derived status of an agent changes.
type StatusChange struct {
	AgentID  string
	Previous apiv1.AgentStatus
	Status   apiv1.AgentStatus
	// Reason names the condition behind Status, such as "disconnected"
	// or "decoy unhealthy".
	Reason string
	At     time.Time
}

// StatusSubject returns the subject status changes of the agent are
// published on.
func StatusSubject(agentID string) string {
	return "agent." + agentID + ".status"
}

// statusInput contains the facts a status is derived from.
type statusInput struct {
	now       time.Time
	connected bool
	// connectedAt is when the current connection opened.
	connectedAt time.Time
	// lastAt is when cur arrived; zero while none arrived on this
	// connection.
	lastAt time.Time
	// prev is the heartbeat before cur on the same connection, nil if
	// none.
	prev, cur *bridgev1.Heartbeat
}

// deriveStatus maps what is known of an agent to its status and the
// reason for it.
func deriveStatus(in statusInput) (apiv1.AgentStatus, string) {
	if !in.connected {
		return apiv1.AgentStatus_AGENT_STATUS_OFFLINE, "disconnected"
	}

	if in.cur == nil {
		if in.now.Sub(in.connectedAt) > missedHeartbeats*bridge.DefaultHeartbeatInterval {
			return apiv1.AgentStatus_AGENT_STATUS_OFFLINE, "no heartbeat"
		}
		return apiv1.AgentStatus_AGENT_STATUS_ONLINE, "connected"
	}
	interval := time.Duration(in.cur.GetIntervalMs()) * time.Millisecond
	if interval <= 0 {
		interval = bridge.DefaultHeartbeatInterval
	}
	if in.now.Sub(in.lastAt) > missedHeartbeats*interval {
		return apiv1.AgentStatus_AGENT_STATUS_OFFLINE, "heartbeat overdue"
	}

	for _, d := range in.cur.GetDecoys() {
		if !d.GetHealthy() {
			return apiv1.AgentStatus_AGENT_STATUS_DEGRADED, "decoy unhealthy"
		}
	}
	if in.prev != nil {
		switch {
		case in.cur.GetEmitDroppedEvents() > in.prev.GetEmitDroppedEvents():
			return apiv1.AgentStatus_AGENT_STATUS_DEGRADED, "events dropped"
		case in.cur.GetSpoolEvictedEvents() > in.prev.GetSpoolEvictedEvents():
			return apiv1.AgentStatus_AGENT_STATUS_DEGRADED, "spool evicted events"
		case in.cur.GetSpoolPendingEvents() > backlogEvents && in.cur.GetSpoolPendingEvents() > in.prev.GetSpoolPendingEvents():
			return apiv1.AgentStatus_AGENT_STATUS_DEGRADED, "spool backlog growing"
		}
	}
	return apiv1.AgentStatus_AGENT_STATUS_ONLINE, "healthy"
}

// agentState is the control plane's view of one agent since this process
// started.
type agentState struct {
	conns       int
	connectedAt time.Time
	prev, cur   *bridgev1.Heartbeat
	lastAt      time.Time
	status      apiv1.AgentStatus
	changedAt   time.Time
}

// statusBoard keeps the latest heartbeat and the derived status of every
// agent in memory and publishes each status change.
//
// With several replicas, the replica holding an agent's connection also
// writes the agent's status to the shared cache on every connection
// change, heartbeat and status change; the other replicas read it from
// there. An entry expires when the agent would count as offline anyway,
// so a replica that dies without saying so leaves no agent online.
type statusBoard struct {
	now       func() time.Time
	publisher *topics.Publisher[StatusChange]
	log       zerolog.Logger
	// shared is the cache replicas exchange statuses through; nil for a
	// single replica.
	shared cache.Cache

	mu     sync.Mutex
	agents map[string]*agentState

	watchMu  sync.Mutex
	watchers map[uint64]func(agentID string)
	nextW    uint64
}

// WatchUpdates calls fn with an agent's id after each heartbeat,
// connection change or status change this replica records, until the
// returned function is called. fn runs on the recording goroutine and
// must return quickly.
func (b *statusBoard) WatchUpdates(fn func(agentID string)) (stop func()) {
	b.watchMu.Lock()
	defer b.watchMu.Unlock()
	if b.watchers == nil {
		b.watchers = map[uint64]func(string){}
	}
	b.nextW++
	id := b.nextW
	b.watchers[id] = fn
	return func() {
		b.watchMu.Lock()
		defer b.watchMu.Unlock()
		delete(b.watchers, id)
	}
}

func (b *statusBoard) notifyWatchers(agentID string) {
	b.watchMu.Lock()
	fns := make([]func(string), 0, len(b.watchers))
	for _, fn := range b.watchers {
		fns = append(fns, fn)
	}
	b.watchMu.Unlock()
	for _, fn := range fns {
		fn(agentID)
	}
}

// sharedStatusTimeout bounds one cache write or read of a status, so a
// slow Redis delays the bridge callback or API call only that long.
const sharedStatusTimeout = 2 * time.Second

// sharedStatusPrefix prefixes the cache keys of agent statuses.
const sharedStatusPrefix = "agent-status:"

func newStatusBoard(now func() time.Time, publisher *topics.Publisher[StatusChange], shared cache.Cache, log zerolog.Logger) *statusBoard {
	return &statusBoard{now: now, publisher: publisher, shared: shared, log: log, agents: map[string]*agentState{}}
}

func (b *statusBoard) state(agentID string) *agentState {
	st := b.agents[agentID]
	if st == nil {
		st = &agentState{status: apiv1.AgentStatus_AGENT_STATUS_OFFLINE}
		b.agents[agentID] = st
	}
	return st
}

// connected records a new bridge connection. Heartbeats of an earlier
// connection are kept for the API but no longer compared against.
func (b *statusBoard) connected(agentID string) {
	b.update(agentID, true, func(st *agentState, now time.Time) {
		st.conns++
		st.connectedAt = now
		st.prev, st.lastAt = nil, time.Time{}
	})
}

func (b *statusBoard) disconnected(agentID string) {
	b.update(agentID, true, func(st *agentState, _ time.Time) {
		if st.conns > 0 {
			st.conns--
		}
	})
}

func (b *statusBoard) heartbeat(agentID string, hb *bridgev1.Heartbeat) {
	b.update(agentID, true, func(st *agentState, now time.Time) {
		if !st.lastAt.IsZero() {
			st.prev = st.cur
		}
		st.cur, st.lastAt = hb, now
	})
}

// sweep derives every agent's status again, which turns agents whose
// heartbeats stopped offline.
func (b *statusBoard) sweep() {
	b.mu.Lock()
	ids := make([]string, 0, len(b.agents))
	for id := range b.agents {
		ids = append(ids, id)
	}
	b.mu.Unlock()

	for _, id := range ids {
		b.update(id, false, func(*agentState, time.Time) {})
	}
}

// update applies change to the agent's state, derives its status and
// publishes a change outside the lock, so subscribers may read the board.
// share writes the state to the shared cache even when the status did not
// change, which connection changes and heartbeats do.
func (b *statusBoard) update(agentID string, share bool, change func(st *agentState, now time.Time)) {
	now := b.now()
	b.mu.Lock()
	st := b.state(agentID)
	change(st, now)
	status, reason := deriveStatus(statusInput{
		now:         now,
		connected:   st.conns > 0,
		connectedAt: st.connectedAt,
		lastAt:      st.lastAt,
		prev:        st.prev,
		cur:         curOnConnection(st),
	})
	previous := st.status
	changed := status != previous
	if changed {
		st.status, st.changedAt = status, now
	}
	var snapshot *apiv1.Agent
	if b.shared != nil && (share || changed) {
		snapshot = stateSnapshot(st)
	}
	b.mu.Unlock()

	if snapshot != nil {
		b.writeShared(agentID, snapshot)
	}
	if share || changed {
		b.notifyWatchers(agentID)
	}
	if !changed {
		return
	}
	b.log.Info().Str(fieldAgentID, agentID).Str(fieldStatus, status.String()).Str(fieldReason, reason).Msg("agent status changed")
	msg := StatusChange{AgentID: agentID, Previous: previous, Status: status, Reason: reason, At: now}
	if err := b.publisher.Publish(StatusSubject(agentID), msg); err != nil {
		b.log.Warn().Err(err).Str(fieldAgentID, agentID).Msg("publish agent status failed")
	}
}

// curOnConnection returns the last heartbeat if it arrived on the current
// connection.
func curOnConnection(st *agentState) *bridgev1.Heartbeat {
	if st.lastAt.IsZero() {
		return nil
	}
	return st.cur
}

// stateSnapshot returns the part of an agent's state other replicas show,
// in the fields of the API's Agent message. The caller holds b.mu.
func stateSnapshot(st *agentState) *apiv1.Agent {
	out := &apiv1.Agent{Status: st.status, Connected: st.conns > 0}
	if !st.changedAt.IsZero() {
		out.StatusChangedAt = timestamppb.New(st.changedAt)
	}
	if st.cur != nil {
		out.LastHeartbeat = heartbeatMessage(st.cur, st.lastAt)
	}
	return out
}

// sharedTTL is how long a shared status stays valid: as long as the agent
// may go without a heartbeat before it counts as offline, plus one sweep.
func sharedTTL(snapshot *apiv1.Agent) time.Duration {
	interval := snapshot.GetLastHeartbeat().GetInterval().AsDuration()
	if interval <= 0 {
		interval = bridge.DefaultHeartbeatInterval
	}
	return missedHeartbeats*interval + statusSweepInterval
}

func (b *statusBoard) writeShared(agentID string, snapshot *apiv1.Agent) {
	value, err := proto.Marshal(snapshot)
	if err != nil {
		b.log.Warn().Err(err).Str(fieldAgentID, agentID).Msg("encode shared agent status failed")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedStatusTimeout)
	defer cancel()
	if err := b.shared.Set(ctx, sharedStatusPrefix+agentID, value, sharedTTL(snapshot)); err != nil {
		b.log.Warn().Err(err).Str(fieldAgentID, agentID).Msg("share agent status failed")
	}
}

// readShared returns the status another replica wrote, or nil.
func (b *statusBoard) readShared(ctx context.Context, agentID string) *apiv1.Agent {
	if b.shared == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, sharedStatusTimeout)
	defer cancel()
	value, err := b.shared.Get(ctx, sharedStatusPrefix+agentID)
	if err != nil {
		if !errors.Is(err, cache.ErrNotFound) {
			b.log.Warn().Err(err).Str(fieldAgentID, agentID).Msg("read shared agent status failed")
		}
		return nil
	}
	snapshot := &apiv1.Agent{}
	if err := proto.Unmarshal(value, snapshot); err != nil {
		b.log.Warn().Err(err).Str(fieldAgentID, agentID).Msg("decode shared agent status failed")
		return nil
	}
	return snapshot
}

// AgentStatus returns the agent's status, when it last changed and its
// last heartbeat, for the API. The replica holding the agent's connection
// answers from memory; the others read what it shared. An agent nobody
// reports is offline, with the change time this process saw, if any.
func (b *statusBoard) AgentStatus(ctx context.Context, agentID string) api.AgentState {
	b.mu.Lock()
	st := b.agents[agentID]
	var local *apiv1.Agent
	if st != nil {
		local = stateSnapshot(st)
	}
	b.mu.Unlock()

	if local == nil || !local.GetConnected() {
		if shared := b.readShared(ctx, agentID); shared != nil {
			local = shared
		}
	}
	if local == nil {
		return api.AgentState{Status: apiv1.AgentStatus_AGENT_STATUS_OFFLINE}
	}
	state := api.AgentState{Status: local.GetStatus(), Heartbeat: local.GetLastHeartbeat(), Connected: local.GetConnected()}
	if local.GetStatusChangedAt() != nil {
		state.ChangedAt = local.GetStatusChangedAt().AsTime()
	}
	return state
}

func heartbeatMessage(hb *bridgev1.Heartbeat, at time.Time) *apiv1.AgentHeartbeat {
	out := &apiv1.AgentHeartbeat{
		Uptime:               durationpb.New(time.Duration(hb.GetUptimeMs()) * time.Millisecond),
		Interval:             durationpb.New(time.Duration(hb.GetIntervalMs()) * time.Millisecond),
		SpoolPendingEvents:   hb.GetSpoolPendingEvents(),
		SpoolPendingBytes:    hb.GetSpoolPendingBytes(),
		SpoolEvictedEvents:   hb.GetSpoolEvictedEvents(),
		EmitDroppedEvents:    hb.GetEmitDroppedEvents(),
		AppliedConfigVersion: hb.GetAppliedConfigVersion(),
	}
	if !at.IsZero() {
		out.ReceivedAt = timestamppb.New(at)
	}
	for _, d := range hb.GetDecoys() {
		out.Decoys = append(out.Decoys, &apiv1.DecoyHealth{
			Decky:               d.GetDecky(),
			Service:             d.GetService(),
			Address:             d.GetAddress(),
			Healthy:             d.GetHealthy(),
			LastError:           d.GetLastError(),
			ConnectionsAccepted: d.GetConnectionsAccepted(),
			ConnectionsRejected: d.GetConnectionsRejected(),
		})
	}
	return out
}

// watch sweeps the board every statusSweepInterval until ctx ends.
func (b *statusBoard) watch(ctx context.Context) error {
	ticker := time.NewTicker(statusSweepInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			b.sweep()
		}
	}
}

// Log field keys of the fleet.
const (
	fieldAgentID       = "agent_id"
	fieldStatus        = "status"
	fieldReason        = "reason"
	fieldConfigVersion = "config_version"
	fieldCommandID     = "command_id"
)

// agentConnected and agentDisconnected are the bridge's connection
// callbacks: they update both the presence and the status board.
func (s *Server) agentConnected(agentID string, hello *bridgev1.Hello) {
	s.presence.connected(agentID, hello)
	s.statuses.connected(agentID)
}

func (s *Server) agentDisconnected(agentID string) {
	s.presence.disconnected(agentID)
	s.statuses.disconnected(agentID)
}

// SubscribeStatus calls handler for every agent status change whose
// subject, agent.<id>.status, matches pattern, such as "agent.*.status".
// The handler runs on the goroutine that changed the status and must
// return quickly.
func (s *Server) SubscribeStatus(pattern string, handler topics.Handler[StatusChange]) (unsubscribe func(), err error) {
	return s.statuses.publisher.Subscribe(pattern, handler)
}

// SendAgentCommand sends a one-shot command to a connected agent and
// returns its id. The agent's acknowledgement is logged.
func (s *Server) SendAgentCommand(agentID string, kind bridgev1.CommandKind) (uint64, error) {
	return s.control.sendCommand(agentID, kind)
}
