package tlsfp

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// emptyHash stands for the hash of an empty list, as the JA4
// specification has it.
const emptyHash = "000000000000"

// ja4 returns FoxIO's JA4 of hello, following technical_details/JA4.md
// in github.com/FoxIO-LLC/ja4:
//
//	t 13 d 15 16 h2 _ 8daaf6152771 _ e5627efa2ab1
//
// that is the transport, the version, SNI or none, the counts of cipher
// suites and extensions, the first and last characters of the first ALPN
// protocol, a hash of the sorted suites, and a hash of the sorted
// extensions followed by the signature algorithms. GREASE values are
// left out everywhere. The transport is always "t": the decoys read
// ClientHellos over TCP only, never QUIC or DTLS.
func ja4(hello *tls.ClientHelloInfo) string {
	ciphers := withoutGREASE(hello.CipherSuites)
	exts := withoutGREASE(hello.Extensions)

	sni := "i"
	if slices.Contains(exts, extServerName) {
		sni = "d"
	}
	prefix := fmt.Sprintf("t%s%s%02d%02d%s", ja4Version(hello), sni, min(len(ciphers), 99), min(len(exts), 99), ja4ALPN(hello.SupportedProtos))

	slices.Sort(ciphers)
	cipherHash := emptyHash
	if len(ciphers) > 0 {
		cipherHash = hash12(hexList(ciphers))
	}

	exts = slices.DeleteFunc(exts, func(e uint16) bool { return e == extServerName || e == extALPN })
	slices.Sort(exts)
	extHash := emptyHash
	if len(exts) > 0 {
		s := hexList(exts)
		if sigs := withoutGREASE(hello.SignatureSchemes); len(sigs) > 0 {
			s += "_" + hexList(sigs)
		}
		extHash = hash12(s)
	}
	return prefix + "_" + cipherHash + "_" + extHash
}

// ja4Version returns the version field: the highest non-GREASE value of
// supported_versions when the client sent that extension, and
// legacy_version otherwise. Without the extension crypto/tls exposes
// legacy_version only through SupportedVersions (see legacyVersion), so
// a value above TLS 1.3 reads as "13", and one below TLS 1.0 as "00"
// where JA4 would print "s3" for SSL 3.0.
func ja4Version(hello *tls.ClientHelloInfo) string {
	var v uint16
	if slices.Contains(hello.Extensions, extSupportedVersions) {
		for _, sv := range hello.SupportedVersions {
			if !isGREASE(sv) && sv > v {
				v = sv
			}
		}
	} else {
		v = legacyVersion(hello)
	}
	switch v {
	case tls.VersionTLS13:
		return "13"
	case tls.VersionTLS12:
		return "12"
	case tls.VersionTLS11:
		return "11"
	case tls.VersionTLS10:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0200:
		return "s2"
	case 0x0100:
		return "s1"
	}
	return "00"
}

// ja4ALPN returns the first and last characters of the first ALPN
// protocol, "00" when there is none, and the first and last hex digits
// of the protocol when either end is not an ASCII letter or digit.
func ja4ALPN(protos []string) string {
	if len(protos) == 0 || protos[0] == "" {
		return "00"
	}
	p := protos[0]
	first, last := p[0], p[len(p)-1]
	if !isAlnum(first) || !isAlnum(last) {
		h := hex.EncodeToString([]byte{first, last})
		return h[:1] + h[3:]
	}
	return string([]byte{first, last})
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func withoutGREASE[T ~uint16](values []T) []uint16 {
	out := make([]uint16, 0, len(values))
	for _, v := range values {
		if !isGREASE(uint16(v)) {
			out = append(out, uint16(v))
		}
	}
	return out
}

// hexList joins values as four lower-case hex digits each, comma
// separated.
func hexList(values []uint16) string {
	var b strings.Builder
	b.Grow(5 * len(values))
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%04x", v)
	}
	return b.String()
}

// hash12 returns the first 12 hex digits of the SHA-256 of s.
func hash12(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
