package bus

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// The subject grammar itself is tested in package subject; these tests
// cover the bus's use of it.

func TestValidateSubjectRejectsWildcards(t *testing.T) {
	for _, s := range []string{"event.*", "event.>", "*"} {
		if err := ValidateSubject(s); err == nil {
			t.Errorf("ValidateSubject(%q) = nil, want error", s)
		}
	}
}

func TestSubscribeInvalidPattern(t *testing.T) {
	b := New(zerolog.Nop())
	unsub, err := b.Subscribe("event..ssh", func(string, *eventv1.Event) {})
	if err == nil {
		t.Fatal("Subscribe accepted an empty token")
	}
	if unsub != nil {
		t.Error("Subscribe returned an unsubscribe function with an error")
	}
}

func TestPublishDeliversToMatching(t *testing.T) {
	b := New(zerolog.Nop())
	var all, ssh, http []string
	if _, err := b.Subscribe("event.>", func(s string, _ *eventv1.Event) { all = append(all, s) }); err != nil {
		t.Fatal(err)
	}
	unsubSSH, err := b.Subscribe("event.ssh.>", func(s string, _ *eventv1.Event) { ssh = append(ssh, s) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe("event.http.*", func(s string, _ *eventv1.Event) { http = append(http, s) }); err != nil {
		t.Fatal(err)
	}

	b.Publish("event.ssh.auth.attempt", &eventv1.Event{})
	b.Publish("event.http.command", &eventv1.Event{})
	unsubSSH()
	unsubSSH()
	b.Publish("event.ssh.command", &eventv1.Event{})
	b.Publish("event..bad", &eventv1.Event{})

	if len(all) != 3 {
		t.Errorf("event.> received %v, want 3 events", all)
	}
	if len(ssh) != 1 || ssh[0] != "event.ssh.auth.attempt" {
		t.Errorf("event.ssh.> received %v, want only event.ssh.auth.attempt", ssh)
	}
	if len(http) != 1 || http[0] != "event.http.command" {
		t.Errorf("event.http.* received %v, want only event.http.command", http)
	}
}

func TestPublishSurvivesPanickingHandler(t *testing.T) {
	b := New(zerolog.Nop())
	if _, err := b.Subscribe(">", func(string, *eventv1.Event) { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	got := 0
	if _, err := b.Subscribe(">", func(string, *eventv1.Event) { got++ }); err != nil {
		t.Fatal(err)
	}

	b.Publish("event.ssh.command", &eventv1.Event{})

	if got != 1 {
		t.Errorf("second handler ran %d times, want 1", got)
	}
}

func TestUnsubscribeFromHandler(t *testing.T) {
	b := New(zerolog.Nop())
	calls := 0
	var unsub func()
	unsub, err := b.Subscribe(">", func(string, *eventv1.Event) {
		calls++
		unsub()
	})
	if err != nil {
		t.Fatal(err)
	}

	b.Publish("a", &eventv1.Event{})
	b.Publish("a", &eventv1.Event{})

	if calls != 1 {
		t.Errorf("handler ran %d times, want 1", calls)
	}
}

func TestEmitterDropsWhenQueueFull(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := New(zerolog.Nop())
	e, err := NewEmitter(EmitterConfig{Bus: b, QueueSize: 2, Registerer: reg, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}

	// Run is not started, so only the queue takes events. Emit returning
	// at all shows it does not block.
	for range 10 {
		e.Emit(&eventv1.Event{Id: "x", Service: "ssh", Kind: "command"})
	}

	if got := e.Dropped(); got != 8 {
		t.Errorf("Dropped() = %d, want 8", got)
	}
	if got := gatherValue(t, reg, DroppedMetricName, StageQueue); got != 8 {
		t.Errorf("dropped counter = %v, want 8", got)
	}
}

func TestEmitterDropsWhenQueueBytesFull(t *testing.T) {
	b := New(zerolog.Nop())
	ev := func() *eventv1.Event {
		return &eventv1.Event{Id: "x", Service: "http", Kind: "http.request", Source: &eventv1.Endpoint{Address: strings.Repeat("a", 1000)}}
	}
	size := int64(proto.Size(ev()))
	// Room for three events by bytes and for a hundred by count.
	e, err := NewEmitter(EmitterConfig{Bus: b, QueueSize: 100, QueueBytes: 3*size + size/2, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}

	for range 10 {
		e.Emit(ev())
	}
	if got := e.Dropped(); got != 7 {
		t.Errorf("Dropped() = %d, want 7", got)
	}

	// Publishing frees the bytes of the queued events, so the queue takes
	// three more.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	for range 4 {
		e.Emit(ev())
	}
	if got := e.Dropped(); got != 8 {
		t.Errorf("Dropped() after the queue drained = %d, want 8", got)
	}
}

func TestEmitterPublishesAndDrainsOnStop(t *testing.T) {
	b := New(zerolog.Nop())
	var mu sync.Mutex
	got := map[string]string{}
	if _, err := b.Subscribe("event.>", func(s string, ev *eventv1.Event) {
		mu.Lock()
		defer mu.Unlock()
		got[ev.Id] = s
		if ev.AgentId != "agent-1" {
			t.Errorf("event %s agent id = %q, want agent-1", ev.Id, ev.AgentId)
		}
	}); err != nil {
		t.Fatal(err)
	}
	e, err := NewEmitter(EmitterConfig{Bus: b, QueueSize: 16, AgentID: "agent-1", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}

	// Queue before Run starts, cancel at once: Run must still publish
	// everything that was queued.
	e.Emit(&eventv1.Event{Id: "1", Service: "ssh", Kind: "auth.attempt"})
	e.Emit(&eventv1.Event{Id: "2", Service: "", Kind: "command"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatalf("Run() = %v", err)
	}

	want := map[string]string{"1": "event.ssh.auth.attempt", "2": "event.unknown.command"}
	for id, subject := range want {
		if got[id] != subject {
			t.Errorf("event %s published on %q, want %q", id, got[id], subject)
		}
	}
	if e.Dropped() != 0 {
		t.Errorf("Dropped() = %d, want 0", e.Dropped())
	}
}

func TestRegisterDroppedCounterShared(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := RegisterDroppedCounter(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RegisterDroppedCounter(reg)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("second registration returned a different collector")
	}
}

// gatherValue returns the value of the counter name whose stage label is
// stage, or -1 when reg has no such series.
func gatherValue(t *testing.T, reg *prometheus.Registry, name, stage string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" && l.GetValue() == stage {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
}
