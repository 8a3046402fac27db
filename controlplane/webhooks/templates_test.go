package webhooks

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// hugeReuse is a reuse notice past every destination's limits, with
// attacker text that tries markup.
func hugeReuse() *apiv1.Notice {
	principal := "<!channel> @everyone [click](https://evil.example) **" + strings.Repeat("é", 9000)
	r := &apiv1.CredentialReuse{SecretSha256: []byte{1, 2, 3}, SecretKind: "plaintext", Principal: principal}
	for i := range 3000 {
		r.Targets = append(r.Targets, &apiv1.CredentialTarget{
			Decky: fmt.Sprintf("decky-%03d-%s", i, strings.Repeat("x", 40)), Service: "ssh", Attempts: uint64(i + 1),
		})
	}
	return &apiv1.Notice{
		Id: "0190f0a0-0000-7000-8000-00000000beef", Subject: "credential.reuse.detected",
		Time: timestamppb.New(testStart), AttackerId: "att-1",
		Summary: "credential for " + principal + " tried on 3000 targets",
		Detail:  &apiv1.Notice_CredentialReuse{CredentialReuse: r},
	}
}

func hugeIncident() message {
	inc := Incident{AttackerID: "att-1"}
	for i := range 300 {
		n := capturedNotice("att-1", fmt.Sprintf("198.51.100.%d", i%250), fmt.Sprintf("decky-%d", i))
		inc.add(n)
	}
	return message{notice: inc.notice("0190f0a0-0000-7000-8000-00000000cafe", testStart, 10*time.Minute), incident: &inc}
}

