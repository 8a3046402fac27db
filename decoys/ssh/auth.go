package ssh

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// errRejected is the error every authentication callback returns, because
// no login succeeds yet.
// TODO: consult a login policy once there is one.
var errRejected = errors.New("authentication rejected")

// authRecorder turns the authentication requests of one connection into
// auth.attempt events and delays rejections as the persona's daemon does.
// x/crypto/ssh calls its methods from the connection's handler goroutine
// only, so it needs no lock.
type authRecorder struct {
	ctx     context.Context
	session *decoys.Session
	persona *persona
	delay   func(delayRange) time.Duration
	// seenKeys holds principal NUL key-blob for each public key already
	// recorded. x/crypto/ssh caps a connection at 128 authentication
	// requests, which bounds this map.
	seenKeys map[string]struct{}
}

func (a *authRecorder) password(conn ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	a.session.AuthAttempt(&eventv1.AuthAttempt{
		Principal:  conn.User(),
		SecretKind: decoys.SecretPlaintext,
		Mechanism:  decoys.MechanismSSHPassword,
		Secret:     password,
		Outcome:    eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
	})
	a.wait(a.persona.passwordFailureDelay)
	return nil, errRejected
}

// keyboardInteractive sends the one prompt pam_unix sends and records the
// answer as a password.
func (a *authRecorder) keyboardInteractive(conn ssh.ConnMetadata, challenge ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
	answers, err := challenge("", "", []string{a.persona.kbdPrompt}, []bool{a.persona.kbdEcho})
	if err != nil {
		return nil, err
	}
	for _, answer := range answers {
		a.session.AuthAttempt(&eventv1.AuthAttempt{
			Principal:  conn.User(),
			SecretKind: decoys.SecretPlaintext,
			Mechanism:  decoys.MechanismSSHKeyboardInteractive,
			Secret:     []byte(answer),
			Outcome:    eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
		})
	}
	a.wait(a.persona.kbdFailureDelay)
	return nil, errRejected
}

// publicKey records each (principal, key) pair once per connection.
// x/crypto/ssh calls it for a key query without a signature as well as for
// a signed request, and again for a key it has evicted from its one-entry
// cache. A rejected key costs sshd no PAM call, so the rejection is
// immediate.
func (a *authRecorder) publicKey(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	blob := key.Marshal()
	seen := conn.User() + "\x00" + string(blob)
	if _, ok := a.seenKeys[seen]; ok {
		return nil, errRejected
	}
	a.seenKeys[seen] = struct{}{}

	a.session.AuthAttempt(&eventv1.AuthAttempt{
		Principal:      conn.User(),
		SecretKind:     decoys.SecretSSHPublicKey,
		Mechanism:      decoys.MechanismSSHPublicKey,
		Secret:         blob,
		Outcome:        eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
		KeyType:        key.Type(),
		KeyFingerprint: ssh.FingerprintSHA256(key),
	})
	return nil, errRejected
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
