package ssh

import (
	"crypto/md5" //nolint:gosec // HASSH is an MD5.
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys"
)

// The client's identification line and first KEXINIT become one
// client.fingerprinted event with its HASSH.
func TestClientFingerprint(t *testing.T) {
	ts := startService(t, nil)
	_ = dial(t, ts.addr, &ssh.ClientConfig{
		User:          "root",
		Auth:          []ssh.AuthMethod{ssh.Password("toor")},
		ClientVersion: "SSH-2.0-Go-scanner_1.0",
		Config: ssh.Config{
			KeyExchanges: []string{"curve25519-sha256"},
			Ciphers:      []string{"aes128-ctr", "aes256-ctr"},
			MACs:         []string{"hmac-sha2-256"},
		},
	})

	got := ts.emitter.waitFor(t, decoys.KindClientFingerprinted, 1)[0]
	fp := got.GetClientFingerprinted()
	if fp.GetSshClientVersion() != "SSH-2.0-Go-scanner_1.0" {
		t.Errorf("client version = %q", fp.GetSshClientVersion())
	}
	parts := strings.Split(fp.GetHasshAlgorithms(), ";")
	if len(parts) != 4 {
		t.Fatalf("hassh algorithms %q has %d parts, want 4", fp.GetHasshAlgorithms(), len(parts))
	}
	// x/crypto appends its extension markers to the key exchanges.
	if kex := strings.Split(parts[0], ","); kex[0] != "curve25519-sha256" {
		t.Errorf("kex list = %q", parts[0])
	}
	if parts[1] != "aes128-ctr,aes256-ctr" || parts[2] != "hmac-sha2-256" || parts[3] != "none" {
		t.Errorf("cipher, MAC, compression lists = %q", parts[1:])
	}
	sum := md5.Sum([]byte(fp.GetHasshAlgorithms())) //nolint:gosec // see the import.
	if fp.GetHassh() != hex.EncodeToString(sum[:]) {
		t.Errorf("hassh = %s, want the MD5 of %q", fp.GetHassh(), fp.GetHasshAlgorithms())
	}
	if got.GetSource().GetAddress() != "127.0.0.1" || got.GetSessionId() == "" {
		t.Errorf("event source %v session %q", got.GetSource(), got.GetSessionId())
	}
	if n := len(ts.emitter.ofKind(decoys.KindClientFingerprinted)); n != 1 {
		t.Errorf("%d fingerprint events for one connection, want 1", n)
	}
}
