package ingest

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

const agentID = "0195a1b2-0000-7000-8000-000000000001"

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// syncBuffer is a log sink that tests read while the ingester writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	in    *Ingester
	store *sqlite.Store
	hub   *fanout.Hub
	reg   *prometheus.Registry
	logs  *syncBuffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	f := &fixture{store: st, hub: fanout.New(), reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	f.in, err = New(Config{
		Store:      st,
		Hub:        f.hub,
		Registerer: f.reg,
		Logger:     zerolog.New(f.logs),
		Now:        func() time.Time { return now },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatalf("read counter: %v", err)
	}
	return m.GetCounter().GetValue()
}

func newEvent(src string) *eventv1.Event {
	return &eventv1.Event{
		Id:      uuid.Must(uuid.NewV7()).String(),
		Time:    timestamppb.New(now.Add(-time.Minute)),
		AgentId: "claimed",
		Decky:   "web-01",
		Service: "ssh",
		Kind:    "connection.opened",
		Source:  &eventv1.Endpoint{Address: src, Port: 40000},
	}
}

func TestIngestDropsInvalidEvents(t *testing.T) {
	f := newFixture(t)
	sub, cancel := f.hub.Subscribe(10)
	defer cancel()

	noTime := newEvent("127.0.0.2")
	noTime.Time = nil
	noKind := newEvent("127.0.0.2")
	noKind.Kind = ""
	badID := newEvent("127.0.0.2")
	badID.Id = "42"
	badSource := newEvent("127.0.0.2")
	badSource.Source.Address = "not-an-ip"
	good := newEvent("127.0.0.2")
	upper := newEvent("127.0.0.3")
	upper.Id = strings.ToUpper(upper.Id)

	stored, duplicates, err := f.in.Ingest(context.Background(), agentID,
		[]*eventv1.Event{noTime, good, noKind, badID, badSource, upper})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if stored != 2 || duplicates != 0 {
		t.Errorf("Ingest = %d stored, %d duplicates; want 2, 0", stored, duplicates)
	}

	for reason, want := range map[string]float64{
		ReasonMissingTime:    1,
		ReasonMissingKind:    1,
		ReasonInvalidID:      1,
		ReasonInvalidAddress: 1,
	} {
		if got := counterValue(t, f.in.rejected.WithLabelValues(reason)); got != want {
			t.Errorf("rejected{reason=%q} = %v, want %v", reason, got, want)
		}
	}
	if got := counterValue(t, f.in.stored); got != 2 {
		t.Errorf("stored counter = %v, want 2", got)
	}

	// Only the stored events reach the subscriber, with the agent id the
	// bridge authenticated.
	for _, want := range []string{good.GetId(), strings.ToLower(upper.GetId())} {
		select {
		case se := <-sub:
			if se.GetEvent().GetId() != want {
				t.Errorf("published event %s, want %s", se.GetEvent().GetId(), want)
			}
			if se.GetEvent().GetAgentId() != agentID {
				t.Errorf("published agent id %q, want %q", se.GetEvent().GetAgentId(), agentID)
			}
			if se.GetAttackerId() == "" {
				t.Error("published event has no attacker id")
			}
		default:
			t.Fatalf("no published event, want %s", want)
		}
	}
	select {
	case se := <-sub:
		t.Errorf("unexpected published event %s", se.GetEvent().GetId())
	default:
	}

	if n := strings.Count(f.logs.String(), `"message":"rejected invalid event"`); n != 4 {
		t.Errorf("logged %d rejections, want 4:\n%s", n, f.logs)
	}
}

func TestIngestCountsDuplicates(t *testing.T) {
	f := newFixture(t)
	batch := []*eventv1.Event{newEvent("127.0.0.2"), newEvent("127.0.0.3")}

	if _, _, err := f.in.Ingest(context.Background(), agentID, batch); err != nil {
		t.Fatalf("first Ingest: %v", err)
	}
	sub, cancel := f.hub.Subscribe(10)
	defer cancel()

	stored, duplicates, err := f.in.Ingest(context.Background(), agentID, batch)
	if err != nil {
		t.Fatalf("second Ingest: %v", err)
	}
	if stored != 0 || duplicates != 2 {
		t.Errorf("resent batch = %d stored, %d duplicates; want 0, 2", stored, duplicates)
	}
	if got := counterValue(t, f.in.duplicates); got != 2 {
		t.Errorf("duplicates counter = %v, want 2", got)
	}
	select {
	case se := <-sub:
		t.Errorf("duplicate %s published, want nothing", se.GetEvent().GetId())
	default:
	}
}

func TestIngestTouchesAgent(t *testing.T) {
	f := newFixture(t)
	if err := f.store.UpsertAgent(context.Background(), store.Agent{ID: agentID, Name: "edge-1", EnrolledAt: now.Add(-time.Hour)}); err != nil {
		t.Fatalf("UpsertAgent: %v", err)
	}

	if _, _, err := f.in.Ingest(context.Background(), agentID, []*eventv1.Event{newEvent("127.0.0.2")}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	agents, err := f.store.ListAgents(context.Background())
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if len(agents) != 1 || !agents[0].LastSeen.Equal(now) {
		t.Errorf("agents = %+v, want one last seen at %v", agents, now)
	}
}

func TestIngestUnknownAgentLoggedOnce(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		stored, _, err := f.in.Ingest(context.Background(), agentID, []*eventv1.Event{newEvent("127.0.0.2")})
		if err != nil {
			t.Fatalf("Ingest: %v", err)
		}
		if stored != 1 {
			t.Errorf("stored = %d, want 1: an unknown agent's events are kept", stored)
		}
	}
	if n := strings.Count(f.logs.String(), "not enrolled"); n != 1 {
		t.Errorf("logged the unknown agent %d times, want 1:\n%s", n, f.logs)
	}
}

func TestIngestStoreFailure(t *testing.T) {
	f := newFixture(t)
	if err := f.store.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, _, err := f.in.Ingest(context.Background(), agentID, []*eventv1.Event{newEvent("127.0.0.2")})
	if err == nil {
		t.Fatal("Ingest on a closed store succeeded, want an error so the batch is not acknowledged")
	}
	if !strings.Contains(err.Error(), agentID) {
		t.Errorf("error %q does not name the agent", err)
	}
}

func TestNewRegistersCounters(t *testing.T) {
	f := newFixture(t)
	// A second ingester on the same registry collides with the first.
	if _, err := New(Config{Store: f.store, Registerer: f.reg}); err == nil {
		t.Error("New with counters already registered succeeded, want an error")
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without a store succeeded, want an error")
	}
}
