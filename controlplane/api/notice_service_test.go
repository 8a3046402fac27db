package api

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

func TestStreamNotices(t *testing.T) {
	bus := topics.New[*apiv1.Notice]()
	f := newFixture(t, options{notices: bus})
	viewer := f.loginNewUser(t, "viewer-n", apiv1.Role_ROLE_VIEWER)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	client := apiv1connect.NewNoticeServiceClient(f.h2c, f.srv.URL)
	stream, err := client.StreamNotices(ctx, withToken(&apiv1.StreamNoticesRequest{Pattern: "identity.>"}, viewer))
	if err != nil {
		t.Fatalf("StreamNotices: %v", err)
	}
	defer stream.Close()

	// The call returned after the subscription, so both notices reach
	// the matcher; only the identity one matches.
	captured := &apiv1.Notice{Id: "n-1", Subject: "credential.captured", Summary: "root on ssh"}
	merged := &apiv1.Notice{Id: "n-2", Subject: "identity.merged", Summary: "merged", Detail: &apiv1.Notice_Identity{
		Identity: &apiv1.IdentityChange{IdentityId: "winner", OtherId: "loser"},
	}}
	for _, n := range []*apiv1.Notice{captured, merged} {
		if err := bus.Publish(n.GetSubject(), n); err != nil {
			t.Fatal(err)
		}
	}
	if !stream.Receive() {
		t.Fatalf("Receive: %v", stream.Err())
	}
	got := stream.Msg().GetNotice()
	if got.GetId() != "n-2" || got.GetIdentity().GetOtherId() != "loser" {
		t.Errorf("streamed %v, want the identity.merged notice", got)
	}
}

func TestStreamNoticesMasksEventSecrets(t *testing.T) {
	bus := topics.New[*apiv1.Notice]()
	f := newFixture(t, options{notices: bus})
	viewer := f.loginNewUser(t, "viewer-m", apiv1.Role_ROLE_VIEWER)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stream, err := apiv1connect.NewNoticeServiceClient(f.h2c, f.srv.URL).StreamNotices(ctx, withToken(&apiv1.StreamNoticesRequest{}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	ev := newEvent("127.0.0.2", "auth.attempt")
	n := &apiv1.Notice{Id: "n-3", Subject: "credential.captured", Detail: &apiv1.Notice_Event{Event: &apiv1.StoredEvent{Event: ev}}}
	if err := bus.Publish(n.GetSubject(), n); err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() {
		t.Fatalf("Receive: %v", stream.Err())
	}
	attempt := stream.Msg().GetNotice().GetEvent().GetEvent().GetAuthAttempt()
	if len(attempt.GetSecret()) != 0 || attempt.GetPrincipal() != "root" {
		t.Errorf("viewer received attempt %v, want the secret masked", attempt)
	}
	// The published notice itself is unchanged for other subscribers.
	if string(ev.GetAuthAttempt().GetSecret()) != "toor" {
		t.Errorf("masking changed the published notice")
	}
}

func TestStreamNoticesBadPattern(t *testing.T) {
	f := newFixture(t, options{notices: topics.New[*apiv1.Notice]()})
	token := f.login(t)
	stream, err := apiv1connect.NewNoticeServiceClient(f.h1, f.srv.URL).StreamNotices(context.Background(),
		withToken(&apiv1.StreamNoticesRequest{Pattern: "identity.>.x"}, token))
	if err == nil {
		for stream.Receive() {
		}
		err = stream.Err()
	}
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("bad pattern: %v, want invalid_argument", err)
	}
}
