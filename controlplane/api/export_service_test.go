package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

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
