package api

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// behaviourEvents returns a brute force on dev-02's ssh followed by one
// HTTP request to dev-01, all from src.
func behaviourEvents(src string, start time.Time) []*eventv1.Event {
	var evs []*eventv1.Event
	for i := range 12 {
		ev := newEvent(src, "auth.attempt")
		ev.Decky, ev.SessionId = "dev-02", "brute"
		ev.Time = timestamppb.New(start.Add(time.Duration(i) * time.Second))
		ev.GetAuthAttempt().Secret = fmt.Appendf(nil, "guess%d", i)
		evs = append(evs, ev)
	}
	web := newEvent(src, "http.request")
	web.Decky, web.Service, web.SessionId = "dev-01", "http", "web"
	web.Time = timestamppb.New(start.Add(time.Minute))
	return append(evs, web)
}

func TestGetAttackerBehaviour(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	ctx := context.Background()
	start := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	f.ingest(t, behaviourEvents("127.0.0.5", start)...)

	client := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL)
	list, err := client.ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{Address: "127.0.0.5"}, token))
	if err != nil {
		t.Fatalf("ListAttackers: %v", err)
	}
	if len(list.Msg.GetAttackers()) != 1 {
		t.Fatalf("ListAttackers returned %d attackers, want 1", len(list.Msg.GetAttackers()))
	}
	listed := list.Msg.GetAttackers()[0]
	if listed.GetBehaviour() != nil || len(listed.GetTraversal()) != 0 {
		t.Errorf("ListAttackers filled behaviour %v and traversal %v, want them empty", listed.GetBehaviour(), listed.GetTraversal())
	}

	resp, err := client.GetAttacker(ctx, withToken(&apiv1.GetAttackerRequest{Id: listed.GetId()}, token))
	if err != nil {
		t.Fatalf("GetAttacker: %v", err)
	}
	a := resp.Msg.GetAttacker()

	b := a.GetBehaviour()
	if got := b.GetClassification(); got != apiv1.BehaviourClass_BEHAVIOUR_CLASS_BRUTE_FORCE {
		t.Errorf("classification = %v, want brute force; evidence %q", got, b.GetEvidence())
	}
	if want := "12 login attempts with 12 distinct passwords for 1 user name"; !slices.Contains(b.GetEvidence(), want) {
		t.Errorf("evidence %q lacks %q", b.GetEvidence(), want)
	}
	if b.GetEventsConsidered() != 13 {
		t.Errorf("events considered = %d, want 13", b.GetEventsConsidered())
	}
	if b.GetEventsCapped() {
		t.Error("events capped = true, want false")
	}

	tr := a.GetTraversal()
	if len(tr) != 2 {
		t.Fatalf("traversal = %v, want dev-02 then dev-01", tr)
	}
	if tr[0].GetDecky() != "dev-02" || !slices.Equal(tr[0].GetServices(), []string{"ssh"}) || tr[0].GetEventCount() != 12 {
		t.Errorf("first visit = %v, want dev-02, ssh, 12 events", tr[0])
	}
	if !tr[0].GetFirstSeen().AsTime().Equal(start) || !tr[0].GetLastSeen().AsTime().Equal(start.Add(11*time.Second)) {
		t.Errorf("first visit from %v to %v, want %v to %v", tr[0].GetFirstSeen().AsTime(), tr[0].GetLastSeen().AsTime(), start, start.Add(11*time.Second))
	}
	if tr[1].GetDecky() != "dev-01" || !slices.Equal(tr[1].GetServices(), []string{"http"}) || tr[1].GetEventCount() != 1 {
		t.Errorf("second visit = %v, want dev-01, http, 1 event", tr[1])
	}
}

func TestNewestEventsCap(t *testing.T) {
	f := newFixture(t, options{})
	start := time.Now().Add(-10 * time.Minute).UTC()
	f.ingest(t, behaviourEvents("127.0.0.6", start)...)
	ctx := context.Background()
	id := f.attackerOf(t, "127.0.0.6")

	tests := []struct {
		limit      int
		wantEvents int
		wantCapped bool
	}{
		{limit: 12, wantEvents: 12, wantCapped: true},
		{limit: 13, wantEvents: 13, wantCapped: false},
		{limit: 14, wantEvents: 13, wantCapped: false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			events, capped, err := newestEvents(ctx, f.store, id, tt.limit)
			if err != nil {
				t.Fatalf("newestEvents: %v", err)
			}
			if len(events) != tt.wantEvents {
				t.Errorf("got %d events, want %d", len(events), tt.wantEvents)
			}
			if capped != tt.wantCapped {
				t.Errorf("capped = %v, want %v", capped, tt.wantCapped)
			}
			if len(events) > 0 && events[0].GetDecky() != "dev-01" {
				t.Errorf("first event on %q, want the newest, on dev-01", events[0].GetDecky())
			}
		})
	}
}

// attackerOf returns the id of the attacker that used address.
func (f *fixture) attackerOf(t *testing.T, address string) string {
	t.Helper()
	page, err := f.store.ListEvents(context.Background(), store.EventQuery{Filter: &apiv1.EventFilter{SourceAddress: address}, PageSize: 1})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("ListEvents(source %s) = %d events, %v", address, len(page.Items), err)
	}
	return page.Items[0].GetAttackerId()
}
