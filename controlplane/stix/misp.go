package stix

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/decnet/decnet/controlplane/attack"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// MISP field values, from the MISP core format (draft-dulaunoy-misp-core-format).
const (
	mispThreatMedium = "2"
	mispThreatLow    = "3"
	// mispAnalysisOngoing: an attacker may come back, the record grows.
	mispAnalysisOngoing = "1"
	// mispDistributionOrg keeps an export inside the importing
	// organisation until an analyst decides to share it.
	mispDistributionOrg = "0"
	// mispDistributionInherit makes attributes follow the event.
	mispDistributionInherit = "5"
)

// Techniques after which an attacker is more than noise: it got in,
// brought tools or used the host. They raise the MISP threat level.
var mediumThreat = map[string]bool{"T1078": true, "T1105": true, "T1496": true, "T1098.004": true, "T1053.003": true}

type mispEvent struct {
	Event mispEventBody `json:"Event"`
}

type mispEventBody struct {
	UUID          string          `json:"uuid"`
	Info          string          `json:"info"`
	ThreatLevelID string          `json:"threat_level_id"`
	Analysis      string          `json:"analysis"`
	Distribution  string          `json:"distribution"`
	Date          string          `json:"date"`
	Timestamp     string          `json:"timestamp"`
	Published     bool            `json:"published"`
	Orgc          mispOrg         `json:"Orgc"`
	Attribute     []mispAttribute `json:"Attribute"`
	Tag           []mispTag       `json:"Tag"`
}

type mispOrg struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

type mispAttribute struct {
	UUID         string `json:"uuid"`
	Type         string `json:"type"`
	Category     string `json:"category"`
	Value        string `json:"value"`
	ToIDS        bool   `json:"to_ids"`
	Distribution string `json:"distribution"`
	Timestamp    string `json:"timestamp"`
	Comment      string `json:"comment,omitempty"`
	FirstSeen    string `json:"first_seen,omitempty"`
	LastSeen     string `json:"last_seen,omitempty"`
}

type mispTag struct {
	Name string `json:"name"`
}

// GalaxyTag is the MISP galaxy tag of an ATT&CK technique, for example
// misp-galaxy:mitre-attack-pattern="Password Guessing - T1110.001".
func GalaxyTag(t attack.Tag) string {
	return fmt.Sprintf("misp-galaxy:mitre-attack-pattern=%q", shortName(t.TechniqueName)+" - "+t.TechniqueID)
}

type mispBuilder struct {
	ev   mispEventBody
	seen map[string]bool
}

func newMISP(key []string, info string, first, last time.Time, tags []attack.Tag) *mispBuilder {
	threat := mispThreatLow
	for _, t := range tags {
		if mediumThreat[t.TechniqueID] {
			threat = mispThreatMedium
		}
	}
	m := &mispBuilder{seen: map[string]bool{}, ev: mispEventBody{
		UUID:          mispUUID(append([]string{"event"}, key...)...),
		Info:          info,
		ThreatLevelID: threat,
		Analysis:      mispAnalysisOngoing,
		Distribution:  mispDistributionOrg,
		Date:          first.UTC().Format(time.DateOnly),
		Timestamp:     strconv.FormatInt(last.Unix(), 10),
		Orgc:          mispOrg{UUID: mispUUID("org", "decnet"), Name: "DECNET"},
		Attribute:     []mispAttribute{},
		Tag:           []mispTag{},
	}}
	for _, t := range tags {
		m.ev.Tag = append(m.ev.Tag, mispTag{Name: GalaxyTag(t)})
	}
	return m
}

