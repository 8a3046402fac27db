package tlsfp

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
)

// hexValues parses "1301,c02b,..." as in JA4's raw output.
func hexValues(t *testing.T, list string) []uint16 {
	t.Helper()
	var out []uint16
	for _, f := range strings.Split(list, ",") {
		var v uint16
		if _, err := fmt.Sscanf(f, "%04x", &v); err != nil {
			t.Fatalf("parse %q: %v", f, err)
		}
		out = append(out, v)
	}
	return out
}

func signatureSchemes(t *testing.T, list string) []tls.SignatureScheme {
	t.Helper()
	var out []tls.SignatureScheme
	for _, v := range hexValues(t, list) {
		out = append(out, tls.SignatureScheme(v))
	}
	return out
}

// The JA3 examples of Salesforce's README (github.com/salesforce/ja3,
// README.md), given to Compute as crypto/tls would build the
// ClientHelloInfo of a TLS 1.0 hello without supported_versions.
func TestJA3ReadmeVectors(t *testing.T) {
	tls10 := []uint16{tls.VersionTLS10}
	for _, tc := range []struct {
		name   string
		hello  *tls.ClientHelloInfo
		str    string
		digest string
	}{
		{
			name: "extensions",
			hello: &tls.ClientHelloInfo{
				CipherSuites:      []uint16{47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4},
				Extensions:        []uint16{0, 10, 11},
				SupportedCurves:   []tls.CurveID{23, 24, 25},
				SupportedPoints:   []uint8{0},
				SupportedVersions: tls10,
			},
			str:    "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0",
			digest: "ada70206e40642a3e4461f35503241d5",
		},
		{
			name: "no extensions",
			hello: &tls.ClientHelloInfo{
				CipherSuites:      []uint16{4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99},
				SupportedVersions: tls10,
			},
			str:    "769,4-5-10-9-100-98-3-6-19-18-99,,,",
			digest: "de350869b8c85de67a350c8d186f11e6",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := Compute(tc.hello)
			if fp.JA3String != tc.str {
				t.Errorf("ja3 string = %q, want %q", fp.JA3String, tc.str)
			}
			if fp.JA3 != tc.digest {
				t.Errorf("ja3 = %s, want %s", fp.JA3, tc.digest)
			}
		})
	}
}

// ClientHellos from FoxIO's test captures, with the expected JA4 that
// the JA4 repository (github.com/FoxIO-LLC/ja4) records for them in
// python/test/testdata. The lists come from the JA4_ro output there:
// cipher suites, extensions and signature algorithms in wire order,
// GREASE already removed.
func TestJA4ReferenceVectors(t *testing.T) {
	chromeCiphers := "1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035"
	chromeSigs := "0403,0804,0401,0503,0805,0501,0806,0601"
	tls13 := []uint16{0x0a0a, tls.VersionTLS13, tls.VersionTLS12}
	for _, tc := range []struct {
		name                string
		ciphers, exts, sigs string
		alpn                []string
		want                string
	}{
		{
			// tls-sni.pcapng.json, stream 0: Chrome to clientservices.googleapis.com.
			name:    "chrome h2",
			ciphers: chromeCiphers,
			exts:    "ff01,0033,002d,0005,4469,000d,0010,0023,001b,002b,0000,0012,000a,0017,000b,0015",
			sigs:    chromeSigs,
			alpn:    []string{"h2", "http/1.1"},
			want:    "t13d1516h2_8daaf6152771_e5627efa2ab1",
		},
		{
			// tls-sni.pcapng.json, stream 6: Chrome to mtalk.google.com:5228, no ALPN.
			name:    "chrome no alpn",
			ciphers: chromeCiphers,
			exts:    "0033,002b,001b,0000,0012,002d,000d,000a,0005,0023,0017,ff01,000b,0015",
			sigs:    chromeSigs,
			want:    "t13d151400_8daaf6152771_de4a06bb82e3",
		},
		{
			// tls12.pcap.json, stream 0: Firefox to contile.services.mozilla.com.
			name:    "firefox",
			ciphers: "1301,1303,1302,c02b,c02f,cca9,cca8,c02c,c030,c00a,c009,c013,c014,009c,009d,002f,0035",
			exts:    "0000,0017,ff01,000a,000b,0023,0010,0005,0022,0033,002b,000d,002d,001c,0015",
			sigs:    "0403,0503,0603,0804,0805,0806,0401,0501,0601,0203,0201",
			alpn:    []string{"h2", "http/1.1"},
			want:    "t13d1715h2_5b57614c22b0_3d5424432f57",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hello := &tls.ClientHelloInfo{
				CipherSuites:      hexValues(t, tc.ciphers),
				Extensions:        hexValues(t, tc.exts),
				SignatureSchemes:  signatureSchemes(t, tc.sigs),
				SupportedProtos:   tc.alpn,
				SupportedVersions: tls13,
				ServerName:        "example.com",
			}
			if got := Compute(hello).JA4; got != tc.want {
				t.Errorf("ja4 = %s, want %s", got, tc.want)
			}

			// GREASE anywhere leaves the fingerprint as it is.
			hello.CipherSuites = append([]uint16{0x1a1a}, hello.CipherSuites...)
			hello.Extensions = append([]uint16{0x2a2a}, append(hello.Extensions, 0xfafa)...)
			hello.SignatureSchemes = append([]tls.SignatureScheme{0x3a3a}, hello.SignatureSchemes...)
			if got := Compute(hello).JA4; got != tc.want {
				t.Errorf("ja4 with GREASE = %s, want %s", got, tc.want)
			}
		})
	}
}
