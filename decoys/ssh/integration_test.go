//go:build integration

package ssh

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys"
)

// TestOpenSSHClient runs the real OpenSSH client (/usr/bin/ssh, with
// sshpass for the password) from 127.0.0.2 against the decoy: one wrong
// password, then one public key.
func TestOpenSSHClient(t *testing.T) {
	for _, tool := range []string{"/usr/bin/ssh", "sshpass", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	ts := startService(t, func(s *Service) {
		s.failureDelay = func(delayRange) time.Duration { return 10 * time.Millisecond }
	})
	_, port, err := net.SplitHostPort(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	common := []string{
		"-F", "/dev/null",
		"-b", "127.0.0.2",
		"-p", port,
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null",
		"-o", "ConnectTimeout=10",
		"-v",
	}
	run := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
		if err == nil {
			t.Fatalf("%s succeeded, want a rejected login; output:\n%s", name, out)
		}
		return string(out)
	}

	out := run("sshpass", append([]string{"-p", "Winter2024!", "/usr/bin/ssh"}, append(common,
		"-o", "PreferredAuthentications=password",
		"-o", "PubkeyAuthentication=no",
		"-o", "NumberOfPasswordPrompts=1",
		"alice@127.0.0.1", "true")...)...)
	if !strings.Contains(out, "remote software version OpenSSH_9.2p1 Debian-2+deb12u10") {
		t.Errorf("client did not see the persona's version; output:\n%s", out)
	}
	if !strings.Contains(out, "Permission denied") {
		t.Errorf("client did not report a rejected password; output:\n%s", out)
	}

	attempts := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)
	got := attempts[0]
	if got.GetSource().GetAddress() != "127.0.0.2" {
		t.Errorf("source = %q, want 127.0.0.2", got.GetSource().GetAddress())
	}
	a := got.GetAuthAttempt()
	if a.GetPrincipal() != "alice" || a.GetMechanism() != decoys.MechanismSSHPassword ||
		a.GetSecretKind() != decoys.SecretPlaintext || string(a.GetSecret()) != "Winter2024!" {
		t.Errorf("password attempt = %v", a)
	}
	if !bytes.Equal(a.GetSecretSha256(), sha256Of([]byte("Winter2024!"))) {
		t.Errorf("secret_sha256 = %x", a.GetSecretSha256())
	}

	dir := t.TempDir()
	keyPath := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyPath).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pubText, err := os.ReadFile(keyPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubText)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := base64.StdEncoding.DecodeString(strings.Fields(string(pubText))[1])
	if err != nil {
		t.Fatal(err)
	}

	_ = run("/usr/bin/ssh", append(common,
		"-i", keyPath,
		"-o", "IdentitiesOnly=yes",
		"-o", "PreferredAuthentications=publickey",
		"-o", "BatchMode=yes",
		"bob@127.0.0.1", "true")...)

	ts.emitter.waitFor(t, decoys.KindAuthAttempt, 2)
	ts.emitter.waitFor(t, decoys.KindConnectionClosed, 2)
	attempts = ts.emitter.ofKind(decoys.KindAuthAttempt)
	if len(attempts) != 2 {
		t.Fatalf("got %d auth.attempt events, want 2", len(attempts))
	}
	k := attempts[1].GetAuthAttempt()
	if k.GetPrincipal() != "bob" || k.GetMechanism() != decoys.MechanismSSHPublicKey || k.GetSecretKind() != decoys.SecretSSHPublicKey {
		t.Errorf("key attempt = %v", k)
	}
	if !bytes.Equal(k.GetSecret(), blob) {
		t.Errorf("secret = %x, want the key blob %x", k.GetSecret(), blob)
	}
	if !bytes.Equal(k.GetSecretSha256(), sha256Of(blob)) {
		t.Errorf("secret_sha256 = %x, want %x", k.GetSecretSha256(), sha256Of(blob))
	}
	if k.GetKeyType() != "ssh-ed25519" || k.GetKeyFingerprint() != ssh.FingerprintSHA256(pub) {
		t.Errorf("key type, fingerprint = %q, %q, want ssh-ed25519, %q", k.GetKeyType(), k.GetKeyFingerprint(), ssh.FingerprintSHA256(pub))
	}
	if attempts[1].GetSource().GetAddress() != "127.0.0.2" {
		t.Errorf("source = %q, want 127.0.0.2", attempts[1].GetSource().GetAddress())
	}
}

// The real OpenSSH client, with its algorithms forced, is fingerprinted
// with the lists it sent: its own HASSH, as a HASSH collector beside the
// wire would compute it.
func TestOpenSSHClientFingerprint(t *testing.T) {
	for _, tool := range []string{"/usr/bin/ssh", "sshpass"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	ts := startService(t, nil)
	host, port, err := net.SplitHostPort(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sshpass", "-p", "x", "/usr/bin/ssh", "-F", "/dev/null", "-b", "127.0.0.3", "-p", port,
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "KexAlgorithms=curve25519-sha256", "-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256",
		"-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1",
		"root@"+host, "true").CombinedOutput()
	if err == nil {
		t.Fatalf("login succeeded; output:\n%s", out)
	}
	fp := ts.emitter.waitFor(t, decoys.KindClientFingerprinted, 1)[0].GetClientFingerprinted()
	if !strings.HasPrefix(fp.GetSshClientVersion(), "SSH-2.0-OpenSSH_") {
		t.Errorf("client version = %q", fp.GetSshClientVersion())
	}
	parts := strings.Split(fp.GetHasshAlgorithms(), ";")
	if len(parts) != 4 || !strings.HasPrefix(parts[0], "curve25519-sha256,ext-info-c") || parts[1] != "aes128-ctr" || parts[2] != "hmac-sha2-256" {
		t.Errorf("hassh algorithms = %q", fp.GetHasshAlgorithms())
	}
	if len(fp.GetHassh()) != 32 {
		t.Errorf("hassh = %q", fp.GetHassh())
	}
}
