package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/decnet/decnet/controlplane/attack"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// maxCount is the upper bound STIX 2.1 puts on observed-data
// number_observed and sighting count (sections 4.14 and 5.2).
const maxCount = 999999999

// identityCreated is when DECNET's producer identity came to be; a fixed
// value keeps the identity object identical in every export.
var identityCreated = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// object is one STIX object. A map keeps the writer short; encoding/json
// sorts its keys, which makes output deterministic.
type object map[string]any

type builder struct {
	identity string
	objects  []object
	ids      map[string]bool
}

func newBuilder() *builder {
	b := &builder{identity: sdoID("identity", "decnet"), ids: map[string]bool{}}
	b.ids[b.identity] = true
	b.objects = append(b.objects, object{
		"type": "identity", "spec_version": "2.1", "id": b.identity,
		"created": timestamp(identityCreated), "modified": timestamp(identityCreated),
		"name": "DECNET", "identity_class": "system",
		"description": "DECNET deception network; the objects it produces come from attackers' contact with decoys.",
	})
	return b
}

// sdo adds a STIX Domain or Relationship Object with the common
// properties set and returns it for the caller to extend.
func (b *builder) sdo(typ, id string, created, modified time.Time) object {
	o := object{
		"type": typ, "spec_version": "2.1", "id": id,
		"created": timestamp(created), "modified": timestamp(modified),
		"created_by_ref": b.identity,
	}
	b.add(o)
	return o
}

// add appends o unless an object with its id is already in the bundle:
// the first one wins, so two attackers of one campaign who share an
// address or a principal give one object.
func (b *builder) add(o object) {
	id := o["id"].(string)
	if b.ids[id] {
		return
	}
	b.ids[id] = true
	b.objects = append(b.objects, o)
}

func (b *builder) sco(typ string, contributing map[string]any, extra map[string]any) string {
	id := scoID(typ, contributing)
	o := object{"type": typ, "spec_version": "2.1", "id": id}
	for k, v := range contributing {
		o[k] = v
	}
	for k, v := range extra {
		o[k] = v
	}
	b.add(o)
	return id
}

func (b *builder) relationship(typ, src, dst string, created, modified time.Time) {
	o := b.sdo("relationship", sdoID("relationship", typ, src, dst), created, modified)
	o["relationship_type"] = typ
	o["source_ref"] = src
	o["target_ref"] = dst
}

func (b *builder) bundle(key ...string) ([]byte, error) {
	out := map[string]any{
		"type":    "bundle",
		"id":      sdoID("bundle", key...),
		"objects": b.objects,
	}
	return marshal(out)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Attacker text such as URLs must stay readable; JSON escaping keeps
	// it safe for any JSON consumer.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode export: %w", err)
	}
	return buf.Bytes(), nil
}

// actorID is the threat-actor id of a DECNET attacker, shared by the
// attacker and reuse exports so a consumer links them.
func actorID(attackerID string) string { return sdoID("threat-actor", "decnet-attacker", attackerID) }

// AttackerBundle returns a STIX 2.1 bundle describing one attacker: a
// threat-actor, its addresses as SCOs with an indicator and a sighting
// each, attack-patterns for tags, and the principals, files and URLs seen
// in events and credentials. Secret values and digests are never
// exported. Events or credentials of another attacker are skipped.
func AttackerBundle(a *apiv1.Attacker, events []*apiv1.StoredEvent, creds []*apiv1.Credential, tags []attack.Tag) ([]byte, error) {
	f, err := collect(a, events, creds, tags)
	if err != nil {
		return nil, err
	}
	b := newBuilder()

	actor := actorID(f.attackerID)
	ta := b.sdo("threat-actor", actor, f.first, f.last)
	ta["name"] = "DECNET attacker " + f.attackerID
	ta["threat_actor_types"] = []string{"unknown"}
	ta["first_seen"] = timestamp(f.first)
	ta["last_seen"] = timestamp(f.last)
	desc := fmt.Sprintf("Attacker %s seen by DECNET decoys: %d events", f.attackerID, f.eventCount)
	if len(f.services) > 0 {
		desc += "; services " + strings.Join(f.services, ", ")
	}
	if len(f.deckies) > 0 {
		desc += "; deckies " + strings.Join(f.deckies, ", ")
	}
	if f.truncated {
		desc += fmt.Sprintf("; lists cut at %d items", maxItems)
	}
	ta["description"] = desc
	ta["external_references"] = []map[string]string{{"source_name": "decnet", "external_id": f.attackerID}}

	b.attackPatternsOnce(f.tags, actor, f.first, f.last)
	b.observations(f, actor)
	return b.bundle("attacker", f.attackerID, timestamp(f.last))
}

