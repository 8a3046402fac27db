package smtp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"math/big"
	"strings"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// The prompts of Dovecot's LOGIN mechanism, base64 of "Username:" and
// "Password:".
//
//nolint:gosec // G101: base64 of the prompt text, not a password
const (
	loginUserPrompt = "VXNlcm5hbWU6"
	loginPassPrompt = "UGFzc3dvcmQ6"
)

func (c *conn) cmdAuth(args []token) bool {
	mechs := c.mechanisms()
	if c.p.heloRequired && c.helo == "" {
		c.reply(c.p.r.needHelo)
		return false
	}
	if len(mechs) == 0 {
		if c.p.r.authEncryptionRequired != "" && !c.tls && len(c.p.mechanismsTLS) > 0 {
			c.reply(c.p.r.authEncryptionRequired)
		} else {
			c.reply(c.p.r.authNotEnabled)
		}
		return false
	}
	if c.inMail {
		c.reply(c.p.r.authInTransaction)
		return false
	}
	if len(args) < 2 || len(args) > 3 {
		c.reply(c.p.r.authSyntax)
		return false
	}
	mech := strings.ToUpper(args[1].text)
	known := false
	for _, m := range mechs {
		known = known || m == mech
	}
	if !known {
		c.reply(c.p.r.authUnknownMechanism)
		return false
	}
	var initial *string
	if len(args) == 3 {
		initial = &args[2].text
		if !base64Charset(*initial) {
			c.reply(c.p.r.authFailed(c.p.r.authBadInitial))
			return false
		}
	}

	// The authentication server makes an address that failed before
	// wait. When the wait exceeds smtpd's timeout for its backend, the
	// attempt fails as temporary, although an initial response was
	// already passed on.
	c.flush()
	penalty, wait := c.s.penalties.lookup(c.host.peer)
	if c.p.authTimeout > 0 && wait >= c.p.authTimeout {
		checksum := uint32(0)
		if mech == "PLAIN" && initial != nil {
			if raw, err := decodeSASL(*initial); err == nil {
				if _, user, pass, ok := parsePlain(raw); ok {
					c.recordAuth(decoys.MechanismSASLPlain, decoys.SecretPlaintext, user, []byte(pass))
					checksum = credentialChecksum(user, pass)
				}
			}
		}
		c.s.sleep(c.ctx, c.p.authTimeout)
		c.s.penalties.fail(c.host.peer, penalty, checksum)
		c.reply(c.p.r.authTemp(c.p.r.authLost))
		return false
	}
	c.s.sleep(c.ctx, wait)

	reason, checksum, ok := c.runMechanism(mech, initial)
	if !ok {
		return false
	}
	if reason == c.p.r.authBadInitial || reason == c.p.r.authBadCont {
		// Dovecot refuses undecodable base64 at once, without its
		// failure delay or a penalty.
		c.reply(c.p.r.authFailed(reason))
		return false
	}
	c.flush()
	c.s.sleep(c.ctx, c.s.delay(c.p.authFailDelay))
	c.s.penalties.fail(c.host.peer, penalty, checksum)
	c.reply(c.p.r.authFailed(reason))
	return false
}

// credentialChecksum stands for Dovecot's CRC of the password and user,
// which anvil uses to recognise a repeated guess.
func credentialChecksum(user, pass string) uint32 {
	sum := crc32.ChecksumIEEE([]byte(pass + "\x00" + user))
	if sum == 0 {
		sum = 1
	}
	return sum
}

// runMechanism runs one SASL exchange. It returns the failure reason to
// report and the checksum of the credentials tried, or false when the
// exchange ended otherwise (abort, line too long, lost connection) and
// its reply is already sent.
func (c *conn) runMechanism(mech string, initial *string) (string, uint32, bool) {
	switch mech {
	case "PLAIN":
		resp, ok := initialOrChallenge(c, initial, "")
		if !ok {
			return "", 0, false
		}
		raw, err := decodeSASL(resp)
		if err != nil {
			return c.badBase64(initial != nil), 0, true
		}
		_, user, pass, ok := parsePlain(raw)
		if !ok {
			return c.p.r.authUnavailable, 0, true
		}
		c.recordAuth(decoys.MechanismSASLPlain, decoys.SecretPlaintext, user, []byte(pass))
		return c.p.r.authUnavailable, credentialChecksum(user, pass), true

	case "LOGIN":
		var userRaw []byte
		if initial != nil {
			raw, err := decodeSASL(*initial)
			if err != nil {
				return c.badBase64(true), 0, true
			}
			userRaw = raw
		} else {
			resp, ok := c.challenge(loginUserPrompt)
			if !ok {
				return "", 0, false
			}
			raw, err := decodeSASL(resp)
			if err != nil {
				return c.badBase64(false), 0, true
			}
			userRaw = raw
		}
		resp, ok := c.challenge(loginPassPrompt)
		if !ok {
			return "", 0, false
		}
		pass, err := decodeSASL(resp)
		if err != nil {
			return c.badBase64(false), 0, true
		}
		c.recordAuth(decoys.MechanismSASLLogin, decoys.SecretPlaintext, string(userRaw), pass)
		return c.p.r.authUnavailable, credentialChecksum(string(userRaw), string(pass)), true

	case "CRAM-MD5":
		challenge := c.s.cramChallenge(c.host)
		resp, ok := c.challenge(base64.StdEncoding.EncodeToString([]byte(challenge)))
		if !ok {
			return "", 0, false
		}
		raw, err := decodeSASL(resp)
		if err != nil {
			return c.badBase64(false), 0, true
		}
		if user, digest, ok := parseCRAMMD5(raw); ok {
			c.recordAuth(decoys.MechanismSASLCRAMMD5, decoys.SecretCRAMMD5, user, []byte(challenge+" "+digest))
		}
		return c.p.r.authUnavailable, 0, true
	}
	if mech == "NTLM" {
		return c.runNTLM(initial)
	}
	// Any other offered mechanism reads one response and fails.
	if _, ok := initialOrChallenge(c, initial, ""); !ok {
		return "", 0, false
	}
	return c.p.r.authUnavailable, 0, true
}

