package tlsfp

import (
	"crypto/md5" //nolint:gosec // G501: JA3 is defined as an MD5; it identifies, it does not protect.
	"crypto/tls"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// versionTLS12 is the legacy_version that RFC 8446, section 4.1.2,
// requires of every client sending supported_versions.
const versionTLS12 = 0x0303

// legacyVersion returns the ClientHello's legacy_version, the first JA3
// field, as far as crypto/tls lets it be recovered.
//
// ClientHelloInfo does not carry legacy_version. crypto/tls (Go 1.26,
// clientHelloInfo in handshake_server.go) fills SupportedVersions from
// the supported_versions extension when the client sent one, and
// otherwise with the versions from TLS 1.3 down to TLS 1.0 that are not
// above legacy_version. The rule is therefore:
//
//   - With supported_versions, 0x0303 (771), which RFC 8446 requires of
//     such a client. A client that sends another value is reported as
//     771 all the same.
//   - Without it, the first entry of SupportedVersions: legacy_version
//     itself from 0x0301 to 0x0304, but 0x0304 (772) for any higher value.
//   - Without it and with SupportedVersions empty, legacy_version was
//     below TLS 1.0 (SSL 3.0, or a value that names no version), which
//     crypto/tls does not reveal, and the field is 0.
func legacyVersion(hello *tls.ClientHelloInfo) uint16 {
	if slices.Contains(hello.Extensions, extSupportedVersions) {
		return versionTLS12
	}
	if len(hello.SupportedVersions) > 0 {
		return hello.SupportedVersions[0]
	}
	return 0
}

// ja3String returns Salesforce's JA3 string: the legacy version, the
// cipher suites, the extension types, the supported groups and the EC
// point formats, each in the client's order as decimal numbers joined by
// "-", with the fields joined by ",". GREASE values are left out of the
// 16-bit lists.
func ja3String(hello *tls.ClientHelloInfo) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(legacyVersion(hello))))
	b.WriteByte(',')
	writeDecimals(&b, hello.CipherSuites)
	b.WriteByte(',')
	writeDecimals(&b, hello.Extensions)
	b.WriteByte(',')
	writeDecimals(&b, hello.SupportedCurves)
	b.WriteByte(',')
	for i, p := range hello.SupportedPoints {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(int(p)))
	}
	return b.String()
}

func writeDecimals[T ~uint16](b *strings.Builder, values []T) {
	first := true
	for _, v := range values {
		if isGREASE(uint16(v)) {
			continue
		}
		if !first {
			b.WriteByte('-')
		}
		first = false
		b.WriteString(strconv.Itoa(int(v)))
	}
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // G401: see the import.
	return hex.EncodeToString(sum[:])
}
