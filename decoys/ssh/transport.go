package ssh

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys/ssh/sshserver"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// This file adapts the persona to the sshserver package. A name that
// sshserver.Supported rejects is left out of the KEXINIT. Today sshserver
// implements every name of both personas.

// serverSigAlgs is the server-sig-algs extension OpenSSH 9.2p1 sends
// (sshkey_alg_list with certificates excluded), captured from
// openssh-server 1:9.2p1-2+deb12u10.
//
// NOTE: the Ubuntu 24.04 persona (OpenSSH 9.6) gets the same EXT_INFO,
// but 9.6 also offers ping@openssh.com and sends EXT_INFO again after
// authentication; that persona's EXT_INFO is not checked against a real
// host.
const serverSigAlgs = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," +
	"ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com," +
	"ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512"

// Label of the per-decky secret behind sshd's per-user failure delay
// (sshd's options.timing_secret, random per host).
const infoTimingSecret = "decnet decoys/ssh timing secret" //nolint:gosec // G101: an HKDF label, not the secret

// Bounds of sshd's user_specific_delay: MIN_FAIL_DELAY_SECONDS (5 ms)
// plus up to 4.29 ms derived from the user name and a per-host secret.
const (
	minFailureDelay     = 5 * time.Millisecond
	userDelayNanosRange = 4_294_967 // 2^32 / 1000, in ns: at most ~4.29 ms
)

// serverConfig returns the sshserver configuration for p. Auth and
// Session are filled per connection.
func serverConfig(p persona, keys *hostKeys, seed []byte) (*sshserver.Config, error) {
	timing, err := hkdf.Key(sha256.New, seed, nil, infoTimingSecret, 32)
	if err != nil {
		return nil, err
	}
	methods := []string{sshserver.MethodPublicKey, sshserver.MethodPassword}
	if p.keyboardInteractive {
		methods = append(methods, sshserver.MethodKeyboardInteractive)
	}
	return &sshserver.Config{
		ServerVersion:      p.banner,
		Algorithms:         personaAlgorithms(p),
		HostKeys:           orderedHostKeys(p.hostKeyAlgorithms, keys),
		ServerSigAlgs:      serverSigAlgs,
		PublickeyHostbound: true,
		AuthMethods:        methods,
		MaxAuthTries:       p.maxAuthTries,
		KbdPrompt:          p.kbdPrompt,
		KbdEcho:            p.kbdEcho,
		Subsystems:         []string{"sftp"},
		AuthorizedKeysFile: func(user string) string { return homeDir(user) + "/.ssh/authorized_keys" },
		LoginGraceTime:     p.loginGraceTime,
		MinFailureDelay: func(user string) time.Duration {
			mac := sha256.Sum256(append(append([]byte(nil), timing...), user...))
			return minFailureDelay + time.Duration(binary.BigEndian.Uint32(mac[:])%userDelayNanosRange)
		},
	}, nil
}

// personaAlgorithms returns p's KEXINIT lists, less what sshserver lacks.
func personaAlgorithms(p persona) sshserver.Algorithms {
	return sshserver.Algorithms{
		KeyExchanges: implemented(p.keyExchanges),
		HostKeys:     implemented(p.hostKeyAlgorithms),
		Ciphers:      implemented(p.ciphers),
		MACs:         implemented(p.macs),
		Compressions: implemented(p.compressions),
	}
}

// forwardEvent is the forward.requested payload of a refused forward.
func forwardEvent(f sshserver.Forward) *eventv1.ForwardRequested {
	kind := f.Kind
	if kind == "streamlocal-forward@openssh.com" || kind == "direct-streamlocal@openssh.com" {
		kind = "streamlocal"
	}
	return &eventv1.ForwardRequested{Type: kind, Host: f.Host, Port: f.Port}
}

// implemented returns the entries of want that sshserver implements, in
// want's order.
func implemented(want []string) []string {
	return slices.DeleteFunc(slices.Clone(want), func(name string) bool { return !sshserver.Supported(name) })
}

// orderedHostKeys returns one signer per key type, in the order sshd
// loads the default host keys (RSA, ECDSA, Ed25519), which is also the
// order of hostkeys-00@openssh.com.
func orderedHostKeys(algorithms []string, keys *hostKeys) []ssh.Signer {
	var out []ssh.Signer
	for _, signer := range []ssh.Signer{keys.rsa, keys.ecdsa, keys.ed25519} {
		t := signer.PublicKey().Type()
		if slices.ContainsFunc(algorithms, func(a string) bool {
			return a == t || (t == ssh.KeyAlgoRSA && (a == ssh.KeyAlgoRSASHA256 || a == ssh.KeyAlgoRSASHA512))
		}) {
			out = append(out, signer)
		}
	}
	return out
}

// Reasons recorded in connection.closed.
const (
	reasonClientClosed   = "client_closed"
	reasonAuthExhausted  = "auth_exhausted"
	reasonTimeout        = "timeout"
	reasonSessionTimeout = "session_timeout"
	reasonShutdown       = "shutdown"
	reasonInvalidIdent   = "invalid_identification"
	reasonVersion        = "version_mismatch"
	reasonProtocolError  = "protocol_error"
	reasonServerClosed   = "server_closed"
)

// closeReason names why the SSH conversation ended.
func closeReason(err error) string {
	var disc *sshserver.DisconnectError
	if errors.As(err, &disc) {
		if disc.Message == "Too many authentication failures" {
			return reasonAuthExhausted
		}
		return reasonProtocolError
	}

	var netErr net.Error
	switch {
	case err == nil:
		return reasonServerClosed
	case errors.Is(err, sshserver.ErrLoginGraceTime):
		return reasonTimeout
	case errors.Is(err, sshserver.ErrDisconnected):
		return reasonClientClosed
	case errors.As(err, &netErr) && netErr.Timeout():
		return reasonTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		return reasonClientClosed
	}
	return reasonProtocolError
}