func (c *conn) badBase64(initial bool) string {
	if initial {
		return c.p.r.authBadInitial
	}
	return c.p.r.authBadCont
}

// initialOrChallenge returns the initial response, or sends an empty
// challenge and reads the response.
func initialOrChallenge(c *conn, initial *string, challenge string) (string, bool) {
	if initial != nil {
		return *initial, true
	}
	return c.challenge(challenge)
}

// challenge sends "334 text" and reads the client's response line. A "*"
// aborts the exchange. An over-long line, or one outside the base64
// alphabet, fails with the reply smtpd and its Dovecot client send.
func (c *conn) challenge(text string) (string, bool) {
	c.reply("334 " + text)
	line, complete, err := readLine(c.br, saslResponseLimit, true)
	if err != nil {
		c.readFailed(err)
		return "", false
	}
	if !complete {
		c.reply(c.p.r.authTooLong)
		return "", false
	}
	resp := string(line)
	if resp == "*" {
		c.reply(c.p.r.authAborted)
		return "", false
	}
	if !base64Charset(resp) {
		c.reply(c.p.r.authFailed(c.p.r.authBadCont))
		return "", false
	}
	return resp, true
}

func (c *conn) recordAuth(mechanism, kind, principal string, secret []byte) {
	c.sess.AuthAttempt(&eventv1.AuthAttempt{
		Principal:  strings.ToValidUTF8(principal, "\uFFFD"),
		SecretKind: kind,
		Mechanism:  mechanism,
		Secret:     secret,
		Outcome:    eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
	})
}

// base64Charset is the check Postfix's Dovecot client applies before it
// forwards a response: letters, digits, '+', '/' and '=' only.
func base64Charset(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isBase64Byte(s[i]) {
			return false
		}
	}
	return true
}

func isBase64Byte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '+' || c == '/' || c == '='
}

// isLowerHex accepts the digest digits CRAM-MD5 sends: lower-case only.
func isLowerHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
}

// decodeSASL decodes a SASL response. "=" is the empty response of
// RFC 4954.
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return nil, nil
	}
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode sasl response: %w", err)
	}
	return out, nil
}

// parsePlain splits a PLAIN message (RFC 4616): authzid NUL authcid NUL
// password.
func parsePlain(raw []byte) (authz, user, pass string, ok bool) {
	parts := bytes.SplitN(raw, []byte{0}, 3)
	if len(parts) != 3 || len(parts[1]) == 0 {
		return "", "", "", false
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), true
}

// parseCRAMMD5 splits a CRAM-MD5 response (RFC 2195): the user name, a
// space and 32 lower-case hex digits.
func parseCRAMMD5(raw []byte) (user, digest string, ok bool) {
	i := bytes.LastIndexByte(raw, ' ')
	if i <= 0 {
		return "", "", false
	}
	d := raw[i+1:]
	if len(d) != 32 {
		return "", "", false
	}
	for _, c := range d {
		if !isLowerHex(c) {
			return "", "", false
		}
	}
	return string(raw[:i]), string(d), true
}

// cramChallenge builds a challenge as Dovecot's CRAM-MD5 mechanism does:
// sixteen random digits, the Unix time and the system host name.
func (s *Service) cramChallenge(h hostView) string {
	var digits [16]byte
	for i := range digits {
		n, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic("read random source: " + err.Error())
		}
		digits[i] = byte('0' + n.Int64())
	}
	return fmt.Sprintf("<%s.%d@%s>", digits[:], s.now().Unix(), h.shortname)
}
