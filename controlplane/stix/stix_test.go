package stix

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

func exportAttacker(t *testing.T) (map[string]any, []byte) {
	t.Helper()
	data, err := AttackerBundle(fixtureAttacker(), fixtureEvents(), fixtureCreds(), fixtureTags())
	if err != nil {
		t.Fatalf("AttackerBundle: %v", err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	return b, data
}

func TestAttackerBundleValid(t *testing.T) {
	_, data := exportAttacker(t)
	if errs := validateBundle(data); len(errs) > 0 {
		t.Errorf("bundle violates STIX 2.1:\n%s", strings.Join(errs, "\n"))
	}
}

func TestAttackerBundleContent(t *testing.T) {
	b, data := exportAttacker(t)
	objs := objectsByType(b)

	wantCounts := map[string]int{
		"identity": 1, "threat-actor": 1, "attack-pattern": 3, "ipv4-addr": 1, "ipv6-addr": 1,
		"user-account": 2, "file": 1, "url": 1, "observed-data": 1, "indicator": 2, "sighting": 2,
		// 3 uses + 2 indicates + 2 based-on
		"relationship": 7,
	}
	for typ, n := range wantCounts {
		if got := len(objs[typ]); got != n {
			t.Errorf("%d %s objects, want %d", got, typ, n)
		}
	}

	ta := objs["threat-actor"][0]
	if ta["first_seen"] != "2026-03-01T12:00:00.123Z" || ta["last_seen"] != "2026-03-01T14:00:00.123Z" {
		t.Errorf("threat-actor seen %v..%v", ta["first_seen"], ta["last_seen"])
	}
	if ta["created_by_ref"] != objs["identity"][0]["id"] || objs["identity"][0]["name"] != "DECNET" {
		t.Errorf("threat-actor not produced by the DECNET identity")
	}

	var patterns []string
	for _, ind := range objs["indicator"] {
		patterns = append(patterns, ind["pattern"].(string))
	}
	slices.Sort(patterns)
	if want := []string{"[ipv4-addr:value = '198.51.100.7']", "[ipv6-addr:value = '2001:db8::7']"}; !slices.Equal(patterns, want) {
		t.Errorf("patterns = %q, want %q", patterns, want)
	}

	ap := map[string]map[string]any{}
	for _, o := range objs["attack-pattern"] {
		ref := o["external_references"].([]any)[0].(map[string]any)
		if ref["source_name"] != "mitre-attack" {
			t.Errorf("attack-pattern source_name = %v", ref["source_name"])
		}
		ap[ref["external_id"].(string)] = o
	}
	if o := ap["T1110.001"]; o == nil || o["name"] != "Brute Force: Password Guessing" ||
		o["external_references"].([]any)[0].(map[string]any)["url"] != "https://attack.mitre.org/techniques/T1110/001/" {
		t.Errorf("T1110.001 attack-pattern = %v", o)
	}
	if o := ap["T1078"]; o == nil || o["kill_chain_phases"].([]any)[0].(map[string]any)["phase_name"] != "initial-access" {
		t.Errorf("T1078 attack-pattern = %v", o)
	}

	// Sightings count events per address: three from the IPv4 address
	// (the other attacker's event is excluded), one from the IPv6 one.
	counts := map[string]float64{}
	for _, s := range objs["sighting"] {
		counts[s["first_seen"].(string)] = s["count"].(float64)
	}
	if counts["2026-03-01T12:01:00.123Z"] != 3 || counts["2026-03-01T13:00:00.123Z"] != 1 {
		t.Errorf("sighting counts by first_seen = %v", counts)
	}

	logins := []string{}
	for _, u := range objs["user-account"] {
		logins = append(logins, u["account_login"].(string))
	}
	slices.Sort(logins)
	if !slices.Equal(logins, []string{"admin", "root"}) {
		t.Errorf("user-account logins = %v, want admin and root only", logins)
	}
	fileSum := sha256.Sum256([]byte("ELF payload"))
	if f := objs["file"][0]; f["hashes"].(map[string]any)["SHA-256"] != hex.EncodeToString(fileSum[:]) ||
		f["name"] != "x86" || f["size"] != float64(11) {
		t.Errorf("file = %v", f)
	}
	if u := objs["url"][0]; u["value"] != "http://203.0.113.5/bins/x86?a=1&b=2" {
		t.Errorf("url value = %v", u["value"])
	}
	if od := objs["observed-data"][0]; od["number_observed"] != float64(42) || len(od["object_refs"].([]any)) != 6 {
		t.Errorf("observed-data = %v", od)
	}

	assertNoSecret(t, data)
	if bytes.Contains(data, []byte("intruder")) || bytes.Contains(data, []byte("192.0.2.99")) {
		t.Error("another attacker's event leaked into the export")
	}
}

// assertNoSecret fails when the password or its digest, in any common
// encoding, appears in an export.
func assertNoSecret(t *testing.T, data []byte) {
	t.Helper()
	sum := fixtureCreds()[0].GetSecretSha256()
	for _, s := range []string{secretPassword, hex.EncodeToString(sum), strings.ToUpper(hex.EncodeToString(sum)), "U3VwM3JTM2NyZXQh"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("export contains secret material %q", s)
		}
	}
}

func TestAttackerBundleDeterministic(t *testing.T) {
	_, first := exportAttacker(t)
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		evs, tags := fixtureEvents(), fixtureTags()
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		r.Shuffle(len(tags), func(i, j int) { tags[i], tags[j] = tags[j], tags[i] })
		a := fixtureAttacker()
		slices.Reverse(a.Addresses)
		got, err := AttackerBundle(a, evs, fixtureCreds(), tags)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, first) {
			t.Fatal("export changed with input order")
		}
	}
}

