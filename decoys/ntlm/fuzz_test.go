package ntlm

import (
	"strings"
	"testing"
)

// FuzzParse feeds attacker bytes to both parsers and checks that a
// parsed AUTHENTICATE message yields a consistent credential.
func FuzzParse(f *testing.F) {
	f.Add(specMessage(f, specV1Authenticate))
	f.Add(specMessage(f, specV2Authenticate))
	f.Add([]byte("NTLMSSP\x00\x01\x00\x00\x00\x06\x82\x08\x00"))
	f.Add([]byte("NTLMSSP\x00\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if n, err := ParseNegotiate(msg); err == nil && n == nil {
			t.Fatal("nil negotiate without error")
		}
		a, err := ParseAuthenticate(msg)
		if err != nil {
			return
		}
		c, ok := a.Credential([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
		if !ok {
			if len(a.NTResponse) >= v1ResponseLen && lineSafe(a.User) && lineSafe(a.Domain) {
				t.Fatalf("no credential for a %d-byte response", len(a.NTResponse))
			}
			return
		}
		if strings.ContainsAny(string(c.Secret), "\r\n\x00\x1b") {
			t.Fatalf("line %q carries a control character", c.Secret)
		}
		if !strings.HasSuffix(c.Principal, a.User) || !strings.HasPrefix(string(c.Secret), a.User+"::"+a.Domain+":") {
			t.Fatalf("credential %q %q for %q %q", c.Principal, c.Secret, a.User, a.Domain)
		}
	})
}
