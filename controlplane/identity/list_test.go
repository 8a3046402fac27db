package identity

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
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

// listFixture is a Worker on a temporary SQLite store with a clock the
// test sets, so each flush gives the identities it forms a known
// creation time.
type listFixture struct {
	w   *Worker
	now time.Time
}

func newListFixture(t *testing.T) *listFixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &listFixture{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.w, err = NewWorker(WorkerConfig{Store: st, Notices: topics.New[*apiv1.Notice](), Logger: zerolog.Nop(), Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// payload is a file fetched from an operator's server. Sessions that
// fetch the same payload from the same host join one identity.
type payload struct {
	host string
	sum  byte
}

// session queues one session of attacker from address that fetches the
// payloads, and returns its id.
func (f *listFixture) session(attacker, address string, payloads ...payload) string {
	sid := uuid.Must(uuid.NewV7()).String()
	at := f.now
	ev := func(kind string) *eventv1.Event {
		at = at.Add(time.Second)
		return &eventv1.Event{Id: uuid.Must(uuid.NewV7()).String(), Time: timestamppb.New(at), Decky: "web-01", Service: "ssh",
			Kind: kind, SessionId: sid, Source: &eventv1.Endpoint{Address: address, Port: 40000}}
	}
	batch := []*apiv1.StoredEvent{{AttackerId: attacker, Event: ev("connection.opened")}}
	for _, p := range payloads {
		sum := make([]byte, 32)
		sum[0] = p.sum
		url := "http://" + p.host + "/bins/x86.sh"
		dl := ev("download.requested")
		dl.Payload = &eventv1.Event_DownloadRequested{DownloadRequested: &eventv1.DownloadRequested{Url: url, Tool: "wget", Outcome: "fetched", Sha256: sum}}
		fc := ev("file.captured")
		fc.Payload = &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{Sha256: sum, Size: 4096, Name: "x86.sh", Channel: "download", Url: url, Stored: true}}
		batch = append(batch, &apiv1.StoredEvent{AttackerId: attacker, Event: dl}, &apiv1.StoredEvent{AttackerId: attacker, Event: fc})
	}
	f.w.Observe(batch)
	return sid
}

// flush clusters what is queued at the fixture's clock, then moves the
// clock on a minute.
func (f *listFixture) flush(t *testing.T) {
	t.Helper()
	if err := f.w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
}

func (f *listFixture) list(t *testing.T, q IdentityQuery) store.Page[*apiv1.AttackerIdentity] {
	t.Helper()
	page, err := f.w.ListIdentities(q)
	if err != nil {
		t.Fatalf("ListIdentities(%+v): %v", q, err)
	}
	return page
}

func (f *listFixture) identityOf(t *testing.T, attacker string) string {
	t.Helper()
	identity, ok := f.w.AttackerIdentity(attacker)
	if !ok {
		t.Fatalf("attacker %s has no identity", attacker)
	}
	return identity.GetId()
}

func newAttacker() string { return uuid.Must(uuid.NewV7()).String() }

// ids returns the ids of identities, in order.
func ids(identities []*apiv1.AttackerIdentity) []string {
	out := make([]string, 0, len(identities))
	for _, i := range identities {
		out = append(out, i.GetId())
	}
	return out
}

func TestListIdentitiesOrderAndValues(t *testing.T) {
	f := newListFixture(t)
	// Clustered in this order, so each identity's creation time is
	// known: older has one attacker and one session, same-size newer.
	older := newAttacker()
	f.session(older, "198.51.100.40", payload{"203.0.113.40", 0x40})
	f.flush(t)
	olderCreated := f.now.Add(-time.Minute)

	pairA, pairB := newAttacker(), newAttacker()
	f.session(pairA, "198.51.100.10", payload{"203.0.113.10", 0x10})
	f.session(pairB, "198.51.100.11", payload{"203.0.113.10", 0x10})
	repeat := newAttacker()
	f.session(repeat, "198.51.100.20", payload{"203.0.113.20", 0x20})
	f.session(repeat, "198.51.100.20", payload{"203.0.113.20", 0x20})
	f.flush(t)

	newer := newAttacker()
	f.session(newer, "198.51.100.30", payload{"203.0.113.30", 0x30})
	f.flush(t)
	newerCreated := f.now.Add(-time.Minute)

	page := f.list(t, IdentityQuery{})
	want := []string{f.identityOf(t, pairA), f.identityOf(t, repeat), f.identityOf(t, newer), f.identityOf(t, older)}
	if got := ids(page.Items); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v (two attackers, two sessions, newer, older)", got, want)
	}
	if page.NextPageToken != "" {
		t.Errorf("NextPageToken = %q on the only page, want empty", page.NextPageToken)
	}

	pair := page.Items[0]
	if got, wantIDs := pair.GetAttackerIds(), slices.Sorted(slices.Values([]string{pairA, pairB})); !slices.Equal(got, wantIDs) {
		t.Errorf("pair attackers = %v, want %v", got, wantIDs)
	}
	if pair.GetSessions() != 2 {
		t.Errorf("pair sessions = %d, want 2", pair.GetSessions())
	}
	if got := page.Items[1].GetAttackerIds(); !slices.Equal(got, []string{repeat}) {
		t.Errorf("repeat attackers = %v, want [%s]", got, repeat)
	}
	if page.Items[1].GetSessions() != 2 {
		t.Errorf("repeat sessions = %d, want 2", page.Items[1].GetSessions())
	}
	if got := page.Items[2].GetCreated().AsTime(); !got.Equal(newerCreated) {
		t.Errorf("newer created = %v, want %v", got, newerCreated)
	}
	if got := page.Items[3].GetCreated().AsTime(); !got.Equal(olderCreated) {
		t.Errorf("older created = %v, want %v", got, olderCreated)
	}

	filtered := f.list(t, IdentityQuery{MinAttackers: 2})
	if got := ids(filtered.Items); !slices.Equal(got, want[:1]) {
		t.Errorf("MinAttackers 2 = %v, want %v", got, want[:1])
	}
	if got := f.list(t, IdentityQuery{MinAttackers: 3}).Items; len(got) != 0 {
		t.Errorf("MinAttackers 3 = %v, want none", ids(got))
	}
}

func TestListIdentitiesPages(t *testing.T) {
	f := newListFixture(t)
	var want []string
	for i := range 5 {
		attacker := newAttacker()
		f.session(attacker, fmt.Sprintf("198.51.100.%d", i+1), payload{fmt.Sprintf("203.0.113.%d", i+1), byte(i + 1)})
		f.flush(t)
		// Same size throughout, so the newest comes first.
		want = slices.Insert(want, 0, f.identityOf(t, attacker))
	}

	var got []string
	token := ""
	for pages := 1; ; pages++ {
		page := f.list(t, IdentityQuery{PageSize: 2, PageToken: token})
		if len(page.Items) > 2 {
			t.Fatalf("page %d has %d identities, want at most 2", pages, len(page.Items))
		}
		got = append(got, ids(page.Items)...)
		if page.NextPageToken == "" {
			if pages != 3 {
				t.Errorf("pages = %d, want 3", pages)
			}
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		token = page.NextPageToken
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}

	// Not base64, too few fields, and an event-list cursor.
	for _, bad := range []string{"not base64!", "aTF8MQ", "YzF8MXwxfDF8eA"} {
		if _, err := f.w.ListIdentities(IdentityQuery{PageToken: bad}); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("token %q: error = %v, want ErrInvalidPageToken", bad, err)
		}
	}
}

func TestListIdentitiesSkipsMerged(t *testing.T) {
	f := newListFixture(t)
	first, second := newAttacker(), newAttacker()
	f.session(first, "198.51.100.1", payload{"203.0.113.1", 0x01})
	f.flush(t)
	f.session(second, "198.51.100.2", payload{"203.0.113.2", 0x02})
	f.flush(t)
	winner, loser := f.identityOf(t, first), f.identityOf(t, second)
	if winner == loser {
		t.Fatalf("attackers share identity %s before the bridging session", winner)
	}
	if got := ids(f.list(t, IdentityQuery{}).Items); len(got) != 2 {
		t.Fatalf("before merge: %v, want 2 identities", got)
	}

	// One session fetching both payloads joins the two identities; the
	// older one wins.
	bridge := newAttacker()
	f.session(bridge, "198.51.100.3", payload{"203.0.113.1", 0x01}, payload{"203.0.113.2", 0x02})
	f.flush(t)

	page := f.list(t, IdentityQuery{})
	if got := ids(page.Items); !slices.Equal(got, []string{winner}) {
		t.Fatalf("after merge: %v, want only the winner %s", got, winner)
	}
	wantAttackers := slices.Sorted(slices.Values([]string{first, second, bridge}))
	if got := page.Items[0].GetAttackerIds(); !slices.Equal(got, wantAttackers) {
		t.Errorf("winner attackers = %v, want %v", got, wantAttackers)
	}
	if got := page.Items[0].GetSessions(); got != 3 {
		t.Errorf("winner sessions = %d, want 3", got)
	}
	if _, mergedFrom, ok := f.w.Identity(loser); !ok || mergedFrom != loser {
		t.Errorf("Identity(loser) merged_from = %q, %v; want %q, true", mergedFrom, ok, loser)
	}
}
