package sshserver

import (
	"bytes"
	"errors"
	"time"

	"golang.org/x/crypto/ssh"
)

// Authentication method names (RFC 4252, RFC 4256, OpenSSH PROTOCOL).
const (
	MethodNone                = "none"
	MethodPassword            = "password"
	MethodPublicKey           = "publickey"
	MethodKeyboardInteractive = "keyboard-interactive"
	// methodHostbound is OpenSSH's synonym of publickey that binds the
	// signature to the host key.
	methodHostbound = "publickey-hostbound-v00@openssh.com"
)

// maxAuthAttempts is sshd's hard cap on authentication requests per
// connection, independent of MaxAuthTries.
const maxAuthAttempts = 1024

// AuthRequest is one authentication attempt.
type AuthRequest struct {
	User   string
	Method string
	// Secret is the password, or the keyboard-interactive answer.
	Secret []byte
	// PasswordChange marks a password request that carries a new
	// password; sshd never accepts it.
	PasswordChange bool

	// PublicKey, KeyAlgorithm and KeyBlob describe a publickey request.
	PublicKey    ssh.PublicKey
	KeyAlgorithm string
	KeyBlob      []byte
	// Signed is false for a query ("would this key be accepted?") and
	// true once the signature has been verified.
	Signed bool
}

// errAbandoned means the client sent a new authentication request in
// place of a keyboard-interactive answer.
var errAbandoned = errors.New("keyboard-interactive abandoned")

// authState is sshd's Authctxt for one connection.
type authState struct {
	attempts, failures int
	user, service      string
}

// userauth handles one USERAUTH_REQUEST and returns whether the client
// is now authenticated.
func (c *conn) userauth(a *authState, payload []byte) (bool, error) {
	started := c.now()
	r := reader{b: payload[1:]}
	user := r.text()
	service := r.text()
	method := r.text()
	if r.err != nil {
		return false, r.err
	}
	// sshd strips a BSD auth style (user:style) before anything else.
	if i := bytes.IndexByte([]byte(user), ':'); i >= 0 {
		user = user[:i]
	}
	if a.attempts >= maxAuthAttempts {
		return false, c.t.protocolError("Too many authentication failures")
	}
	a.attempts++
	if a.attempts == 1 {
		a.user, a.service = user, service
		c.meta.User = user
	} else if user != a.user || service != a.service {
		return false, c.t.protocolError("Change of username or service not allowed: (%s,%s) -> (%s,%s)",
			a.user, a.service, user, service)
	}

	accepted := false
	enabled := method == MethodNone || c.methodEnabled(method)
	if enabled && (c.cfg.MaxAuthTries <= 0 || a.failures < c.cfg.MaxAuthTries) {
		var err error
		var postponed bool
		accepted, postponed, err = c.tryMethod(user, method, r.b)
		if err != nil || postponed {
			return false, err
		}
	}
	if !accepted {
		c.waitMinimum(started, user)
	}
	return c.finishAuth(a, accepted, method)
}

func (c *conn) methodEnabled(method string) bool {
	if method == methodHostbound {
		method = MethodPublicKey
	}
	for _, m := range c.cfg.AuthMethods {
		if m == method {
			return true
		}
	}
	return false
}

// finishAuth is sshd's userauth_finish.
func (c *conn) finishAuth(a *authState, accepted bool, method string) (bool, error) {
	if accepted {
		c.t.mu.Lock()
		err := c.t.writeLocked([]byte{msgUserauthSuccess})
		if err == nil {
			c.enableDelayedCompression()
		}
		c.t.mu.Unlock()
		return err == nil, err
	}
	// The first "none" request is free, as in sshd.
	if a.attempts > 1 || method != MethodNone {
		a.failures++
	}
	if c.cfg.MaxAuthTries > 0 && a.failures >= c.cfg.MaxAuthTries {
		return false, c.t.protocolError("Too many authentication failures")
	}
	return false, c.sendFailure()
}

