package ssh

import (
	"crypto/md5" //nolint:gosec // HASSH is defined as an MD5; it identifies, it does not protect.
	"encoding/hex"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// maxFingerprintField caps what a client's lists may put into one event;
// OpenSSH's own lists are under 2 KiB together.
const maxFingerprintField = 8 << 10

// sshFingerprint is the client.fingerprinted payload of an SSH client:
// its identification line and its HASSH (Salesforce's MD5 of the
// client-to-server key exchange, cipher, MAC and compression lists). The
// hash is over the whole string even when the stored copy is cut.
func sshFingerprint(clientVersion, algorithms string) *eventv1.ClientFingerprint {
	sum := md5.Sum([]byte(algorithms)) //nolint:gosec // see the import.
	return &eventv1.ClientFingerprint{
		SshClientVersion: clientVersion,
		Hassh:            hex.EncodeToString(sum[:]),
		HasshAlgorithms:  truncate(algorithms, maxFingerprintField),
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
