package api

import (
	"context"
	"slices"
	"sync"
	"testing"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// watchedStatuses is an AgentStatuses whose updates the test triggers.
type watchedStatuses struct {
	fixedStatuses
	mu  sync.Mutex
	fns []func(string)
}

func (w *watchedStatuses) WatchUpdates(fn func(string)) func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fns = append(w.fns, fn)
	return func() {}
}

func (w *watchedStatuses) update(ids ...string) {
	w.mu.Lock()
	fns := slices.Clone(w.fns)
	w.mu.Unlock()
	for _, id := range ids {
		for _, fn := range fns {
			fn(id)
		}
	}
}

func TestStreamAgentUpdates(t *testing.T) {
	statuses := &watchedStatuses{}
	f := newFixture(t, options{statuses: statuses})
	viewer := f.loginNewUser(t, "viewer-a", apiv1.Role_ROLE_VIEWER)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stream, err := apiv1connect.NewAgentServiceClient(f.h2c, f.srv.URL).StreamAgentUpdates(ctx,
		withToken(&apiv1.StreamAgentUpdatesRequest{}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()

	// A burst of four updates of two agents arrives as each id once, or
	// twice when the stream woke in the middle of the burst.
	statuses.update("a1", "a1", "a2", "a1")
	seen := map[string]int{}
	messages := 0
	for (seen["a1"] == 0 || seen["a2"] == 0) && stream.Receive() {
		seen[stream.Msg().GetAgentId()]++
		messages++
	}
	if seen["a1"] == 0 || seen["a2"] == 0 || messages > 3 {
		t.Fatalf("burst gave %v in %d messages (%v), want a1 and a2 in at most 3", seen, messages, stream.Err())
	}
	// A later update arrives, after at most one left over from the burst.
	statuses.update("a2")
	for i := 0; ; i++ {
		if !stream.Receive() {
			t.Fatalf("second round: %v", stream.Err())
		}
		if stream.Msg().GetAgentId() == "a2" {
			break
		}
		if i > 0 {
			t.Fatalf("second round sent %s, want a2", stream.Msg().GetAgentId())
		}
	}
}
