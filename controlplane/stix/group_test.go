package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

const (
	secondAttacker = "0190a8c4-0000-7000-8000-00000000b0b0"
	thirdAttacker  = "0190a8c4-0000-7000-8000-00000000c0c0"
	identityA      = "0190a8c4-0000-7000-8000-0000000001d1"
	identityB      = "0190a8c4-0000-7000-8000-0000000001d2"
	campaignID     = "0190a8c4-0000-7000-8000-0000000ca001"
)

// memberAt is an attacker seen from addr who tried principal at t, with
// the secret password, so exports can be checked for leaks.
func memberAt(id, addr, principal string, t time.Time) Member {
	sum := sha256Sum([]byte(secretPassword))
	ev := &apiv1.StoredEvent{AttackerId: id, ReceivedAt: timestamppb.New(t), Event: &eventv1.Event{
		Id: "ev-" + id, Kind: "auth.attempt", Service: "ssh", Decky: "web-02", Time: timestamppb.New(t),
		Source:      &eventv1.Endpoint{Address: addr, Port: 50000},
		Destination: &eventv1.Endpoint{Address: "127.0.0.1", Port: 22},
		Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Principal: principal, SecretKind: "plaintext", Secret: []byte(secretPassword), SecretSha256: sum,
		}},
	}}
	return Member{
		Attacker: &apiv1.Attacker{Id: id, Addresses: []string{addr}, FirstSeen: timestamppb.New(t), LastSeen: timestamppb.New(t.Add(time.Minute)), EventCount: 1},
		Events:   []*apiv1.StoredEvent{ev},
	}
}

// groupFixture is three attackers: the one of the attacker fixture, a
// second that shares its IPv4 address and principal "root", and a third
// from another address. The first two form identity A, the third
// identity B, and both identities form one campaign.
func groupFixture() ([]Member, *apiv1.AttackerIdentity, *apiv1.AttackerIdentity, *apiv1.Campaign) {
	members := []Member{
		{Attacker: fixtureAttacker(), Events: fixtureEvents(), Credentials: fixtureCreds()},
		memberAt(secondAttacker, "198.51.100.7", "root", t0.Add(3*time.Hour)),
		memberAt(thirdAttacker, "203.0.113.80", "oracle", t0.Add(5*time.Hour)),
	}
	a := &apiv1.AttackerIdentity{Id: identityA, AttackerIds: []string{secondAttacker, attackerID}, Sessions: 4}
	b := &apiv1.AttackerIdentity{Id: identityB, AttackerIds: []string{thirdAttacker}, Sessions: 1}
	c := &apiv1.Campaign{
		Id: campaignID, IdentityIds: []string{identityA, identityB},
		AttackerIds: []string{attackerID, secondAttacker, thirdAttacker},
		FirstSeen:   timestamppb.New(t0), LastSeen: timestamppb.New(t0.Add(5 * time.Hour)),
		Evidence: []*apiv1.CampaignEvidence{{
			IdentityId: identityA, OtherIdentityId: identityB, Score: 1.4,
			Terms: []*apiv1.CampaignEvidenceTerm{{Kind: "handoff", Score: 0.9, Detail: "web-02/ssh, brute then shell"}, {Kind: "overlap", Score: 0.5}},
		}},
	}
	return members, a, b, c
}

func decodeBundle(t *testing.T, data []byte) map[string][]map[string]any {
	t.Helper()
	if errs := validateBundle(data); len(errs) > 0 {
		t.Fatalf("bundle violates STIX 2.1:\n%s", strings.Join(errs, "\n"))
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, data)
	return objectsByType(b)
}

// relations returns "type source target" for every relationship.
func relations(objs map[string][]map[string]any) []string {
	var out []string
	for _, r := range objs["relationship"] {
		out = append(out, r["relationship_type"].(string)+" "+r["source_ref"].(string)+" "+r["target_ref"].(string))
	}
	return out
}

func TestIdentityBundle(t *testing.T) {
	members, a, _, _ := groupFixture()
	data, err := IdentityBundle(a, members, fixtureTags(), false)
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeBundle(t, data)

	actor := identityActorID(identityA)
	var names []string
	for _, ta := range objs["threat-actor"] {
		names = append(names, ta["name"].(string))
		if ta["id"] == actor && (ta["first_seen"] != "2026-03-01T12:00:00.123Z" || ta["last_seen"] != "2026-03-01T15:01:00.123Z") {
			t.Errorf("identity seen %v..%v", ta["first_seen"], ta["last_seen"])
		}
	}
	slices.Sort(names)
	if want := []string{"DECNET attacker " + attackerID, "DECNET attacker " + secondAttacker, "DECNET identity " + identityA}; !slices.Equal(names, want) {
		t.Errorf("threat-actors = %q, want %q", names, want)
	}
	// The third attacker belongs to identity B and stays out.
	if bytes.Contains(data, []byte(thirdAttacker)) || bytes.Contains(data, []byte("203.0.113.80")) {
		t.Error("identity export carries another identity's attacker")
	}

	rels := relations(objs)
	for _, want := range []string{
		"related-to " + actorID(attackerID) + " " + actor,
		"related-to " + actorID(secondAttacker) + " " + actor,
		"uses " + actor + " " + sdoID("attack-pattern", "mitre-attack", "T1078"),
	} {
		if !slices.Contains(rels, want) {
			t.Errorf("no relationship %q", want)
		}
	}
	// Every indicator indicates the identity, and the address both
	// attackers came from is one SCO with one indicator per attacker.
	for _, r := range objs["relationship"] {
		if r["relationship_type"] == "indicates" && r["target_ref"] != actor {
			t.Errorf("indicator points at %v", r["target_ref"])
		}
	}
	if n := len(objs["ipv4-addr"]); n != 1 {
		t.Errorf("%d ipv4-addr objects, want 1", n)
	}
	if n := len(objs["indicator"]); n != 3 {
		t.Errorf("%d indicators, want 3 (two attackers' IPv4, one IPv6)", n)
	}
	if n := len(objs["observed-data"]); n != 2 {
		t.Errorf("%d observed-data, want one per attacker", n)
	}
	// The member's observed-data has the id the attacker export gives it.
	attackerData, err := AttackerBundle(fixtureAttacker(), fixtureEvents(), fixtureCreds(), fixtureTags())
	if err != nil {
		t.Fatal(err)
	}
	if od := sdoID("observed-data", attackerID); !bytes.Contains(attackerData, []byte(od)) || !bytes.Contains(data, []byte(od)) {
		t.Error("observed-data ids differ between attacker and identity exports")
	}

	// Member order does not change a byte.
	slices.Reverse(members)
	again, err := IdentityBundle(a, members, fixtureTags(), false)
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("export changed with member order (%v)", err)
	}
}

