package ssh

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// dial runs an x/crypto/ssh client handshake against addr and returns its
// error, which is never nil because every login is rejected.
func dial(t *testing.T, addr string, cfg *ssh.ClientConfig) error {
	t.Helper()
	cfg.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	client, err := ssh.Dial("tcp", addr, cfg)
	if err == nil {
		_ = client.Close()
		t.Fatal("login succeeded, want rejection")
	}
	return err
}

func sha256Of(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

func checkAttempt(t *testing.T, ev *eventv1.Event, want *eventv1.AuthAttempt) {
	t.Helper()
	got := ev.GetAuthAttempt()
	if got == nil {
		t.Fatalf("event %s has no auth_attempt payload", ev.GetKind())
	}
	if got.GetPrincipal() != want.GetPrincipal() {
		t.Errorf("principal = %q, want %q", got.GetPrincipal(), want.GetPrincipal())
	}
	if got.GetMechanism() != want.GetMechanism() {
		t.Errorf("mechanism = %q, want %q", got.GetMechanism(), want.GetMechanism())
	}
	if got.GetSecretKind() != want.GetSecretKind() {
		t.Errorf("secret_kind = %q, want %q", got.GetSecretKind(), want.GetSecretKind())
	}
	if !bytes.Equal(got.GetSecret(), want.GetSecret()) {
		t.Errorf("secret = %q, want %q", got.GetSecret(), want.GetSecret())
	}
	if !bytes.Equal(got.GetSecretSha256(), sha256Of(want.GetSecret())) {
		t.Errorf("secret_sha256 = %x, want %x", got.GetSecretSha256(), sha256Of(want.GetSecret()))
	}
	if got.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED {
		t.Errorf("outcome = %v, want REJECTED", got.GetOutcome())
	}
	if got.GetKeyType() != want.GetKeyType() {
		t.Errorf("key_type = %q, want %q", got.GetKeyType(), want.GetKeyType())
	}
	if got.GetKeyFingerprint() != want.GetKeyFingerprint() {
		t.Errorf("key_fingerprint = %q, want %q", got.GetKeyFingerprint(), want.GetKeyFingerprint())
	}
	if ev.GetService() != ServiceName || ev.GetDecky() != "decky-test" {
		t.Errorf("service, decky = %q, %q, want %q, %q", ev.GetService(), ev.GetDecky(), ServiceName, "decky-test")
	}
	if ev.GetSource().GetAddress() != "127.0.0.1" {
		t.Errorf("source address = %q, want 127.0.0.1", ev.GetSource().GetAddress())
	}
}

func TestPasswordAttemptRecorded(t *testing.T) {
	ts := startService(t, nil)

	err := dial(t, ts.addr, &ssh.ClientConfig{
		User: "root",
		Auth: []ssh.AuthMethod{ssh.Password("hunter2")},
	})
	if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("client error = %v, want an authentication failure", err)
	}

	attempts := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)
	checkAttempt(t, attempts[0], &eventv1.AuthAttempt{
		Principal:  "root",
		SecretKind: decoys.SecretPlaintext,
		Mechanism:  decoys.MechanismSSHPassword,
		Secret:     []byte("hunter2"),
	})

	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	opened := ts.emitter.ofKind(decoys.KindConnectionOpened)
	if len(opened) != 1 {
		t.Fatalf("got %d connection.opened events, want 1", len(opened))
	}
	if opened[0].GetSessionId() != attempts[0].GetSessionId() || closed[0].GetSessionId() != attempts[0].GetSessionId() {
		t.Errorf("session ids differ: opened %s, attempt %s, closed %s",
			opened[0].GetSessionId(), attempts[0].GetSessionId(), closed[0].GetSessionId())
	}
	cc := closed[0].GetConnectionClosed()
	if cc.GetReason() != reasonClientClosed {
		t.Errorf("close reason = %q, want %q", cc.GetReason(), reasonClientClosed)
	}
	if cc.GetBytesReceived() == 0 || cc.GetBytesSent() == 0 {
		t.Errorf("bytes received, sent = %d, %d, want both non-zero", cc.GetBytesReceived(), cc.GetBytesSent())
	}
}

