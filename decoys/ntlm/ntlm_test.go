package ntlm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm/ntlmtest"
)

// The AUTHENTICATE messages of MS-NLMP 4.2.2.3 (NTLMv1) and 4.2.4.3
// (NTLMv2): user "User", domain "Domain", workstation "COMPUTER",
// password "Password", server challenge 0123456789abcdef.
const (
	specV1Authenticate = "4e544c4d535350000300000018001800" +
		"6c00000018001800840000000c000c00" +
		"48000000080008005400000010001000" +
		"5c000000100010009c000000358280e2" +
		"0501280a0000000f44006f006d006100" +
		"69006e00550073006500720043004f00" +
		"4d0050005500540045005200" +
		"98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13" +
		"67c43011f30298a2ad35ece64f16331c44bdbed927841f94" +
		"518822b1b3f350c8958682ecbb3e3cb7"
	specV2Authenticate = "4e544c4d535350000300000018001800" +
		"6c00000054005400840000000c000c00" +
		"48000000080008005400000010001000" +
		"5c00000010001000d8000000358288e2" +
		"0501280a0000000f44006f006d006100" +
		"69006e00550073006500720043004f00" +
		"4d005000550054004500520086c35097" +
		"ac9cec102554764a57cccc19aaaaaaaa" +
		"aaaaaaaa68cd0ab851e51c96aabc927b" +
		"ebef6a1c010100000000000000000000" +
		"00000000aaaaaaaaaaaaaaaa00000000" +
		"02000c0044006f006d00610069006e00" +
		"01000c00530065007200760065007200" +
		"0000000000000000c5dad2544fc97990" +
		"94ce1ce90bc9d03e"
	specServerChallenge = "0123456789abcdef"
)

func specMessage(t testing.TB, h string) []byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func specChallenge(t testing.TB) [8]byte {
	var c [8]byte
	copy(c[:], specMessage(t, specServerChallenge))
	return c
}