func TestCampaignBundle(t *testing.T) {
	members, a, b, c := groupFixture()
	data, err := CampaignBundle(c, []*apiv1.AttackerIdentity{b, a}, members, fixtureTags(), true)
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeBundle(t, data)
	if len(objs["campaign"]) != 1 {
		t.Fatalf("%d campaign objects", len(objs["campaign"]))
	}
	camp := objs["campaign"][0]
	if camp["first_seen"] != "2026-03-01T12:00:00.123Z" || camp["last_seen"] != "2026-03-01T17:01:00.123Z" {
		t.Errorf("campaign seen %v..%v", camp["first_seen"], camp["last_seen"])
	}
	if !strings.Contains(camp["description"].(string), "lists cut at") {
		t.Errorf("truncation not stated: %v", camp["description"])
	}
	rels := relations(objs)
	for _, want := range []string{
		"attributed-to " + camp["id"].(string) + " " + identityActorID(identityA),
		"attributed-to " + camp["id"].(string) + " " + identityActorID(identityB),
		"related-to " + actorID(thirdAttacker) + " " + identityActorID(identityB),
		"uses " + camp["id"].(string) + " " + sdoID("attack-pattern", "mitre-attack", "T1110.001"),
	} {
		if !slices.Contains(rels, want) {
			t.Errorf("no relationship %q", want)
		}
	}
	if len(objs["note"]) != 1 || !strings.Contains(objs["note"][0]["content"].(string), "handoff 0.90 (web-02/ssh, brute then shell)") {
		t.Errorf("evidence note = %v", objs["note"])
	}
	if n := len(objs["threat-actor"]); n != 5 {
		t.Errorf("%d threat-actors, want two identities and three attackers", n)
	}
}

func TestIdentityAndCampaignMISP(t *testing.T) {
	members, a, b, c := groupFixture()
	data, err := IdentityMISP(a, members, fixtureTags(), false)
	if err != nil {
		t.Fatal(err)
	}
	ev := validateMISP(t, data)
	assertNoSecret(t, data)
	got := map[string][]string{}
	for _, at := range ev["Attribute"].([]any) {
		attr := at.(map[string]any)
		got[attr["type"].(string)] = append(got[attr["type"].(string)], attr["value"].(string))
	}
	slices.Sort(got["text"])
	if want := []string{"198.51.100.7", "2001:db8::7"}; !slices.Equal(got["ip-src"], want) {
		t.Errorf("ip-src = %v, want %v", got["ip-src"], want)
	}
	if want := []string{identityA, attackerID, secondAttacker, "admin", "root"}; !slices.Equal(got["text"], want) {
		t.Errorf("text = %v, want %v", got["text"], want)
	}

	cdata, err := CampaignMISP(c, []*apiv1.AttackerIdentity{b, a}, members, fixtureTags(), false)
	if err != nil {
		t.Fatal(err)
	}
	cev := validateMISP(t, cdata)
	assertNoSecret(t, cdata)
	text := string(cdata)
	for _, want := range []string{campaignID, identityA, identityB, thirdAttacker, "203.0.113.80", "oracle", "campaign evidence", "handoff 0.90"} {
		if !strings.Contains(text, want) {
			t.Errorf("campaign event lacks %q", want)
		}
	}
	if !strings.HasPrefix(cev["info"].(string), "DECNET campaign "+campaignID) {
		t.Errorf("info = %v", cev["info"])
	}
	again, _ := CampaignMISP(c, []*apiv1.AttackerIdentity{a, b}, members, fixtureTags(), false)
	if !bytes.Equal(again, cdata) {
		t.Error("campaign MISP changed with identity order")
	}
}

func TestGroupExportErrors(t *testing.T) {
	members, a, _, c := groupFixture()
	if _, err := IdentityBundle(a, nil, nil, false); !errors.Is(err, ErrNoMembers) {
		t.Errorf("identity without members: %v", err)
	}
	// Members that are not the identity's attackers are not exported.
	if _, err := IdentityBundle(a, members[2:], nil, false); !errors.Is(err, ErrNoMembers) {
		t.Errorf("identity with only foreign members: %v", err)
	}
	if _, err := CampaignMISP(c, nil, nil, nil, false); !errors.Is(err, ErrNoMembers) {
		t.Errorf("campaign without members: %v", err)
	}
	if _, err := IdentityMISP(&apiv1.AttackerIdentity{}, members, nil, false); err == nil {
		t.Error("identity without id exported")
	}
}