// observations adds what was seen of one attacker: its addresses, the
// principals it tried, its files and URLs as SCOs under one observed-data,
// and per address an indicator of actor with a sighting. Object ids
// depend on the attacker, not on actor, so the attacker, identity and
// campaign exports of one attacker share them.
func (b *builder) observations(f *facts, actor string) {
	// Observables first, so observed-data can reference them.
	var refs []string
	for _, af := range f.addrs {
		refs = append(refs, b.sco(addrType(af), map[string]any{"value": af.addr.String()}, nil))
	}
	for _, p := range f.principals {
		refs = append(refs, b.sco("user-account", map[string]any{"account_login": p}, nil))
	}
	for _, ff := range f.files {
		// Section 2.9 makes name an ID contributing property of file,
		// beside the hash.
		contributing := map[string]any{"hashes": map[string]string{"SHA-256": ff.sha256}}
		if ff.name != "" {
			contributing["name"] = ff.name
		}
		extra := map[string]any{}
		if ff.size > 0 {
			extra["size"] = ff.size
		}
		refs = append(refs, b.sco("file", contributing, extra))
	}
	for _, u := range f.urls {
		refs = append(refs, b.sco("url", map[string]any{"value": u}, nil))
	}

	var observed string
	if len(refs) > 0 {
		observed = sdoID("observed-data", f.attackerID)
		od := b.sdo("observed-data", observed, f.first, f.last)
		od["first_observed"] = timestamp(f.first)
		od["last_observed"] = timestamp(f.last)
		od["number_observed"] = clampCount(f.eventCount, 1)
		od["object_refs"] = refs
	}

	for _, af := range f.addrs {
		b.addressIndicator(af, actor, observed, f)
	}
}

func (b *builder) addressIndicator(af addrFact, actor, observed string, f *facts) {
	typ, value := addrType(af), af.addr.String()
	ind := sdoID("indicator", f.attackerID, value)
	o := b.sdo("indicator", ind, f.first, f.last)
	o["name"] = "DECNET attacker address " + value
	o["indicator_types"] = []string{"malicious-activity"}
	o["pattern"] = fmt.Sprintf("[%s:value = '%s']", typ, patternEscape(value))
	o["pattern_type"] = "stix"
	o["pattern_version"] = "2.1"
	o["valid_from"] = timestamp(af.first)
	b.relationship("indicates", ind, actor, f.first, f.last)
	if observed != "" {
		b.relationship("based-on", ind, observed, f.first, f.last)
	}

	s := b.sdo("sighting", sdoID("sighting", f.attackerID, value), f.first, f.last)
	s["sighting_of_ref"] = ind
	s["first_seen"] = timestamp(af.first)
	s["last_seen"] = timestamp(af.last)
	count := af.count
	if count == 0 && len(f.addrs) == 1 {
		count = f.eventCount
	}
	if count > 0 {
		s["count"] = clampCount(count, 0)
	}
	s["where_sighted_refs"] = []string{b.identity}
	if observed != "" {
		s["observed_data_refs"] = []string{observed}
	}
}

func addrType(af addrFact) string {
	if af.addr.Is6() {
		return "ipv6-addr"
	}
	return "ipv4-addr"
}

// patternEscape escapes a STIX pattern string literal: backslash and
// single quote take a backslash (STIX 2.1 section 9.2).
func patternEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

func clampCount(n uint64, min uint64) uint64 {
	if n < min {
		return min
	}
	if n > maxCount {
		return maxCount
	}
	return n
}

// ReuseBundle returns a STIX 2.1 bundle for one credential-reuse group:
// the principal as a user-account, observed-data over every target, the
// attackers involved as threat-actors (with the same ids as in
// AttackerBundle), attack-patterns for tags and a note listing the
// targets. The secret and its digest are not exported.
func ReuseBundle(r *apiv1.CredentialReuse, tags []attack.Tag) ([]byte, error) {
	g, err := collectReuse(r)
	if err != nil {
		return nil, err
	}
	b := newBuilder()
	user := b.sco("user-account", map[string]any{"account_login": g.principal}, nil)

	observed := sdoID("observed-data", "credential-reuse", g.key)
	od := b.sdo("observed-data", observed, g.first, g.last)
	od["first_observed"] = timestamp(g.first)
	od["last_observed"] = timestamp(g.last)
	od["number_observed"] = clampCount(g.attempts, 1)
	od["object_refs"] = []string{user}

	var actors []string
	for _, id := range g.attackers {
		actor := actorID(id)
		ta := b.sdo("threat-actor", actor, g.first, g.last)
		ta["name"] = "DECNET attacker " + id
		ta["threat_actor_types"] = []string{"unknown"}
		ta["external_references"] = []map[string]string{{"source_name": "decnet", "external_id": id}}
		actors = append(actors, actor)
	}
	for _, actor := range actors {
		b.attackPatternsOnce(dedupTags(tags), actor, g.first, g.last)
	}

	n := b.sdo("note", sdoID("note", "credential-reuse", g.key), g.first, g.last)
	n["abstract"] = fmt.Sprintf("Credential for %q (%s) tried on %d decoy targets", g.principal, g.kind, len(g.targets))
	n["content"] = strings.Join(g.targets, "\n")
	n["object_refs"] = append([]string{observed}, actors...)
	return b.bundle("credential-reuse", g.key, timestamp(g.last))
}

// attackPatternsOnce adds each attack-pattern once and a uses relationship
// from every actor.
func (b *builder) attackPatternsOnce(tags []attack.Tag, actor string, first, last time.Time) {
	for _, t := range tags {
		id := sdoID("attack-pattern", "mitre-attack", t.TechniqueID)
		if !b.has(id) {
			o := b.sdo("attack-pattern", id, first, last)
			o["name"] = t.TechniqueName
			o["external_references"] = []map[string]string{{
				"source_name": "mitre-attack", "external_id": t.TechniqueID, "url": techniqueURL(t.TechniqueID),
			}}
			if t.Tactic != "" {
				o["kill_chain_phases"] = []map[string]string{{"kill_chain_name": "mitre-attack", "phase_name": t.Tactic}}
			}
		}
		b.relationship("uses", actor, id, first, last)
	}
}

func (b *builder) has(id string) bool { return b.ids[id] }
