package api

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

const seededConfig = `# edge sensors
deckies:
  - name: web-01
    seed: 00112233445566778899aabbccddeeff
    services:
      - {name: ssh, listen: "0.0.0.0:22"}
  - name: db-01
    seed: ffeeddccbbaa99887766554433221100
    services: []
`

// Seeds derive keys: GetAgent never returns them, and a document sent
// back with the hidden marker keeps the stored ones.
func TestAgentConfigSeedsHidden(t *testing.T) {
	f := newFixture(t, options{})
	token := f.login(t)
	viewer := f.loginNewUser(t, "viewer-s", apiv1.Role_ROLE_VIEWER)
	ctx := context.Background()
	agents := apiv1connect.NewAgentServiceClient(f.h1, f.srv.URL)

	if _, err := agents.SetAgentConfig(ctx, withToken(&apiv1.SetAgentConfigRequest{AgentId: agentID, Document: []byte(seededConfig)}, token)); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{token, viewer} {
		resp, err := agents.GetAgent(ctx, withToken(&apiv1.GetAgentRequest{Id: agentID}, tok))
		if err != nil {
			t.Fatal(err)
		}
		shown := string(resp.Msg.GetDesiredConfig())
		if strings.Contains(shown, "00112233") || strings.Contains(shown, "ffeeddcc") {
			t.Fatalf("GetAgent shows a seed:\n%s", shown)
		}
		if strings.Count(shown, "seed: hidden") != 2 || !strings.Contains(shown, "# edge sensors") || !strings.Contains(shown, "name: db-01") {
			t.Errorf("GetAgent document:\n%s", shown)
		}
	}

	// The shown document, edited (db-01 removed, cache-01 added without a
	// seed), goes back: web-01 keeps its seed, cache-01 gets a new one.
	resp, err := agents.GetAgent(ctx, withToken(&apiv1.GetAgentRequest{Id: agentID}, token))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(resp.Msg.GetDesiredConfig()), "  - name: db-01\n    seed: hidden\n    services: []\n",
		"  - name: cache-01\n    services: []\n", 1)
	if edited == string(resp.Msg.GetDesiredConfig()) {
		t.Fatalf("edit did not apply to:\n%s", edited)
	}
	if _, err := agents.SetAgentConfig(ctx, withToken(&apiv1.SetAgentConfigRequest{AgentId: agentID, Document: []byte(edited)}, token)); err != nil {
		t.Fatal(err)
	}
	stored, err := f.store.GetAgentConfig(ctx, agentID)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(stored.Document)
	if !strings.Contains(doc, "seed: 00112233445566778899aabbccddeeff") || strings.Contains(doc, "hidden") || strings.Contains(doc, "ffeeddcc") {
		t.Errorf("stored document:\n%s", doc)
	}
	if i := strings.Index(doc, "cache-01"); i < 0 || !strings.Contains(doc[i:], "seed: ") {
		t.Errorf("cache-01 got no seed:\n%s", doc)
	}

	// A hidden seed for a decky the stored document lacks is refused.
	_, err = agents.SetAgentConfig(ctx, withToken(&apiv1.SetAgentConfigRequest{AgentId: agentID,
		Document: []byte("deckies:\n  - name: new-01\n    seed: hidden\n")}, token))
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), `"new-01"`) {
		t.Errorf("hidden seed of an unknown decky: %v", err)
	}

	// The audit log records the change without the document.
	entries, err := f.store.ListAudit(ctx, storeAuditAll())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries.Items {
		if strings.Contains(e.Request, "00112233") || strings.Contains(e.Request, "ZGVja2llcz") {
			t.Errorf("audit entry %s keeps the document: %s", e.Procedure, e.Request)
		}
	}
}

func TestHideSeedsUnparsable(t *testing.T) {
	if got := hideSeeds([]byte("deckies: [\n  seed: 0011")); got != nil {
		t.Errorf("hideSeeds of a broken document = %q, want nothing", got)
	}
	if got := hideSeeds([]byte("deckies: []\n")); string(got) != "deckies: []\n" {
		t.Errorf("hideSeeds without seeds = %q", got)
	}
}

func storeAuditAll() store.AuditQuery { return store.AuditQuery{PageSize: 100} }
