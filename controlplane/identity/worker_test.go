package identity

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Two attackers on different addresses that fetch the same payload from
// the same server become one identity, announced as notices, and reads
// of either attacker return it.
func TestWorkerJoinsSharedPayload(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub := topics.New[*apiv1.Notice]()
	var (
		mu       sync.Mutex
		subjects []string
	)
	if _, err := pub.Subscribe("identity.>", func(s string, _ *apiv1.Notice) { mu.Lock(); subjects = append(subjects, s); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	w, err := NewWorker(WorkerConfig{Store: st, Notices: pub, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	sum := make([]byte, 32)
	sum[0] = 0x42
	session := func(attacker, address string, at time.Time) []*apiv1.StoredEvent {
		sid := uuid.Must(uuid.NewV7()).String()
		ev := func(kind string, offset time.Duration) *eventv1.Event {
			return &eventv1.Event{Id: uuid.Must(uuid.NewV7()).String(), Time: timestamppb.New(at.Add(offset)), Decky: "web-01", Service: "ssh",
				Kind: kind, SessionId: sid, Source: &eventv1.Endpoint{Address: address, Port: 40000}}
		}
		dl := ev("download.requested", time.Second)
		dl.Payload = &eventv1.Event_DownloadRequested{DownloadRequested: &eventv1.DownloadRequested{Url: "http://203.0.113.9/bins/x86.sh", Tool: "wget", Outcome: "fetched", Sha256: sum}}
		fc := ev("file.captured", 2*time.Second)
		fc.Payload = &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{Sha256: sum, Size: 4096, Name: "x86.sh", Channel: "download", Url: "http://203.0.113.9/bins/x86.sh", Stored: true}}
		return []*apiv1.StoredEvent{{AttackerId: attacker, Event: ev("connection.opened", 0)}, {AttackerId: attacker, Event: dl}, {AttackerId: attacker, Event: fc}}
	}
	a, b := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	now := time.Now()
	w.Observe(session(a, "198.51.100.7", now))
	w.Observe(session(b, "203.0.113.77", now.Add(time.Hour)))
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ia, ok := w.AttackerIdentity(a)
	if !ok {
		t.Fatal("attacker a has no identity")
	}
	ib, ok := w.AttackerIdentity(b)
	if !ok || ib.GetId() != ia.GetId() || len(ia.GetAttackerIds()) != 2 || ia.GetSessions() != 2 {
		t.Fatalf("identities %v and %v, want one with both attackers", ia, ib)
	}
	if got, merged, ok := w.Identity(ia.GetId()); !ok || got.GetId() != ia.GetId() || merged != "" {
		t.Errorf("Identity(%s) = %v, %q, %v", ia.GetId(), got, merged, ok)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(subjects) == 0 || subjects[0] != SubjectFormed {
		t.Errorf("notices %v, want identity.formed first", subjects)
	}
}

func TestInputOfFingerprint(t *testing.T) {
	ev := &eventv1.Event{Kind: "client.fingerprinted", Payload: &eventv1.Event_ClientFingerprinted{ClientFingerprinted: &eventv1.ClientFingerprint{
		SshClientVersion: "SSH-2.0-libssh_0.9.6", Hassh: "abc", Ja4: "t13d",
	}}}
	got := inputOf(ev).Proposed
	if got != (ProposedFields{SSHClientVersion: "SSH-2.0-libssh_0.9.6", HASSH: "abc", JA4: "t13d"}) {
		t.Errorf("proposed = %+v", got)
	}
	if (inputOf(&eventv1.Event{Kind: "command"}).Proposed != ProposedFields{}) {
		t.Error("an event without a fingerprint filled Proposed")
	}
}

// After a restart, Run rebuilds identities from the newest stored events
// before it takes new ones, and announces nothing: the identities are not
// news.
func TestWorkerRebuildsFromStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	agentID := uuid.Must(uuid.NewV7()).String()
	if err := st.UpsertAgent(ctx, store.Agent{ID: agentID, Name: "edge-1", EnrolledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sum := make([]byte, 32)
	sum[0] = 0x17
	now := time.Now()
	for i, address := range []string{"198.51.100.8", "203.0.113.78"} {
		sid := uuid.Must(uuid.NewV7()).String()
		at := now.Add(time.Duration(i) * time.Hour)
		fc := &eventv1.Event{Id: uuid.Must(uuid.NewV7()).String(), Time: timestamppb.New(at), AgentId: agentID, Decky: "web-01", Service: "ssh",
			Kind: "file.captured", SessionId: sid, Source: &eventv1.Endpoint{Address: address, Port: 40000},
			Payload: &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{Sha256: sum, Size: 4096, Name: "x86.sh", Channel: "download", Url: "http://203.0.113.9/bins/x86.sh", Stored: true}}}
		if _, err := st.IngestEvents(ctx, agentID, []*eventv1.Event{fc}, at); err != nil {
			t.Fatal(err)
		}
	}
	attackers, err := st.ListAttackers(ctx, store.AttackerQuery{})
	if err != nil || len(attackers.Items) != 2 {
		t.Fatalf("attackers %v: %v", attackers.Items, err)
	}

	pub := topics.New[*apiv1.Notice]()
	var notices sync.Map
	if _, err := pub.Subscribe(">", func(s string, _ *apiv1.Notice) { notices.Store(s, true) }); err != nil {
		t.Fatal(err)
	}
	w, err := NewWorker(WorkerConfig{Store: st, Notices: pub, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	a, b := attackers.Items[0].GetId(), attackers.Items[1].GetId()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ia, okA := w.AttackerIdentity(a)
		ib, okB := w.AttackerIdentity(b)
		if okA && okB && ia.GetId() == ib.GetId() && len(ia.GetAttackerIds()) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("identities after the rebuild: %v %v", ia, ib)
		}
		time.Sleep(20 * time.Millisecond)
	}
	notices.Range(func(k, _ any) bool {
		t.Errorf("the rebuild published %v", k)
		return true
	})
}