func TestKeyboardInteractiveAttemptRecorded(t *testing.T) {
	ts := startService(t, func(s *Service) { s.persona.keyboardInteractive = true })

	type prompt struct {
		name, instruction string
		questions         []string
		echos             []bool
	}
	var prompts []prompt
	err := dial(t, ts.addr, &ssh.ClientConfig{
		User: "admin",
		Auth: []ssh.AuthMethod{ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
			prompts = append(prompts, prompt{name, instruction, questions, echos})
			return []string{"s3cret!"}, nil
		})},
	})
	if err == nil {
		t.Fatal("want an authentication error")
	}

	if len(prompts) != 1 {
		t.Fatalf("got %d challenges, want 1", len(prompts))
	}
	p := prompts[0]
	if p.name != "" || p.instruction != "" {
		t.Errorf("name, instruction = %q, %q, want empty", p.name, p.instruction)
	}
	if len(p.questions) != 1 || p.questions[0] != "Password: " {
		t.Errorf("questions = %q, want [\"Password: \"]", p.questions)
	}
	if len(p.echos) != 1 || p.echos[0] {
		t.Errorf("echos = %v, want [false]", p.echos)
	}

	attempts := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)
	checkAttempt(t, attempts[0], &eventv1.AuthAttempt{
		Principal:  "admin",
		SecretKind: decoys.SecretPlaintext,
		Mechanism:  decoys.MechanismSSHKeyboardInteractive,
		Secret:     []byte("s3cret!"),
	})
}

func TestKeyboardInteractiveNotOfferedByDefault(t *testing.T) {
	ts := startService(t, nil)

	called := false
	err := dial(t, ts.addr, &ssh.ClientConfig{
		User: "admin",
		Auth: []ssh.AuthMethod{ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			called = true
			return nil, nil
		})},
	})
	if err == nil {
		t.Fatal("want an authentication error")
	}
	if called {
		t.Error("client was challenged, want keyboard-interactive not offered (Debian's KbdInteractiveAuthentication no)")
	}
	ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	if got := ts.emitter.ofKind(decoys.KindAuthAttempt); len(got) != 0 {
		t.Errorf("got %d auth.attempt events, want 0", len(got))
	}
}

func TestPublicKeyAttemptRecorded(t *testing.T) {
	ts := startService(t, nil)

	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	// The same key twice, and then a password: the key is recorded once.
	_ = dial(t, ts.addr, &ssh.ClientConfig{
		User: "deploy",
		Auth: []ssh.AuthMethod{
			ssh.PublicKeys(signer, signer),
			ssh.Password("pw"),
		},
	})

	ts.emitter.waitFor(t, decoys.KindAuthAttempt, 2)
	ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	attempts := ts.emitter.ofKind(decoys.KindAuthAttempt)
	if len(attempts) != 2 {
		t.Fatalf("got %d auth.attempt events, want 2 (one key, one password)", len(attempts))
	}
	blob := signer.PublicKey().Marshal()
	checkAttempt(t, attempts[0], &eventv1.AuthAttempt{
		Principal:      "deploy",
		SecretKind:     decoys.SecretSSHPublicKey,
		Mechanism:      decoys.MechanismSSHPublicKey,
		Secret:         blob,
		KeyType:        ssh.KeyAlgoED25519,
		KeyFingerprint: ssh.FingerprintSHA256(signer.PublicKey()),
	})
	if got := attempts[1].GetAuthAttempt().GetMechanism(); got != decoys.MechanismSSHPassword {
		t.Errorf("second attempt mechanism = %q, want %q", got, decoys.MechanismSSHPassword)
	}
}

func TestTooManyFailuresDisconnects(t *testing.T) {
	ts := startService(t, nil)

	tries := 0
	err := dial(t, ts.addr, &ssh.ClientConfig{
		User: "root",
		Auth: []ssh.AuthMethod{ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
			tries++
			return "guess", nil
		}), 10)},
	})

	// The server disconnects after the sixth failure, so the client never
	// gets to send a seventh password.
	if tries != 6 {
		t.Errorf("client sent %d passwords, want 6", tries)
	}
	if !strings.Contains(err.Error(), "disconnect, reason 2") {
		t.Errorf("client error = %v, want a disconnect with reason 2 (protocol error)", err)
	}
	if !strings.Contains(strings.ToLower(err.Error()), "too many authentication failures") {
		t.Errorf("client error = %v, want \"too many authentication failures\"", err)
	}

	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
	if got := closed[0].GetConnectionClosed().GetReason(); got != reasonAuthExhausted {
		t.Errorf("close reason = %q, want %q", got, reasonAuthExhausted)
	}
	if got := len(ts.emitter.ofKind(decoys.KindAuthAttempt)); got != 6 {
		t.Errorf("got %d auth.attempt events, want 6", got)
	}
}