func (c *conn) sendFailure() error {
	list := ""
	for i, m := range c.cfg.AuthMethods {
		if i > 0 {
			list += ","
		}
		list += m
	}
	b := appendText([]byte{msgUserauthFailure}, list)
	return c.t.writePacket(appendBool(b, false))
}

// waitMinimum makes a failed request take at least the per-user delay
// from its arrival (sshd's ensure_minimum_time_since).
//
// NOTE: sshd doubles the minimum until it exceeds the time already spent,
// which stretches slow PAM rejections further. The persona's measured
// password delays already include that stretch, so a request that took
// longer than the minimum is not delayed again here.
func (c *conn) waitMinimum(started time.Time, user string) {
	if c.cfg.MinFailureDelay == nil {
		return
	}
	want := c.cfg.MinFailureDelay(user)
	if elapsed := c.now().Sub(started); elapsed < want {
		c.sleep(want - elapsed)
	}
}

func (c *conn) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.ctx.Done():
	}
}

// tryMethod runs one method. postponed means the method sent a message
// and waits for the client (PK_OK, keyboard-interactive prompts are
// handled inline, so only PK_OK postpones).
func (c *conn) tryMethod(user, method string, rest []byte) (accepted, postponed bool, err error) {
	switch method {
	case MethodNone:
		return false, false, nil
	case MethodPassword:
		r := reader{b: rest}
		change := r.bool()
		password := r.string()
		if change {
			r.string()
		}
		if r.err != nil {
			return false, false, r.err
		}
		return c.ask(&AuthRequest{User: user, Method: method, Secret: bytes.Clone(password), PasswordChange: change}), false, nil
	case MethodPublicKey, methodHostbound:
		return c.publicKey(user, method, rest)
	case MethodKeyboardInteractive:
		ok, err := c.keyboardInteractive(user)
		if errors.Is(err, errAbandoned) {
			return false, true, nil
		}
		return ok, false, err
	}
	return false, false, nil
}

func (c *conn) ask(req *AuthRequest) bool {
	if c.cfg.Auth == nil {
		return false
	}
	if req.PasswordChange {
		// sshd logs "password change not supported" and fails.
		c.cfg.Auth(c.ctx, &c.meta, req)
		return false
	}
	return c.cfg.Auth(c.ctx, &c.meta, req)
}

// publicKey is sshd's userauth_pubkey: a query without signature gets
// PK_OK when the key would be accepted, a signed request is verified.
func (c *conn) publicKey(user, method string, rest []byte) (bool, bool, error) {
	r := reader{b: rest}
	haveSig := r.bool()
	alg := r.text()
	blob := r.string()
	var hostKey []byte
	if method == methodHostbound {
		hostKey = r.string()
	}
	if r.err != nil {
		return false, false, r.err
	}
	key, err := ssh.ParsePublicKey(blob)
	if err != nil || !algorithmMatchesKey(alg, key) {
		// sshd rejects unknown algorithms and unparsable keys before it
		// looks at the key, so nothing is recorded.
		return false, false, nil //nolint:nilerr // a bad key fails the attempt, not the connection
	}
	if method == methodHostbound {
		current, err := c.hostSigner(c.hostKeyAlg)
		if err != nil || !bytes.Equal(current.PublicKey().Marshal(), hostKey) {
			return false, false, nil //nolint:nilerr // a key bound to another host fails the attempt, not the connection
		}
	}
	req := &AuthRequest{User: user, Method: MethodPublicKey, PublicKey: key, KeyAlgorithm: alg, KeyBlob: bytes.Clone(blob)}
	if disabledKeyAlgorithm(alg) {
		// The callback still sees the key, but sshd's default
		// PubkeyAcceptedAlgorithms rejects it whatever it answers.
		c.ask(req)
		return false, false, nil
	}

	if !haveSig {
		if !c.ask(req) {
			return false, false, nil
		}
		c.keyChecks++
		b := []byte{msgUserauthPKOK}
		b = appendText(b, alg)
		b = appendString(b, blob)
		return false, true, c.t.writePacket(b)
	}

	sigBytes := r.string()
	if r.err != nil {
		return false, false, r.err
	}
	sig := new(ssh.Signature)
	if err := ssh.Unmarshal(sigBytes, sig); err != nil {
		return false, false, nil //nolint:nilerr // a malformed signature fails the attempt, not the connection
	}
	signed := appendString(nil, c.sessionID)
	signed = append(signed, msgUserauthRequest)
	signed = appendText(signed, user)
	signed = appendText(signed, "ssh-connection")
	signed = appendText(signed, method)
	signed = appendBool(signed, true)
	signed = appendText(signed, alg)
	signed = appendString(signed, blob)
	if method == methodHostbound {
		signed = appendString(signed, hostKey)
	}
	if key.Verify(signed, sig) != nil {
		return false, false, nil //nolint:nilerr // a wrong signature fails the attempt, not the connection
	}
	req.Signed = true
	if !c.ask(req) {
		return false, false, nil
	}
	c.keyChecks++
	return true, false, nil
}