func TestParseAuthenticateSpecVectors(t *testing.T) {
	cases := []struct {
		name, msg, lm, nt, kind, secret string
	}{
		{
			name: "NTLMv1 4.2.2.3",
			msg:  specV1Authenticate,
			lm:   "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13",
			nt:   "67c43011f30298a2ad35ece64f16331c44bdbed927841f94",
			kind: decoys.SecretNTLMv1,
			secret: "User::Domain:98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13:" +
				"67c43011f30298a2ad35ece64f16331c44bdbed927841f94:0123456789abcdef",
		},
		{
			name: "NTLMv2 4.2.4.3",
			msg:  specV2Authenticate,
			lm:   "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa",
			nt: "68cd0ab851e51c96aabc927bebef6a1c" +
				"01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000" +
				"02000c0044006f006d00610069006e0001000c00530065007200760065007200" +
				"0000000000000000",
			kind: decoys.SecretNTLMv2,
			secret: "User::Domain:0123456789abcdef:68cd0ab851e51c96aabc927bebef6a1c:" +
				"01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000" +
				"02000c0044006f006d00610069006e0001000c00530065007200760065007200" +
				"0000000000000000",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseAuthenticate(specMessage(t, tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			if a.User != "User" || a.Domain != "Domain" || a.Workstation != "COMPUTER" {
				t.Errorf("names %q %q %q", a.User, a.Domain, a.Workstation)
			}
			if got := hex.EncodeToString(a.LMResponse); got != tc.lm {
				t.Errorf("lm response %s, want %s", got, tc.lm)
			}
			if got := hex.EncodeToString(a.NTResponse); got != tc.nt {
				t.Errorf("nt response %s, want %s", got, tc.nt)
			}
			c, ok := a.Credential(specChallenge(t))
			if !ok || c.Principal != `Domain\User` || c.SecretKind != tc.kind || string(c.Secret) != tc.secret {
				t.Errorf("credential %v %q %s %q, want %s %q", ok, c.Principal, c.SecretKind, c.Secret, tc.kind, tc.secret)
			}
		})
	}
}

// TestSpecV2LineIsCrackable checks the NTLMv2 line against the password
// of the specification, and the response key against 4.2.4.1.1.
func TestSpecV2LineIsCrackable(t *testing.T) {
	if got := hex.EncodeToString(ntlmtest.NTOWFv2("User", "Domain", "Password")); got != "0c868a403bfd7a93a3001ef22ef02e3f" {
		t.Fatalf("NTOWFv2 %s", got)
	}
	a, err := ParseAuthenticate(specMessage(t, specV2Authenticate))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := a.Credential(specChallenge(t))
	if _, _, err := ntlmtest.VerifyV2(c.Secret, "Password"); err != nil {
		t.Error(err)
	}
	if _, _, err := ntlmtest.VerifyV2(c.Secret, "password"); err == nil {
		t.Error("a wrong password verified")
	}
}

// TestSpecV1LineIsCrackable checks the NTLMv1 line against the password
// of the specification.
func TestSpecV1LineIsCrackable(t *testing.T) {
	a, err := ParseAuthenticate(specMessage(t, specV1Authenticate))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := a.Credential(specChallenge(t))
	if _, _, err := ntlmtest.VerifyV1(c.Secret, "Password"); err != nil {
		t.Error(err)
	}
	if _, _, err := ntlmtest.VerifyV1(c.Secret, "Passw0rd"); err == nil {
		t.Error("a wrong password verified")
	}
}

func TestCredentialPrincipalAndAnonymous(t *testing.T) {
	a := &Authenticate{User: "alice", NTResponse: make([]byte, 24)}
	if c, ok := a.Credential([8]byte{}); !ok || c.Principal != "alice" || c.SecretKind != decoys.SecretNTLMv1 ||
		string(c.Secret) != "alice:::"+strings.Repeat("0", 48)+":"+strings.Repeat("0", 48)+":0000000000000000" {
		t.Errorf("no domain: %v %q %s %q", ok, c.Principal, c.SecretKind, c.Secret)
	}
	for _, n := range []int{0, 1, 16, 23} {
		a := &Authenticate{User: "", NTResponse: make([]byte, n)}
		if _, ok := a.Credential([8]byte{}); ok {
			t.Errorf("nt response of %d bytes gave a credential", n)
		}
	}
}

// TestCredentialUnsafeNames checks that a name with a control character
// or undecodable bytes gives no line, and that printable names still do.
func TestCredentialUnsafeNames(t *testing.T) {
	nt := make([]byte, 40)
	cases := []struct {
		user, domain string
		ok           bool
	}{
		{"alice", "CORP", true},
		{"al ice", "", true},
		{"Jos\u00e9", "CORP", true},
		{"alice\r\nbob::CORP:00", "CORP", false},
		{"alice", "CO\nRP", false},
		{"a\x1b[31mb", "CORP", false},
		{"a\x00b", "CORP", false},
		{"a\u0085b", "CORP", false},
		{"alice", "CORP\x7f", false},
		{"\ufffd\ufffd", "CORP", false},
	}
	for _, tc := range cases {
		a := &Authenticate{User: tc.user, Domain: tc.domain, NTResponse: nt}
		c, ok := a.Credential([8]byte{})
		if ok != tc.ok {
			t.Errorf("%q %q: credential %v, want %v", tc.user, tc.domain, ok, tc.ok)
			continue
		}
		if ok && !strings.HasPrefix(string(c.Secret), tc.user+"::"+tc.domain+":") {
			t.Errorf("%q %q: line %q", tc.user, tc.domain, c.Secret)
		}
	}
	// A lone surrogate in the UTF-16 user name decodes to U+FFFD.
	msg, err := ntlmtest.Authenticate(ChallengeMessage(NewTarget("exch01", "corp.local"), [8]byte{}, time.Unix(0, 0)), "x", "CORP", "WS", "pw", [8]byte{})
	if err != nil {
		t.Fatal(err)
	}
	userOffset := binary.LittleEndian.Uint32(msg[40:])
	binary.LittleEndian.PutUint16(msg[userOffset:], 0xd800)
	a, err := ParseAuthenticate(msg)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := a.Credential([8]byte{}); ok {
		t.Errorf("lone surrogate gave %q", c.Secret)
	}
}

func TestParseAuthenticateOEM(t *testing.T) {
	msg := specMessage(t, specV1Authenticate)
	// Clear NEGOTIATE_UNICODE: the same bytes read as OEM keep their
	// NULs, and an odd length becomes legal.
	binary.LittleEndian.PutUint32(msg[60:], binary.LittleEndian.Uint32(msg[60:])&^FlagUnicode)
	binary.LittleEndian.PutUint16(msg[36:], 3)
	a, err := ParseAuthenticate(msg)
	if err != nil {
		t.Fatal(err)
	}
	if a.User != "U\x00s" || a.Domain != "D\x00o\x00m\x00a\x00i\x00n\x00" {
		t.Errorf("oem names %q %q", a.User, a.Domain)
	}
}

func TestParseAuthenticateMalformed(t *testing.T) {
	base := specMessage(t, specV2Authenticate)
	mutate := func(f func(m []byte) []byte) []byte {
		return f(bytes.Clone(base))
	}
	cases := map[string][]byte{
		"empty":               nil,
		"signature":           mutate(func(m []byte) []byte { m[0] = 'X'; return m }),
		"type negotiate":      mutate(func(m []byte) []byte { m[8] = 1; return m }),
		"header cut":          base[:63],
		"nt response cut":     base[:0x84+0x54-1],
		"nt past end":         mutate(func(m []byte) []byte { binary.LittleEndian.PutUint16(m[20:], 0xffff); return m }),
		"nt offset overflow":  mutate(func(m []byte) []byte { binary.LittleEndian.PutUint32(m[24:], 0xffffffff); return m }),
		"user in header":      mutate(func(m []byte) []byte { binary.LittleEndian.PutUint32(m[40:], 8); return m }),
		"odd unicode user":    mutate(func(m []byte) []byte { binary.LittleEndian.PutUint16(m[36:], 7); return m }),
		"odd unicode domain":  mutate(func(m []byte) []byte { binary.LittleEndian.PutUint16(m[28:], 11); return m }),
		"workstation outside": mutate(func(m []byte) []byte { binary.LittleEndian.PutUint32(m[48:], uint32(len(m))); return m }),
	}
	for name, msg := range cases {
		t.Run(name, func(t *testing.T) {
			if a, err := ParseAuthenticate(msg); !errors.Is(err, ErrMalformed) {
				t.Errorf("got %+v, %v; want ErrMalformed", a, err)
			}
		})
	}
	// An empty field may point anywhere, as Windows leaves it.
	m := mutate(func(m []byte) []byte {
		binary.LittleEndian.PutUint16(m[44:], 0)
		binary.LittleEndian.PutUint32(m[48:], 0xffffffff)
		return m
	})
	if a, err := ParseAuthenticate(m); err != nil || a.Workstation != "" || a.User != "User" {
		t.Errorf("empty workstation: %+v, %v", a, err)
	}
}

func TestParseNegotiate(t *testing.T) {
	// curl's NEGOTIATE message: no domain or workstation.
	curl, _ := base64.StdEncoding.DecodeString("TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=")
	n, err := ParseNegotiate(curl)
	if err != nil || n.Flags != 0x00088206 || n.Domain != "" || n.Workstation != "" {
		t.Errorf("curl: %+v, %v", n, err)
	}

	// A client that supplies both, as NTLMv1-era clients did.
	msg := []byte(Signature)
	msg = binary.LittleEndian.AppendUint32(msg, TypeNegotiate)
	msg = binary.LittleEndian.AppendUint32(msg, FlagOEM|FlagOEMDomainSupplied|FlagOEMWorkstationSupplied)
	msg = append(msg, 4, 0, 4, 0, 32, 0, 0, 0, 2, 0, 2, 0, 36, 0, 0, 0)
	msg = append(msg, "CORPWS"...)
	n, err = ParseNegotiate(msg)
	if err != nil || n.Domain != "CORP" || n.Workstation != "WS" {
		t.Errorf("supplied: %+v, %v", n, err)
	}

	short := msg[:16]
	if n, err := ParseNegotiate(short); err != nil || n.Domain != "" {
		t.Errorf("16-byte message: %+v, %v", n, err)
	}
	for name, bad := range map[string][]byte{
		"cut":           msg[:15],
		"type":          append(append([]byte(Signature), 3, 0, 0, 0), msg[12:]...),
		"domain beyond": append(bytes.Clone(msg[:32]), "CO"...),
	} {
		if _, err := ParseNegotiate(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestChallengeMessage(t *testing.T) {
	target := NewTarget("EXCH01.oakfield.local", "oakfield.local")
	if target != (Target{NetBIOSDomain: "OAKFIELD", NetBIOSComputer: "EXCH01", DNSDomain: "oakfield.local", DNSComputer: "EXCH01.oakfield.local"}) {
		t.Fatalf("target %+v", target)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sc := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	msg := ChallengeMessage(target, sc, now)

	if MessageType(msg) != TypeChallenge || binary.LittleEndian.Uint32(msg[20:]) != 0xE2898205 ||
		!bytes.Equal(msg[24:32], sc[:]) || hex.EncodeToString(msg[48:56]) != "0a0063450000000f" {
		t.Errorf("header % x", msg[:56])
	}
	nameLen, nameOff := binary.LittleEndian.Uint16(msg[12:]), binary.LittleEndian.Uint32(msg[16:])
	if got := decodeUTF16(msg[nameOff : nameOff+uint32(nameLen)]); got != "OAKFIELD" {
		t.Errorf("target name %q", got)
	}

	infoLen, infoOff := binary.LittleEndian.Uint16(msg[40:]), binary.LittleEndian.Uint32(msg[44:])
	if int(infoOff)+int(infoLen) != len(msg) {
		t.Fatalf("target info %d+%d of %d bytes", infoOff, infoLen, len(msg))
	}
	info := msg[infoOff:]
	var got []string
	for len(info) >= 4 {
		id, n := binary.LittleEndian.Uint16(info), binary.LittleEndian.Uint16(info[2:])
		value := info[4 : 4+n]
		info = info[4+n:]
		switch id {
		case avTimestamp:
			ticks := binary.LittleEndian.Uint64(value)
			got = append(got, time.Unix(0, int64(ticks-116444736000000000)*100).UTC().Format(time.RFC3339))
		case avEOL:
			got = append(got, "EOL")
		default:
			got = append(got, decodeUTF16(value))
		}
	}
	want := "OAKFIELD EXCH01 oakfield.local EXCH01.oakfield.local oakfield.local 2026-01-02T03:04:05Z EOL"
	if strings.Join(got, " ") != want {
		t.Errorf("av pairs %q, want %q", strings.Join(got, " "), want)
	}

	// The test client's AUTHENTICATE message for it parses to a
	// crackable line that names the server challenge.
	auth, err := ntlmtest.Authenticate(msg, "alice", "CORP", "WS1", "Secr3t!", [8]byte{9, 9, 9, 9, 9, 9, 9, 9})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAuthenticate(auth)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := a.Credential(sc)
	if !ok || c.Principal != `CORP\alice` || !strings.HasPrefix(string(c.Secret), "alice::CORP:0102030405060708:") {
		t.Fatalf("credential %v %q %q", ok, c.Principal, c.Secret)
	}
	if _, _, err := ntlmtest.VerifyV2(c.Secret, "Secr3t!"); err != nil {
		t.Error(err)
	}
}

func TestTargetFor(t *testing.T) {
	seed := []byte("0123456789abcdef0123456789abcdef")
	domain := Domain(seed)
	if domain != Domain(bytes.Clone(seed)) || !strings.Contains(domain, ".") {
		t.Fatalf("domain %q", domain)
	}
	if got := TargetFor(seed, "ex01"); got.DNSDomain != domain || got.NetBIOSComputer != "EX01" ||
		got.NetBIOSDomain != strings.ToUpper(strings.Split(domain, ".")[0]) {
		t.Errorf("bare host: %+v", got)
	}
	if got := TargetFor(seed, "mail.example.org"); got.DNSDomain != "example.org" || got.NetBIOSDomain != "EXAMPLE" || got.NetBIOSComputer != "MAIL" {
		t.Errorf("dotted host: %+v", got)
	}
	if got := NewTarget("averyveryverylongcomputername", "x.local"); got.NetBIOSComputer != "AVERYVERYVERYLO" {
		t.Errorf("long name: %+v", got)
	}
}

func decodeUTF16(b []byte) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(units))
}