func TestReuseBundle(t *testing.T) {
	data, err := ReuseBundle(fixtureReuse(), fixtureTags()[1:2])
	if err != nil {
		t.Fatalf("ReuseBundle: %v", err)
	}
	if errs := validateBundle(data); len(errs) > 0 {
		t.Errorf("reuse bundle violates STIX 2.1:\n%s", strings.Join(errs, "\n"))
	}
	assertNoSecret(t, data)

	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	objs := objectsByType(b)
	if len(objs["threat-actor"]) != 2 || len(objs["attack-pattern"]) != 1 || len(objs["relationship"]) != 2 {
		t.Errorf("reuse bundle has %d actors, %d attack-patterns, %d relationships; want 2, 1, 2",
			len(objs["threat-actor"]), len(objs["attack-pattern"]), len(objs["relationship"]))
	}
	if u := objs["user-account"]; len(u) != 1 || u[0]["account_login"] != "deploy" {
		t.Errorf("user-account = %v", u)
	}
	od := objs["observed-data"][0]
	if od["number_observed"] != float64(4) || od["first_observed"] != "2026-03-01T12:00:00.123Z" || od["last_observed"] != "2026-03-01T14:00:00.123Z" {
		t.Errorf("observed-data = %v", od)
	}

	// The same attacker has the same threat-actor id in both exports.
	ab, _ := exportAttacker(t)
	actor := objectsByType(ab)["threat-actor"][0]["id"]
	found := false
	for _, ta := range objs["threat-actor"] {
		found = found || ta["id"] == actor
	}
	if !found {
		t.Errorf("attacker %s's threat-actor id %v differs between exports", attackerID, actor)
	}
}

func TestExportErrors(t *testing.T) {
	if _, err := AttackerBundle(&apiv1.Attacker{}, nil, nil, nil); !errors.Is(err, ErrNoAttacker) {
		t.Errorf("AttackerBundle(no id) error = %v, want ErrNoAttacker", err)
	}
	if _, err := AttackerMISP(nil, nil, nil, nil); !errors.Is(err, ErrNoAttacker) {
		t.Errorf("AttackerMISP(nil) error = %v, want ErrNoAttacker", err)
	}
	if _, err := AttackerBundle(&apiv1.Attacker{Id: "x"}, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "no first or last seen") {
		t.Errorf("AttackerBundle(no times) error = %v", err)
	}
	if _, err := ReuseBundle(&apiv1.CredentialReuse{}, nil); !errors.Is(err, ErrNoReuse) {
		t.Errorf("ReuseBundle(empty) error = %v, want ErrNoReuse", err)
	}
}

func TestPatternEscape(t *testing.T) {
	if got := patternEscape(`a'b\c`); got != `a\'b\\c` {
		t.Errorf("patternEscape = %q", got)
	}
}

// The STIX 2.1 specification's own example (section 2.9) fixes the
// deterministic id of ipv4-addr 198.51.100.3; other STIX tools agree on
// the IPv6 value.
func TestSCOIDKnownVectors(t *testing.T) {
	tests := []struct{ typ, value, want string }{
		{"ipv4-addr", "198.51.100.3", "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
		{"ipv6-addr", "2001:db8::1", "ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26"},
	}
	for _, tt := range tests {
		if got := scoID(tt.typ, map[string]any{"value": tt.value}); got != tt.want {
			t.Errorf("scoID(%s, %s) = %s, want %s", tt.typ, tt.value, got, tt.want)
		}
	}
}
