package api

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// A ticket opens one Server-Sent Events stream, once; the events are
// the ones stored after it opened.
func TestTicketStream(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	issue := func() string {
		t.Helper()
		resp, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).IssueStreamTicket(ctx, withToken(&apiv1.IssueStreamTicketRequest{}, admin))
		if err != nil {
			t.Fatal(err)
		}
		f.recordToken(resp.Msg.GetTicket())
		return resp.Msg.GetTicket()
	}
	ticket := issue()

	streamCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(streamCtx, http.MethodGet, f.srv.URL+StreamPath+"?kind=auth.attempt&ticket="+ticket, nil)
	resp, err := f.h1.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, ": stream open") {
		t.Fatalf("first line %q", line)
	}
	f.ingest(t, newEvent("127.0.0.2", "connection.opened"), newEvent("127.0.0.2", "auth.attempt"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			if !strings.Contains(line, `"kind":"auth.attempt"`) || !strings.Contains(line, `"principal":"root"`) {
				t.Errorf("event %s", line)
			}
			break
		}
	}

	// The ticket was used; a made-up one is refused too.
	for _, tk := range []string{ticket, "not-a-ticket"} {
		resp, err := f.h1.Get(f.srv.URL + StreamPath + "?ticket=" + tk)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("ticket %q: status %d, want 401", tk, resp.StatusCode)
		}
	}
}

// One user may hold DefaultStreamsPerUser streams; the next is refused.
func TestStreamsPerUserCapped(t *testing.T) {
	f := newFixture(t, options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin := f.login(t)
	client := apiv1connect.NewEventServiceClient(f.h2c, f.srv.URL)
	var streams []*connect.ServerStreamForClient[apiv1.StreamEventsResponse]
	for range DefaultStreamsPerUser {
		s, err := client.StreamEvents(ctx, withToken(&apiv1.StreamEventsRequest{}, admin))
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	extra, err := client.StreamEvents(ctx, withToken(&apiv1.StreamEventsRequest{}, admin))
	if err == nil {
		extra.Receive()
		err = extra.Err()
	}
	if connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Errorf("stream over the cap: %v, want resource_exhausted", err)
	}
	// Closing one frees a slot.
	_ = streams[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := client.StreamEvents(ctx, withToken(&apiv1.StreamEventsRequest{}, admin))
		if err == nil {
			_ = s.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot after closing a stream: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A stream opened with a ticket that a viewer-role API token asked for
// masks secrets, although the token's user is an admin: the ticket
// carries the token's role, not only its user.
func TestTicketStreamKeepsTokenRole(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	created, err := apiv1connect.NewApiTokenServiceClient(f.h1, f.srv.URL).CreateApiToken(ctx,
		withToken(&apiv1.CreateApiTokenRequest{Name: "wallboard", Role: apiv1.Role_ROLE_VIEWER}, admin))
	if err != nil {
		t.Fatal(err)
	}
	token := created.Msg.GetSecret()
	f.recordToken(token)

	first := func(bearer string) string {
		t.Helper()
		resp, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).IssueStreamTicket(ctx, withToken(&apiv1.IssueStreamTicketRequest{}, bearer))
		if err != nil {
			t.Fatal(err)
		}
		f.recordToken(resp.Msg.GetTicket())
		streamCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(streamCtx, http.MethodGet, f.srv.URL+StreamPath+"?kind=auth.attempt&ticket="+resp.Msg.GetTicket(), nil)
		stream, err := f.h1.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Body.Close()
		r := bufio.NewReader(stream.Body)
		if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, ": stream open") {
			t.Fatalf("first line %q", line)
		}
		f.ingest(t, newEvent("127.0.0.2", "auth.attempt"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if strings.HasPrefix(line, "data: ") {
				return line
			}
		}
	}
	// The secret "toor" is base64 "dG9vcg==" in protojson.
	if line := first(admin); !strings.Contains(line, "dG9vcg==") {
		t.Errorf("admin session stream masks the secret: %s", line)
	}
	if line := first(token); strings.Contains(line, "dG9vcg==") || !strings.Contains(line, `"principal":"root"`) {
		t.Errorf("viewer token stream = %s, want the event without its secret", line)
	}
}
