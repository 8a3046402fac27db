package sshserver

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // G505: hmac-sha1 is in OpenSSH 9's default MAC list
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// cipherSpec describes one encryption algorithm by its SSH name.
type cipherSpec struct {
	keyBytes, ivBytes int
	// aead ciphers authenticate themselves; the negotiated MAC is unused.
	aead bool
	// newCipher returns the packet codec for one direction. mac is nil for
	// AEAD ciphers.
	newCipher func(key, iv []byte, mac MAC, etm bool) (packetCodec, error)
}

// packetCodec both seals and opens; each direction gets its own instance.
type packetCodec interface {
	packetOpener
	packetSealer
}

var cipherSpecs = map[string]cipherSpec{
	"chacha20-poly1305@openssh.com": {keyBytes: 64, aead: true, newCipher: func(key, _ []byte, _ MAC, _ bool) (packetCodec, error) {
		return newChachaCipher(key), nil
	}},
	"aes128-ctr": {keyBytes: 16, ivBytes: 16, newCipher: ctrCipher},
	"aes192-ctr": {keyBytes: 24, ivBytes: 16, newCipher: ctrCipher},
	"aes256-ctr": {keyBytes: 32, ivBytes: 16, newCipher: ctrCipher},
	"aes128-gcm@openssh.com": {keyBytes: 16, ivBytes: 12, aead: true, newCipher: func(key, iv []byte, _ MAC, _ bool) (packetCodec, error) {
		return newGCMCipher(key, iv)
	}},
	"aes256-gcm@openssh.com": {keyBytes: 32, ivBytes: 12, aead: true, newCipher: func(key, iv []byte, _ MAC, _ bool) (packetCodec, error) {
		return newGCMCipher(key, iv)
	}},
}

func ctrCipher(key, iv []byte, mac MAC, etm bool) (packetCodec, error) {
	return newCTRCipher(key, iv, mac, etm)
}

// macSpec describes one MAC algorithm by its SSH name.
type macSpec struct {
	keyBytes int
	etm      bool
	newMAC   func(key []byte) (MAC, error)
}

// hmacMAC is HMAC over the 32-bit sequence number followed by the data
// (RFC 4253 section 6.4).
type hmacMAC struct {
	h    hash.Hash
	size int
}

func (m *hmacMAC) Size() int { return m.size }

func (m *hmacMAC) Sum(dst []byte, seq uint32, data []byte) []byte {
	m.h.Reset()
	var s [4]byte
	s[0], s[1], s[2], s[3] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
	m.h.Write(s[:])
	m.h.Write(data)
	return m.h.Sum(dst)
}

func hmacSpec(newHash func() hash.Hash, size int, etm bool) macSpec {
	return macSpec{keyBytes: size, etm: etm, newMAC: func(key []byte) (MAC, error) {
		return &hmacMAC{h: hmac.New(newHash, key), size: size}, nil
	}}
}

// macSpecs holds the MACs this package implements. umacSpecs (umac.go)
// adds the UMAC family when that implementation is built in.
var macSpecs = func() map[string]macSpec {
	m := map[string]macSpec{
		"hmac-sha2-256-etm@openssh.com": hmacSpec(sha256.New, sha256.Size, true),
		"hmac-sha2-512-etm@openssh.com": hmacSpec(sha512.New, sha512.Size, true),
		"hmac-sha1-etm@openssh.com":     hmacSpec(sha1.New, sha1.Size, true),
		"hmac-sha2-256":                 hmacSpec(sha256.New, sha256.Size, false),
		"hmac-sha2-512":                 hmacSpec(sha512.New, sha512.Size, false),
		"hmac-sha1":                     hmacSpec(sha1.New, sha1.Size, false),
	}
	for name, spec := range umacSpecs() {
		m[name] = spec
	}
	return m
}()

// compressionNames are the compression methods this package implements.
var compressionNames = map[string]bool{"none": true, "zlib@openssh.com": true}

// Supported reports whether this package implements the algorithm name
// in any list of the KEXINIT (key exchange, host key, cipher, MAC,
// compression, or a KEXINIT marker such as kex-strict-s-v00@openssh.com).
func Supported(name string) bool {
	if _, ok := cipherSpecs[name]; ok {
		return true
	}
	if _, ok := macSpecs[name]; ok {
		return true
	}
	if _, ok := kexMethods[name]; ok {
		return true
	}
	switch name {
	case kexStrictServer, "ext-info-s",
		"rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519":
		return true
	}
	return compressionNames[name]
}

// newDirection builds the packet codec for one direction from the
// negotiated names and the derived keys.
func newDirection(cipherName, macName string, key, iv, macKey []byte) (packetCodec, error) {
	cs, ok := cipherSpecs[cipherName]
	if !ok {
		return nil, fmt.Errorf("unsupported cipher %q", cipherName)
	}
	if cs.aead {
		return cs.newCipher(key, iv, nil, false)
	}
	ms, ok := macSpecs[macName]
	if !ok {
		return nil, fmt.Errorf("unsupported mac %q", macName)
	}
	mac, err := ms.newMAC(macKey)
	if err != nil {
		return nil, fmt.Errorf("create mac %s: %w", macName, err)
	}
	return cs.newCipher(key, iv, mac, ms.etm)
}
