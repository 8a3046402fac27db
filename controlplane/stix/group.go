package stix

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/decnet/decnet/controlplane/attack"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// ErrNoMembers is returned for an identity or campaign without an
// attacker to export.
var ErrNoMembers = errors.New("no attackers to export")

// Member is one attacker of an identity or campaign with the events and
// credentials its export reads. Events and credentials of another
// attacker are skipped, as in AttackerBundle.
type Member struct {
	Attacker    *apiv1.Attacker
	Events      []*apiv1.StoredEvent
	Credentials []*apiv1.Credential
}

// group is the input of the identity and campaign exports: each member's
// facts, sorted by attacker id, and the span over all of them.
type group struct {
	members     []*facts
	byID        map[string]*facts
	first, last time.Time
	tags        []attack.Tag
	truncated   bool
}

func collectGroup(members []Member, tags []attack.Tag, truncated bool) (*group, error) {
	g := &group{byID: map[string]*facts{}, tags: dedupTags(tags), truncated: truncated}
	for _, m := range members {
		f, err := collect(m.Attacker, m.Events, m.Credentials, nil)
		if err != nil {
			return nil, err
		}
		if g.byID[f.attackerID] != nil {
			continue
		}
		g.byID[f.attackerID] = f
		g.members = append(g.members, f)
		if g.first.IsZero() || f.first.Before(g.first) {
			g.first = f.first
		}
		if f.last.After(g.last) {
			g.last = f.last
		}
		g.truncated = g.truncated || f.truncated
	}
	if len(g.members) == 0 {
		return nil, ErrNoMembers
	}
	slices.SortFunc(g.members, func(a, b *facts) int { return strings.Compare(a.attackerID, b.attackerID) })
	return g, nil
}

// span is the group's first and last sighting of the given members.
func (g *group) span(attackerIDs []string) (first, last time.Time) {
	for _, id := range attackerIDs {
		f := g.byID[id]
		if f == nil {
			continue
		}
		if first.IsZero() || f.first.Before(first) {
			first = f.first
		}
		if f.last.After(last) {
			last = f.last
		}
	}
	return first, last
}

func (g *group) eventCount(attackerIDs []string) uint64 {
	var n uint64
	for _, id := range attackerIDs {
		if f := g.byID[id]; f != nil {
			n += f.eventCount
		}
	}
	return n
}

// identityActorID is the threat-actor id of a DECNET identity.
func identityActorID(identityID string) string {
	return sdoID("threat-actor", "decnet-identity", identityID)
}

// identityActor adds the threat-actor of an identity, with every member
// attacker's own threat-actor (as AttackerBundle names it) related to it,
// and each member's observations indicating the identity. It returns the
// identity's threat-actor id, or "" when no member was exported.
func (b *builder) identityActor(g *group, ident *apiv1.AttackerIdentity) string {
	var members []string
	for _, id := range ident.GetAttackerIds() {
		if g.byID[clean(id)] != nil {
			members = append(members, clean(id))
		}
	}
	if len(members) == 0 {
		return ""
	}
	slices.Sort(members)
	members = slices.Compact(members)
	first, last := g.span(members)
	identityID := clean(ident.GetId())

	actor := identityActorID(identityID)
	ta := b.sdo("threat-actor", actor, first, last)
	ta["name"] = "DECNET identity " + identityID
	ta["threat_actor_types"] = []string{"unknown"}
	ta["first_seen"] = timestamp(first)
	ta["last_seen"] = timestamp(last)
	desc := fmt.Sprintf("Actor DECNET clustered from %d attackers (%d sessions, %d events): %s",
		len(members), ident.GetSessions(), g.eventCount(members), strings.Join(members, ", "))
	if g.truncated {
		desc += fmt.Sprintf("; lists cut at %d items", maxItems)
	}
	ta["description"] = desc
	ta["external_references"] = []map[string]string{{"source_name": "decnet", "external_id": identityID}}

	for _, id := range members {
		f := g.byID[id]
		member := actorID(id)
		mt := b.sdo("threat-actor", member, f.first, f.last)
		mt["name"] = "DECNET attacker " + id
		mt["threat_actor_types"] = []string{"unknown"}
		mt["first_seen"] = timestamp(f.first)
		mt["last_seen"] = timestamp(f.last)
		mt["external_references"] = []map[string]string{{"source_name": "decnet", "external_id": id}}
		rel := b.sdo("relationship", sdoID("relationship", "related-to", member, actor), f.first, f.last)
		rel["relationship_type"] = "related-to"
		rel["source_ref"] = member
		rel["target_ref"] = actor
		rel["description"] = "clustered into identity " + identityID
		b.observations(f, actor)
	}
	return actor
}