// add appends an attribute unless one of the same type and value is
// already in the event; the first one wins.
func (m *mispBuilder) add(typ, category, value string, toIDS bool, comment string, first, last time.Time) {
	uuid := mispUUID("attribute", m.ev.UUID, typ, value)
	if m.seen[uuid] {
		return
	}
	m.seen[uuid] = true
	a := mispAttribute{
		UUID: uuid, Type: typ, Category: category, Value: value,
		ToIDS: toIDS, Distribution: mispDistributionInherit, Timestamp: m.ev.Timestamp, Comment: comment,
	}
	if !first.IsZero() {
		a.FirstSeen, a.LastSeen = mispTime(first), mispTime(last)
	}
	m.ev.Attribute = append(m.ev.Attribute, a)
}

func (m *mispBuilder) marshal() ([]byte, error) { return marshal(mispEvent{Event: m.ev}) }

func mispUUID(key ...string) string {
	return uuid.NewSHA1(decnetNamespace, []byte("misp\x00"+strings.Join(key, "\x00"))).String()
}

// mispTime formats first_seen and last_seen as ISO 8601 with
// microseconds and an explicit offset.
// NOTE: the core-format draft does not fix this layout; it is the form
// MISP instances commonly emit, unverified against a live MISP import.
func mispTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// AttackerMISP returns a MISP event (core format JSON, wrapped in
// {"Event": ...}) for one attacker: ip-src per address, port per decoy
// port contacted, text per principal, sha256 per captured file, url per
// download, and a galaxy tag per ATT&CK technique. Secrets and their
// digests are never exported.
func AttackerMISP(a *apiv1.Attacker, events []*apiv1.StoredEvent, creds []*apiv1.Credential, tags []attack.Tag) ([]byte, error) {
	f, err := collect(a, events, creds, tags)
	if err != nil {
		return nil, err
	}
	info := fmt.Sprintf("DECNET attacker %s", f.attackerID)
	if len(f.services) > 0 {
		info += " (" + strings.Join(f.services, ", ") + ")"
	}
	m := newMISP([]string{"attacker", f.attackerID}, info, f.first, f.last, f.tags)

	for _, af := range f.addrs {
		m.add("ip-src", "Network activity", af.addr.String(), true, "attacker source address", af.first, af.last)
	}
	for _, p := range f.ports {
		m.add("port", "Network activity", strconv.FormatUint(uint64(p), 10), false, "decoy port contacted", time.Time{}, time.Time{})
	}
	for _, p := range f.principals {
		m.add("text", "Other", p, false, "principal tried against decoys", time.Time{}, time.Time{})
	}
	for _, ff := range f.files {
		comment := "file captured from the attacker"
		if ff.name != "" {
			comment += ": " + ff.name
		}
		m.add("sha256", "Payload delivery", ff.sha256, true, comment, time.Time{}, time.Time{})
	}
	for _, u := range f.urls {
		m.add("url", "Network activity", u, true, "download the attacker requested", time.Time{}, time.Time{})
	}
	if f.truncated {
		m.add("text", "Other", fmt.Sprintf("lists cut at %d items", maxItems), false, "export limit", time.Time{}, time.Time{})
	}
	return m.marshal()
}

// ReuseMISP returns a MISP event for one credential-reuse group: the
// principal, each target and each attacker id as text attributes, and a
// galaxy tag per technique. The secret and its digest are not exported.
func ReuseMISP(r *apiv1.CredentialReuse, tags []attack.Tag) ([]byte, error) {
	g, err := collectReuse(r)
	if err != nil {
		return nil, err
	}
	tags = dedupTags(tags)
	info := fmt.Sprintf("DECNET credential reuse: %q tried on %d targets", g.principal, len(g.targets))
	m := newMISP([]string{"credential-reuse", g.key}, info, g.first, g.last, tags)
	m.add("text", "Other", g.principal, false, "principal of the reused credential ("+g.kind+")", g.first, g.last)
	for _, t := range g.targets {
		m.add("text", "Other", t, false, "decoy target", time.Time{}, time.Time{})
	}
	for _, a := range g.attackers {
		m.add("text", "Other", a, false, "DECNET attacker id", time.Time{}, time.Time{})
	}
	return m.marshal()
}