// TestFailureDelayApplied checks that a wrong password waits for the
// delay the Service picks, by making that delay block until released.
func TestFailureDelayApplied(t *testing.T) {
	release := make(chan struct{})
	picked := make(chan delayRange, 1)
	ts := startService(t, func(s *Service) {
		s.failureDelay = func(r delayRange) time.Duration {
			picked <- r
			<-release
			return 0
		}
	})

	errc := make(chan error, 1)
	go func() {
		cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.Password("x")}, HostKeyCallback: ssh.InsecureIgnoreHostKey()}
		_, err := ssh.Dial("tcp", ts.addr, cfg)
		errc <- err
	}()

	r := <-picked
	if r != pamPasswordFailureDelay {
		t.Errorf("delay range = %v, want %v", r, pamPasswordFailureDelay)
	}
	select {
	case err := <-errc:
		t.Fatalf("client finished (%v) before the failure delay ended", err)
	default:
	}
	close(release)
	if err := <-errc; err == nil {
		t.Error("login succeeded, want rejection")
	}
}

func TestUniformDelayWithinRange(t *testing.T) {
	r := delayRange{min: 10 * time.Millisecond, max: 20 * time.Millisecond}
	for range 1000 {
		d := uniformDelay(r)
		if d < r.min || d > r.max {
			t.Fatalf("uniformDelay = %v, want within [%v, %v]", d, r.min, r.max)
		}
	}
	if d := uniformDelay(delayRange{}); d != 0 {
		t.Errorf("uniformDelay(zero) = %v, want 0", d)
	}
}

func TestForwardRequestRecorded(t *testing.T) {
	ts := startService(t, func(s *Service) {
		s.Accept = func(user, method string, secret []byte) bool { return string(secret) == "ok" }
	})
	client, err := ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.Password("ok")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		t.Fatalf("accepted login failed: %v", err)
	}
	defer client.Close()

	if _, err := client.Dial("tcp", "192.0.2.10:3306"); err == nil {
		t.Fatal("direct-tcpip accepted, want refused")
	}
	forwards := ts.emitter.waitFor(t, decoys.KindForward, 1)
	f := forwards[0].GetForwardRequested()
	if f.GetType() != "direct-tcpip" || f.GetHost() != "192.0.2.10" || f.GetPort() != 3306 {
		t.Errorf("forward = %v, want direct-tcpip 192.0.2.10:3306", f)
	}
	attempts := ts.emitter.ofKind(decoys.KindAuthAttempt)
	if len(attempts) != 1 || attempts[0].GetAuthAttempt().GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED {
		t.Errorf("attempts = %v, want one accepted", attempts)
	}
}

func TestProhibitPasswordRejectsRoot(t *testing.T) {
	ts := startService(t, func(s *Service) {
		s.PermitRootLogin = "prohibit-password"
		s.Accept = func(user, method string, secret []byte) bool { return string(secret) == "toor" }
	})
	err := dial(t, ts.addr, &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.Password("toor")}})
	if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("root login error = %v, want an authentication failure", err)
	}
	attempts := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)
	if got := attempts[0].GetAuthAttempt().GetOutcome(); got != eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED {
		t.Errorf("root outcome = %v, want REJECTED", got)
	}

	client, err := ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
		User: "admin", Auth: []ssh.AuthMethod{ssh.Password("toor")}, HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	_ = client.Close()
}

func TestAcceptFromSeesSource(t *testing.T) {
	sources := make(chan netip.Addr, 1)
	ts := startService(t, func(s *Service) {
		s.AcceptFrom = func(source netip.Addr, user, method string, secret []byte) bool {
			sources <- source
			return false
		}
	})
	_ = dial(t, ts.addr, &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.Password("x")}})
	if got := <-sources; got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("source = %v, want 127.0.0.1", got)
	}
}
