package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// validateBundle checks a bundle against the rules of the STIX 2.1 OASIS
// Standard (10 June 2021) that DECNET's exports touch. Section numbers are
// listed in testdata/README.md. It returns every violation, not just the
// first, so a failing test shows the whole picture.
func validateBundle(data []byte) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	var bundle map[string]any
	if err := json.Unmarshal(data, &bundle); err != nil {
		return []string{"bundle is not JSON: " + err.Error()}
	}
	// §8: type "bundle", an identifier, objects; no spec_version in 2.1.
	if bundle["type"] != "bundle" {
		bad("bundle type = %v", bundle["type"])
	}
	checkID(bundle["id"], "bundle", bad)
	if _, ok := bundle["spec_version"]; ok {
		bad("bundle carries spec_version, removed in 2.1")
	}
	objs, ok := bundle["objects"].([]any)
	if !ok || len(objs) == 0 {
		bad("bundle objects missing or empty")
		return errs
	}

	ids := map[string]map[string]any{}
	for _, o := range objs {
		obj, ok := o.(map[string]any)
		if !ok {
			bad("object is not a JSON object")
			continue
		}
		id, _ := obj["id"].(string)
		if _, dup := ids[id]; dup {
			bad("%s: duplicate id in bundle", id)
		}
		ids[id] = obj
	}
	for id, obj := range ids {
		validateObject(id, obj, ids, bad)
	}
	return errs
}

var (
	typeName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]+[a-z0-9]$`)
	// §2.15: RFC 3339, UTC, "Z"; exports use milliseconds exactly.
	msTimestamp  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	anyTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`)
	// §2.11: kill_chain_name and phase_name lowercase, hyphens.
	lowerHyphen = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// checkID applies §2.9: type--UUID, the type as given, an RFC 4122 UUID.
func checkID(v any, wantType string, bad func(string, ...any)) {
	s, ok := v.(string)
	typ, u, found := strings.Cut(s, "--")
	if !ok || !found {
		bad("id %v is not type--UUID", v)
		return
	}
	if wantType != "" && typ != wantType {
		bad("id %s: type %s, want %s", s, typ, wantType)
	}
	parsed, err := uuid.Parse(u)
	if err != nil || parsed.String() != u {
		bad("id %s: %q is not a lowercase canonical UUID", s, u)
		return
	}
	if parsed.Variant() != uuid.RFC4122 {
		bad("id %s: UUID variant is not RFC 4122", s)
	}
}

func checkTimestamp(obj map[string]any, key string, required, millis bool, bad func(string, ...any)) (time.Time, bool) {
	v, ok := obj[key]
	if !ok {
		if required {
			bad("%s: %s is required", obj["id"], key)
		}
		return time.Time{}, false
	}
	s, _ := v.(string)
	re := anyTimestamp
	if millis {
		re = msTimestamp
	}
	if !re.MatchString(s) {
		bad("%s: %s %q is not an RFC 3339 UTC timestamp%s", obj["id"], key, s, map[bool]string{true: " with milliseconds"}[millis])
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		bad("%s: %s %q: %v", obj["id"], key, s, err)
	}
	return t, err == nil
}

func requireString(obj map[string]any, key string, bad func(string, ...any)) string {
	s, ok := obj[key].(string)
	if !ok || s == "" {
		bad("%s: %s is required", obj["id"], key)
	}
	return s
}

func checkRef(obj map[string]any, ref any, wantType string, ids map[string]map[string]any, bad func(string, ...any)) {
	s, _ := ref.(string)
	checkID(s, wantType, bad)
	if _, ok := ids[s]; !ok {
		bad("%s: reference %s is not in the bundle", obj["id"], s)
	}
}

func checkRefList(obj map[string]any, key string, required bool, ids map[string]map[string]any, bad func(string, ...any)) {
	v, ok := obj[key]
	if !ok {
		if required {
			bad("%s: %s is required", obj["id"], key)
		}
		return
	}
	list, _ := v.([]any)
	// §2.12: a list present must not be empty.
	if len(list) == 0 {
		bad("%s: %s is an empty list", obj["id"], key)
	}
	for _, r := range list {
		checkRef(obj, r, "", ids, bad)
	}
}

var sdoTypes = map[string]bool{
	"attack-pattern": true, "identity": true, "indicator": true, "note": true,
	"observed-data": true, "threat-actor": true, "intrusion-set": true, "campaign": true,
}
var sroTypes = map[string]bool{"relationship": true, "sighting": true}
var scoTypes = map[string]bool{"ipv4-addr": true, "ipv6-addr": true, "url": true, "file": true, "user-account": true}

