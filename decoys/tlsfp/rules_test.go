package tlsfp

import (
	"crypto/tls"
	"strings"
	"testing"
)

// The version fields follow what crypto/tls puts in SupportedVersions:
// the extension's list when the client sent supported_versions, else
// the versions up to legacy_version.
func TestVersionRule(t *testing.T) {
	for _, tc := range []struct {
		name     string
		exts     []uint16
		versions []uint16
		ja3, ja4 string
	}{
		{"tls13 extension", []uint16{extSupportedVersions}, []uint16{0x4a4a, 0x0304, 0x0303}, "771", "13"},
		{"tls12 extension only", []uint16{extSupportedVersions}, []uint16{0x0303}, "771", "12"},
		{"extension order ignored", []uint16{extSupportedVersions}, []uint16{0x0302, 0x0304}, "771", "13"},
		{"extension of grease only", []uint16{extSupportedVersions}, []uint16{0x0a0a}, "771", "00"},
		{"extension of unknown version", []uint16{extSupportedVersions}, []uint16{0x7f1c}, "771", "00"},
		{"legacy tls12", nil, []uint16{0x0303, 0x0302, 0x0301}, "771", "12"},
		{"legacy tls11", nil, []uint16{0x0302, 0x0301}, "770", "11"},
		{"legacy tls10", nil, []uint16{0x0301}, "769", "10"},
		{"legacy tls13 or above", nil, []uint16{0x0304, 0x0303, 0x0302, 0x0301}, "772", "13"},
		{"legacy below tls10", nil, nil, "0", "00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := Compute(&tls.ClientHelloInfo{Extensions: tc.exts, SupportedVersions: tc.versions})
			if v, _, _ := strings.Cut(fp.JA3String, ","); v != tc.ja3 {
				t.Errorf("ja3 version = %s, want %s", v, tc.ja3)
			}
			if v := fp.JA4[1:3]; v != tc.ja4 {
				t.Errorf("ja4 version = %s, want %s", v, tc.ja4)
			}
		})
	}
}

// The ALPN characters follow the examples of JA4.md.
func TestJA4ALPN(t *testing.T) {
	for _, tc := range []struct {
		name   string
		protos []string
		want   string
	}{
		{"none", nil, "00"},
		{"empty name", []string{""}, "00"},
		{"h2", []string{"h2", "http/1.1"}, "h2"},
		{"http/1.1", []string{"http/1.1"}, "h1"},
		{"one character", []string{"x"}, "xx"},
		{"one byte not alphanumeric", []string{"\xab"}, "ab"},
		{"two bytes not alphanumeric", []string{"\xab\xcd"}, "ad"},
		{"last not alphanumeric", []string{"0\xab"}, "3b"},
		{"middle not alphanumeric", []string{"0\xab\xcd1"}, "01"},
		{"first not alphanumeric", []string{"\xab\xcd01"}, "a1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ja4ALPN(tc.protos); got != tc.want {
				t.Errorf("alpn = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestJA4EdgeCases(t *testing.T) {
	t.Run("empty hello", func(t *testing.T) {
		if got := Compute(&tls.ClientHelloInfo{}).JA4; got != "t00i000000_000000000000_000000000000" {
			t.Errorf("ja4 = %s", got)
		}
	})

	t.Run("sni and alpn only", func(t *testing.T) {
		hello := &tls.ClientHelloInfo{
			CipherSuites:      []uint16{0x002f},
			Extensions:        []uint16{extServerName, extALPN},
			SupportedProtos:   []string{"h2"},
			SupportedVersions: []uint16{0x0303, 0x0302, 0x0301},
		}
		want := "t12d0102h2_" + hash12("002f") + "_000000000000"
		if got := Compute(hello).JA4; got != want {
			t.Errorf("ja4 = %s, want %s", got, want)
		}
	})

	t.Run("no signature algorithms", func(t *testing.T) {
		// JA4.md gives this extension list without signature
		// algorithms as hashing to 6d807ffa2a79.
		exts := "001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015"
		hello := &tls.ClientHelloInfo{Extensions: hexValues(t, exts)}
		if got := Compute(hello).JA4; !strings.HasSuffix(got, "_6d807ffa2a79") {
			t.Errorf("ja4 = %s, want the extension hash 6d807ffa2a79", got)
		}
	})

	t.Run("counts capped at 99", func(t *testing.T) {
		hello := &tls.ClientHelloInfo{}
		for i := range 150 {
			hello.CipherSuites = append(hello.CipherSuites, uint16(0x0100+i))
			hello.Extensions = append(hello.Extensions, uint16(0x0100+i))
		}
		if got := Compute(hello).JA4; got[4:8] != "9999" {
			t.Errorf("ja4 = %s, want counts 9999", got)
		}
	})

	t.Run("no sni extension", func(t *testing.T) {
		// ServerName alone does not count: JA4 looks for the extension.
		hello := &tls.ClientHelloInfo{ServerName: "example.com", Extensions: []uint16{0x000a}}
		if got := Compute(hello).JA4; got[3] != 'i' {
			t.Errorf("ja4 = %s, want i for no SNI", got)
		}
	})
}

func TestJA3GreaseRemoved(t *testing.T) {
	hello := &tls.ClientHelloInfo{
		CipherSuites:      []uint16{0x0a0a, 0x1301, 0xc02b},
		Extensions:        []uint16{0xdada, 0, 10, 11, extSupportedVersions, 0xeaea},
		SupportedCurves:   []tls.CurveID{0x8a8a, tls.X25519, tls.CurveP256},
		SupportedPoints:   []uint8{0, 1, 2},
		SupportedVersions: []uint16{0x1a1a, 0x0304},
	}
	want := "771,4865-49195,0-10-11-43,29-23,0-1-2"
	if got := Compute(hello).JA3String; got != want {
		t.Errorf("ja3 string = %q, want %q", got, want)
	}
}

func TestEventCapsJA3String(t *testing.T) {
	hello := &tls.ClientHelloInfo{SupportedVersions: []uint16{0x0303}}
	for i := range 30000 {
		hello.CipherSuites = append(hello.CipherSuites, uint16(0x1000+i))
	}
	fp := Compute(hello)
	ev := fp.Event()
	if len(ev.GetJa3String()) != MaxJA3String {
		t.Errorf("event ja3_string has %d bytes, want %d", len(ev.GetJa3String()), MaxJA3String)
	}
	if ev.GetJa3() != md5Hex(fp.JA3String) {
		t.Errorf("event ja3 %s is not the MD5 of the whole string", ev.GetJa3())
	}
	if ev.GetJa4() != fp.JA4 {
		t.Errorf("event ja4 = %s, want %s", ev.GetJa4(), fp.JA4)
	}
}
