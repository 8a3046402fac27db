package api

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func TestSessionRecordingReplay(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	ctx := context.Background()

	const cast = `{"version": 2, "width": 80, "height": 24}` + "\n" + `[0.25, "o", "root@web-01:~# "]` + "\n" + `[1.5, "i", "id\r"]` + "\n"
	recorded := newEvent("127.0.0.2", "session.recorded")
	recorded.SessionId = "session-1"
	recorded.Payload = &eventv1.Event_SessionRecorded{SessionRecorded: &eventv1.SessionRecorded{
		Cast: []byte(cast), DurationMs: 1500, Width: 80, Height: 24, InputBytes: 3, OutputBytes: 15,
	}}
	f.ingest(t, recorded, newEvent("127.0.0.3", "connection.opened"))

	sessions := apiv1connect.NewSessionServiceClient(f.h1, f.srv.URL)
	got, err := sessions.GetSessionRecording(ctx, withToken(&apiv1.GetSessionRecordingRequest{SessionId: "session-1"}, token))
	if err != nil {
		t.Fatalf("GetSessionRecording: %v", err)
	}
	if string(got.Msg.GetCast()) != cast {
		t.Errorf("cast = %q, want %q", got.Msg.GetCast(), cast)
	}
	if k := got.Msg.GetKeystrokes(); k == nil || k.GetKeys() != 1 || len(k.GetDigraphSimhash()) != 16 {
		t.Errorf("keystrokes = %v", k)
	}
	rec := got.Msg.GetRecording()
	if rec.GetEventId() != recorded.GetId() || rec.GetDurationMs() != 1500 || rec.GetSourceAddress() != "127.0.0.2" ||
		rec.GetAttackerId() == "" || rec.GetCastBytes() != uint64(len(cast)) {
		t.Errorf("recording = %+v", rec)
	}

	list, err := sessions.ListSessionRecordings(ctx, withToken(&apiv1.ListSessionRecordingsRequest{AttackerId: rec.GetAttackerId()}, token))
	if err != nil {
		t.Fatalf("ListSessionRecordings: %v", err)
	}
	if rs := list.Msg.GetRecordings(); len(rs) != 1 || rs[0].GetSessionId() != "session-1" {
		t.Errorf("ListSessionRecordings = %v", rs)
	}

	// The event list keeps the metadata but not the recording.
	events := apiv1connect.NewEventServiceClient(f.h1, f.srv.URL)
	evs, err := events.ListEvents(ctx, withToken(&apiv1.ListEventsRequest{Filter: &apiv1.EventFilter{Kind: "session.recorded"}}, token))
	if err != nil {
		t.Fatal(err)
	}
	if e := evs.Msg.GetEvents(); len(e) != 1 || len(e[0].GetEvent().GetSessionRecorded().GetCast()) != 0 || e[0].GetEvent().GetSessionRecorded().GetWidth() != 80 {
		t.Errorf("listed events = %v", e)
	}

	for name, tc := range map[string]struct {
		req  *apiv1.GetSessionRecordingRequest
		want connect.Code
	}{
		"unknown session": {&apiv1.GetSessionRecordingRequest{SessionId: "nope"}, connect.CodeNotFound},
		"empty session":   {&apiv1.GetSessionRecordingRequest{}, connect.CodeInvalidArgument},
	} {
		if _, err := sessions.GetSessionRecording(ctx, withToken(tc.req, token)); connect.CodeOf(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// The typing rhythm comes with the recording: timings and counts, never
// the keys.
func TestSessionRecordingKeystrokes(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	ctx := context.Background()

	const cast = `{"version": 2, "width": 80, "height": 24}` + "\n" +
		`[0.5, "i", "l"]` + "\n" + `[0.62, "i", "s"]` + "\n" + `[0.75, "i", "\r"]` + "\n" +
		`[3.5, "i", "uname -a\r"]` + "\n" + `[3.6, "o", "Linux web-01"]` + "\n"
	recorded := newEvent("127.0.0.2", "session.recorded")
	recorded.SessionId = "session-k"
	recorded.Payload = &eventv1.Event_SessionRecorded{SessionRecorded: &eventv1.SessionRecorded{Cast: []byte(cast), DurationMs: 3600, Width: 80, Height: 24}}
	f.ingest(t, recorded)

	got, err := apiv1connect.NewSessionServiceClient(f.h1, f.srv.URL).GetSessionRecording(ctx,
		withToken(&apiv1.GetSessionRecordingRequest{SessionId: "session-k"}, token))
	if err != nil {
		t.Fatal(err)
	}
	k := got.Msg.GetKeystrokes()
	if k.GetKeys() != 3 || k.GetPastes() != 1 || k.GetPasteChars() != 9 || k.GetThinkPauses() != 1 || k.GetIntervals() != 2 {
		t.Errorf("keystrokes = %v", k)
	}
	if k.GetMedianMs() < 100 || k.GetMedianMs() > 150 {
		t.Errorf("median interval %.1f ms, want between the two gaps of 120 and 130 ms", k.GetMedianMs())
	}
	if strings.Contains(k.String(), "uname") {
		t.Error("keystrokes carry typed text")
	}
}
