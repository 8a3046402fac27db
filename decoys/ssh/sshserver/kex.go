package sshserver

import (
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
)

// KEX is a key exchange of the form "client sends one public value, the
// server answers with its own" (curve25519, ECDH, the hybrid post-quantum
// methods and the fixed-group Diffie-Hellman ones). ServerKEX returns the
// server's public value and the shared secret K already encoded as it
// enters the exchange hash (an mpint for the classical methods, a string
// for sntrup761x25519-sha512).
type KEX interface {
	ServerKEX(rand io.Reader, clientPub []byte) (serverPub, encodedK []byte, err error)
}

// kexMethod binds a KEX to its hash and wire format.
type kexMethod struct {
	newHash func() hash.Hash
	// kex is nil for group exchange, which has its own message flow.
	kex KEX
	// mpintValues marks the Diffie-Hellman methods, whose public values
	// are mpints (e, f) rather than strings (Q_C, Q_S).
	mpintValues bool
}

// kexMethods holds the implemented key exchanges by name.
var kexMethods = map[string]kexMethod{
	// Both names are the same method; OpenSSH 9.9 added the plain one and
	// Debian backported it to 9.2p1.
	"sntrup761x25519-sha512":               {newHash: sha512.New, kex: sntrupKEX{}},
	"sntrup761x25519-sha512@openssh.com":   {newHash: sha512.New, kex: sntrupKEX{}},
	"curve25519-sha256":                    {newHash: sha256.New, kex: ecdhKEX{ecdh.X25519()}},
	"curve25519-sha256@libssh.org":         {newHash: sha256.New, kex: ecdhKEX{ecdh.X25519()}},
	"ecdh-sha2-nistp256":                   {newHash: sha256.New, kex: ecdhKEX{ecdh.P256()}},
	"ecdh-sha2-nistp384":                   {newHash: sha512.New384, kex: ecdhKEX{ecdh.P384()}},
	"ecdh-sha2-nistp521":                   {newHash: sha512.New, kex: ecdhKEX{ecdh.P521()}},
	"diffie-hellman-group14-sha256":        {newHash: sha256.New, kex: newDHGroup(group14PrimeHex), mpintValues: true},
	"diffie-hellman-group16-sha512":        {newHash: sha512.New, kex: newDHGroup(group16PrimeHex), mpintValues: true},
	"diffie-hellman-group18-sha512":        {newHash: sha512.New, kex: newDHGroup(group18PrimeHex), mpintValues: true},
	"diffie-hellman-group-exchange-sha256": {newHash: sha256.New},
}

// errInvalidPublic is a client public value the method rejects; sshd
// closes without a DISCONNECT.
var errInvalidPublic = errors.New("invalid client public value")

// ecdhKEX is curve25519-sha256 and ecdh-sha2-nistp*: K is the shared
// x-coordinate as an mpint (RFC 5656, RFC 8731).
type ecdhKEX struct{ curve ecdh.Curve }

func (k ecdhKEX) ServerKEX(rand io.Reader, clientPub []byte) ([]byte, []byte, error) {
	peer, err := k.curve.NewPublicKey(clientPub)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errInvalidPublic, err)
	}
	priv, err := k.curve.GenerateKey(rand)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	secret, err := priv.ECDH(peer)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errInvalidPublic, err)
	}
	return priv.PublicKey().Bytes(), appendMpintBytes(nil, secret), nil
}

// dhGroup is a finite-field Diffie-Hellman group with generator 2.
type dhGroup struct {
	p, g *big.Int
}

func newDHGroup(primeHex string) *dhGroup {
	p, ok := new(big.Int).SetString(primeHex, 16)
	if !ok {
		panic("sshserver: bad built-in prime")
	}
	return &dhGroup{p: p, g: big.NewInt(2)}
}

// dhExponentBits is the size of the server's secret exponent. sshd uses
// twice the security level of the negotiated cipher, at most 512 bits
// for the ciphers here. The exponent is never visible on the wire.
const dhExponentBits = 512

// ServerKEX takes e and returns f and K, all mpint-encoded without the
// length prefix for e and f (the caller frames them as strings, which is
// the same wire form).
func (g *dhGroup) ServerKEX(rand io.Reader, clientPub []byte) ([]byte, []byte, error) {
	r := reader{b: appendString(nil, clientPub)}
	e := r.mpint()
	if r.err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errInvalidPublic, r.err)
	}
	if !g.validPublic(e) {
		return nil, nil, errInvalidPublic
	}
	x, err := g.secret(rand)
	if err != nil {
		return nil, nil, err
	}
	f := new(big.Int).Exp(g.g, x, g.p)
	k := new(big.Int).Exp(e, x, g.p)
	return mpintBody(f), appendMpint(nil, k), nil
}

// validPublic applies OpenSSH's dh_pub_is_valid: 1 < e < p-1 and more
// than one bit set.
func (g *dhGroup) validPublic(e *big.Int) bool {
	if e.Sign() <= 0 {
		return false
	}
	pMinus1 := new(big.Int).Sub(g.p, big.NewInt(1))
	if e.Cmp(big.NewInt(1)) <= 0 || e.Cmp(pMinus1) >= 0 {
		return false
	}
	bits := 0
	for _, w := range e.Bits() {
		for ; w != 0; w &= w - 1 {
			bits++
		}
	}
	return bits > 1
}

func (g *dhGroup) secret(rand io.Reader) (*big.Int, error) {
	buf := make([]byte, dhExponentBits/8)
	if _, err := io.ReadFull(rand, buf); err != nil {
		return nil, fmt.Errorf("read dh exponent: %w", err)
	}
	x := new(big.Int).SetBytes(buf)
	return x.SetBit(x, dhExponentBits-1, 1), nil
}

// mpintBody returns the mpint encoding of v without its length prefix.
func mpintBody(v *big.Int) []byte {
	return appendMpint(nil, v)[4:]
}

// sessionKeys derives the six values of RFC 4253 section 7.2.
type sessionKeys struct {
	ivCS, ivSC, keyCS, keySC, macCS, macSC []byte
}

func deriveKey(newHash func() hash.Hash, k, h, sessionID []byte, letter byte, n int) []byte {
	if n == 0 {
		return nil
	}
	hh := newHash()
	hh.Write(k)
	hh.Write(h)
	hh.Write([]byte{letter})
	hh.Write(sessionID)
	out := hh.Sum(nil)
	for len(out) < n {
		hh.Reset()
		hh.Write(k)
		hh.Write(h)
		hh.Write(out)
		out = hh.Sum(out)
	}
	return out[:n]
}

func macKeyBytes(name string) int {
	return macSpecs[name].keyBytes
}
