package api

import (
	"context"
	"errors"
	"testing"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/identity"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
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
