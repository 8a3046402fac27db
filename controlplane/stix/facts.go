package stix

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/decnet/decnet/controlplane/attack"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// maxItems caps each list an export carries (addresses, principals, files,
// URLs, ports). An attacker who tried a hundred thousand user names still
// gets an export a consumer can import; the cut is noted in the output.
const maxItems = 1000

// ErrNoAttacker is returned when the attacker is missing or has no id.
var ErrNoAttacker = errors.New("attacker without id")

// facts is the content both export formats carry about one attacker,
// deduplicated and sorted so output does not depend on input order.
type facts struct {
	attackerID  string
	first, last time.Time
	eventCount  uint64
	addrs       []addrFact
	principals  []string
	files       []fileFact
	urls        []string
	ports       []uint32
	tags        []attack.Tag
	services    []string
	deckies     []string
	truncated   bool
}

type addrFact struct {
	addr        netip.Addr
	first, last time.Time
	count       uint64
}

type fileFact struct {
	sha256 string
	name   string
	size   uint64
}

func collect(a *apiv1.Attacker, events []*apiv1.StoredEvent, creds []*apiv1.Credential, tags []attack.Tag) (*facts, error) {
	if a.GetId() == "" {
		return nil, ErrNoAttacker
	}
	f := &facts{
		attackerID: clean(a.GetId()),
		eventCount: a.GetEventCount(),
		services:   sortedSet(a.GetServices()),
		deckies:    sortedSet(a.GetDeckies()),
		tags:       dedupTags(tags),
	}
	if ts := a.GetFirstSeen(); ts != nil {
		f.first = ts.AsTime()
	}
	if ts := a.GetLastSeen(); ts != nil {
		f.last = ts.AsTime()
	}

	addrs := map[netip.Addr]*addrFact{}
	addAddr := func(s string) *addrFact {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil
		}
		ip = ip.Unmap().WithZone("")
		af := addrs[ip]
		if af == nil {
			af = &addrFact{addr: ip}
			addrs[ip] = af
		}
		return af
	}
	for _, s := range a.GetAddresses() {
		addAddr(s)
	}

	principals, urls := map[string]bool{}, map[string]bool{}
	files, ports := map[string]fileFact{}, map[uint32]bool{}
	var evCount uint64
	for _, se := range events {
		ev := se.GetEvent()
		if ev == nil || (se.GetAttackerId() != "" && se.GetAttackerId() != f.attackerID) {
			continue
		}
		evCount++
		t := ev.GetTime().AsTime()
		if ev.GetTime() == nil {
			t = se.GetReceivedAt().AsTime()
		}
		f.widen(t)
		if af := addAddr(ev.GetSource().GetAddress()); af != nil {
			af.count++
			af.widen(t)
		}
		if p := ev.GetDestination().GetPort(); p != 0 {
			ports[p] = true
		}
		if aa := ev.GetAuthAttempt(); aa != nil && aa.GetPrincipal() != "" {
			principals[clean(aa.GetPrincipal())] = true
		}
		if d := ev.GetDownloadRequested(); d != nil {
			if d.GetUrl() != "" {
				urls[clean(d.GetUrl())] = true
			}
			if len(d.GetSha256()) == 32 {
				addFile(files, d.GetSha256(), urlBase(d.GetUrl()), d.GetSize())
			}
		}
		if fc := ev.GetFileCaptured(); fc != nil {
			if fc.GetUrl() != "" {
				urls[clean(fc.GetUrl())] = true
			}
			if len(fc.GetSha256()) == 32 {
				addFile(files, fc.GetSha256(), fc.GetName(), fc.GetSize())
			}
		}
	}
	for _, c := range creds {
		if c.GetAttackerId() != "" && c.GetAttackerId() != f.attackerID {
			continue
		}
		if c.GetPrincipal() != "" {
			principals[clean(c.GetPrincipal())] = true
		}
		if af := addAddr(c.GetSourceAddress()); af != nil && c.GetTime() != nil {
			af.widen(c.GetTime().AsTime())
		}
		if c.GetTime() != nil {
			f.widen(c.GetTime().AsTime())
		}
	}
	if f.eventCount < evCount {
		f.eventCount = evCount
	}
	if f.first.IsZero() || f.last.IsZero() {
		return nil, fmt.Errorf("export attacker %s: no first or last seen time", f.attackerID)
	}
	if f.first.Year() < 1 || f.last.Year() > 9999 {
		return nil, fmt.Errorf("export attacker %s: seen times outside years 1-9999", f.attackerID)
	}

	for _, af := range addrs {
		if af.first.IsZero() {
			af.first, af.last = f.first, f.last
		}
		f.addrs = append(f.addrs, *af)
	}
	sort.Slice(f.addrs, func(i, j int) bool { return f.addrs[i].addr.Less(f.addrs[j].addr) })
	f.principals = f.capStrings(keys(principals))
	f.urls = f.capStrings(keys(urls))
	for _, ff := range files {
		f.files = append(f.files, ff)
	}
	sort.Slice(f.files, func(i, j int) bool { return f.files[i].sha256 < f.files[j].sha256 })
	for p := range ports {
		f.ports = append(f.ports, p)
	}
	slices.Sort(f.ports)
	if len(f.addrs) > maxItems {
		f.addrs, f.truncated = f.addrs[:maxItems], true
	}
	if len(f.files) > maxItems {
		f.files, f.truncated = f.files[:maxItems], true
	}
	if len(f.ports) > maxItems {
		f.ports, f.truncated = f.ports[:maxItems], true
	}
	return f, nil
}

