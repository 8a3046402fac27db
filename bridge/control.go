package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/rs/zerolog"

	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
)

// DefaultHeartbeatInterval is the time between two heartbeats of an agent.
// The control plane marks an agent offline after three intervals without
// one, so ten seconds notices a stalled agent within half a minute.
const DefaultHeartbeatInterval = 10 * time.Second

// ErrNoControlStream is returned by Server.Send for an agent that has no
// control stream open on this server.
var ErrNoControlStream = errors.New("agent has no control stream")

// ControlHandler receives what agents send on their control streams. The
// server calls it from one goroutine per control stream, in the order the
// frames arrive, so a slow method delays only that agent. It must be safe
// for concurrent use by several agents.
type ControlHandler interface {
	// Heartbeat is called for every heartbeat, the first one as soon as
	// the control stream opens.
	Heartbeat(agentID string, hb *bridgev1.Heartbeat)
	// ControlStreamClosed is called when the control stream of the
	// agent's connection ends.
	ControlStreamClosed(agentID string)
	ConfigAck(agentID string, ack *bridgev1.ConfigAck)
	CommandAck(agentID string, ack *bridgev1.CommandAck)
}

// controlStream is the server side of one agent's control stream. Writes
// come from Send callers, so they are serialized.
type controlStream struct {
	mu     sync.Mutex
	stream *quic.Stream
}

func (c *controlStream) write(frame *bridgev1.ServerFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return WriteFrame(c.stream, frame)
}

// Send writes a DesiredConfig or Command frame to the agent's control
// stream. It returns ErrNoControlStream when the agent has none on this
// server. When an agent has several connections, as for a moment after a
// reconnect, the newest control stream receives the frame.
func (s *Server) Send(agentID string, frame *bridgev1.ServerFrame) error {
	s.mu.Lock()
	c := s.control[agentID]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("send to agent %s: %w", agentID, ErrNoControlStream)
	}
	if err := c.write(frame); err != nil {
		return fmt.Errorf("send to agent %s: %w", agentID, err)
	}
	return nil
}

// serveControl reads the control stream of a connection until it ends.
// first is the Heartbeat that opened it.
func (s *Server) serveControl(conn *quic.Conn, stream *quic.Stream, agentID string, first *bridgev1.Heartbeat, log zerolog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			log.Error().Str(fieldPanic, fmt.Sprint(r)).Msg("bridge control handler panicked")
			conn.CloseWithError(codeInternalError, "internal error")
		}
	}()

	c := &controlStream{stream: stream}
	s.mu.Lock()
	s.control[agentID] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.control[agentID] == c {
			delete(s.control, agentID)
		}
		s.mu.Unlock()
		if s.cfg.Control != nil {
			s.cfg.Control.ControlStreamClosed(agentID)
		}
	}()

	if s.cfg.Control != nil {
		s.cfg.Control.Heartbeat(agentID, first)
	}
	for {
		var frame bridgev1.AgentFrame
		if err := ReadFrame(stream, &frame); err != nil {
			if conn.Context().Err() == nil {
				log.Warn().Err(err).Msg("bridge control stream failed")
				conn.CloseWithError(codeProtocolError, "control stream failed")
			}
			return
		}
		if s.cfg.Control == nil {
			continue
		}

		switch f := frame.GetFrame().(type) {
		case *bridgev1.AgentFrame_Heartbeat:
			s.cfg.Control.Heartbeat(agentID, f.Heartbeat)
		case *bridgev1.AgentFrame_ConfigAck:
			s.cfg.Control.ConfigAck(agentID, f.ConfigAck)
		case *bridgev1.AgentFrame_CommandAck:
			s.cfg.Control.CommandAck(agentID, f.CommandAck)
		default:
			log.Warn().Msg("bridge control stream sent an unexpected frame")
			conn.CloseWithError(codeProtocolError, "unexpected control frame")
			return
		}
	}
}

