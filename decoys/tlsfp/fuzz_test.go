package tlsfp

import (
	"crypto/tls"
	"encoding/binary"
	"regexp"
	"strings"
	"testing"
)

var ja4Pattern = regexp.MustCompile(`^t(1[0-3]|s[1-3]|00)[di]\d{4}[0-9a-zA-Z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)

// FuzzCompute feeds arbitrary field values to Compute: it must not
// panic, and its output must keep the shape of JA3 and JA4 whatever the
// client sent.
func FuzzCompute(f *testing.F) {
	f.Add([]byte{0x13, 0x01, 0x0a, 0x0a}, []byte{0x00, 0x00, 0x00, 0x2b}, []byte{0x00, 0x1d}, []byte{0}, []byte{0x04, 0x03}, []byte{0x03, 0x04}, "h2")
	f.Add([]byte{}, []byte{}, []byte{}, []byte{}, []byte{}, []byte{}, "")
	f.Add([]byte{0xff}, []byte{0x00, 0x10}, []byte{0xfa}, []byte{1, 2}, []byte{0xab}, []byte{0x03, 0x00}, "\xab\x00")
	f.Fuzz(func(t *testing.T, ciphers, exts, curves, points, sigs, versions []byte, alpn string) {
		hello := &tls.ClientHelloInfo{
			CipherSuites:      uint16s(ciphers),
			Extensions:        uint16s(exts),
			SupportedPoints:   points,
			SupportedVersions: uint16s(versions),
			SupportedProtos:   strings.Split(alpn, ","),
		}
		for _, c := range uint16s(curves) {
			hello.SupportedCurves = append(hello.SupportedCurves, tls.CurveID(c))
		}
		for _, s := range uint16s(sigs) {
			hello.SignatureSchemes = append(hello.SignatureSchemes, tls.SignatureScheme(s))
		}

		fp := Compute(hello)
		if n := strings.Count(fp.JA3String, ","); n != 4 {
			t.Errorf("ja3 string %q has %d commas, want 4", fp.JA3String, n)
		}
		if len(fp.JA3) != 32 {
			t.Errorf("ja3 %q is not an MD5", fp.JA3)
		}
		if !ja4Pattern.MatchString(fp.JA4) {
			t.Errorf("ja4 %q does not have JA4's shape", fp.JA4)
		}
		if ev := fp.Event(); len(ev.GetJa3String()) > MaxJA3String {
			t.Errorf("event ja3_string has %d bytes", len(ev.GetJa3String()))
		}
	})
}

// uint16s reads b as big-endian 16-bit values, dropping an odd last byte.
func uint16s(b []byte) []uint16 {
	out := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		out = append(out, binary.BigEndian.Uint16(b[i:]))
	}
	return out
}