// widen stretches the attacker's span to cover t; agents' clocks may be
// ahead of the stored summary.
func (f *facts) widen(t time.Time) {
	if t.IsZero() || t.Unix() <= 0 {
		return
	}
	if f.first.IsZero() || t.Before(f.first) {
		f.first = t
	}
	if f.last.IsZero() || t.After(f.last) {
		f.last = t
	}
}

func (af *addrFact) widen(t time.Time) {
	if t.IsZero() || t.Unix() <= 0 {
		return
	}
	if af.first.IsZero() || t.Before(af.first) {
		af.first = t
	}
	if af.last.IsZero() || t.After(af.last) {
		af.last = t
	}
}

func (f *facts) capStrings(s []string) []string {
	if len(s) > maxItems {
		f.truncated = true
		return s[:maxItems]
	}
	return s
}

func addFile(files map[string]fileFact, sum []byte, name string, size uint64) {
	h, name := hex.EncodeToString(sum), clean(name)
	prev, ok := files[h]
	// Keep the smallest non-empty name and the largest size, so the result
	// does not depend on the order events arrive in.
	if ok && prev.name != "" && (name == "" || prev.name < name) {
		name = prev.name
	}
	files[h] = fileFact{sha256: h, name: name, size: max(size, prev.size)}
}

func urlBase(u string) string {
	if i := strings.LastIndexByte(u, '/'); i >= 0 && i < len(u)-1 {
		return u[i+1:]
	}
	return ""
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedSet(in []string) []string {
	m := map[string]bool{}
	for _, s := range in {
		if s != "" {
			m[clean(s)] = true
		}
	}
	return keys(m)
}

// dedupTags keeps one tag per technique, ordered by technique id.
func dedupTags(tags []attack.Tag) []attack.Tag {
	seen := map[string]attack.Tag{}
	for _, t := range tags {
		if t.TechniqueID == "" {
			continue
		}
		if _, ok := seen[t.TechniqueID]; !ok {
			seen[t.TechniqueID] = t
		}
	}
	out := make([]attack.Tag, 0, len(seen))
	for _, t := range seen {
		t.TechniqueName = clean(t.TechniqueName)
		if t.TechniqueName == "" {
			// STIX requires a name; the id is better than nothing.
			t.TechniqueName = t.TechniqueID
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TechniqueID < out[j].TechniqueID })
	return out
}

// shortName is the technique name without its parent, as MISP's galaxy
// names sub-techniques ("Password Guessing", not "Brute Force: Password
// Guessing").
func shortName(name string) string {
	if i := strings.LastIndex(name, ": "); i >= 0 {
		return name[i+2:]
	}
	return name
}

// techniqueURL is the ATT&CK page of a technique id such as T1110.001.
func techniqueURL(id string) string {
	return "https://attack.mitre.org/techniques/" + strings.Replace(id, ".", "/", 1) + "/"
}

// clean makes attacker text valid UTF-8. JSON encoding would replace bad
// bytes anyway, but only after deterministic ids were computed over the
// raw bytes, so a consumer recomputing an id would disagree.
func clean(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
