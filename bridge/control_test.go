package bridge_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	"github.com/decnet/decnet/bridge"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
)

// recordingHandler is a ControlHandler that passes every frame on a
// channel.
type recordingHandler struct {
	heartbeats  chan *bridgev1.Heartbeat
	configAcks  chan *bridgev1.ConfigAck
	commandAcks chan *bridgev1.CommandAck
	closed      chan string
}

func newRecordingHandler() *recordingHandler {
	return &recordingHandler{
		heartbeats:  make(chan *bridgev1.Heartbeat, 16),
		configAcks:  make(chan *bridgev1.ConfigAck, 16),
		commandAcks: make(chan *bridgev1.CommandAck, 16),
		closed:      make(chan string, 16),
	}
}

func (h *recordingHandler) Heartbeat(_ string, hb *bridgev1.Heartbeat) { h.heartbeats <- hb }
func (h *recordingHandler) ControlStreamClosed(agentID string)         { h.closed <- agentID }
func (h *recordingHandler) ConfigAck(_ string, a *bridgev1.ConfigAck)  { h.configAcks <- a }
func (h *recordingHandler) CommandAck(_ string, a *bridgev1.CommandAck) {
	h.commandAcks <- a
}

// fakeAgentControl applies configurations in memory, following the
// AgentControl contract: the version applied already is a no-op.
type fakeAgentControl struct {
	mu      sync.Mutex
	applied uint64
	applies int
	dropped uint64
}

var errBadDocument = errors.New("invalid document")

func (f *fakeAgentControl) Heartbeat() *bridgev1.Heartbeat {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &bridgev1.Heartbeat{
		Version:              "test",
		UptimeMs:             1500,
		SpoolPendingEvents:   3,
		SpoolPendingBytes:    4096,
		EmitDroppedEvents:    f.dropped,
		AppliedConfigVersion: f.applied,
		Decoys: []*bridgev1.DecoyHealth{
			{Decky: "web-01", Service: "ssh", Address: "127.0.0.1:2222", Healthy: true},
		},
	}
}

func (f *fakeAgentControl) ApplyConfig(_ context.Context, cfg *bridgev1.DesiredConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cfg.GetVersion() == f.applied {
		return nil
	}
	if string(cfg.GetDocument()) == "bad" {
		return errBadDocument
	}
	f.applied = cfg.GetVersion()
	f.applies++
	return nil
}

func (f *fakeAgentControl) RunCommand(_ context.Context, cmd *bridgev1.Command) error {
	return errors.New("unsupported command " + cmd.GetKind().String())
}

func (f *fakeAgentControl) appliedState() (uint64, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied, f.applies
}

func startControlServer(t *testing.T, env *testEnv, handler bridge.ControlHandler) *bridge.Server {
	t.Helper()
	srv, err := bridge.NewServer(bridge.ServerConfig{
		Addr:      "127.0.0.1:0",
		TLSConfig: env.ca.serverTLS(t),
		AgentID:   agentIDFromCert,
		Ingester:  env.ingester,
		Control:   handler,
		Logger:    zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("NewServer() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server Run() = %v", err)
		}
	})
	return srv
}

func receive[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("no %s arrived", what)
		var zero T
		return zero
	}
}

// send sends frame to the test agent. Call it after the agent's first
// heartbeat arrived: Send fails with ErrNoControlStream until then.
func send(t *testing.T, srv *bridge.Server, frame *bridgev1.ServerFrame) {
	t.Helper()
	if err := srv.Send(testAgentID, frame); err != nil {
		t.Fatalf("Send() = %v", err)
	}
}

func configFrame(version uint64, document string) *bridgev1.ServerFrame {
	return &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_Config{Config: &bridgev1.DesiredConfig{Version: version, Document: []byte(document)}}}
}

func commandFrame(id uint64, kind bridgev1.CommandKind) *bridgev1.ServerFrame {
	return &bridgev1.ServerFrame{Frame: &bridgev1.ServerFrame_Command{Command: &bridgev1.Command{Id: id, Kind: kind}}}
}

