package webhooks

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// The Wazuh format posts to the Wazuh server API's event ingest,
// POST /events ("Ingest events" in the API reference,
// https://documentation.wazuh.com/current/user-manual/api/reference.html).
// In the Wazuh source (api/api/models/event_ingest_model.py and
// api/api/controllers/event_controller.py) the body is
// {"events": [string, ...]} with at most 100 strings, sent as
// application/json, each string one log line forwarded to analysisd, and
// the answer is 202. Every request carries a JWT as "Bearer <token>"
// (https://documentation.wazuh.com/current/user-manual/api/requests-responses.html).
// Wazuh's JSON decoder reads a line that is a JSON object, so rules can
// match fields such as decnet.subject, and a top-level srcip becomes the
// alert's source address.
//
// NOTE: the JWT expires (auth_token_exp_timeout, 900 s by default), and
// this format sends the stored Authorization header as it is. The
// dispatcher does not log in to Wazuh, so the operator raises the timeout
// or replaces the header in time. Nothing here was tried against a live
// Wazuh manager.
const (
	// wazuhMaxEvents is the API's bulk limit; one notice is one event.
	wazuhMaxEvents = 100
	// WazuhRateLimit is the highest rate limit a Wazuh subscription
	// accepts. The endpoint's reference text limits it to 30 requests a
	// minute, as its clients quote it; more would only earn refusals.
	WazuhRateLimit = 30
	// wazuhMaxEventBytes keeps one event under analysisd's message
	// buffer (OS_MAXSTR, 64 KiB in the Wazuh source), with room for the
	// header the manager puts in front of it.
	wazuhMaxEventBytes = 60 * 1000
	// wazuhIntegration names the producer in the way Wazuh's own
	// integrations do ({"integration": name, name: {...}}), so rules
	// written for those read ours the same way.
	wazuhIntegration = "decnet"
	// wazuhMaxValue and wazuhMaxDetails are the first caps on one value
	// and on the list of details; render halves both until the event
	// fits wazuhMaxEventBytes.
	wazuhMaxValue   = 4000
	wazuhMaxDetails = 256
)

type wazuhRequest struct {
	Events []string `json:"events"`
}

// wazuhEvent is one event line. Fields holds the notice's facts under
// snake_case keys, so a rule names them as decnet.decky or
// decnet.principal.
type wazuhEvent struct {
	Integration string         `json:"integration"`
	SrcIP       string         `json:"srcip,omitempty"`
	Decnet      map[string]any `json:"decnet"`
}

// wazuhKey turns a fact title such as "Secret SHA-256" into the field
// name secret_sha_256.
func wazuhKey(title string) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(title) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if underscore && b.Len() > 0 {
				b.WriteByte('_')
			}
			underscore = false
			b.WriteRune(r)
			continue
		}
		underscore = true
	}
	return b.String()
}

func renderWazuh(m message) ([]byte, error) {
	f := factsOfMessage(m)
	addrs := addresses(m)
	for limit, maxDetails := wazuhMaxValue, wazuhMaxDetails; ; limit, maxDetails = limit/2, maxDetails/2 {
		fields := map[string]any{
			"id":      m.notice.GetId(),
			"summary": truncate(m.notice.GetSummary(), limit),
		}
		if m.notice.GetTime() != nil {
			fields["time"] = m.notice.GetTime().AsTime().UTC().Format(time.RFC3339Nano)
		}
		for _, fc := range f.facts {
			fields[wazuhKey(fc.title)] = truncate(fc.value, limit)
		}
		if len(f.deckies) > 0 {
			fields["deckies"] = capList(f.deckies, maxDetails, limit)
		}
		if len(addrs) > 0 {
			fields["addresses"] = capList(addrs, maxDetails, limit)
		}
		if len(f.lines) > 0 {
			fields["details"] = capList(f.lines, maxDetails, limit)
		}
		ev := wazuhEvent{Integration: wazuhIntegration, Decnet: fields}
		if len(addrs) == 1 {
			ev.SrcIP = addrs[0]
		}
		line, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("render wazuh: %w", err)
		}
		// With a floor of 32 characters per value and 1 detail the size
		// is bounded by the fact count, which factsOf keeps small.
		if len(line) <= wazuhMaxEventBytes || limit <= 32 {
			return json.Marshal(wazuhRequest{Events: []string{string(line)}})
		}
	}
}

// capList returns at most n values of s, each cut to limit characters,
// with a last entry saying how many were left out.
func capList(s []string, n, limit int) []string {
	n = max(n, 1)
	out := make([]string, 0, min(len(s), n+1))
	for i, v := range s {
		if i == n {
			out = append(out, fmt.Sprintf("%s %d more not shown", truncMarker, len(s)-n))
			break
		}
		out = append(out, truncate(v, limit))
	}
	return out
}
