package smtp

import (
	"encoding/base64"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm"
)

// runNTLM runs AUTH NTLM as Exchange does: "334 NTLM supported" when
// there is no initial NEGOTIATE message, then a CHALLENGE that names the
// server and its domain, and a failure after the AUTHENTICATE message,
// whose response is recorded in a form that can be cracked offline.
//
// The CHALLENGE names the decky's Windows host, as its IMAP, POP3 and IIS
// services do. The banner shows the receive connector's FQDN instead,
// which an administrator may set to a public name.
//
// The NEGOTIATE message is not checked: its flags change nothing in the
// CHALLENGE a Windows server sends.
func (c *conn) runNTLM(initial *string) (string, uint32, bool) {
	if initial == nil {
		if _, ok := c.challenge("NTLM supported"); !ok {
			return "", 0, false
		}
	}
	serverChallenge := ntlm.NewServerChallenge()
	msg := ntlm.ChallengeMessage(c.s.ntlmTarget, serverChallenge, c.s.now())
	resp, ok := c.challenge(base64.StdEncoding.EncodeToString(msg))
	if !ok {
		return "", 0, false
	}
	raw, err := decodeSASL(resp)
	if err != nil {
		return c.badBase64(false), 0, true
	}
	if a, err := ntlm.ParseAuthenticate(raw); err == nil {
		if cred, ok := a.Credential(serverChallenge); ok {
			c.recordAuth(decoys.MechanismSASLNTLM, cred.SecretKind, cred.Principal, cred.Secret)
		}
	}
	return c.p.r.authUnavailable, 0, true
}