func messages() map[string]message {
	return map[string]message{
		"captured": {notice: capturedNotice("att-1", "198.51.100.7", "web-01")},
		"reuse":    {notice: hugeReuse()},
		"incident": hugeIncident(),
		"test":     {notice: testNotice("0190f0a0-0000-7000-8000-000000000001", "ops", testStart)},
	}
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func TestTruncateMarksAndCounts(t *testing.T) {
	if got := truncate("abcdef", 6); got != "abcdef" {
		t.Fatalf("no-op truncate = %q", got)
	}
	got := truncate(strings.Repeat("ü", 100), 20)
	if runes(got) != 20 || !strings.HasSuffix(got, truncMarker) {
		t.Fatalf("truncate = %q (%d runes)", got, runes(got))
	}
	if got := truncate("a\xffb", 10); !utf8.ValidString(got) {
		t.Fatalf("invalid UTF-8 kept: %q", got)
	}
}

func TestGenericEnvelope(t *testing.T) {
	n := capturedNotice("att-1", "198.51.100.7", "web-01")
	body, err := render(FormatGeneric, message{notice: n})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := render(FormatGeneric, message{notice: n})
	if string(body) != string(again) {
		t.Fatal("generic body is not stable")
	}
	if !strings.HasPrefix(string(body), `{"id":`) {
		t.Fatalf("keys not sorted: %s", body[:40])
	}
	var env struct {
		V       int    `json:"v"`
		ID      string `json:"id"`
		TS      string `json:"ts"`
		Topic   string `json:"topic"`
		Type    string `json:"type"`
		Payload struct {
			AttackerID string `json:"attacker_id"`
			Event      struct {
				Event struct {
					Decky       string `json:"decky"`
					AuthAttempt struct {
						Principal string `json:"principal"`
						Secret    string `json:"secret"`
					} `json:"auth_attempt"`
				} `json:"event"`
			} `json:"event"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if env.V != 1 || env.ID != n.GetId() || env.TS != "2026-03-01T12:00:00Z" || env.Topic != "credential.captured" || env.Type != "notice" {
		t.Fatalf("envelope = %+v", env)
	}
	p := env.Payload
	if p.AttackerID != "att-1" || p.Event.Event.Decky != "web-01" || p.Event.Event.AuthAttempt.Principal != "root" || p.Event.Event.AuthAttempt.Secret != "" {
		t.Fatalf("payload = %+v", p)
	}

	body, err = render(FormatGeneric, hugeIncident())
	if err != nil {
		t.Fatal(err)
	}
	var inc struct {
		Type     string `json:"type"`
		Incident struct {
			Count     int            `json:"count"`
			Subjects  map[string]int `json:"subjects"`
			Deckies   []string       `json:"deckies"`
			Truncated bool           `json:"truncated"`
		} `json:"incident"`
	}
	if err := json.Unmarshal(body, &inc); err != nil {
		t.Fatal(err)
	}
	if inc.Type != "incident" || inc.Incident.Count != 300 || inc.Incident.Subjects["credential.captured"] != 300 ||
		len(inc.Incident.Deckies) != maxIncidentValues || !inc.Incident.Truncated {
		t.Fatalf("incident = %+v", inc)
	}
}

func TestSlackLimits(t *testing.T) {
	for name, m := range messages() {
		t.Run(name, func(t *testing.T) {
			body, err := render(FormatSlack, m)
			if err != nil {
				t.Fatal(err)
			}
			var msg slackMessage
			if err := json.Unmarshal(body, &msg); err != nil {
				t.Fatal(err)
			}
			if msg.Text == "" || runes(msg.Text) > slackMaxText {
				t.Fatalf("fallback text has %d runes", runes(msg.Text))
			}
			if len(msg.Blocks) == 0 || len(msg.Blocks) > slackMaxBlocks {
				t.Fatalf("%d blocks", len(msg.Blocks))
			}
			if msg.Blocks[0].Type != "header" || runes(msg.Blocks[0].Text.Text) > slackMaxHeaderText {
				t.Fatalf("first block = %+v", msg.Blocks[0])
			}
			for i, b := range msg.Blocks {
				if b.Type != "header" && b.Type != "section" {
					t.Fatalf("block %d type %q", i, b.Type)
				}
				if b.Text == nil && len(b.Fields) == 0 {
					t.Fatalf("block %d is empty", i)
				}
				if b.Text != nil && (b.Text.Text == "" || runes(b.Text.Text) > slackMaxSectionText) {
					t.Fatalf("block %d text has %d runes", i, runes(b.Text.Text))
				}
				if len(b.Fields) > slackMaxFields {
					t.Fatalf("block %d has %d fields", i, len(b.Fields))
				}
				for _, f := range b.Fields {
					if runes(f.Text) > slackMaxFieldText {
						t.Fatalf("field has %d runes", runes(f.Text))
					}
				}
			}
			if strings.Contains(string(body), "<!channel>") || strings.Contains(string(body), "<https://") {
				t.Fatal("attacker markup reached Slack unescaped")
			}
			if name == "reuse" {
				if len(msg.Blocks) != slackMaxBlocks {
					t.Fatalf("reuse used %d blocks, want the full %d", len(msg.Blocks), slackMaxBlocks)
				}
				if last := msg.Blocks[len(msg.Blocks)-1].Text.Text; !strings.HasPrefix(last, truncMarker) {
					t.Fatalf("last block %q lacks the marker", last)
				}
				if !strings.Contains(msg.Text, truncMarker) {
					t.Fatal("fallback text cut without a marker")
				}
			}
		})
	}
}

func TestTeamsLimits(t *testing.T) {
	for name, m := range messages() {
		t.Run(name, func(t *testing.T) {
			body, err := render(FormatTeams, m)
			if err != nil {
				t.Fatal(err)
			}
			if len(body) > teamsMaxBytes {
				t.Fatalf("message is %d bytes, limit %d", len(body), teamsMaxBytes)
			}
			var msg struct {
				Type        string `json:"type"`
				Attachments []struct {
					ContentType string           `json:"contentType"`
					ContentURL  *string          `json:"contentUrl"`
					Content     *json.RawMessage `json:"content"`
				} `json:"attachments"`
			}
			if err := json.Unmarshal(body, &msg); err != nil {
				t.Fatal(err)
			}
			if msg.Type != "message" || len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
				t.Fatalf("message = %+v", msg)
			}
			var card teamsCard
			if err := json.Unmarshal(*msg.Attachments[0].Content, &card); err != nil {
				t.Fatal(err)
			}
			if card.Type != "AdaptiveCard" || card.Version != "1.4" || card.Schema == "" || len(card.Body) < 2 {
				t.Fatalf("card = %+v", card)
			}
			if card.Body[0].Type != "TextBlock" || !strings.Contains(card.Body[0].Text, "DECNET") {
				t.Fatalf("title block = %+v", card.Body[0])
			}
			if name == "reuse" && !strings.Contains(string(body), truncMarker) {
				t.Fatal("oversized card cut without a marker")
			}
			if strings.Contains(string(body), "[click](https") {
				t.Fatal("attacker link reached Teams as markdown")
			}
		})
	}
}

func TestDiscordLimits(t *testing.T) {
	for name, m := range messages() {
		t.Run(name, func(t *testing.T) {
			body, err := render(FormatDiscord, m)
			if err != nil {
				t.Fatal(err)
			}
			var msg discordMessage
			if err := json.Unmarshal(body, &msg); err != nil {
				t.Fatal(err)
			}
			if msg.Content == "" || runes(msg.Content) > discordMaxContent {
				t.Fatalf("content has %d runes", runes(msg.Content))
			}
			if len(msg.Embeds) == 0 || len(msg.Embeds) > discordMaxEmbeds {
				t.Fatalf("%d embeds", len(msg.Embeds))
			}
			if !strings.Contains(string(body), `"allowed_mentions":{"parse":[]}`) {
				t.Fatal("mentions not disabled")
			}
			total := 0
			for _, e := range msg.Embeds {
				total += e.chars()
				if e.Title == "" || runes(e.Title) > discordMaxTitle || runes(e.Description) > discordMaxDescription {
					t.Fatalf("title %d, description %d runes", runes(e.Title), runes(e.Description))
				}
				if len(e.Fields) > discordMaxFields {
					t.Fatalf("%d fields", len(e.Fields))
				}
				for _, f := range e.Fields {
					if f.Name == "" || f.Value == "" || runes(f.Name) > discordMaxFieldName || runes(f.Value) > discordMaxFieldValue {
						t.Fatalf("field %q: %d/%d runes", f.Name, runes(f.Name), runes(f.Value))
					}
				}
				if e.Footer == nil || runes(e.Footer.Text) > discordMaxFooter {
					t.Fatal("footer missing or too long")
				}
			}
			if total > discordMaxEmbedTotal {
				t.Fatalf("embeds total %d runes, limit %d", total, discordMaxEmbedTotal)
			}
			if name == "reuse" && !strings.Contains(msg.Embeds[0].Description, truncMarker) {
				t.Fatal("description cut without a marker")
			}
			if strings.Contains(string(body), "[click](https") {
				t.Fatal("attacker link reached Discord as markdown")
			}
		})
	}
}

func TestTheHiveAlertFields(t *testing.T) {
	wantSeverity := map[string]int{"captured": 2, "reuse": 3, "incident": 2, "test": 1}
	seen := map[string]bool{}
	for name, m := range messages() {
		t.Run(name, func(t *testing.T) {
			body, err := render(FormatTheHive, m)
			if err != nil {
				t.Fatal(err)
			}
			var a theHiveAlert
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatal(err)
			}
			if a.Type == "" || a.Source != "DECNET" || a.SourceRef != m.notice.GetId() || a.Title == "" || a.Description == "" {
				t.Fatalf("alert = %+v", a)
			}
			if seen[a.SourceRef] {
				t.Fatalf("sourceRef %s reused", a.SourceRef)
			}
			seen[a.SourceRef] = true
			if a.Severity != wantSeverity[name] || a.Severity < 1 || a.Severity > 4 {
				t.Fatalf("severity %d, want %d", a.Severity, wantSeverity[name])
			}
			if a.Date != testStart.UnixMilli() || a.TLP != 2 || a.PAP != 2 {
				t.Fatalf("date %d tlp %d pap %d", a.Date, a.TLP, a.PAP)
			}
			if len(a.Tags) == 0 || a.Tags[0] != "decnet" || len(a.Tags) > theHiveMaxTags {
				t.Fatalf("tags = %v", a.Tags)
			}
			if runes(a.Title) > theHiveMaxTitle || runes(a.Description) > theHiveMaxDescription {
				t.Fatalf("title %d description %d runes", runes(a.Title), runes(a.Description))
			}
			switch name {
			case "captured":
				if len(a.Observables) != 1 || a.Observables[0].DataType != "ip" || a.Observables[0].Data != "198.51.100.7" {
					t.Fatalf("observables = %+v", a.Observables)
				}
			case "incident":
				if len(a.Observables) != 50 || a.Observables[0].DataType != "ip" {
					t.Fatalf("%d observables", len(a.Observables))
				}
			default:
				if len(a.Observables) != 0 {
					t.Fatalf("observables = %+v", a.Observables)
				}
			}
		})
	}
}

func TestRenderRemovesRawSecret(t *testing.T) {
	n := capturedNotice("att-1", "198.51.100.7", "web-01")
	for _, f := range formats {
		body, err := render(f, message{notice: n})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "aHVudGVyMg") {
			t.Fatalf("%s body carries the raw secret", f)
		}
	}
	if len(n.GetEvent().GetEvent().GetAuthAttempt().GetSecret()) == 0 {
		t.Fatal("render changed the published notice")
	}
}

func TestWazuhEvents(t *testing.T) {
	for name, m := range messages() {
		t.Run(name, func(t *testing.T) {
			body, err := render(FormatWazuh, m)
			if err != nil {
				t.Fatal(err)
			}
			var req struct {
				Events []string `json:"events"`
			}
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				t.Fatalf("body is not {events: [string]}: %v", err)
			}
			if len(req.Events) != 1 || len(req.Events) > wazuhMaxEvents {
				t.Fatalf("%d events, want 1", len(req.Events))
			}
			line := req.Events[0]
			if len(line) > wazuhMaxEventBytes {
				t.Fatalf("event is %d bytes, limit %d", len(line), wazuhMaxEventBytes)
			}
			if strings.ContainsAny(line, "\n\r") {
				t.Fatal("event spans lines; analysisd reads one line per event")
			}
			var ev struct {
				Integration string         `json:"integration"`
				SrcIP       string         `json:"srcip"`
				Decnet      map[string]any `json:"decnet"`
			}
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("event is not a JSON object: %v", err)
			}
			if ev.Integration != "decnet" || ev.Decnet["id"] != m.notice.GetId() || ev.Decnet["subject"] != m.notice.GetSubject() {
				t.Fatalf("event = %+v", ev)
			}
			switch name {
			case "captured":
				want := map[string]string{
					"decky": "web-01", "service": "ssh", "principal": "root", "secret_kind": "plaintext",
					"source": "198.51.100.7:40000", "time": "2026-03-01T12:00:00Z", "attacker": "att-1",
				}
				for k, v := range want {
					if ev.Decnet[k] != v {
						t.Errorf("decnet.%s = %v, want %q", k, ev.Decnet[k], v)
					}
				}
				if ev.SrcIP != "198.51.100.7" {
					t.Fatalf("srcip = %q", ev.SrcIP)
				}
			case "reuse":
				details, _ := ev.Decnet["details"].([]any)
				if len(details) == 0 || len(details) > wazuhMaxDetails+1 {
					t.Fatalf("%d details", len(details))
				}
				last, _ := details[len(details)-1].(string)
				if !strings.HasPrefix(last, truncMarker) || !strings.Contains(last, "more not shown") {
					t.Fatalf("last detail %q lacks the marker", last)
				}
				if ev.Decnet["secret_sha_256"] != "010203" || ev.Decnet["targets"] != "3000" {
					t.Fatalf("reuse fields = %v, %v", ev.Decnet["secret_sha_256"], ev.Decnet["targets"])
				}
				if p, _ := ev.Decnet["principal"].(string); !strings.HasPrefix(p, "<!channel>") || !strings.HasSuffix(p, truncMarker) {
					t.Fatalf("principal %.40q should be data, cut with the marker", p)
				}
			case "incident":
				addrs, _ := ev.Decnet["addresses"].([]any)
				if len(addrs) != maxIncidentValues || ev.SrcIP != "" || ev.Decnet["grouped_notices"] != "300" {
					t.Fatalf("incident: %d addresses, srcip %q, grouped %v", len(addrs), ev.SrcIP, ev.Decnet["grouped_notices"])
				}
			case "test":
				if ev.SrcIP != "" || ev.Decnet["summary"] != m.notice.GetSummary() {
					t.Fatalf("test event = %+v", ev)
				}
			}
		})
	}
}

func TestWazuhKey(t *testing.T) {
	for in, want := range map[string]string{
		"Secret SHA-256":  "secret_sha_256",
		"Grouped notices": "grouped_notices",
		"Decky":           "decky",
		" Key  fp ":       "key_fp",
	} {
		if got := wazuhKey(in); got != want {
			t.Errorf("wazuhKey(%q) = %q, want %q", in, got, want)
		}
	}
}
