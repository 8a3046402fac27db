package stix

import (
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/decnet/decnet/controlplane/attack"
)

// validateMISP checks the fields and types the MISP core format
// (draft-dulaunoy-misp-core-format) requires of an event and its
// attributes.
func validateMISP(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("MISP export is not JSON: %v", err)
	}
	ev, ok := doc["Event"].(map[string]any)
	if !ok {
		t.Fatal("MISP export has no Event object")
	}
	str := func(obj map[string]any, key string) string {
		s, ok := obj[key].(string)
		if !ok {
			t.Errorf("%s is %T, want a string", key, obj[key])
		}
		return s
	}
	isUUID := func(s string) {
		if u, err := uuid.Parse(s); err != nil || u.String() != s {
			t.Errorf("uuid %q is not canonical", s)
		}
	}
	inRange := func(key, s string, lo, hi int) {
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			t.Errorf("%s %q outside %d..%d", key, s, lo, hi)
		}
	}

	isUUID(str(ev, "uuid"))
	if str(ev, "info") == "" {
		t.Error("info is empty")
	}
	inRange("threat_level_id", str(ev, "threat_level_id"), 1, 4)
	inRange("analysis", str(ev, "analysis"), 0, 2)
	inRange("distribution", str(ev, "distribution"), 0, 4)
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(str(ev, "date")) {
		t.Errorf("date %q is not YYYY-MM-DD", ev["date"])
	}
	if _, err := strconv.ParseInt(str(ev, "timestamp"), 10, 64); err != nil {
		t.Errorf("timestamp %q is not seconds since the epoch", ev["timestamp"])
	}
	if _, ok := ev["published"].(bool); !ok {
		t.Errorf("published is %T, want bool", ev["published"])
	}

	attrs, _ := ev["Attribute"].([]any)
	seen := map[string]bool{}
	for _, a := range attrs {
		attr := a.(map[string]any)
		id := str(attr, "uuid")
		isUUID(id)
		if seen[id] {
			t.Errorf("attribute uuid %s repeated", id)
		}
		seen[id] = true
		if str(attr, "type") == "" || str(attr, "category") == "" || str(attr, "value") == "" {
			t.Errorf("attribute %v lacks type, category or value", attr)
		}
		if _, ok := attr["to_ids"].(bool); !ok {
			t.Errorf("to_ids is %T, want bool", attr["to_ids"])
		}
		inRange("attribute distribution", str(attr, "distribution"), 0, 5)
		str(attr, "timestamp")
	}
	for _, tg := range ev["Tag"].([]any) {
		if str(tg.(map[string]any), "name") == "" {
			t.Error("tag without name")
		}
	}
	return ev
}

func TestAttackerMISP(t *testing.T) {
	data, err := AttackerMISP(fixtureAttacker(), fixtureEvents(), fixtureCreds(), fixtureTags())
	if err != nil {
		t.Fatalf("AttackerMISP: %v", err)
	}
	ev := validateMISP(t, data)
	assertNoSecret(t, data)

	if ev["date"] != "2026-03-01" || ev["threat_level_id"] != "2" || ev["distribution"] != "0" {
		t.Errorf("event date %v threat %v distribution %v", ev["date"], ev["threat_level_id"], ev["distribution"])
	}
	got := map[string][]string{}
	for _, a := range ev["Attribute"].([]any) {
		attr := a.(map[string]any)
		got[attr["type"].(string)] = append(got[attr["type"].(string)], attr["value"].(string))
		if attr["type"] == "ip-src" && (attr["category"] != "Network activity" || attr["to_ids"] != true) {
			t.Errorf("ip-src attribute %v", attr)
		}
	}
	fileSum := sha256Hex("ELF payload")
	want := map[string][]string{
		"ip-src": {"198.51.100.7", "2001:db8::7"},
		"port":   {"22"},
		"text":   {"admin", "root"},
		"sha256": {fileSum},
		"url":    {"http://203.0.113.5/bins/x86?a=1&b=2"},
	}
	for typ, vals := range want {
		if !slices.Equal(got[typ], vals) {
			t.Errorf("%s attributes = %v, want %v", typ, got[typ], vals)
		}
	}
	if len(got) != len(want) {
		t.Errorf("attribute types = %v", got)
	}

	var tags []string
	for _, tg := range ev["Tag"].([]any) {
		tags = append(tags, tg.(map[string]any)["name"].(string))
	}
	wantTags := []string{
		`misp-galaxy:mitre-attack-pattern="Valid Accounts - T1078"`,
		`misp-galaxy:mitre-attack-pattern="Ingress Tool Transfer - T1105"`,
		`misp-galaxy:mitre-attack-pattern="Password Guessing - T1110.001"`,
	}
	if !slices.Equal(tags, wantTags) {
		t.Errorf("tags = %q, want %q", tags, wantTags)
	}

	again, _ := AttackerMISP(fixtureAttacker(), fixtureEvents(), fixtureCreds(), fixtureTags())
	if string(again) != string(data) {
		t.Error("MISP export is not deterministic")
	}
}

func TestReuseMISP(t *testing.T) {
	tags := []attack.Tag{{TechniqueID: "T1110.004", TechniqueName: "Brute Force: Credential Stuffing", Tactic: "credential-access"}}
	data, err := ReuseMISP(fixtureReuse(), tags)
	if err != nil {
		t.Fatalf("ReuseMISP: %v", err)
	}
	ev := validateMISP(t, data)
	assertNoSecret(t, data)
	if ev["threat_level_id"] != "3" {
		t.Errorf("threat_level_id = %v, want 3 for reuse alone", ev["threat_level_id"])
	}
	if tg := ev["Tag"].([]any); len(tg) != 1 || tg[0].(map[string]any)["name"] != `misp-galaxy:mitre-attack-pattern="Credential Stuffing - T1110.004"` {
		t.Errorf("tags = %v", tg)
	}
	// principal, two targets, two attacker ids.
	if n := len(ev["Attribute"].([]any)); n != 5 {
		t.Errorf("%d attributes, want 5", n)
	}
}

func sha256Hex(s string) string {
	return hex.EncodeToString(sha256Sum([]byte(s)))
}
