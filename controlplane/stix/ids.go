// Package stix exports DECNET's record of an attacker, or of a
// credential-reuse group, as a STIX 2.1 bundle or a MISP event. Exports
// are deterministic: the same input gives byte-identical output, so a
// consumer that imports twice updates objects instead of duplicating them.
package stix

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// decnetNamespace seeds UUIDv5 ids of DECNET's own objects (SDOs, SROs,
// MISP events and attributes). It is fixed forever: changing it would
// change every exported id.
var decnetNamespace = uuid.MustParse("4f0c3a5e-9b1d-4e8a-a7c2-5d6e0b1f2a93")

// scoNamespace is the namespace STIX 2.1 section 2.9 gives for
// deterministic Cyber-observable Object ids, so other producers that see
// the same address compute the same id.
var scoNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// sdoID is the id of a DECNET object of type typ with natural key parts.
func sdoID(typ string, key ...string) string {
	var b bytes.Buffer
	b.WriteString(typ)
	for _, k := range key {
		// NUL cannot occur in the text keys, so parts never run together.
		b.WriteByte(0)
		b.WriteString(k)
	}
	return typ + "--" + uuid.NewSHA1(decnetNamespace, b.Bytes()).String()
}

// scoID follows section 2.9: UUIDv5 over the canonical JSON of the
// object's ID Contributing Properties. encoding/json sorts map keys and,
// with HTML escaping off, writes these ASCII-safe values as RFC 8785 does.
func scoID(typ string, contributing map[string]any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	// Encoding a map of strings and string maps cannot fail.
	_ = enc.Encode(contributing)
	return typ + "--" + uuid.NewSHA1(scoNamespace, bytes.TrimRight(b.Bytes(), "\n")).String()
}

// timestamp formats t as STIX wants it: UTC, "Z", milliseconds.
func timestamp(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}
