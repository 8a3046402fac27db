// Package tlsfp computes the JA3 and JA4 fingerprints of a TLS client
// from the ClientHello that crypto/tls hands to a server, and routes them
// to the connection's session as client.fingerprinted events.
//
// Every value in a ClientHello is chosen by the client, so the
// computation accepts any field contents: it never panics, and its cost
// is bounded by the size of the hello, which crypto/tls caps at 64 KiB.
package tlsfp

import (
	"crypto/tls"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// MaxJA3String caps the ja3_string an event stores. A browser's is about
// 150 bytes; a hello of 64 KiB can list 32 768 ciphers and make one of
// some 200 KB. The JA3 hash is always over the whole string.
const MaxJA3String = 4 << 10

// Fingerprint contains the client fingerprints of one ClientHello.
type Fingerprint struct {
	// JA3String is "version,ciphers,extensions,curves,point formats".
	JA3String string
	// JA3 is the MD5 of JA3String in lower-case hex.
	JA3 string
	// JA4 is FoxIO's JA4, for example "t13d1516h2_8daaf6152771_e5627efa2ab1".
	JA4 string
}

// Compute returns the JA3 and JA4 of hello.
func Compute(hello *tls.ClientHelloInfo) Fingerprint {
	s := ja3String(hello)
	return Fingerprint{JA3String: s, JA3: md5Hex(s), JA4: ja4(hello)}
}

// Event returns f as the client.fingerprinted payload, with JA3String
// cut to MaxJA3String bytes.
func (f Fingerprint) Event() *eventv1.ClientFingerprint {
	s := f.JA3String
	if len(s) > MaxJA3String {
		s = s[:MaxJA3String]
	}
	return &eventv1.ClientFingerprint{Ja3: f.JA3, Ja3String: s, Ja4: f.JA4}
}

// isGREASE reports the reserved values of RFC 8701, 0x0a0a to 0xfafa,
// which clients insert at random and both fingerprints leave out.
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// Extension types the fingerprints look for (IANA TLS ExtensionType
// Values).
const (
	extServerName        uint16 = 0x0000
	extALPN              uint16 = 0x0010
	extSupportedVersions uint16 = 0x002b
)