func validateObject(id string, obj map[string]any, ids map[string]map[string]any, bad func(string, ...any)) {
	typ, _ := obj["type"].(string)
	// §3.1: type names are 3-250 characters, lowercase, digits, hyphens.
	if !typeName.MatchString(typ) || len(typ) > 250 {
		bad("%s: type %q is malformed", id, typ)
	}
	checkID(id, typ, bad)

	switch {
	case sdoTypes[typ] || sroTypes[typ]:
		// §3.2: SDOs and SROs require spec_version, id, created, modified;
		// created and modified are precise to the millisecond and
		// modified is not before created.
		if obj["spec_version"] != "2.1" {
			bad("%s: spec_version = %v, want 2.1", id, obj["spec_version"])
		}
		c, okc := checkTimestamp(obj, "created", true, true, bad)
		m, okm := checkTimestamp(obj, "modified", true, true, bad)
		if okc && okm && m.Before(c) {
			bad("%s: modified %s before created %s", id, m, c)
		}
		if ref, ok := obj["created_by_ref"]; ok {
			checkRef(obj, ref, "identity", ids, bad)
		}
	case scoTypes[typ]:
		// §3.2 / §6: spec_version is optional on SCOs but, when present,
		// "2.1"; SCOs have no created or modified.
		if v, ok := obj["spec_version"]; ok && v != "2.1" {
			bad("%s: spec_version = %v", id, v)
		}
		if _, ok := obj["created"]; ok {
			bad("%s: an SCO has no created", id)
		}
	default:
		bad("%s: type %s not expected in a DECNET export", id, typ)
	}
	if refs, ok := obj["external_references"]; ok {
		checkExternalRefs(id, refs, bad)
	}

	switch typ {
	case "identity": // §4.5
		requireString(obj, "name", bad)
	case "threat-actor": // §4.17
		requireString(obj, "name", bad)
		f, okf := checkTimestamp(obj, "first_seen", false, false, bad)
		l, okl := checkTimestamp(obj, "last_seen", false, false, bad)
		if okf && okl && l.Before(f) {
			bad("%s: last_seen before first_seen", id)
		}
	case "campaign": // §4.2
		requireString(obj, "name", bad)
		f, okf := checkTimestamp(obj, "first_seen", false, false, bad)
		l, okl := checkTimestamp(obj, "last_seen", false, false, bad)
		if okf && okl && l.Before(f) {
			bad("%s: last_seen before first_seen", id)
		}
	case "attack-pattern": // §4.1
		requireString(obj, "name", bad)
		checkKillChain(id, obj, bad)
	case "indicator": // §4.7
		requireString(obj, "pattern", bad)
		if obj["pattern_type"] != "stix" {
			bad("%s: pattern_type = %v", id, obj["pattern_type"])
		}
		checkTimestamp(obj, "valid_from", true, false, bad)
		checkPattern(id, obj["pattern"], bad)
	case "note": // §4.13
		requireString(obj, "content", bad)
		checkRefList(obj, "object_refs", true, ids, bad)
	case "observed-data": // §4.14
		f, okf := checkTimestamp(obj, "first_observed", true, false, bad)
		l, okl := checkTimestamp(obj, "last_observed", true, false, bad)
		if okf && okl && l.Before(f) {
			bad("%s: last_observed before first_observed", id)
		}
		n, _ := obj["number_observed"].(float64)
		if n < 1 || n > maxCount || n != float64(int64(n)) {
			bad("%s: number_observed %v outside 1..999999999", id, obj["number_observed"])
		}
		checkRefList(obj, "object_refs", true, ids, bad)
	case "relationship": // §5.1
		requireString(obj, "relationship_type", bad)
		checkRef(obj, obj["source_ref"], "", ids, bad)
		checkRef(obj, obj["target_ref"], "", ids, bad)
	case "sighting": // §5.2
		checkRef(obj, obj["sighting_of_ref"], "", ids, bad)
		f, okf := checkTimestamp(obj, "first_seen", false, false, bad)
		l, okl := checkTimestamp(obj, "last_seen", false, false, bad)
		if okf && okl && l.Before(f) {
			bad("%s: last_seen before first_seen", id)
		}
		if v, ok := obj["count"]; ok {
			if n, _ := v.(float64); n < 0 || n > maxCount {
				bad("%s: count %v outside 0..999999999", id, v)
			}
		}
		checkRefList(obj, "observed_data_refs", false, ids, bad)
		checkRefList(obj, "where_sighted_refs", false, ids, bad)
	case "ipv4-addr", "ipv6-addr", "url": // §6.8, §6.9, §6.15
		requireString(obj, "value", bad)
		checkSCOID(id, typ, map[string]any{"value": obj["value"]}, bad)
	case "file": // §6.7: hashes or name; SHA-256 from the hash vocabulary
		hashes, _ := obj["hashes"].(map[string]any)
		if len(hashes) == 0 && obj["name"] == nil {
			bad("%s: file needs hashes or name", id)
		}
		if h, _ := hashes["SHA-256"].(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(h) {
			bad("%s: SHA-256 %q is not 64 hex digits", id, h)
		}
		contributing := map[string]any{"hashes": map[string]any{"SHA-256": hashes["SHA-256"]}}
		if name, ok := obj["name"]; ok {
			contributing["name"] = name
		}
		checkSCOID(id, typ, contributing, bad)
	case "user-account": // §6.16: at least one property besides type
		login := requireString(obj, "account_login", bad)
		checkSCOID(id, typ, map[string]any{"account_login": login}, bad)
	}
}

// checkSCOID recomputes a deterministic SCO id (§2.9) independently of
// the exporter: UUIDv5 in the STIX namespace over the JSON of the ID
// contributing properties.
func checkSCOID(id, typ string, contributing map[string]any, bad func(string, ...any)) {
	// RFC 8785 leaves <, > and & unescaped, so HTML escaping is off.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(contributing); err != nil {
		bad("%s: %v", id, err)
		return
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	want := typ + "--" + uuid.NewSHA1(uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7"), b).String()
	if id != want {
		bad("%s: deterministic id should be %s", id, want)
	}
}

// checkExternalRefs applies §2.5: source_name, and at least one of
// description, url or external_id.
func checkExternalRefs(id string, v any, bad func(string, ...any)) {
	list, _ := v.([]any)
	for _, r := range list {
		ref, _ := r.(map[string]any)
		if s, _ := ref["source_name"].(string); s == "" {
			bad("%s: external reference without source_name", id)
		}
		if ref["description"] == nil && ref["url"] == nil && ref["external_id"] == nil {
			bad("%s: external reference needs description, url or external_id", id)
		}
	}
}

func checkKillChain(id string, obj map[string]any, bad func(string, ...any)) {
	list, _ := obj["kill_chain_phases"].([]any)
	for _, p := range list {
		ph, _ := p.(map[string]any)
		for _, k := range []string{"kill_chain_name", "phase_name"} {
			if s, _ := ph[k].(string); !lowerHyphen.MatchString(s) {
				bad("%s: %s %q must be lowercase with hyphens", id, k, s)
			}
		}
	}
}

// checkPattern accepts the comparison form exports use (§9):
// [object-type:property = 'literal'] with ' and \ escaped in the literal.
var simplePattern = regexp.MustCompile(`^\[(ipv4-addr|ipv6-addr|url|file|user-account):[a-z_]+(\.'[A-Z0-9-]+')? = '((?:[^'\\]|\\['\\])*)'\]$`)

func checkPattern(id string, v any, bad func(string, ...any)) {
	s, _ := v.(string)
	if !simplePattern.MatchString(s) {
		bad("%s: pattern %q is not a simple STIX comparison", id, s)
	}
}

// Tests of the validator itself: each rule must be able to fail.
func TestValidatorRejects(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": []any{
			map[string]any{"type": "identity", "spec_version": "2.1", "id": "identity--" + uuid.NewString(),
				"created": "2026-03-01T12:00:00.000Z", "modified": "2026-03-01T12:00:00.000Z", "name": "x"},
		}}
	}
	obj := func(b map[string]any) map[string]any { return b["objects"].([]any)[0].(map[string]any) }
	tests := []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"ok", func(map[string]any) {}, ""},
		{"spec_version on bundle", func(b map[string]any) { b["spec_version"] = "2.1" }, "removed in 2.1"},
		{"bad bundle id", func(b map[string]any) { b["id"] = "bundle-x" }, "not type--UUID"},
		{"id type mismatch", func(b map[string]any) { obj(b)["id"] = "indicator--" + uuid.NewString() }, "want identity"},
		{"uppercase uuid", func(b map[string]any) { obj(b)["id"] = "identity--" + strings.ToUpper(uuid.NewString()) }, "canonical UUID"},
		{"seconds only", func(b map[string]any) { obj(b)["created"] = "2026-03-01T12:00:00Z" }, "with milliseconds"},
		{"offset", func(b map[string]any) { obj(b)["modified"] = "2026-03-01T12:00:00.000+01:00" }, "RFC 3339"},
		{"modified before created", func(b map[string]any) { obj(b)["modified"] = "2026-02-01T12:00:00.000Z" }, "before created"},
		{"spec_version 2.0", func(b map[string]any) { obj(b)["spec_version"] = "2.0" }, "want 2.1"},
		{"no name", func(b map[string]any) { delete(obj(b), "name") }, "name is required"},
		{"dangling ref", func(b map[string]any) { obj(b)["created_by_ref"] = "identity--" + uuid.NewString() }, "not in the bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := good()
			tt.edit(b)
			data, _ := json.Marshal(b)
			errs := validateBundle(data)
			got := strings.Join(errs, "\n")
			if tt.want == "" && len(errs) != 0 {
				t.Errorf("valid bundle rejected: %s", got)
			}
			if tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("errors %q, want one containing %q", got, tt.want)
			}
		})
	}
}
