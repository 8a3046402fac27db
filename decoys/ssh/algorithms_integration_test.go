//go:build integration

package ssh

import (
	"bytes"
	"context"
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

// runOpenSSH runs /usr/bin/ssh with a password through sshpass against
// addr from 127.0.0.3 and returns its combined output and error.
func runOpenSSH(t *testing.T, addr, password string, extra ...string) (string, error) {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", password, "/usr/bin/ssh",
		"-F", "/dev/null",
		"-b", "127.0.0.3",
		"-p", port,
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null",
		"-o", "ConnectTimeout=10",
		"-v",
	}
	// ssh keeps the first value of an option, so extra overrides these.
	args = append(args, extra...)
	args = append(args,
		"-o", "PreferredAuthentications=password",
		"-o", "PubkeyAuthentication=no",
		"-o", "NumberOfPasswordPrompts=1",
		"admin@127.0.0.1", "true")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sshpass", args...).CombinedOutput()
	return string(out), err
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// TestEachAlgorithmWithOpenSSH logs in with the real OpenSSH client once
// per algorithm of the persona, each forced alone, and checks the client
// negotiated it and completed a session (exit status 0).
func TestEachAlgorithmWithOpenSSH(t *testing.T) {
	requireTools(t, "/usr/bin/ssh", "sshpass")
	ts := startService(t, func(s *Service) {
		s.Accept = func(user, method string, secret []byte) bool {
			return user == "admin" && string(secret) == "letmein"
		}
	})
	p := ts.svc.persona

	type tc struct {
		option, name, want string
	}
	var cases []tc
	for _, k := range personaAlgorithms(p).KeyExchanges {
		if strings.HasPrefix(k, "kex-strict") || k == "ext-info-s" {
			continue
		}
		cases = append(cases, tc{"KexAlgorithms", k, "kex: algorithm: " + k})
	}
	for _, h := range personaAlgorithms(p).HostKeys {
		cases = append(cases, tc{"HostKeyAlgorithms", h, "kex: host key algorithm: " + h})
	}
	for _, c := range personaAlgorithms(p).Ciphers {
		cases = append(cases, tc{"Ciphers", c, "server->client cipher: " + c})
	}
	for _, m := range personaAlgorithms(p).MACs {
		cases = append(cases, tc{"MACs", m, "MAC: " + m + " compression"})
	}
	for _, c := range cases {
		t.Run(c.option+"="+c.name, func(t *testing.T) {
			extra := []string{"-o", c.option + "=" + c.name}
			if c.option == "MACs" {
				extra = append(extra, "-o", "Ciphers=aes128-ctr")
			}
			out, err := runOpenSSH(t, ts.addr, "letmein", extra...)
			if err != nil {
				t.Fatalf("ssh failed: %v\n%s", err, out)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("client output lacks %q:\n%s", c.want, out)
			}
			if !strings.Contains(out, "Exit status 0") {
				t.Errorf("no exit status 0 in:\n%s", out)
			}
		})
	}

	t.Run("Compression=yes", func(t *testing.T) {
		out, err := runOpenSSH(t, ts.addr, "letmein", "-o", "Compression=yes")
		if err != nil {
			t.Fatalf("ssh failed: %v\n%s", err, out)
		}
		if !strings.Contains(out, "compression: zlib@openssh.com") || !strings.Contains(out, "Enabling compression") {
			t.Errorf("compression not negotiated and enabled:\n%s", out)
		}
		if !strings.Contains(out, "Exit status 0") {
			t.Errorf("no exit status 0 in:\n%s", out)
		}
	})
}

// TestPlinkPasswordAttempt runs PuTTY's plink with a wrong password and
// checks the attempt was recorded, then with the accepted one and checks
// the session ran.
func TestPlinkPasswordAttempt(t *testing.T) {
	requireTools(t, "plink")
	ts := startService(t, func(s *Service) {
		s.Accept = func(user, method string, secret []byte) bool { return string(secret) == "right" }
	})
	_, port, err := net.SplitHostPort(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	plink := func(password string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args := []string{"-batch", "-ssh", "-v", "-P", port, "-pw", password}
		// -batch refuses unknown host keys, so name the decoy's.
		for _, k := range []ssh.Signer{ts.svc.keys.rsa, ts.svc.keys.ecdsa, ts.svc.keys.ed25519} {
			args = append(args, "-hostkey", ssh.FingerprintSHA256(k.PublicKey()))
		}
		args = append(args, "oper@127.0.0.1", "exit")
		out, err := exec.CommandContext(ctx, "plink", args...).CombinedOutput()
		return string(out), err
	}

	out, err := plink("wrong")
	if err == nil {
		t.Fatalf("plink succeeded with a wrong password:\n%s", out)
	}
	attempts := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)
	a := attempts[0].GetAuthAttempt()
	if a.GetPrincipal() != "oper" || a.GetMechanism() != decoys.MechanismSSHPassword || string(a.GetSecret()) != "wrong" {
		t.Errorf("attempt = %v", a)
	}
	if !strings.Contains(out, "OpenSSH_9.2p1 Debian-2+deb12u10") {
		t.Errorf("plink did not see the persona's version:\n%s", out)
	}

	out, err = plink("right")
	if err != nil {
		t.Fatalf("plink with the accepted password: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Access granted") {
		t.Errorf("plink output lacks \"Access granted\":\n%s", out)
	}
}

// TestSFTPAndSCPUploadsCaptured uploads a file with the real sftp and scp
// clients after an accepted login and checks both file.captured events.
func TestSFTPAndSCPUploadsCaptured(t *testing.T) {
	requireTools(t, "sftp", "scp", "sshpass")
	ts := startService(t, func(s *Service) {
		s.Accept = func(user, method string, secret []byte) bool { return string(secret) == "letmein" }
	})
	_, port, err := net.SplitHostPort(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	payload := []byte(strings.Repeat("#!/bin/sh\necho pwned\n", 5000))
	local := filepath.Join(dir, "dropper.sh")
	if err := os.WriteFile(local, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	batch := filepath.Join(dir, "batch")
	if err := os.WriteFile(batch, []byte("cd /tmp\nput "+local+"\nls\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := []string{"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "PubkeyAuthentication=no", "-o", "BatchMode=no", "-P", port,
		// Rekey every 16 KiB, so the uploads cross several key exchanges.
		"-o", "RekeyLimit=16K"}
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "sshpass", append([]string{"-p", "letmein"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", args[0], err, out)
		}
		return string(out)
	}
	out := run(append(append([]string{"sftp", "-v"}, opts...), "-b", batch, "admin@127.0.0.1")...)
	if n := strings.Count(out, "SSH2_MSG_NEWKEYS received"); n < 3 {
		t.Errorf("sftp saw %d key exchanges, want several (RekeyLimit=16K):\n%s", n, out)
	}
	run(append(append([]string{"scp"}, opts...), local, "root@127.0.0.1:upload.bin")...)

	captured := ts.emitter.waitFor(t, decoys.KindFileCaptured, 2)
	sum := sha256Of(payload)
	for i, want := range []string{"/tmp/dropper.sh", "/root/upload.bin"} {
		f := captured[i].GetFileCaptured()
		if f.GetName() != want || f.GetChannel() != "sftp" || f.GetSize() != uint64(len(payload)) || !bytes.Equal(f.GetSha256(), sum) {
			t.Errorf("capture %d = name %q channel %q size %d sha %x, want %q sftp %d %x", i, f.GetName(), f.GetChannel(), f.GetSize(), f.GetSha256(), want, len(payload), sum)
		}
	}
}

// TestOpenSSHKeyboardInteractiveCaptured answers the PAM prompt of a
// persona with keyboard-interactive enabled through sshpass and checks
// the recorded answer.
func TestOpenSSHKeyboardInteractiveCaptured(t *testing.T) {
	requireTools(t, "/usr/bin/ssh", "sshpass")
	ts := startService(t, func(s *Service) { s.persona.keyboardInteractive = true })
	out, err := runOpenSSH(t, ts.addr, "kbd-secret",
		"-o", "PreferredAuthentications=keyboard-interactive", "-o", "KbdInteractiveAuthentication=yes")
	if err == nil {
		t.Fatalf("login succeeded, want rejection:\n%s", out)
	}
	if !strings.Contains(out, "Authentications that can continue: publickey,password,keyboard-interactive") {
		t.Errorf("method list not as sshd's with KbdInteractiveAuthentication yes:\n%s", out)
	}
	attempts := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)
	a := attempts[0].GetAuthAttempt()
	if a.GetPrincipal() != "admin" || a.GetMechanism() != decoys.MechanismSSHKeyboardInteractive ||
		a.GetSecretKind() != decoys.SecretPlaintext || string(a.GetSecret()) != "kbd-secret" {
		t.Errorf("attempt = %v", a)
	}
	if attempts[0].GetSource().GetAddress() != "127.0.0.3" {
		t.Errorf("source = %q, want 127.0.0.3", attempts[0].GetSource().GetAddress())
	}
}
