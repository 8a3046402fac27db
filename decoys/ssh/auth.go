package ssh

import (
	"context"
	"math/rand/v2"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ssh/sshserver"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// authRecorder turns the authentication requests of one connection into
// auth.attempt events, asks the accept hook, and delays rejections as the
// persona's daemon does. sshserver calls it from the connection's reader
// goroutine only, so it needs no lock.
type authRecorder struct {
	ctx     context.Context
	session *decoys.Session
	persona *persona
	delay   func(delayRange) time.Duration
	// accept decides whether a login succeeds; nil rejects all.
	accept func(user, method string, secret []byte) bool
	// seenKeys holds principal NUL key-blob for each public key already
	// recorded. sshserver caps a connection at 1024 authentication
	// requests, which bounds this map.
	seenKeys map[string]struct{}
	// user is the principal of the last accepted login.
	user string
	// rootPasswordDenied is sshd's PermitRootLogin prohibit-password.
	rootPasswordDenied bool
}

// auth is the sshserver.Config.Auth callback.
func (a *authRecorder) auth(_ context.Context, _ *sshserver.ConnMeta, req *sshserver.AuthRequest) bool {
	ok := false
	switch req.Method {
	case sshserver.MethodPassword:
		ok = a.password(req)
	case sshserver.MethodKeyboardInteractive:
		ok = a.secret(req, decoys.MechanismSSHKeyboardInteractive, a.persona.kbdFailureDelay)
	case sshserver.MethodPublicKey:
		ok = a.publicKey(req)
	}
	if ok {
		a.user = req.User
	}
	return ok
}

func (a *authRecorder) password(req *sshserver.AuthRequest) bool {
	if req.PasswordChange {
		// sshd refuses a password change without asking PAM, so it
		// answers at once.
		a.record(req.User, decoys.MechanismSSHPassword, req.Secret, false)
		return false
	}
	return a.secret(req, decoys.MechanismSSHPassword, a.persona.passwordFailureDelay)
}

// secret records a password or keyboard-interactive answer and delays a
// rejection by the persona's PAM delay.
func (a *authRecorder) secret(req *sshserver.AuthRequest, mechanism string, delay delayRange) bool {
	ok := a.accept != nil && a.accept(req.User, req.Method, req.Secret)
	if ok && req.User == "root" && a.rootPasswordDenied {
		// PAM accepted the password, so no PAM delay; then sshd's
		// auth_root_allowed turns the login down.
		a.record(req.User, mechanism, req.Secret, false)
		return false
	}
	a.record(req.User, mechanism, req.Secret, ok)
	if !ok {
		a.wait(delay)
	}
	return ok
}

func (a *authRecorder) record(user, mechanism string, secret []byte, ok bool) {
	outcome := eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
	if ok {
		outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
	}
	a.session.AuthAttempt(&eventv1.AuthAttempt{
		Principal:  user,
		SecretKind: decoys.SecretPlaintext,
		Mechanism:  mechanism,
		Secret:     secret,
		Outcome:    outcome,
	})
}

// publicKey records each (principal, key) pair once per connection: a
// query without signature and the signed request that may follow carry
// the same key. A rejected key costs sshd no PAM call, so the rejection
// is immediate (apart from sshd's per-user minimum, which sshserver
// applies).
func (a *authRecorder) publicKey(req *sshserver.AuthRequest) bool {
	ok := a.accept != nil && a.accept(req.User, req.Method, req.KeyBlob)
	if ok && !req.Signed {
		// PK_OK goes out; the signed request that follows is recorded.
		return true
	}
	seen := req.User + "\x00" + string(req.KeyBlob)
	if _, dup := a.seenKeys[seen]; dup {
		return ok
	}
	a.seenKeys[seen] = struct{}{}
	outcome := eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
	if ok {
		outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
	}
	a.session.AuthAttempt(&eventv1.AuthAttempt{
		Principal:      req.User,
		SecretKind:     decoys.SecretSSHPublicKey,
		Mechanism:      decoys.MechanismSSHPublicKey,
		Secret:         req.KeyBlob,
		Outcome:        outcome,
		KeyType:        req.PublicKey.Type(),
		KeyFingerprint: ssh.FingerprintSHA256(req.PublicKey),
	})
	return ok
}

// wait sleeps for a delay drawn from r, or until the connection ends.
func (a *authRecorder) wait(r delayRange) {
	d := a.delay(r)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-a.ctx.Done():
	}
}

// uniformDelay draws a delay uniformly from r. The draw needs no
// cryptographic strength: it only has to vary as the real daemon's does.
func uniformDelay(r delayRange) time.Duration {
	if r.max <= r.min {
		return r.min
	}
	return r.min + rand.N(r.max-r.min+1) //nolint:gosec // G404: a timing delay needs no cryptographic strength
}
