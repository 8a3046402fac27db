package ssh

import (
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"
)

// This file adapts the persona to golang.org/x/crypto/ssh. Everything the
// library cannot do the way OpenSSH does is listed here.
//
// Algorithms the personas list that x/crypto/ssh v0.59 does not implement,
// and which are left out of the KEXINIT, so its HASSHServer differs from
// the real daemon's:
//   - KEX: sntrup761x25519-sha512 under both names, because the library has
//     no Streamlined NTRU Prime. diffie-hellman-group18-sha512, because it
//     lacks that group. ext-info-s (OpenSSH 9.6), because the library sends
//     EXT_INFO when the client asks but never advertises the marker. The
//     library appends kex-strict-s-v00@openssh.com itself.
//   - MAC: umac-64-etm, umac-128-etm, umac-64, umac-128 (no UMAC) and
//     hmac-sha1-etm@openssh.com (SHA-1 only without encrypt-then-MAC).
//   - Compression: zlib@openssh.com (none only).
//
// Further differences, all fixed only by a transport of our own:
//   - Host keys: the RSA key is advertised as "rsa-sha2-256,rsa-sha2-512";
//     OpenSSH sends rsa-sha2-512 first. The library fixes that order.
//   - The USERAUTH_FAILURE method list is "password,publickey" (plus
//     "keyboard-interactive"); OpenSSH sends "publickey,password".
//   - After MaxAuthTries failures the library disconnects with reason 2
//     (SSH_DISCONNECT_PROTOCOL_ERROR, as OpenSSH) but the text "too many
//     authentication failures"; OpenSSH capitalises it ("Too many
//     authentication failures").
//   - OpenSSH counts every rejected public-key query toward MaxAuthTries;
//     the library lets MaxAuthTries rejected queries go uncounted first.
//   - Identification lines of 255 bytes or more are valid for OpenSSH (up
//     to 8192) but overflow the library's reader, so such clients are
//     disconnected after the identification exchange.

// maxTransportIdentBytes is the longest client identification line, CR LF
// excluded, that x/crypto/ssh reads (its maxVersionStringBytes, 255, minus
// one for the LF it must see before the count reaches 255).
const maxTransportIdentBytes = 254

// transportConfig returns the x/crypto/ssh server configuration for p,
// with the host keys in the order of p's host-key list. auth supplies the
// authentication callbacks.
func transportConfig(p persona, keys *hostKeys, auth *authRecorder) *ssh.ServerConfig {
	supported := ssh.SupportedAlgorithms()
	insecure := ssh.InsecureAlgorithms()

	cfg := &ssh.ServerConfig{
		Config: ssh.Config{
			KeyExchanges: implemented(p.keyExchanges, supported.KeyExchanges, insecure.KeyExchanges),
			Ciphers:      implemented(p.ciphers, supported.Ciphers, insecure.Ciphers),
			MACs:         implemented(p.macs, supported.MACs, insecure.MACs),
		},
		MaxAuthTries:      p.maxAuthTries,
		ServerVersion:     p.banner,
		PasswordCallback:  auth.password,
		PublicKeyCallback: auth.publicKey,
	}
	if p.keyboardInteractive {
		cfg.KeyboardInteractiveCallback = auth.keyboardInteractive
	}

	for _, signer := range orderedHostKeys(p.hostKeyAlgorithms, keys) {
		cfg.AddHostKey(signer)
	}
	return cfg
}

// implemented returns the entries of want that the library implements,
// in want's order. The library's own name "curve25519-sha256@libssh.org"
// stays where the persona puts it.
func implemented(want []string, lists ...[]string) []string {
	var out []string
	for _, name := range want {
		if name == "curve25519-sha256@libssh.org" || slices.ContainsFunc(lists, func(l []string) bool { return slices.Contains(l, name) }) {
			out = append(out, name)
		}
	}
	return out
}

// orderedHostKeys returns one signer per key type, in the order in which
// each type first appears in algorithms.
func orderedHostKeys(algorithms []string, keys *hostKeys) []ssh.Signer {
	var out []ssh.Signer
	added := make(map[string]bool)
	for _, algorithm := range algorithms {
		var signer ssh.Signer
		switch {
		case strings.HasPrefix(algorithm, "rsa-sha2-"):
			signer = keys.rsa
		case algorithm == ssh.KeyAlgoECDSA256:
			signer = keys.ecdsa
		case algorithm == ssh.KeyAlgoED25519:
			signer = keys.ed25519
		}
		if signer == nil || added[signer.PublicKey().Type()] {
			continue
		}
		added[signer.PublicKey().Type()] = true
		out = append(out, signer)
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
	reasonIdentTooLong   = "identification_too_long"
	reasonProtocolError  = "protocol_error"
	reasonServerClosed   = "server_closed"
)

// closeReason names why the handshake with x/crypto/ssh ended.
func closeReason(err error) string {
	var authErr *ssh.ServerAuthError
	if errors.As(err, &authErr) {
		// The library returns ServerAuthError both when the client gave up
		// (EOF) and when it sent the MaxAuthTries disconnect, which it
		// appends to Errors as its unexported disconnect message type.
		if n := len(authErr.Errors); n > 0 && authErr.Errors[n-1] != nil &&
			strings.HasPrefix(authErr.Errors[n-1].Error(), "ssh: disconnect") {
			return reasonAuthExhausted
		}
		return reasonClientClosed
	}

	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		return reasonTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		return reasonClientClosed
	}
	return reasonProtocolError
}
