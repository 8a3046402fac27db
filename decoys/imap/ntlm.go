package imap

import (
	"encoding/base64"
	"strings"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/mailbox"
	"github.com/decnet/decnet/decoys/ntlm"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// authNTLM runs AUTHENTICATE NTLM as Exchange does: an empty
// continuation for the NEGOTIATE message (or that message as an initial
// response), one that carries the CHALLENGE, and for the AUTHENTICATE
// message the reply to a wrong password. The response is recorded in a
// form that can be cracked offline; no password is ever accepted, since
// the decoy cannot check one.
func (c *conn) authNTLM(tag string, ir []byte) (bool, error) {
	if len(ir) == 0 {
		line, ok, err := c.saslResponse(tag, "")
		if !ok {
			return false, err
		}
		ir = line
	}
	if _, err := mailbox.DecodeBase64(ir); err != nil {
		return false, c.tagged(tag, c.p.badBase64)
	}

	serverChallenge := ntlm.NewServerChallenge()
	msg := ntlm.ChallengeMessage(c.s.ntlmTarget, serverChallenge, c.s.now())
	line, ok, err := c.saslResponse(tag, base64.StdEncoding.EncodeToString(msg))
	if !ok {
		return false, err
	}
	raw, err := mailbox.DecodeBase64(line)
	if err != nil {
		return false, c.tagged(tag, c.p.badBase64)
	}
	if a, err := ntlm.ParseAuthenticate(raw); err == nil {
		if cred, ok := a.Credential(serverChallenge); ok {
			c.sess.AuthAttempt(&eventv1.AuthAttempt{
				Principal:  strings.ToValidUTF8(cred.Principal, "\uFFFD"),
				SecretKind: cred.SecretKind,
				Mechanism:  decoys.MechanismSASLNTLM,
				Secret:     cred.Secret,
				Outcome:    eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
			})
		}
	}
	c.wait(c.s.failDelay())
	return false, c.tagged(tag, c.p.authFailed)
}
