package sntrup761

import (
	"crypto/ecdh"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
)

// x25519Size is the length of an X25519 public key and shared secret.
const x25519Size = 32

// Sizes of the key exchange values of sntrup761x25519-sha512.
const (
	ClientKEXSize = PublicKeySize + x25519Size  // Q_C, 1190 bytes
	ServerKEXSize = CiphertextSize + x25519Size // Q_S, 1071 bytes
)

// ErrClientKEXSize is returned for a client value Q_C of the wrong length.
// OpenSSH returns SSH_ERR_SIGNATURE_INVALID in that case and drops the
// connection.
var ErrClientKEXSize = errors.New("sntrup761: invalid client key exchange value length, expected 1190 bytes")

// ServerKEX performs the server half of OpenSSH's hybrid key exchange
// "sntrup761x25519-sha512" (also named "sntrup761x25519-sha512@openssh.com"),
// as OpenSSH's kexsntrup761x25519.c does it. The integration test checks
// this against the OpenSSH 9.2p1 client:
//
//   - The client's SSH_MSG_KEX_ECDH_INIT carries the string
//     Q_C = sntrup761 public key (1158 bytes) || X25519 public key (32).
//   - The server encapsulates to the sntrup761 key, makes an ephemeral
//     X25519 key and replies in SSH_MSG_KEX_ECDH_REPLY with the string
//     Q_S = ciphertext (1039 bytes) || X25519 public key (32).
//   - The shared secret is K = SHA-512(sntrup761 key (32) || X25519 shared
//     secret (32)), both raw, not mpint-encoded.
//
// serverPub is Q_S. sharedSecretHash is the raw 64-byte digest. The
// transport must encode K as an SSH string (uint32 length 64, then the
// bytes), not as an mpint, both in the exchange hash and in key
// derivation. The exchange hash is SHA-512 over
// string V_C, string V_S, string I_C, string I_S, string K_S, string Q_C,
// string Q_S, string K, and the session keys are derived with SHA-512 too.
//
// An X25519 client key that yields the all-zero shared secret is an error,
// as in OpenSSH.
func ServerKEX(rand io.Reader, clientPub []byte) (serverPub, sharedSecretHash []byte, err error) {
	if len(clientPub) != ClientKEXSize {
		return nil, nil, fmt.Errorf("%w, got %d", ErrClientKEXSize, len(clientPub))
	}
	peer, err := ecdh.X25519().NewPublicKey(clientPub[PublicKeySize:])
	if err != nil {
		return nil, nil, fmt.Errorf("parse client x25519 key failed: %w", err)
	}

	ct, kemKey, err := Encapsulate(rand, clientPub[:PublicKeySize])
	if err != nil {
		return nil, nil, fmt.Errorf("encapsulate failed: %w", err)
	}
	priv, err := ecdh.X25519().GenerateKey(rand)
	if err != nil {
		return nil, nil, fmt.Errorf("generate x25519 key failed: %w", err)
	}
	// ECDH rejects the all-zero result of a low-order client point.
	ecdhKey, err := priv.ECDH(peer)
	if err != nil {
		return nil, nil, fmt.Errorf("x25519 key agreement failed: %w", err)
	}

	d := sha512.New()
	d.Write(kemKey)
	d.Write(ecdhKey)

	serverPub = make([]byte, 0, ServerKEXSize)
	serverPub = append(serverPub, ct...)
	serverPub = append(serverPub, priv.PublicKey().Bytes()...)
	return serverPub, d.Sum(nil), nil
}
