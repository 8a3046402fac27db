package campaign_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/campaign"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// activity is an identity active for an hour on its own decky, naming
// the given infrastructure keys.
func activity(id string, hour int, infra ...string) *campaign.Activity {
	first := t0.Add(time.Duration(hour) * time.Hour)
	a := &campaign.Activity{
		Identity: id, Attackers: []string{"attacker-" + id}, First: first, Last: first.Add(time.Hour),
		Spans: map[campaign.Target]campaign.Span{
			{Decky: "decky-" + id, Service: "ssh"}: {First: first, Last: first.Add(time.Hour), Phase: campaign.PhaseShell},
		},
		Infra: map[string]struct{}{}, Found: map[string]time.Time{}, Direct: map[string]time.Time{},
	}
	for _, k := range infra {
		a.Infra[k] = struct{}{}
	}
	return a
}

func newEngine(t *testing.T) (*campaign.Engine, *recorder) {
	t.Helper()
	rec := &recorder{}
	seq := 0
	e, err := campaign.NewEngine(campaign.EngineConfig{
		Publisher: rec,
		NewID:     func() string { seq++; return fmt.Sprintf("campaign-%d", seq) },
		Now:       func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, rec
}

func subjects(changes []campaign.Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Subject+" "+c.CampaignID+" "+c.OtherID+" "+c.IdentityID)
	}
	return out
}

func TestEngineFormsOnlyGroups(t *testing.T) {
	e, rec := newEngine(t)
	err := e.Observe([]*campaign.Activity{
		activity("a", 0, "c2:x.example"), activity("b", 1, "c2:x.example"), activity("lone", 2, "c2:y.example"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"campaign.formed campaign-1  ",
		"campaign.identity.linked campaign-1  a",
		"campaign.identity.linked campaign-1  b",
	}
	if got := subjects(rec.changes); !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if got := e.CampaignOf("lone"); got != "" {
		t.Errorf("lone identity in campaign %q, want none", got)
	}
	live := e.Live()
	if len(live) != 1 || len(live[0].Members) != 2 || len(live[0].Links) != 1 {
		t.Fatalf("live = %+v, want one campaign of two members and one link", live)
	}
	if terms := live[0].Links[0].Terms; len(terms) != 1 || terms[0].Kind != campaign.KindInfrastructure {
		t.Errorf("link terms %+v, want one infrastructure term", terms)
	}
}

func TestEngineMergesAndUnmerges(t *testing.T) {
	e, rec := newEngine(t)
	north := []*campaign.Activity{activity("a", 0, "c2:n.example"), activity("b", 1, "c2:n.example")}
	south := []*campaign.Activity{activity("c", 2, "c2:s.example"), activity("d", 3, "c2:s.example")}
	if err := e.Observe(append(slices.Clone(north), south...)); err != nil {
		t.Fatal(err)
	}
	if e.CampaignOf("a") != "campaign-1" || e.CampaignOf("c") != "campaign-2" {
		t.Fatalf("campaigns a=%q c=%q, want campaign-1 and campaign-2", e.CampaignOf("a"), e.CampaignOf("c"))
	}

	// b and c now share a payload: the older campaign wins.
	rec.changes = nil
	bridged := []*campaign.Activity{
		north[0], activity("b", 1, "c2:n.example", "sha256:ab"),
		activity("c", 2, "c2:s.example", "sha256:ab"), south[1],
	}
	if err := e.Observe(bridged); err != nil {
		t.Fatal(err)
	}
	if got, want := subjects(rec.changes), []string{"campaign.merged campaign-1 campaign-2 "}; !slices.Equal(got, want) {
		t.Errorf("merge changes %q, want %q", got, want)
	}
	if got := e.Resolve("campaign-2"); got != "campaign-1" {
		t.Errorf("Resolve(campaign-2) = %q, want campaign-1", got)
	}
	if got := e.CampaignOf("d"); got != "campaign-1" {
		t.Errorf("d in %q after the merge, want campaign-1", got)
	}
	if live := e.Live(); len(live) != 1 || len(live[0].Members) != 4 {
		t.Errorf("live after merge = %d campaigns, want one of four members", len(live))
	}

	// The payload is gone from the evidence: the merge is revoked and
	// the loser revived.
	rec.changes = nil
	if err := e.Observe(append(slices.Clone(north), south...)); err != nil {
		t.Fatal(err)
	}
	if got, want := subjects(rec.changes), []string{"campaign.unmerged campaign-2 campaign-1 "}; !slices.Equal(got, want) {
		t.Errorf("unmerge changes %q, want %q", got, want)
	}
	if got := e.Resolve("campaign-2"); got != "campaign-2" {
		t.Errorf("Resolve(campaign-2) = %q after unmerge, want campaign-2", got)
	}
	if got := e.CampaignOf("d"); got != "campaign-2" {
		t.Errorf("d in %q after the unmerge, want campaign-2", got)
	}
}

func TestEngineUnlinksLoneIdentity(t *testing.T) {
	e, rec := newEngine(t)
	if err := e.Observe([]*campaign.Activity{
		activity("a", 0, "c2:x.example"), activity("b", 1, "c2:x.example"), activity("c", 2, "c2:x.example"),
	}); err != nil {
		t.Fatal(err)
	}
	rec.changes = nil
	if err := e.Observe([]*campaign.Activity{
		activity("a", 0, "c2:x.example"), activity("b", 1, "c2:x.example"), activity("c", 2),
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := subjects(rec.changes), []string{"campaign.identity.unlinked campaign-1  c"}; !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if got := e.CampaignOf("c"); got != "" {
		t.Errorf("c in %q, want none", got)
	}
}

func TestEngineIgnoresCommonInfrastructure(t *testing.T) {
	e, _ := newEngine(t)
	var acts []*campaign.Activity
	for i := range campaign.InfraCommonIdentities + 1 {
		acts = append(acts, activity(fmt.Sprintf("id-%d", i), 10*i, "c2:popular.example"))
	}
	if err := e.Observe(acts); err != nil {
		t.Fatal(err)
	}
	if live := e.Live(); len(live) != 0 {
		t.Errorf("%d campaigns from a host shared by %d identities, want none", len(live), len(acts))
	}
}

// Campaign ids derive from the founding identity, so an engine rebuilt
// from the same activities after a restart gives the same ids, even when
// the running one saw the campaign grow over several passes.
func TestEngineIDsSurviveRebuild(t *testing.T) {
	acts := []*campaign.Activity{
		activity("a", 0, "c2:x.example"), activity("b", 1, "c2:x.example"),
		activity("c", 2, "c2:x.example"), activity("d", 3, "c2:y.example"), activity("e", 4, "c2:y.example"),
	}
	live, err := campaign.NewEngine(campaign.EngineConfig{Publisher: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	for n := 2; n <= len(acts); n++ {
		if err := live.Observe(acts[:n]); err != nil {
			t.Fatal(err)
		}
	}
	rebuilt, err := campaign.NewEngine(campaign.EngineConfig{Publisher: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rebuilt.Observe(acts); err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		want := live.Resolve(live.CampaignOf(a.Identity))
		if got := rebuilt.CampaignOf(a.Identity); got != want || got == "" {
			t.Errorf("identity %s: campaign %q after rebuild, %q before", a.Identity, got, want)
		}
	}
	if x, y := live.CampaignOf("a"), live.CampaignOf("d"); x == y {
		t.Errorf("two operations share campaign %q", x)
	}
}