// IdentityBundle returns a STIX 2.1 bundle for one attacker identity. It
// holds a threat-actor for the identity and one per member attacker,
// related to it, with the ids AttackerBundle gives them. Each member's
// addresses, principals, files and URLs come with indicators of the
// identity, and the identity uses an attack-pattern per tag. truncated
// says the caller left out members or events, and is written into the
// description. Secret values and digests are never exported.
func IdentityBundle(ident *apiv1.AttackerIdentity, members []Member, tags []attack.Tag, truncated bool) ([]byte, error) {
	if ident.GetId() == "" {
		return nil, errors.New("export identity: identity without id")
	}
	g, err := collectGroup(members, tags, truncated)
	if err != nil {
		return nil, fmt.Errorf("export identity %s: %w", ident.GetId(), err)
	}
	b := newBuilder()
	actor := b.identityActor(g, ident)
	if actor == "" {
		return nil, fmt.Errorf("export identity %s: %w", ident.GetId(), ErrNoMembers)
	}
	first, last := g.span(ident.GetAttackerIds())
	b.attackPatternsOnce(g.tags, actor, first, last)
	return b.bundle("identity", clean(ident.GetId()), timestamp(last))
}

// CampaignBundle returns a STIX 2.1 bundle for one campaign: a campaign
// object, attributed-to the threat-actor of each member identity (built
// as in IdentityBundle), uses relationships to an attack-pattern per tag,
// and a note with the evidence that joined the identities. identities are
// the campaign's member identities with their attackers.
func CampaignBundle(c *apiv1.Campaign, identities []*apiv1.AttackerIdentity, members []Member, tags []attack.Tag, truncated bool) ([]byte, error) {
	if c.GetId() == "" {
		return nil, errors.New("export campaign: campaign without id")
	}
	g, err := collectGroup(members, tags, truncated)
	if err != nil {
		return nil, fmt.Errorf("export campaign %s: %w", c.GetId(), err)
	}
	campaignID := clean(c.GetId())
	first, last := campaignSpan(c, g)
	b := newBuilder()

	camp := sdoID("campaign", "decnet-campaign", campaignID)
	co := b.sdo("campaign", camp, first, last)
	co["name"] = "DECNET campaign " + campaignID
	co["first_seen"] = timestamp(first)
	co["last_seen"] = timestamp(last)
	desc := fmt.Sprintf("Operation DECNET inferred from %d identities and %d attackers", len(c.GetIdentityIds()), len(c.GetAttackerIds()))
	if g.truncated {
		desc += fmt.Sprintf("; lists cut at %d items", maxItems)
	}
	co["description"] = desc
	co["external_references"] = []map[string]string{{"source_name": "decnet", "external_id": campaignID}}

	sorted := slices.Clone(identities)
	slices.SortFunc(sorted, func(a, b *apiv1.AttackerIdentity) int { return strings.Compare(a.GetId(), b.GetId()) })
	var actors []string
	for _, ident := range sorted {
		actor := b.identityActor(g, ident)
		if actor == "" {
			continue
		}
		actors = append(actors, actor)
		b.relationship("attributed-to", camp, actor, first, last)
	}
	if len(actors) == 0 {
		return nil, fmt.Errorf("export campaign %s: %w", c.GetId(), ErrNoMembers)
	}
	b.attackPatternsOnce(g.tags, camp, first, last)

	if lines := evidenceLines(c); len(lines) > 0 {
		n := b.sdo("note", sdoID("note", "campaign-evidence", campaignID), first, last)
		n["abstract"] = "Evidence that joined the campaign's identities"
		n["content"] = strings.Join(lines, "\n")
		n["object_refs"] = append([]string{camp}, actors...)
	}
	return b.bundle("campaign", campaignID, timestamp(last))
}

// campaignSpan is the campaign's own span widened by what its members'
// records show, so the campaign covers every sighting it refers to.
func campaignSpan(c *apiv1.Campaign, g *group) (first, last time.Time) {
	first, last = g.first, g.last
	if ts := c.GetFirstSeen(); ts != nil && ts.AsTime().Unix() > 0 && ts.AsTime().Before(first) {
		first = ts.AsTime()
	}
	if ts := c.GetLastSeen(); ts != nil && ts.AsTime().After(last) && ts.AsTime().Year() <= 9999 {
		last = ts.AsTime()
	}
	return first, last
}

// evidenceLines describes each evidence pair of a campaign, one line per
// pair, capped at maxItems.
func evidenceLines(c *apiv1.Campaign) []string {
	var lines []string
	for _, ev := range c.GetEvidence() {
		if len(lines) == maxItems {
			break
		}
		var terms []string
		for _, t := range ev.GetTerms() {
			term := clean(t.GetKind()) + " " + strconv.FormatFloat(t.GetScore(), 'f', 2, 64)
			if t.GetDetail() != "" {
				term += " (" + clean(t.GetDetail()) + ")"
			}
			terms = append(terms, term)
		}
		lines = append(lines, fmt.Sprintf("%s and %s: score %.2f; %s",
			clean(ev.GetIdentityId()), clean(ev.GetOtherIdentityId()), ev.GetScore(), strings.Join(terms, "; ")))
	}
	return lines
}

