package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/campaign"
	"github.com/decnet/decnet/controlplane/identity"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// An attacker who logged in and ran discovery commands exports as a
// STIX bundle naming the techniques, and as a MISP event, without the
// password it used.
func TestExportAttacker(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	attempt := newEvent("127.0.0.2", "auth.attempt")
	attempt.GetAuthAttempt().Outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
	cmd := newEvent("127.0.0.2", "command")
	cmd.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: "uname -a", Channel: "shell"}}
	f.ingest(t, attempt, cmd)
	admin := f.login(t)

	list, err := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL).ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{}, admin))
	if err != nil || len(list.Msg.GetAttackers()) != 1 {
		t.Fatalf("attackers = %v, %v", list, err)
	}
	id := list.Msg.GetAttackers()[0].GetId()
	client := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL)

	stixResp, err := client.ExportAttacker(ctx, withToken(&apiv1.ExportAttackerRequest{Id: id, Format: apiv1.ExportFormat_EXPORT_FORMAT_STIX}, admin))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(stixResp.Msg.GetDocument())
	var bundle struct {
		Type    string           `json:"type"`
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(stixResp.Msg.GetDocument(), &bundle); err != nil || bundle.Type != "bundle" {
		t.Fatalf("not a bundle: %v", err)
	}
	for _, want := range []string{`"ipv4-addr"`, `"127.0.0.2"`, `"attack-pattern"`, `"T1082"`, `"T1078"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("bundle lacks %s", want)
		}
	}
	if strings.Contains(doc, "toor") || stixResp.Msg.GetContentType() != "application/stix+json;version=2.1" {
		t.Errorf("bundle leaks the password or has type %q", stixResp.Msg.GetContentType())
	}

	misp, err := client.ExportAttacker(ctx, withToken(&apiv1.ExportAttackerRequest{Id: id, Format: apiv1.ExportFormat_EXPORT_FORMAT_MISP}, admin))
	if err != nil {
		t.Fatal(err)
	}
	if m := string(misp.Msg.GetDocument()); !strings.Contains(m, `"Event"`) || !strings.Contains(m, `"ip-src"`) || strings.Contains(m, "toor") {
		t.Errorf("MISP event = %s", m)
	}
}

// staticGroups serves one identity per attacker pair and one campaign
// over both identities; "merged" resolves to the first identity.
type staticGroups struct {
	identities []*apiv1.AttackerIdentity
	campaign   *apiv1.Campaign
}

func (g *staticGroups) AttackerIdentity(string) (*apiv1.AttackerIdentity, bool) { return nil, false }

func (g *staticGroups) Identity(id string) (*apiv1.AttackerIdentity, string, bool) {
	if id == "merged" {
		return g.identities[0], "merged", true
	}
	for _, ident := range g.identities {
		if ident.GetId() == id {
			return ident, "", true
		}
	}
	return nil, "", false
}

func (g *staticGroups) ListIdentities(identity.IdentityQuery) (store.Page[*apiv1.AttackerIdentity], error) {
	return store.Page[*apiv1.AttackerIdentity]{Items: g.identities}, nil
}

func (g *staticGroups) Campaign(id string) (*apiv1.Campaign, string, bool) {
	if id == g.campaign.GetId() {
		return g.campaign, "", true
	}
	return nil, "", false
}

func (g *staticGroups) ListCampaigns(campaign.Query) (store.Page[*apiv1.Campaign], error) {
	return store.Page[*apiv1.Campaign]{Items: []*apiv1.Campaign{g.campaign}}, nil
}

// Three attackers stored from real events: two form one identity, the
// third another, and both identities one campaign. The identity and
// campaign exports carry exactly their members, never the password, and
// need the analyst role.
func TestExportIdentityAndCampaign(t *testing.T) {
	groups := &staticGroups{}
	f := newFixture(t, options{identities: groups, campaigns: groups})
	ctx := context.Background()
	for _, src := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		cmd := newEvent(src, "command")
		cmd.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: "uname -a", Channel: "shell"}}
		f.ingest(t, newEvent(src, "auth.attempt"), cmd)
	}
	admin := f.login(t)
	list, err := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL).ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{}, admin))
	if err != nil || len(list.Msg.GetAttackers()) != 3 {
		t.Fatalf("attackers = %v, %v", list, err)
	}
	byAddr := map[string]string{}
	for _, a := range list.Msg.GetAttackers() {
		byAddr[a.GetAddresses()[0]] = a.GetId()
	}
	identA := &apiv1.AttackerIdentity{Id: "0195a1b2-0000-7000-8000-0000000000a1", AttackerIds: []string{byAddr["127.0.0.2"], byAddr["127.0.0.3"]}, Sessions: 2}
	identB := &apiv1.AttackerIdentity{Id: "0195a1b2-0000-7000-8000-0000000000b2", AttackerIds: []string{byAddr["127.0.0.4"]}, Sessions: 1}
	groups.identities = []*apiv1.AttackerIdentity{identA, identB}
	groups.campaign = &apiv1.Campaign{
		Id: "0195a1b2-0000-7000-8000-0000000000c3", IdentityIds: []string{identA.GetId(), identB.GetId()},
		AttackerIds: []string{byAddr["127.0.0.2"], byAddr["127.0.0.3"], byAddr["127.0.0.4"]},
		Evidence: []*apiv1.CampaignEvidence{{IdentityId: identA.GetId(), OtherIdentityId: identB.GetId(), Score: 1,
			Terms: []*apiv1.CampaignEvidenceTerm{{Kind: "overlap", Score: 1}}}},
	}

	ids := apiv1connect.NewIdentityServiceClient(f.h1, f.srv.URL)
	resp, err := ids.ExportIdentity(ctx, withToken(&apiv1.ExportIdentityRequest{Id: "merged"}, admin))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(resp.Msg.GetDocument())
	if resp.Msg.GetIdentityId() != identA.GetId() || resp.Msg.GetContentType() != "application/stix+json;version=2.1" {
		t.Errorf("exported %q as %q", resp.Msg.GetIdentityId(), resp.Msg.GetContentType())
	}
	for _, want := range []string{"DECNET identity " + identA.GetId(), `"127.0.0.2"`, `"127.0.0.3"`, `"related-to"`, `"T1082"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("identity bundle lacks %s", want)
		}
	}
	if strings.Contains(doc, "127.0.0.4") || strings.Contains(doc, "toor") {
		t.Error("identity bundle carries another identity's address or the password")
	}

	camps := apiv1connect.NewCampaignServiceClient(f.h1, f.srv.URL)
	cresp, err := camps.ExportCampaign(ctx, withToken(&apiv1.ExportCampaignRequest{Id: groups.campaign.GetId(), Format: apiv1.ExportFormat_EXPORT_FORMAT_MISP}, admin))
	if err != nil {
		t.Fatal(err)
	}
	m := string(cresp.Msg.GetDocument())
	for _, want := range []string{`"Event"`, "DECNET campaign " + groups.campaign.GetId(), `"127.0.0.2"`, `"127.0.0.4"`, identB.GetId(), "campaign evidence"} {
		if !strings.Contains(m, want) {
			t.Errorf("campaign MISP event lacks %s", want)
		}
	}
	if strings.Contains(m, "toor") || cresp.Msg.GetContentType() != "application/json" {
		t.Errorf("campaign MISP leaks the password or has type %q", cresp.Msg.GetContentType())
	}

	if _, err := ids.ExportIdentity(ctx, withToken(&apiv1.ExportIdentityRequest{Id: "nope"}, admin)); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("unknown identity: %v", err)
	}
	if _, err := ids.ExportIdentity(ctx, withToken(&apiv1.ExportIdentityRequest{Id: identA.GetId(), Format: 9}, admin)); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("unknown format: %v", err)
	}
	groups.identities = append(groups.identities, &apiv1.AttackerIdentity{Id: "gone", AttackerIds: []string{"0195a1b2-0000-7000-8000-00000000dead"}})
	if _, err := ids.ExportIdentity(ctx, withToken(&apiv1.ExportIdentityRequest{Id: "gone"}, admin)); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("identity without stored attackers: %v", err)
	}
	viewer := f.loginNewUser(t, "viewer-x", apiv1.Role_ROLE_VIEWER)
	if _, err := ids.ExportIdentity(ctx, withToken(&apiv1.ExportIdentityRequest{Id: identA.GetId()}, viewer)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("viewer export: %v", err)
	}
}
