package pop3

import (
	"encoding/base64"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/mailbox"
	"github.com/decnet/decnet/decoys/ntlm"
)

// authNTLM runs AUTH NTLM as Exchange does: an empty continuation for
// the NEGOTIATE message (or that message as an initial response), one
// that carries the CHALLENGE, and for the AUTHENTICATE message the reply
// to a wrong password. The response is recorded in a form that can be
// cracked offline; no password is ever accepted, since the decoy cannot
// check one.
func (c *conn) authNTLM(ir []byte) (bool, error) {
	if len(ir) == 0 {
		line, ok, err := c.saslResponse("")
		if !ok {
			return false, err
		}
		ir = line
	}
	if _, err := mailbox.DecodeBase64(ir); err != nil {
		return false, c.reply(c.p.badBase64)
	}

	serverChallenge := ntlm.NewServerChallenge()
	msg := ntlm.ChallengeMessage(c.s.ntlmTarget, serverChallenge, c.s.now())
	line, ok, err := c.saslResponse(base64.StdEncoding.EncodeToString(msg))
	if !ok {
		return false, err
	}
	raw, err := mailbox.DecodeBase64(line)
	if err != nil {
		return false, c.reply(c.p.badBase64)
	}
	if a, err := ntlm.ParseAuthenticate(raw); err == nil {
		if cred, ok := a.Credential(serverChallenge); ok {
			c.record(cred.Principal, cred.Secret, decoys.MechanismSASLNTLM, cred.SecretKind, false)
		}
	}
	c.wait(c.s.failDelay())
	return false, c.reply(c.saslFailed())
}
