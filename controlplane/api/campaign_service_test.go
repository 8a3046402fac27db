package api

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/campaign"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// fakeCampaigns records the last list query, returns a fixed page or
// ErrInvalidPageToken for the token "bad", and resolves "old" to the
// campaign "live".
type fakeCampaigns struct {
	page  store.Page[*apiv1.Campaign]
	query campaign.Query
}

func (f *fakeCampaigns) Campaign(id string) (*apiv1.Campaign, string, bool) {
	switch id {
	case "live":
		return &apiv1.Campaign{Id: "live", IdentityIds: []string{"i1", "i2"}}, "", true
	case "old":
		return &apiv1.Campaign{Id: "live", IdentityIds: []string{"i1", "i2"}}, "old", true
	}
	return nil, "", false
}

func (f *fakeCampaigns) ListCampaigns(q campaign.Query) (store.Page[*apiv1.Campaign], error) {
	f.query = q
	if q.PageToken == "bad" {
		return store.Page[*apiv1.Campaign]{}, store.ErrInvalidPageToken
	}
	return f.page, nil
}

func TestListCampaignsForViewer(t *testing.T) {
	fake := &fakeCampaigns{page: store.Page[*apiv1.Campaign]{
		Items: []*apiv1.Campaign{{
			Id: "live", IdentityIds: []string{"i1", "i2"}, AttackerIds: []string{"a1", "a2", "a3"},
			Evidence: []*apiv1.CampaignEvidence{{
				IdentityId: "i1", OtherIdentityId: "i2", Score: 1,
				Terms: []*apiv1.CampaignEvidenceTerm{{Kind: campaign.KindInfrastructure, Score: 1, Detail: "c2:x.example"}},
			}},
		}},
		NextPageToken: "next",
	}}
	f := newFixture(t, options{campaigns: fake})
	ctx := context.Background()
	viewer := f.loginNewUser(t, "viewer-c", apiv1.Role_ROLE_VIEWER)
	client := apiv1connect.NewCampaignServiceClient(f.h1, f.srv.URL)

	resp, err := client.ListCampaigns(ctx, withToken(&apiv1.ListCampaignsRequest{PageSize: 5, PageToken: "t"}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	got := resp.Msg.GetCampaigns()
	if len(got) != 1 || len(got[0].GetIdentityIds()) != 2 || len(got[0].GetEvidence()) != 1 {
		t.Fatalf("campaigns = %v, want the fake's one campaign", got)
	}
	if term := got[0].GetEvidence()[0].GetTerms()[0]; term.GetKind() != "infrastructure" || term.GetDetail() != "c2:x.example" {
		t.Errorf("evidence term = %v, want the fake's infrastructure term", term)
	}
	if resp.Msg.GetNextPageToken() != "next" {
		t.Errorf("next_page_token = %q, want %q", resp.Msg.GetNextPageToken(), "next")
	}
	if want := (campaign.Query{PageSize: 5, PageToken: "t"}); fake.query != want {
		t.Errorf("query = %+v, want %+v", fake.query, want)
	}

	_, err = client.ListCampaigns(ctx, withToken(&apiv1.ListCampaignsRequest{PageToken: "bad"}, viewer))
	if code := connect.CodeOf(err); code != connect.CodeInvalidArgument {
		t.Errorf("bad page token: code = %v (%v), want InvalidArgument", code, err)
	}
}

func TestGetCampaignResolvesMerged(t *testing.T) {
	f := newFixture(t, options{campaigns: &fakeCampaigns{}})
	ctx := context.Background()
	viewer := f.loginNewUser(t, "viewer-g", apiv1.Role_ROLE_VIEWER)
	client := apiv1connect.NewCampaignServiceClient(f.h1, f.srv.URL)

	resp, err := client.GetCampaign(ctx, withToken(&apiv1.GetCampaignRequest{Id: "old"}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Msg.GetCampaign().GetId() != "live" || resp.Msg.GetMergedFrom() != "old" {
		t.Errorf("GetCampaign(old) = %v, want campaign live merged from old", resp.Msg)
	}

	_, err = client.GetCampaign(ctx, withToken(&apiv1.GetCampaignRequest{Id: "missing"}, viewer))
	if code := connect.CodeOf(err); code != connect.CodeNotFound {
		t.Errorf("unknown id: code = %v (%v), want NotFound", code, err)
	}
}

func TestCampaignsWithoutWorker(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	token := f.login(t)
	client := apiv1connect.NewCampaignServiceClient(f.h1, f.srv.URL)

	resp, err := client.ListCampaigns(ctx, withToken(&apiv1.ListCampaignsRequest{}, token))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Msg.GetCampaigns()) != 0 || resp.Msg.GetNextPageToken() != "" {
		t.Errorf("response = %v, want an empty list", resp.Msg)
	}
	_, err = client.GetCampaign(ctx, withToken(&apiv1.GetCampaignRequest{Id: "any"}, token))
	if code := connect.CodeOf(err); code != connect.CodeNotFound {
		t.Errorf("GetCampaign without a worker: code = %v, want NotFound", code)
	}
	_, err = client.ListCampaigns(ctx, connect.NewRequest(&apiv1.ListCampaignsRequest{}))
	if code := connect.CodeOf(err); code != connect.CodeUnauthenticated {
		t.Errorf("without a token: code = %v, want Unauthenticated", code)
	}
}
