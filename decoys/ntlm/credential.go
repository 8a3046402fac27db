package ntlm

import (
	"encoding/hex"
	"strings"
	"unicode"

	"github.com/decnet/decnet/decoys"
)

// Response lengths that tell the protocol versions apart (MS-NLMP
// 3.3.1 and 3.3.2): an NTLMv1 response is 24 bytes, an NTLMv2 response
// the 16-byte NTProofStr followed by the client's blob.
const (
	v1ResponseLen = 24
	ntProofLen    = 16
)

// Credential is the auth.attempt payload of an AUTHENTICATE message.
type Credential struct {
	// Principal is DOMAIN\user as the client sent both, or the user
	// alone when the domain is empty: the form Windows logs show, and
	// the one an analyst searches for.
	Principal string
	// SecretKind is decoys.SecretNTLMv2 or decoys.SecretNTLMv1.
	SecretKind string
	// Secret is the hashcat line of the response: mode 5600 for NTLMv2,
	// user::domain:serverchallenge:ntproofstr:blob, and mode 5500 for
	// NTLMv1, user::domain:lmresponse:ntresponse:serverchallenge, all
	// in lower-case hex.
	Secret []byte
}

// Credential returns the crackable form of a's response to
// serverChallenge. It returns false for an anonymous message (no NT
// response), for an NT response of a length neither version uses, and
// for a user or domain no line can carry (see lineSafe).
//
// A user or domain that contains ':' makes a line hashcat cannot split.
// It is kept as sent, because no client of a real account sends one.
func (a *Authenticate) Credential(serverChallenge [8]byte) (Credential, bool) {
	if !lineSafe(a.User) || !lineSafe(a.Domain) {
		return Credential{}, false
	}
	c := Credential{Principal: a.User}
	if a.Domain != "" {
		c.Principal = a.Domain + `\` + a.User
	}
	sc := hex.EncodeToString(serverChallenge[:])
	var line strings.Builder
	line.WriteString(a.User + "::" + a.Domain + ":")

	switch n := len(a.NTResponse); {
	case n > v1ResponseLen:
		c.SecretKind = decoys.SecretNTLMv2
		line.WriteString(sc + ":" + hex.EncodeToString(a.NTResponse[:ntProofLen]) + ":" + hex.EncodeToString(a.NTResponse[ntProofLen:]))
	case n == v1ResponseLen:
		c.SecretKind = decoys.SecretNTLMv1
		// A client that sends no LM response (NoLMResponseNTLMv1)
		// repeats the NT response there, as Windows itself does.
		lm := a.LMResponse
		if len(lm) != v1ResponseLen {
			lm = a.NTResponse
		}
		line.WriteString(hex.EncodeToString(lm) + ":" + hex.EncodeToString(a.NTResponse) + ":" + sc)
	default:
		return Credential{}, false
	}
	c.Secret = []byte(line.String())
	return c, true
}

// lineSafe reports whether name can appear in a hashcat line. Windows
// account and domain names contain no control characters, and one would
// split the line in an exported file or rewrite the terminal showing it.
// U+FFFD replaces bytes the parser could not decode, so a line with it
// hashes other bytes than the client did and can never be cracked.
func lineSafe(name string) bool {
	return !strings.ContainsFunc(name, func(r rune) bool {
		return unicode.IsControl(r) || r == '\uFFFD'
	})
}
