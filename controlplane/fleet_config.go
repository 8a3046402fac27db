package controlplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/bridge"
	"github.com/decnet/decnet/controlplane/store"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
)

// controlTimeout bounds the store calls made for one control frame.
const controlTimeout = 10 * time.Second

// controlStore is the part of the store the control channel reads and
// writes.
type controlStore interface {
	TouchAgent(ctx context.Context, id, version string, seen time.Time) error
	GetAgentConfig(ctx context.Context, agentID string) (store.AgentConfig, error)
	RecordAppliedConfig(ctx context.Context, agentID string, applied uint64, applyError string, at time.Time) error
}

// control serves the agents' control streams: it records heartbeats on
// the status board and in the store, and pushes the desired configuration
// to every agent whose applied version differs from it.
type control struct {
	store controlStore
	board *statusBoard
	now   func() time.Time
	log   zerolog.Logger
	// send writes a frame to the agent's control stream; set once the
	// bridge exists.
	send func(agentID string, frame *bridgev1.ServerFrame) error

	commandID atomic.Uint64

	mu sync.Mutex
	// pushed is the version pushed on the agent's current control stream,
	// so a version the agent rejects is not pushed again with every
	// heartbeat. A new stream, after a reconnect, starts empty.
	pushed map[string]uint64
	// applied is the version the agent reported in its last heartbeat.
	applied map[string]uint64
}

var _ bridge.ControlHandler = (*control)(nil)

func newControl(st controlStore, board *statusBoard, now func() time.Time, log zerolog.Logger) *control {
	return &control{store: st, board: board, now: now, log: log, pushed: map[string]uint64{}, applied: map[string]uint64{}}
}

// Heartbeat records the heartbeat and re-pushes the desired configuration
// when the agent runs another version.
func (c *control) Heartbeat(agentID string, hb *bridgev1.Heartbeat) {
	c.board.heartbeat(agentID, hb)

	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	log := c.log.With().Str(fieldAgentID, agentID).Logger()
	if err := c.store.TouchAgent(ctx, agentID, hb.GetVersion(), c.now()); err != nil {
		log.Warn().Err(err).Msg("record agent heartbeat failed")
	}

	c.mu.Lock()
	c.applied[agentID] = hb.GetAppliedConfigVersion()
	c.mu.Unlock()

	cfg, err := c.store.GetAgentConfig(ctx, agentID)
	if err != nil {
		log.Warn().Err(err).Msg("read agent config failed")
		return
	}
	if applied := hb.GetAppliedConfigVersion(); applied != cfg.AppliedVersion {
		applyError := cfg.ApplyError
		if applied == cfg.DesiredVersion {
			applyError = ""
		}
		if err := c.store.RecordAppliedConfig(ctx, agentID, applied, applyError, c.now()); err != nil {
			log.Warn().Err(err).Msg("record applied config failed")
		}
	}
	if cfg.DesiredVersion != 0 && hb.GetAppliedConfigVersion() != cfg.DesiredVersion {
		c.push(agentID, cfg, false)
	}
}

// ControlStreamClosed clears the version pushed on the stream, so the
// agent's next stream gets the desired configuration again.
func (c *control) ControlStreamClosed(agentID string) {
	c.mu.Lock()
	delete(c.pushed, agentID)
	c.mu.Unlock()
}

// ConfigAck records the version applied or the agent's error.
func (c *control) ConfigAck(agentID string, ack *bridgev1.ConfigAck) {
	log := c.log.With().Str(fieldAgentID, agentID).Uint64(fieldConfigVersion, ack.GetVersion()).Logger()
	applied := ack.GetVersion()
	if ack.GetError() != "" {
		log.Warn().Str(fieldReason, ack.GetError()).Msg("agent rejected configuration")
		c.mu.Lock()
		applied = c.applied[agentID]
		c.mu.Unlock()
	} else {
		log.Info().Msg("agent applied configuration")
		c.mu.Lock()
		c.applied[agentID] = applied
		c.mu.Unlock()
	}

	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	if err := c.store.RecordAppliedConfig(ctx, agentID, applied, ack.GetError(), c.now()); err != nil {
		log.Warn().Err(err).Msg("record applied config failed")
	}
}

// CommandAck logs the outcome of a command.
func (c *control) CommandAck(agentID string, ack *bridgev1.CommandAck) {
	log := c.log.With().Str(fieldAgentID, agentID).Uint64(fieldCommandID, ack.GetId()).Logger()
	if ack.GetError() != "" {
		log.Warn().Str(fieldReason, ack.GetError()).Msg("agent command failed")
		return
	}
	log.Info().Msg("agent command done")
}

// configChanged pushes the agent's new desired configuration if it has a
// control stream. An agent without one receives it after it reconnects.
func (c *control) configChanged(ctx context.Context, agentID string) error {
	cfg, err := c.store.GetAgentConfig(ctx, agentID)
	if err != nil {
		return fmt.Errorf("push config: %w", err)
	}
	c.push(agentID, cfg, true)
	return nil
}

// push sends the desired configuration unless this version was pushed on
// the current stream already and force is false.
func (c *control) push(agentID string, cfg store.AgentConfig, force bool) {
	c.mu.Lock()
	if !force && c.pushed[agentID] == cfg.DesiredVersion {
		c.mu.Unlock()
		return
	}
	c.pushed[agentID] = cfg.DesiredVersion
	c.mu.Unlock()

	frame := &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_Config{Config: &bridgev1.DesiredConfig{
		Version:  cfg.DesiredVersion,
		Document: cfg.Document,
	}}}
	log := c.log.With().Str(fieldAgentID, agentID).Uint64(fieldConfigVersion, cfg.DesiredVersion).Logger()
	err := c.send(agentID, frame)
	switch {
	case errors.Is(err, bridge.ErrNoControlStream):
		c.ControlStreamClosed(agentID)
		log.Debug().Msg("configuration push deferred until the agent connects")
	case err != nil:
		c.ControlStreamClosed(agentID)
		log.Warn().Err(err).Msg("push configuration failed")
	default:
		log.Info().Msg("configuration pushed")
	}
}

// sendCommand sends a one-shot command and returns its id. The outcome
// arrives in CommandAck.
func (c *control) sendCommand(agentID string, kind bridgev1.CommandKind) (uint64, error) {
	id := c.commandID.Add(1)
	frame := &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_Command{Command: &bridgev1.Command{Id: id, Kind: kind}}}
	if err := c.send(agentID, frame); err != nil {
		return 0, fmt.Errorf("send command %s: %w", kind, err)
	}
	return id, nil
}
