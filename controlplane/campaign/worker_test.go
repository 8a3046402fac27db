package campaign_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/campaign"
	"github.com/decnet/decnet/controlplane/campaign/scenario"
	"github.com/decnet/decnet/controlplane/identity"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// truthIdentities returns the dataset's identities, as a perfect
// identity layer would.
type truthIdentities struct{ d *scenario.Dataset }

func (f truthIdentities) SessionIdentities(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = f.d.Identity[k]
	}
	return out
}

func builtin(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	for _, s := range scenario.Builtin() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no built-in scenario %q", name)
	return nil
}

// noticeLog subscribes to campaign.> and keeps the subjects in order.
type noticeLog struct {
	mu       sync.Mutex
	subjects []string
	notices  []*apiv1.Notice
}

func subscribe(t *testing.T, pub *topics.Publisher[*apiv1.Notice]) *noticeLog {
	t.Helper()
	l := &noticeLog{}
	if _, err := pub.Subscribe("campaign.>", func(s string, n *apiv1.Notice) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.subjects = append(l.subjects, s)
		l.notices = append(l.notices, n)
	}); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestWorkerListsAndMergesCampaigns(t *testing.T) {
	d := scenario.Generate(builtin(t, "shared-c2"), 1)
	pub := topics.New[*apiv1.Notice]()
	log := subscribe(t, pub)
	w, err := campaign.NewWorker(campaign.WorkerConfig{Identities: truthIdentities{d}, Notices: pub, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}

	// The south crew's downloads arrive last: until then each crew is
	// a campaign of its own, a brute forcer and the operator who used
	// the password it guessed.
	var early, downloads []*apiv1.StoredEvent
	for _, se := range d.Events {
		south := se.GetEvent().GetTime().AsTime().After(scenario.Epoch.Add(100 * time.Hour))
		if south && (se.GetEvent().GetDownloadRequested() != nil || se.GetEvent().GetFileCaptured() != nil) {
			downloads = append(downloads, se)
		} else {
			early = append(early, se)
		}
	}
	w.Observe(early)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	first, err := w.ListCampaigns(campaign.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 2 || len(first.Items[0].GetIdentityIds()) != 2 || len(first.Items[1].GetIdentityIds()) != 2 {
		t.Fatalf("before the south downloads: %v, want two campaigns of two identities", first.Items)
	}
	// Ties in size list the most recently active first: south, then north.
	north := first.Items[1].GetId()

	// The shared C2 host merges south into the older north campaign.
	w.Observe(downloads)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := w.ListCampaigns(campaign.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].GetId() != north || len(page.Items[0].GetIdentityIds()) != 4 {
		t.Fatalf("after both crews: %v, want campaign %s with four identities", page.Items, north)
	}
	c := page.Items[0]
	if len(c.GetAttackerIds()) != 4 || !c.GetFirstSeen().AsTime().Before(c.GetLastSeen().AsTime()) {
		t.Errorf("campaign attackers %v, seen %v to %v", c.GetAttackerIds(), c.GetFirstSeen().AsTime(), c.GetLastSeen().AsTime())
	}
	// Members follow identity_ids, and their attackers together are the
	// campaign's.
	var memberIDs, memberAttackers []string
	for _, m := range c.GetMembers() {
		memberIDs = append(memberIDs, m.GetIdentityId())
		if len(m.GetAttackerIds()) == 0 || !slices.IsSorted(m.GetAttackerIds()) {
			t.Errorf("member %s attackers %v, want a sorted, non-empty list", m.GetIdentityId(), m.GetAttackerIds())
		}
		memberAttackers = append(memberAttackers, m.GetAttackerIds()...)
	}
	if !slices.Equal(memberIDs, c.GetIdentityIds()) {
		t.Errorf("member identities %v, want %v", memberIDs, c.GetIdentityIds())
	}
	if got := slices.Compact(slices.Sorted(slices.Values(memberAttackers))); !slices.Equal(got, c.GetAttackerIds()) {
		t.Errorf("member attackers %v, want %v", got, c.GetAttackerIds())
	}
	kinds := map[string]bool{}
	for _, e := range c.GetEvidence() {
		for _, term := range e.GetTerms() {
			kinds[term.GetKind()] = true
		}
	}
	if !kinds[campaign.KindInfrastructure] || !kinds[campaign.KindCredential] {
		t.Errorf("evidence kinds %v, want infrastructure and credential", kinds)
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	if !slices.Contains(log.subjects, campaign.SubjectFormed) || !slices.Contains(log.subjects, campaign.SubjectMerged) {
		t.Errorf("notices %v, want campaign.formed and campaign.merged", log.subjects)
	}
	var loser string
	for _, n := range log.notices {
		if n.GetSubject() == campaign.SubjectMerged {
			loser = n.GetCampaign().GetOtherId()
		}
	}
	got, mergedFrom, ok := w.Campaign(loser)
	if !ok || got.GetId() != north || mergedFrom != loser {
		t.Errorf("Campaign(%q) = %v, %q, %v; want %s merged from it", loser, got.GetId(), mergedFrom, ok, north)
	}
	if _, _, ok := w.Campaign("no-such-campaign"); ok {
		t.Error("an unknown campaign id was found")
	}
}

func TestWorkerPages(t *testing.T) {
	s := &scenario.Scenario{Name: "pages"}
	for _, crew := range []string{"a", "b", "c"} {
		s.Actors = append(s.Actors,
			scenario.Actor{Label: crew + "-1", Campaign: crew, Phase: scenario.Shell, Targets: crew, Width: 1, Service: "ssh", Login: crew, C2: crew, Sessions: 1, Hours: 1},
			scenario.Actor{Label: crew + "-2", Campaign: crew, Phase: scenario.Shell, Targets: crew, Width: 1, Service: "ssh", Login: crew, C2: crew, Sessions: 1, Start: 48, Hours: 1},
		)
	}
	d := scenario.Generate(s, 3)
	w, err := campaign.NewWorker(campaign.WorkerConfig{Identities: truthIdentities{d}, Notices: topics.New[*apiv1.Notice](), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	w.Observe(d.Events)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	var ids []string
	token := ""
	for range 4 {
		page, err := w.ListCampaigns(campaign.Query{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			ids = append(ids, c.GetId())
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 3 {
		t.Errorf("pages listed %v, want three distinct campaigns", ids)
	}
	if _, err := w.ListCampaigns(campaign.Query{PageToken: "bm90LWEtdG9rZW4"}); !errors.Is(err, store.ErrInvalidPageToken) {
		t.Errorf("foreign token: err = %v, want ErrInvalidPageToken", err)
	}
}

// The worker reads identities from the real identity worker: the
// hand-off crew, whose identities share no tool or address, ends up in
// one campaign.
func TestWorkerWithIdentityWorker(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub := topics.New[*apiv1.Notice]()
	identities, err := identity.NewWorker(identity.WorkerConfig{Store: st, Notices: pub, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := campaign.NewWorker(campaign.WorkerConfig{Identities: identities, Notices: pub, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}

	s := builtin(t, "handoff")
	d := scenario.Generate(s, 5)
	identities.Observe(d.Events)
	w.Observe(d.Events)
	if err := identities.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	crew := map[string]bool{}
	for _, se := range d.Events {
		if d.Campaign[d.Identity[se.GetEvent().GetSessionId()]] == "crew" {
			crew[se.GetAttackerId()] = true
		}
	}
	page, err := w.ListCampaigns(campaign.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d campaigns, want the crew's only", len(page.Items))
	}
	got := page.Items[0].GetAttackerIds()
	if len(got) != len(crew) {
		t.Errorf("campaign attackers %v, want the crew's %d", got, len(crew))
	}
	for _, a := range got {
		if !crew[a] {
			t.Errorf("attacker %s in the crew's campaign is not the crew's", a)
		}
	}
}

// After a restart on the same store, the worker rebuilds the campaigns
// from the stored events under the same ids, and announces nothing: the
// campaigns are not news. Events the rebuild read that arrive again
// change nothing.
func TestWorkerRebuildsCampaignsFromStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := scenario.Generate(builtin(t, "shared-c2"), 1)
	agentID := d.Events[0].GetEvent().GetAgentId()
	if err := st.UpsertAgent(ctx, store.Agent{ID: agentID, Name: "edge-1", EnrolledAt: scenario.Epoch}); err != nil {
		t.Fatal(err)
	}
	for _, se := range d.Events {
		if _, err := st.IngestEvents(ctx, agentID, []*eventv1.Event{se.GetEvent()}, se.GetEvent().GetTime().AsTime()); err != nil {
			t.Fatal(err)
		}
	}

	before, err := campaign.NewWorker(campaign.WorkerConfig{Identities: truthIdentities{d}, Store: st, Notices: topics.New[*apiv1.Notice](), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	before.Observe(d.Events)
	if err := before.Flush(); err != nil {
		t.Fatal(err)
	}
	want := campaignIDs(t, before)
	if len(want) != 1 {
		t.Fatalf("campaigns before the restart %v, want the shared C2 one", want)
	}

	pub := topics.New[*apiv1.Notice]()
	log := subscribe(t, pub)
	after, err := campaign.NewWorker(campaign.WorkerConfig{Identities: truthIdentities{d}, Store: st, Notices: pub, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := after.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if err := after.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := campaignIDs(t, after); !slices.Equal(got, want) {
		t.Errorf("campaigns after the restart %v, want %v", got, want)
	}
	page, err := after.ListCampaigns(campaign.Query{})
	if err != nil || len(page.Items) != 1 || len(page.Items[0].GetIdentityIds()) != 4 {
		t.Fatalf("rebuilt campaigns %v (%v), want one of four identities", page.Items, err)
	}

	after.Observe(d.Events)
	if err := after.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := campaignIDs(t, after); !slices.Equal(got, want) {
		t.Errorf("campaigns after the rebuilt events arrived again %v, want %v", got, want)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.subjects) != 0 {
		t.Errorf("the rebuild announced %v, want nothing", log.subjects)
	}
}

// A pass clusters only the most recently active MaxIdentities
// identities.
func TestWorkerBoundsIdentities(t *testing.T) {
	s := &scenario.Scenario{Name: "bound"}
	for i, crew := range []string{"a", "b", "c"} {
		s.Actors = append(s.Actors,
			scenario.Actor{Label: crew + "-1", Campaign: crew, Phase: scenario.Shell, Targets: crew, Width: 1, Service: "ssh", Login: crew, C2: crew, Sessions: 1, Start: float64(100 * i), Hours: 1},
			scenario.Actor{Label: crew + "-2", Campaign: crew, Phase: scenario.Shell, Targets: crew, Width: 1, Service: "ssh", Login: crew, C2: crew, Sessions: 1, Start: float64(100*i + 48), Hours: 1},
		)
	}
	d := scenario.Generate(s, 3)
	w, err := campaign.NewWorker(campaign.WorkerConfig{Identities: truthIdentities{d}, Notices: topics.New[*apiv1.Notice](), Logger: zerolog.Nop(), MaxIdentities: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.Observe(d.Events)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := w.ListCampaigns(campaign.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || len(page.Items[0].GetIdentityIds()) != 2 {
		t.Fatalf("campaigns %v, want the latest crew's only", page.Items)
	}
	for _, id := range page.Items[0].GetIdentityIds() {
		if d.Campaign[id] != "c" {
			t.Errorf("identity %s of crew %q clustered, want crew c's only", id, d.Campaign[id])
		}
	}
}

func campaignIDs(t *testing.T, w *campaign.Worker) []string {
	t.Helper()
	page, err := w.ListCampaigns(campaign.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range page.Items {
		ids = append(ids, c.GetId())
	}
	slices.Sort(ids)
	return ids
}