// AgentControl is the agent side of the control stream.
type AgentControl interface {
	// Heartbeat returns the agent's current state. The client sets
	// IntervalMs.
	Heartbeat() *bridgev1.Heartbeat
	// ApplyConfig applies a desired configuration. Applying the version
	// applied already must succeed without doing anything. The error, if
	// any, is sent to the control plane in the ConfigAck.
	ApplyConfig(ctx context.Context, cfg *bridgev1.DesiredConfig) error
	// RunCommand runs a one-shot command other than
	// COMMAND_KIND_SEND_HEARTBEAT, which the client handles itself.
	RunCommand(ctx context.Context, cmd *bridgev1.Command) error
}

// clientControl is the client side of one connection's control stream.
type clientControl struct {
	c      *Client
	stream *quic.Stream
	mu     sync.Mutex // serializes writes
	// now requests an extra heartbeat from the heartbeat loop.
	now chan struct{}
}

func (c *Client) openControl(ctx context.Context, conn *quic.Conn) (*clientControl, error) {
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("open control stream: %w", err)
	}
	return &clientControl{c: c, stream: stream, now: make(chan struct{}, 1)}, nil
}

func (cc *clientControl) write(frame *bridgev1.AgentFrame) error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return WriteFrame(cc.stream, frame)
}

func (cc *clientControl) sendHeartbeat() error {
	hb := cc.c.cfg.Control.Heartbeat()
	hb.IntervalMs = uint64(cc.c.cfg.HeartbeatInterval / time.Millisecond)
	return cc.write(&bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_Heartbeat{Heartbeat: hb}})
}

// heartbeats sends a heartbeat at once, which opens the stream on the
// server, and then every interval or when a command requests one.
func (cc *clientControl) heartbeats(ctx context.Context) error {
	ticker := time.NewTicker(cc.c.cfg.HeartbeatInterval)
	defer ticker.Stop()
	for {
		if err := cc.sendHeartbeat(); err != nil {
			return fmt.Errorf("send heartbeat: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		case <-cc.now:
		}
	}
}

// receive applies the configurations and runs the commands the server
// sends, one at a time, and acknowledges each.
func (cc *clientControl) receive(ctx context.Context) error {
	for {
		var frame bridgev1.ServerFrame
		if err := ReadFrame(cc.stream, &frame); err != nil {
			return fmt.Errorf("read control stream: %w", err)
		}

		var reply *bridgev1.AgentFrame
		switch f := frame.GetFrame().(type) {
		case *bridgev1.ServerFrame_Config:
			reply = cc.applyConfig(ctx, f.Config)
		case *bridgev1.ServerFrame_Command:
			reply = cc.runCommand(ctx, f.Command)
		default:
			return fmt.Errorf("read control stream: frame is %T", frame.GetFrame())
		}
		if err := cc.write(reply); err != nil {
			return fmt.Errorf("acknowledge control frame: %w", err)
		}
	}
}

func (cc *clientControl) applyConfig(ctx context.Context, cfg *bridgev1.DesiredConfig) *bridgev1.AgentFrame {
	ack := &bridgev1.ConfigAck{Version: cfg.GetVersion()}
	if err := cc.c.cfg.Control.ApplyConfig(ctx, cfg); err != nil {
		cc.c.log.Warn().Err(err).Uint64(fieldConfigVersion, cfg.GetVersion()).Msg("pushed configuration rejected")
		ack.Error = err.Error()
	} else {
		cc.c.log.Info().Uint64(fieldConfigVersion, cfg.GetVersion()).Msg("pushed configuration applied")
	}
	return &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_ConfigAck{ConfigAck: ack}}
}

func (cc *clientControl) runCommand(ctx context.Context, cmd *bridgev1.Command) *bridgev1.AgentFrame {
	ack := &bridgev1.CommandAck{Id: cmd.GetId()}
	var err error
	if cmd.GetKind() == bridgev1.CommandKind_COMMAND_KIND_SEND_HEARTBEAT {
		select {
		case cc.now <- struct{}{}:
		default: // a heartbeat is requested already
		}
	} else {
		err = cc.c.cfg.Control.RunCommand(ctx, cmd)
	}
	if err != nil {
		cc.c.log.Warn().Err(err).Str(fieldCommand, cmd.GetKind().String()).Msg("command failed")
		ack.Error = err.Error()
	}
	return &bridgev1.AgentFrame{Frame: &bridgev1.AgentFrame_CommandAck{CommandAck: ack}}
}