func TestHeartbeatRoundTrip(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)
	handler := newRecordingHandler()
	srv := startControlServer(t, env, handler)
	agent := &fakeAgentControl{applied: 4}
	env.startClient(t, []string{srv.Addr().String()}, func(c *bridge.ClientConfig) {
		c.Control = agent
		// Longer than the test, so heartbeats come only at connect and
		// on request.
		c.HeartbeatInterval = time.Hour
	})

	got := receive(t, ctx, handler.heartbeats, "first heartbeat")
	want := agent.Heartbeat()
	want.IntervalMs = uint64(time.Hour / time.Millisecond)
	if !proto.Equal(got, want) {
		t.Errorf("heartbeat = %v, want %v", got, want)
	}

	agent.mu.Lock()
	agent.dropped = 9
	agent.mu.Unlock()
	send(t, srv, commandFrame(7, bridgev1.CommandKind_COMMAND_KIND_SEND_HEARTBEAT))
	if ack := receive(t, ctx, handler.commandAcks, "command ack"); ack.GetId() != 7 || ack.GetError() != "" {
		t.Errorf("command ack = %v, want id 7 without error", ack)
	}
	if hb := receive(t, ctx, handler.heartbeats, "requested heartbeat"); hb.GetEmitDroppedEvents() != 9 {
		t.Errorf("requested heartbeat reports %d dropped events, want 9", hb.GetEmitDroppedEvents())
	}
}

func TestConfigPushAndAck(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)
	handler := newRecordingHandler()
	srv := startControlServer(t, env, handler)
	agent := &fakeAgentControl{}
	env.startClient(t, []string{srv.Addr().String()}, func(c *bridge.ClientConfig) {
		c.Control = agent
		c.HeartbeatInterval = time.Hour
	})
	receive(t, ctx, handler.heartbeats, "first heartbeat")

	steps := []struct {
		name        string
		version     uint64
		document    string
		wantError   bool
		wantApplied uint64
		wantApplies int
	}{
		{"first version", 1, "ok", false, 1, 1},
		{"same version again", 1, "ok", false, 1, 1},
		{"rejected version", 2, "bad", true, 1, 1},
		{"next version", 3, "ok", false, 3, 2},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			send(t, srv, configFrame(step.version, step.document))
			ack := receive(t, ctx, handler.configAcks, "config ack")
			if ack.GetVersion() != step.version {
				t.Errorf("ack version = %d, want %d", ack.GetVersion(), step.version)
			}
			if gotError := ack.GetError() != ""; gotError != step.wantError {
				t.Errorf("ack error = %q, want error: %v", ack.GetError(), step.wantError)
			}
			applied, applies := agent.appliedState()
			if applied != step.wantApplied || applies != step.wantApplies {
				t.Errorf("agent applied version %d in %d applies, want %d in %d", applied, applies, step.wantApplied, step.wantApplies)
			}
		})
	}

	send(t, srv, commandFrame(8, bridgev1.CommandKind_COMMAND_KIND_RELOAD))
	if ack := receive(t, ctx, handler.commandAcks, "command ack"); ack.GetId() != 8 || ack.GetError() == "" {
		t.Errorf("command ack = %v, want id 8 with the agent's error", ack)
	}
}

func TestControlStreamAfterReconnect(t *testing.T) {
	ctx := testContext(t)
	env := newTestEnv(t)
	handler := newRecordingHandler()
	srv := startControlServer(t, env, handler)

	if err := srv.Send(testAgentID, configFrame(1, "ok")); !errors.Is(err, bridge.ErrNoControlStream) {
		t.Fatalf("Send() before the agent connected = %v, want ErrNoControlStream", err)
	}

	env.startClient(t, []string{srv.Addr().String()}, func(c *bridge.ClientConfig) {
		c.Control = &fakeAgentControl{}
		c.HeartbeatInterval = time.Hour
	})
	receive(t, ctx, handler.heartbeats, "first heartbeat")

	if n := srv.CloseAgent(testAgentID, "test"); n != 1 {
		t.Fatalf("CloseAgent() = %d, want 1", n)
	}
	if id := receive(t, ctx, handler.closed, "control stream close"); id != testAgentID {
		t.Errorf("closed control stream of %q, want %q", id, testAgentID)
	}

	// The reconnected agent opens a new control stream with a heartbeat,
	// and frames reach it.
	receive(t, ctx, handler.heartbeats, "heartbeat after reconnect")
	send(t, srv, configFrame(1, "ok"))
	if ack := receive(t, ctx, handler.configAcks, "config ack"); ack.GetVersion() != 1 || ack.GetError() != "" {
		t.Errorf("config ack after reconnect = %v, want version 1 applied", ack)
	}
}
