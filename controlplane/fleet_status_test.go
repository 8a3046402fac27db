package controlplane

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/cache"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	bridgev1 "github.com/decnet/decnet/gen/decnet/bridge/v1"
)

var statusBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestDeriveStatus(t *testing.T) {
	const interval = 10 * time.Second
	healthy := func(mutate func(*bridgev1.Heartbeat)) *bridgev1.Heartbeat {
		hb := &bridgev1.Heartbeat{
			IntervalMs:         uint64(interval / time.Millisecond),
			SpoolPendingEvents: 20,
			SpoolEvictedEvents: 5,
			EmitDroppedEvents:  7,
			Decoys:             []*bridgev1.DecoyHealth{{Decky: "web-01", Service: "ssh", Healthy: true}},
		}
		if mutate != nil {
			mutate(hb)
		}
		return hb
	}
	tests := []struct {
		name       string
		in         statusInput
		want       apiv1.AgentStatus
		wantReason string
	}{
		{
			name:       "disconnected",
			in:         statusInput{now: statusBase, connected: false, lastAt: statusBase, cur: healthy(nil)},
			want:       apiv1.AgentStatus_AGENT_STATUS_OFFLINE,
			wantReason: "disconnected",
		},
		{
			name:       "connected awaiting first heartbeat",
			in:         statusInput{now: statusBase.Add(5 * time.Second), connected: true, connectedAt: statusBase},
			want:       apiv1.AgentStatus_AGENT_STATUS_ONLINE,
			wantReason: "connected",
		},
		{
			name:       "connected without any heartbeat",
			in:         statusInput{now: statusBase.Add(31 * time.Second), connected: true, connectedAt: statusBase},
			want:       apiv1.AgentStatus_AGENT_STATUS_OFFLINE,
			wantReason: "no heartbeat",
		},
		{
			name:       "healthy heartbeat",
			in:         statusInput{now: statusBase.Add(interval), connected: true, lastAt: statusBase, prev: healthy(nil), cur: healthy(nil)},
			want:       apiv1.AgentStatus_AGENT_STATUS_ONLINE,
			wantReason: "healthy",
		},
		{
			name:       "exactly three intervals late",
			in:         statusInput{now: statusBase.Add(3 * interval), connected: true, lastAt: statusBase, cur: healthy(nil)},
			want:       apiv1.AgentStatus_AGENT_STATUS_ONLINE,
			wantReason: "healthy",
		},
		{
			name:       "heartbeat overdue",
			in:         statusInput{now: statusBase.Add(3*interval + time.Millisecond), connected: true, lastAt: statusBase, cur: healthy(nil)},
			want:       apiv1.AgentStatus_AGENT_STATUS_OFFLINE,
			wantReason: "heartbeat overdue",
		},
		{
			name: "overdue by the agent's own interval",
			in: statusInput{now: statusBase.Add(4 * time.Second), connected: true, lastAt: statusBase,
				cur: healthy(func(hb *bridgev1.Heartbeat) { hb.IntervalMs = 1000 })},
			want:       apiv1.AgentStatus_AGENT_STATUS_OFFLINE,
			wantReason: "heartbeat overdue",
		},
		{
			name: "decoy unhealthy",
			in: statusInput{now: statusBase, connected: true, lastAt: statusBase,
				cur: healthy(func(hb *bridgev1.Heartbeat) { hb.Decoys[0].Healthy = false })},
			want:       apiv1.AgentStatus_AGENT_STATUS_DEGRADED,
			wantReason: "decoy unhealthy",
		},
		{
			name: "drops grew",
			in: statusInput{now: statusBase, connected: true, lastAt: statusBase, prev: healthy(nil),
				cur: healthy(func(hb *bridgev1.Heartbeat) { hb.EmitDroppedEvents = 8 })},
			want:       apiv1.AgentStatus_AGENT_STATUS_DEGRADED,
			wantReason: "events dropped",
		},
		{
			name: "drops unchanged since earlier loss",
			in:   statusInput{now: statusBase, connected: true, lastAt: statusBase, prev: healthy(nil), cur: healthy(nil)},
			want: apiv1.AgentStatus_AGENT_STATUS_ONLINE, wantReason: "healthy",
		},
		{
			name: "drops on the first heartbeat",
			in: statusInput{now: statusBase, connected: true, lastAt: statusBase,
				cur: healthy(func(hb *bridgev1.Heartbeat) { hb.EmitDroppedEvents = 100 })},
			want:       apiv1.AgentStatus_AGENT_STATUS_ONLINE,
			wantReason: "healthy",
		},
		{
			name: "evictions grew",
			in: statusInput{now: statusBase, connected: true, lastAt: statusBase, prev: healthy(nil),
				cur: healthy(func(hb *bridgev1.Heartbeat) { hb.SpoolEvictedEvents = 6 })},
			want:       apiv1.AgentStatus_AGENT_STATUS_DEGRADED,
			wantReason: "spool evicted events",
		},
		{
			name: "counters reset by an agent restart",
			in: statusInput{now: statusBase, connected: true, lastAt: statusBase, prev: healthy(nil),
				cur: healthy(func(hb *bridgev1.Heartbeat) { hb.EmitDroppedEvents, hb.SpoolEvictedEvents = 0, 0 })},
			want:       apiv1.AgentStatus_AGENT_STATUS_ONLINE,
			wantReason: "healthy",
		},
		{
			name: "small backlog growing",
			in: statusInput{now: statusBase, connected: true, lastAt: statusBase, prev: healthy(nil),
				cur: healthy(func(hb *bridgev1.Heartbeat) { hb.SpoolPendingEvents = backlogEvents })},
			want:       apiv1.AgentStatus_AGENT_STATUS_ONLINE,
			wantReason: "healthy",
		},
		{
			name: "large backlog growing",
			in: statusInput{now: statusBase, connected: true, lastAt: statusBase,
				prev: healthy(func(hb *bridgev1.Heartbeat) { hb.SpoolPendingEvents = 5000 }),
				cur:  healthy(func(hb *bridgev1.Heartbeat) { hb.SpoolPendingEvents = 6000 })},
			want:       apiv1.AgentStatus_AGENT_STATUS_DEGRADED,
			wantReason: "spool backlog growing",
		},
		{
			name: "large backlog shrinking",
			in: statusInput{now: statusBase, connected: true, lastAt: statusBase,
				prev: healthy(func(hb *bridgev1.Heartbeat) { hb.SpoolPendingEvents = 6000 }),
				cur:  healthy(func(hb *bridgev1.Heartbeat) { hb.SpoolPendingEvents = 5000 })},
			want:       apiv1.AgentStatus_AGENT_STATUS_ONLINE,
			wantReason: "healthy",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := deriveStatus(tc.in)
			if got != tc.want {
				t.Errorf("status = %s, want %s", got, tc.want)
			}
			if reason != tc.wantReason {
				t.Errorf("reason = %q, want %q", reason, tc.wantReason)
			}
		})
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestStatusBoardPublishesChanges(t *testing.T) {
	clock := &fakeClock{now: statusBase}
	publisher := topics.New[StatusChange]()
	var changes []StatusChange
	if _, err := publisher.Subscribe("agent.*.status", func(_ string, c StatusChange) { changes = append(changes, c) }); err != nil {
		t.Fatal(err)
	}
	board := newStatusBoard(clock.Now, publisher, nil, zerolog.Nop())
	hb := func(dropped uint64) *bridgev1.Heartbeat {
		return &bridgev1.Heartbeat{IntervalMs: 10_000, EmitDroppedEvents: dropped}
	}

	board.connected("a1")
	board.heartbeat("a1", hb(0))
	clock.Advance(10 * time.Second)
	board.heartbeat("a1", hb(0))
	clock.Advance(10 * time.Second)
	board.heartbeat("a1", hb(3))
	clock.Advance(10 * time.Second)
	board.heartbeat("a1", hb(3))
	// No heartbeat for more than three intervals.
	clock.Advance(31 * time.Second)
	board.sweep()
	board.heartbeat("a1", hb(3))
	board.disconnected("a1")

	want := []struct {
		status apiv1.AgentStatus
		reason string
		after  time.Duration
	}{
		{apiv1.AgentStatus_AGENT_STATUS_ONLINE, "connected", 0},
		{apiv1.AgentStatus_AGENT_STATUS_DEGRADED, "events dropped", 20 * time.Second},
		{apiv1.AgentStatus_AGENT_STATUS_ONLINE, "healthy", 30 * time.Second},
		{apiv1.AgentStatus_AGENT_STATUS_OFFLINE, "heartbeat overdue", 61 * time.Second},
		{apiv1.AgentStatus_AGENT_STATUS_ONLINE, "healthy", 61 * time.Second},
		{apiv1.AgentStatus_AGENT_STATUS_OFFLINE, "disconnected", 61 * time.Second},
	}
	if len(changes) != len(want) {
		t.Fatalf("published %d changes %+v, want %d", len(changes), changes, len(want))
	}
	previous := apiv1.AgentStatus_AGENT_STATUS_OFFLINE
	for i, w := range want {
		c := changes[i]
		if c.AgentID != "a1" || c.Status != w.status || c.Reason != w.reason || c.Previous != previous {
			t.Errorf("change %d = %+v, want %s (%s) after %s", i, c, w.status, w.reason, previous)
		}
		if !c.At.Equal(statusBase.Add(w.after)) {
			t.Errorf("change %d at %v, want %v", i, c.At, statusBase.Add(w.after))
		}
		previous = w.status
	}

	state := board.AgentStatus(context.Background(), "a1")
	status, changedAt, last := state.Status, state.ChangedAt, state.Heartbeat
	if status != apiv1.AgentStatus_AGENT_STATUS_OFFLINE || !changedAt.Equal(statusBase.Add(61*time.Second)) {
		t.Errorf("AgentStatus = %s changed at %v, want offline at %v", status, changedAt, statusBase.Add(61*time.Second))
	}
	if last == nil || last.GetEmitDroppedEvents() != 3 || !last.GetReceivedAt().AsTime().Equal(statusBase.Add(61*time.Second)) {
		t.Errorf("last heartbeat = %v, want 3 dropped events received at %v", last, statusBase.Add(61*time.Second))
	}
	if st := board.AgentStatus(context.Background(), "unknown"); st.Status != apiv1.AgentStatus_AGENT_STATUS_OFFLINE || !st.ChangedAt.IsZero() || st.Heartbeat != nil || st.Connected {
		t.Errorf("AgentStatus of an unseen agent = %+v, want offline and nothing else", st)
	}
}

// Two boards on one cache stand for two replicas: the agent connects to
// A, and B reports what A sees until the entry expires.
func TestStatusBoardSharesAcrossReplicas(t *testing.T) {
	clock := &fakeClock{now: statusBase}
	shared := cache.NewMemory(cache.MemoryConfig{Now: clock.Now})
	a := newStatusBoard(clock.Now, topics.New[StatusChange](), shared, zerolog.Nop())
	b := newStatusBoard(clock.Now, topics.New[StatusChange](), shared, zerolog.Nop())
	ctx := context.Background()

	a.connected("a1")
	a.heartbeat("a1", &bridgev1.Heartbeat{IntervalMs: 10_000, SpoolPendingEvents: 7})
	got := b.AgentStatus(ctx, "a1")
	if got.Status != apiv1.AgentStatus_AGENT_STATUS_ONLINE || !got.Connected || got.Heartbeat.GetSpoolPendingEvents() != 7 || !got.ChangedAt.Equal(statusBase) {
		t.Fatalf("B sees %+v, want online and connected with A's heartbeat", got)
	}

	// A disconnects: B sees it at once.
	a.disconnected("a1")
	if got := b.AgentStatus(ctx, "a1"); got.Status != apiv1.AgentStatus_AGENT_STATUS_OFFLINE || got.Connected {
		t.Fatalf("after disconnect B sees %+v, want offline", got)
	}

	// The agent fails over to B, and A's late writes cannot override B's
	// own connection.
	b.connected("a1")
	b.heartbeat("a1", &bridgev1.Heartbeat{IntervalMs: 10_000})
	if got := b.AgentStatus(ctx, "a1"); got.Status != apiv1.AgentStatus_AGENT_STATUS_ONLINE || !got.Connected {
		t.Fatalf("B with the connection sees %+v", got)
	}
	if got := a.AgentStatus(ctx, "a1"); got.Status != apiv1.AgentStatus_AGENT_STATUS_ONLINE || !got.Connected {
		t.Fatalf("A without the connection sees %+v, want B's view", got)
	}

	// A replica that dies silently stops writing; its entry expires when
	// the agent would have missed three heartbeats.
	c := newStatusBoard(clock.Now, topics.New[StatusChange](), shared, zerolog.Nop())
	c.connected("a2")
	c.heartbeat("a2", &bridgev1.Heartbeat{IntervalMs: 10_000})
	clock.Advance(31 * time.Second)
	if got := a.AgentStatus(ctx, "a2"); got.Status != apiv1.AgentStatus_AGENT_STATUS_OFFLINE || got.Connected {
		t.Fatalf("expired entry seen as %+v, want offline", got)
	}
}

// Watchers hear of heartbeats, connections and status changes, and
// nothing after they stop.
func TestStatusBoardWatchers(t *testing.T) {
	clock := &fakeClock{now: statusBase}
	board := newStatusBoard(clock.Now, topics.New[StatusChange](), nil, zerolog.Nop())
	var heard []string
	stop := board.WatchUpdates(func(id string) { heard = append(heard, id) })
	board.connected("a1")
	board.heartbeat("a1", &bridgev1.Heartbeat{IntervalMs: 10_000})
	board.heartbeat("a2", &bridgev1.Heartbeat{IntervalMs: 10_000})
	// A sweep that changes no status reports nothing.
	board.sweep()
	if got := strings.Join(heard, ","); got != "a1,a1,a2" {
		t.Errorf("heard %q, want a1,a1,a2", got)
	}
	// a2 never connected; a long silence turns a1 offline.
	clock.Advance(time.Hour)
	heard = nil
	board.sweep()
	if !slices.Contains(heard, "a1") {
		t.Errorf("status change of a1 not heard: %v", heard)
	}
	stop()
	heard = nil
	board.heartbeat("a1", &bridgev1.Heartbeat{IntervalMs: 10_000})
	if len(heard) != 0 {
		t.Errorf("heard %v after stop", heard)
	}
}