// addMembers adds the attributes of each member attacker to a MISP event:
// the attacker id, ip-src per address, text per principal, sha256 per
// file and url per download, each commented with the attacker it came
// from. Values two members share appear once.
func (m *mispBuilder) addMembers(g *group, attackerIDs []string) {
	ids := slices.Clone(attackerIDs)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		f := g.byID[clean(id)]
		if f == nil {
			continue
		}
		from := "attacker " + f.attackerID
		m.add("text", "Other", f.attackerID, false, "DECNET attacker id", f.first, f.last)
		for _, af := range f.addrs {
			m.add("ip-src", "Network activity", af.addr.String(), true, from+" source address", af.first, af.last)
		}
		for _, p := range f.principals {
			m.add("text", "Other", p, false, "principal "+from+" tried against decoys", time.Time{}, time.Time{})
		}
		for _, ff := range f.files {
			comment := "file captured from " + from
			if ff.name != "" {
				comment += ": " + ff.name
			}
			m.add("sha256", "Payload delivery", ff.sha256, true, comment, time.Time{}, time.Time{})
		}
		for _, u := range f.urls {
			m.add("url", "Network activity", u, true, "download "+from+" requested", time.Time{}, time.Time{})
		}
	}
}

// IdentityMISP returns a MISP event for one attacker identity: the
// identity and its attackers' ids as text, and per member the addresses,
// principals, files and URLs AttackerMISP exports, with a galaxy tag per
// technique. Secrets and their digests are never exported.
func IdentityMISP(ident *apiv1.AttackerIdentity, members []Member, tags []attack.Tag, truncated bool) ([]byte, error) {
	if ident.GetId() == "" {
		return nil, errors.New("export identity: identity without id")
	}
	g, err := collectGroup(members, tags, truncated)
	if err != nil {
		return nil, fmt.Errorf("export identity %s: %w", ident.GetId(), err)
	}
	first, last := g.span(cleanAll(ident.GetAttackerIds()))
	if first.IsZero() {
		return nil, fmt.Errorf("export identity %s: %w", ident.GetId(), ErrNoMembers)
	}
	identityID := clean(ident.GetId())
	info := fmt.Sprintf("DECNET identity %s (%d attackers, %d sessions)", identityID, len(ident.GetAttackerIds()), ident.GetSessions())
	m := newMISP([]string{"identity", identityID}, info, first, last, g.tags)
	m.add("text", "Other", identityID, false, "DECNET identity id", first, last)
	m.addMembers(g, cleanAll(ident.GetAttackerIds()))
	if g.truncated {
		m.add("text", "Other", fmt.Sprintf("lists cut at %d items", maxItems), false, "export limit", time.Time{}, time.Time{})
	}
	return m.marshal()
}

// CampaignMISP returns a MISP event for one campaign: the campaign and
// its identities' ids and the evidence that joined them as text, then
// each member attacker's attributes as in IdentityMISP.
func CampaignMISP(c *apiv1.Campaign, identities []*apiv1.AttackerIdentity, members []Member, tags []attack.Tag, truncated bool) ([]byte, error) {
	if c.GetId() == "" {
		return nil, errors.New("export campaign: campaign without id")
	}
	g, err := collectGroup(members, tags, truncated)
	if err != nil {
		return nil, fmt.Errorf("export campaign %s: %w", c.GetId(), err)
	}
	campaignID := clean(c.GetId())
	first, last := campaignSpan(c, g)
	info := fmt.Sprintf("DECNET campaign %s (%d identities, %d attackers)", campaignID, len(c.GetIdentityIds()), len(c.GetAttackerIds()))
	m := newMISP([]string{"campaign", campaignID}, info, first, last, g.tags)
	m.add("text", "Other", campaignID, false, "DECNET campaign id", first, last)
	sorted := slices.Clone(identities)
	slices.SortFunc(sorted, func(a, b *apiv1.AttackerIdentity) int { return strings.Compare(a.GetId(), b.GetId()) })
	for _, ident := range sorted {
		f, l := g.span(cleanAll(ident.GetAttackerIds()))
		m.add("text", "Other", clean(ident.GetId()), false, "DECNET identity id", f, l)
	}
	for _, line := range evidenceLines(c) {
		m.add("text", "Other", line, false, "campaign evidence", time.Time{}, time.Time{})
	}
	m.addMembers(g, cleanAll(c.GetAttackerIds()))
	if g.truncated {
		m.add("text", "Other", fmt.Sprintf("lists cut at %d items", maxItems), false, "export limit", time.Time{}, time.Time{})
	}
	return m.marshal()
}

func cleanAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = clean(s)
	}
	return out
}
