package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/identity"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// fakeIdentities records the last list query and returns a fixed page,
// or ErrInvalidPageToken for the token "bad".
type fakeIdentities struct {
	page  store.Page[*apiv1.AttackerIdentity]
	query identity.IdentityQuery
}

func (f *fakeIdentities) AttackerIdentity(string) (*apiv1.AttackerIdentity, bool) { return nil, false }

func (f *fakeIdentities) Identity(string) (*apiv1.AttackerIdentity, string, bool) {
	return nil, "", false
}

func (f *fakeIdentities) ListIdentities(q identity.IdentityQuery) (store.Page[*apiv1.AttackerIdentity], error) {
	f.query = q
	if q.PageToken == "bad" {
		return store.Page[*apiv1.AttackerIdentity]{}, store.ErrInvalidPageToken
	}
	return f.page, nil
}

func TestListIdentitiesForViewer(t *testing.T) {
	ids := &fakeIdentities{page: store.Page[*apiv1.AttackerIdentity]{
		Items:         []*apiv1.AttackerIdentity{{Id: "0195a1b2-0000-7000-8000-0000000000aa", AttackerIds: []string{"a", "b"}, Sessions: 3}},
		NextPageToken: "next",
	}}
	f := newFixture(t, options{identities: ids})
	ctx := context.Background()
	viewer := f.loginNewUser(t, "viewer-v", apiv1.Role_ROLE_VIEWER)
	client := apiv1connect.NewIdentityServiceClient(f.h1, f.srv.URL)

	resp, err := client.ListIdentities(ctx, withToken(&apiv1.ListIdentitiesRequest{PageSize: 5, PageToken: "t", MinAttackers: 2}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Msg.GetIdentities(); len(got) != 1 || got[0].GetSessions() != 3 || len(got[0].GetAttackerIds()) != 2 {
		t.Errorf("identities = %v, want the fake's one identity", got)
	}
	if resp.Msg.GetNextPageToken() != "next" {
		t.Errorf("next_page_token = %q, want %q", resp.Msg.GetNextPageToken(), "next")
	}
	if want := (identity.IdentityQuery{MinAttackers: 2, PageSize: 5, PageToken: "t"}); ids.query != want {
		t.Errorf("query = %+v, want %+v", ids.query, want)
	}

	_, err = client.ListIdentities(ctx, withToken(&apiv1.ListIdentitiesRequest{PageToken: "bad"}, viewer))
	if got := connect.CodeOf(err); got != connect.CodeInvalidArgument {
		t.Errorf("bad page token: code = %v (%v), want InvalidArgument", got, err)
	}
}

func TestListIdentitiesWithoutWorker(t *testing.T) {
	f := newFixture(t, options{})
	resp, err := apiv1connect.NewIdentityServiceClient(f.h1, f.srv.URL).ListIdentities(context.Background(),
		withToken(&apiv1.ListIdentitiesRequest{}, f.login(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Msg.GetIdentities()) != 0 || resp.Msg.GetNextPageToken() != "" {
		t.Errorf("response = %v, want an empty list", resp.Msg)
	}

	_, err = apiv1connect.NewIdentityServiceClient(f.h1, f.srv.URL).ListIdentities(context.Background(), connect.NewRequest(&apiv1.ListIdentitiesRequest{}))
	var cerr *connect.Error
	if !errors.As(err, &cerr) || cerr.Code() != connect.CodeUnauthenticated {
		t.Errorf("without a token: %v, want Unauthenticated", err)
	}
}

// identitySession queues one session of attacker from address that
// fetches each host's payload, on the real identity worker. Sessions that
// fetch the same payload join one identity.
func identitySession(w *identity.Worker, at time.Time, attacker, address string, hosts ...string) {
	sid := uuid.Must(uuid.NewV7()).String()
	ev := func(kind string) *eventv1.Event {
		at = at.Add(time.Second)
		return &eventv1.Event{Id: uuid.Must(uuid.NewV7()).String(), Time: timestamppb.New(at), Decky: "web-01", Service: "ssh",
			Kind: kind, SessionId: sid, Source: &eventv1.Endpoint{Address: address, Port: 40000}}
	}
	batch := []*apiv1.StoredEvent{{AttackerId: attacker, Event: ev("connection.opened")}}
	for _, host := range hosts {
		// Each host serves a payload of its own.
		digest := sha256.Sum256([]byte(host))
		sum := digest[:]
		url := "http://" + host + "/bins/x86.sh"
		dl := ev("download.requested")
		dl.Payload = &eventv1.Event_DownloadRequested{DownloadRequested: &eventv1.DownloadRequested{Url: url, Tool: "wget", Outcome: "fetched", Sha256: sum}}
		fc := ev("file.captured")
		fc.Payload = &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{Sha256: sum, Size: 4096, Name: "x86.sh", Channel: "download", Url: url, Stored: true}}
		batch = append(batch, &apiv1.StoredEvent{AttackerId: attacker, Event: dl}, &apiv1.StoredEvent{AttackerId: attacker, Event: fc})
	}
	w.Observe(batch)
}

// GetIdentity of an identity that was merged away returns the identity
// that absorbed it, with merged_from naming the id asked for, so a link
// kept from before the merge still leads somewhere.
func TestGetIdentityResolvesMerged(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "identities.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w, err := identity.NewWorker(identity.WorkerConfig{Store: st, Notices: topics.New[*apiv1.Notice](), Logger: zerolog.Nop(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	flush := func() {
		t.Helper()
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	identityOf := func(attacker string) string {
		t.Helper()
		id, ok := w.AttackerIdentity(attacker)
		if !ok {
			t.Fatalf("attacker %s has no identity", attacker)
		}
		return id.GetId()
	}

	// Two attackers with payloads of their own form two identities; a
	// third fetching both joins them, and the older identity wins.
	first, second, bridge := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	identitySession(w, now, first, "198.51.100.1", "203.0.113.1")
	flush()
	identitySession(w, now, second, "198.51.100.2", "203.0.113.2")
	flush()
	winner, loser := identityOf(first), identityOf(second)
	if winner == loser {
		t.Fatalf("attackers share identity %s before the bridging session", winner)
	}
	identitySession(w, now, bridge, "198.51.100.3", "203.0.113.1", "203.0.113.2")
	flush()

	f := newFixture(t, options{identities: w})
	viewer := f.loginNewUser(t, "viewer-i", apiv1.Role_ROLE_VIEWER)
	client := apiv1connect.NewIdentityServiceClient(f.h1, f.srv.URL)

	resp, err := client.GetIdentity(ctx, withToken(&apiv1.GetIdentityRequest{Id: loser}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	wantAttackers := slices.Sorted(slices.Values([]string{first, second, bridge}))
	if got := resp.Msg.GetIdentity(); got.GetId() != winner || resp.Msg.GetMergedFrom() != loser ||
		!slices.Equal(got.GetAttackerIds(), wantAttackers) || got.GetSessions() != 3 {
		t.Errorf("GetIdentity(%s) = %v, want %s with attackers %v and 3 sessions, merged from %s", loser, resp.Msg, winner, wantAttackers, loser)
	}

	// The winner's own id returns it with merged_from empty.
	resp, err = client.GetIdentity(ctx, withToken(&apiv1.GetIdentityRequest{Id: winner}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Msg.GetIdentity().GetId() != winner || resp.Msg.GetMergedFrom() != "" {
		t.Errorf("GetIdentity(%s) = %v, want it with merged_from empty", winner, resp.Msg)
	}

	_, err = client.GetIdentity(ctx, withToken(&apiv1.GetIdentityRequest{Id: uuid.Must(uuid.NewV7()).String()}, viewer))
	if code := connect.CodeOf(err); code != connect.CodeNotFound {
		t.Errorf("unknown id: code = %v (%v), want NotFound", code, err)
	}
}