// disabledKeyAlgorithm reports the signature algorithms OpenSSH 8.8 and
// later leave out of the default PubkeyAcceptedAlgorithms (SHA-1 RSA and
// DSA, with their certificates).
func disabledKeyAlgorithm(alg string) bool {
	switch alg {
	case ssh.KeyAlgoRSA, ssh.KeyAlgoDSA, ssh.CertAlgoRSAv01, ssh.CertAlgoDSAv01: //nolint:staticcheck // names, not use
		return true
	}
	return false
}

// algorithmMatchesKey checks the request's algorithm name against the
// key, allowing the RSA signature names for an ssh-rsa key.
func algorithmMatchesKey(alg string, key ssh.PublicKey) bool {
	kt := key.Type()
	if kt == ssh.KeyAlgoRSA {
		return alg == ssh.KeyAlgoRSA || alg == ssh.KeyAlgoRSASHA256 || alg == ssh.KeyAlgoRSASHA512
	}
	if kt == ssh.CertAlgoRSAv01 {
		return alg == ssh.CertAlgoRSAv01 || alg == ssh.CertAlgoRSASHA256v01 || alg == ssh.CertAlgoRSASHA512v01
	}
	return alg == kt
}

// keyboardInteractive sends the one prompt and reads the answer, as
// sshd's PAM device does for pam_unix.
func (c *conn) keyboardInteractive(user string) (bool, error) {
	b := []byte{msgUserauthInfoRequest}
	b = appendText(b, "")
	b = appendText(b, "")
	b = appendText(b, "")
	b = appendUint32(b, 1)
	b = appendText(b, c.cfg.KbdPrompt)
	b = appendBool(b, c.cfg.KbdEcho)
	if err := c.t.writePacket(b); err != nil {
		return false, err
	}

	for {
		payload, _, err := c.next()
		if err != nil {
			return false, err
		}
		switch payload[0] {
		case msgUserauthInfoResponse:
			r := reader{b: payload[1:]}
			n := r.uint32()
			if r.err != nil || n > 100 {
				return false, c.t.protocolError("input_userauth_info_response: too many replies")
			}
			var answer []byte
			for i := uint32(0); i < n; i++ {
				s := r.string()
				if i == 0 {
					answer = bytes.Clone(s)
				}
			}
			if r.err != nil {
				return false, r.err
			}
			return c.ask(&AuthRequest{User: user, Method: MethodKeyboardInteractive, Secret: answer}), nil
		case msgUserauthRequest:
			// A new request abandons the challenge; sshd handles it as
			// usual, which the caller does with the same payload.
			c.pending = payload
			return false, errAbandoned
		}
		// sshd ignores everything else before authentication.
	}
}
