// Package sntrup761 implements the Streamlined NTRU Prime 761 key
// encapsulation mechanism (p = 761, q = 4591, w = 286) as OpenSSH uses it
// in the sntrup761x25519-sha512 key exchange.
//
// The byte formats, the hashing (SHA-512 with a one-byte prefix, truncated
// to 32 bytes), the "hash confirm" appended to ciphertexts and the implicit
// rejection in Decapsulate follow the NTRU Prime round 3 reference code, of
// which OpenSSH embeds a SUPERCOP copy. Keys, ciphertexts and shared keys
// therefore match it byte for byte. The tests check this against the
// submission's known-answer vectors and against the OpenSSH client.
//
// Random bytes are drawn in the order and the read sizes of the round 3
// code, so a deterministic reader reproduces the submission's KAT. The
// pattern matters only for such tests, never for interoperability.
//
// Arithmetic on secret values uses no secret-dependent branches or memory
// indices. Polynomial products are schoolbook (about a millisecond per
// operation), which is ample for one key exchange per connection.
//
// For the SSH key exchange itself, see ServerKEX.
package sntrup761

import (
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Sizes in bytes, as in OpenSSH's crypto_kem_sntrup761_*BYTES.
const (
	PublicKeySize  = rqBytes                                               // 1158
	SecretKeySize  = 2*smallBytes + PublicKeySize + smallBytes + hashBytes // 1763
	CiphertextSize = roundedBytes + hashBytes                              // 1039
	SharedKeySize  = hashBytes                                             // 32
)

// Errors for inputs of the wrong length. Any input of the right length is
// accepted, because like the reference, decoding reduces out-of-range
// values instead of rejecting them.
var (
	ErrPublicKeySize  = errors.New("sntrup761: invalid public key length, expected 1158 bytes")
	ErrSecretKeySize  = errors.New("sntrup761: invalid secret key length, expected 1763 bytes")
	ErrCiphertextSize = errors.New("sntrup761: invalid ciphertext length, expected 1039 bytes")
)

// Offsets into the secret key: f, 1/g in R/3, the public key, the
// rejection secret rho and the cached hash of the public key.
const (
	skF     = 0
	skGInv  = skF + smallBytes
	skPK    = skGInv + smallBytes
	skRho   = skPK + PublicKeySize
	skCache = skRho + smallBytes
)

// GenerateKey returns a new key pair drawing randomness from rand. It reads
// four bytes per random word and then 191 bytes at once, as the round 3
// reference code does.
func GenerateKey(rand io.Reader) (pk, sk []byte, err error) {
	var g, gInv, f [p]int8
	for {
		if err := smallRandom(&g, rand); err != nil {
			return nil, nil, err
		}
		if r3Recip(&gInv, &g) {
			break
		}
	}
	if err := shortRandom(&f, rand); err != nil {
		return nil, nil, err
	}

	var fInv, h [p]int16
	rqRecip3(&fInv, &f)
	rqMulSmall(&h, &fInv, &g)

	sk = make([]byte, SecretKeySize)
	pk = sk[skPK:skRho:skRho]
	rqEncode(pk, &h)
	smallEncode(sk[skF:], &f)
	smallEncode(sk[skGInv:], &gInv)
	if _, err := io.ReadFull(rand, sk[skRho:skCache]); err != nil {
		return nil, nil, fmt.Errorf("read random rho failed: %w", err)
	}
	hashPrefix(sk[skCache:], 4, pk)

	return append([]byte(nil), pk...), sk, nil
}

// Encapsulate picks a random short polynomial, encrypts it to pk and
// returns the ciphertext and the 32-byte shared key.
func Encapsulate(rand io.Reader, pk []byte) (ct, ss []byte, err error) {
	if len(pk) != PublicKeySize {
		return nil, nil, fmt.Errorf("%w, got %d", ErrPublicKeySize, len(pk))
	}
	var r [p]int8
	if err := shortRandom(&r, rand); err != nil {
		return nil, nil, err
	}

	var h [p]int16
	rqDecode(&h, pk)
	var cache [hashBytes]byte
	hashPrefix(cache[:], 4, pk)

	var rEnc [smallBytes]byte
	ct = make([]byte, CiphertextSize)
	hide(ct, &rEnc, &r, &h, &cache)

	ss = make([]byte, SharedKeySize)
	hashSession(ss, 1, &rEnc, ct)
	return ct, ss, nil
}

// Decapsulate returns the shared key for ct. A ciphertext that was not
// produced for this key yields a pseudorandom key derived from the secret
// rho (implicit rejection), never an error, so a peer learns nothing from
// the outcome.
func Decapsulate(sk, ct []byte) (ss []byte, err error) {
	if len(sk) != SecretKeySize {
		return nil, fmt.Errorf("%w, got %d", ErrSecretKeySize, len(sk))
	}
	if len(ct) != CiphertextSize {
		return nil, fmt.Errorf("%w, got %d", ErrCiphertextSize, len(ct))
	}
	// An array from here on, so every slice of the key has a length
	// known at compile time.
	key := (*[SecretKeySize]byte)(sk)

	var f, gInv [p]int8
	smallDecode(&f, key[skF:])
	smallDecode(&gInv, key[skGInv:])
	var c [p]int16
	roundedDecode(&c, ct)

	// For a valid ciphertext e = 3*f*c in R/3 equals g*r, so multiplying by
	// 1/g recovers r.
	var cf [p]int16
	rqMulSmall(&cf, &c, &f)
	var e [p]int8
	for i := range p {
		e[i] = freeze3(int32(freezeQ(3 * int32(cf[i]))))
	}
	var ev [p]int8
	r3Mul(&ev, &e, &gInv)

	// A result of the wrong weight is replaced by a fixed short vector
	// so that re-encryption below runs on a valid input either way.
	var r [p]int8
	mask := int8(weightMask(&ev))
	for i := range w {
		r[i] = ((ev[i] ^ 1) &^ mask) ^ 1
	}
	for i := w; i < p; i++ {
		r[i] = ev[i] &^ mask
	}

	var h [p]int16
	rqDecode(&h, key[skPK:skRho])
	var cache [hashBytes]byte
	copy(cache[:], key[skCache:])
	var rEnc [smallBytes]byte
	var cNew [CiphertextSize]byte
	hide(cNew[:], &rEnc, &r, &h, &cache)

	// On mismatch, hash rho instead of r under prefix 0 instead of 1.
	differ := byte(subtle.ConstantTimeCompare(ct, cNew[:]) - 1) // 0 or 0xff
	rho := key[skRho:skCache]
	for i := range rEnc {
		rEnc[i] ^= differ & (rEnc[i] ^ rho[i])
	}
	ss = make([]byte, SharedKeySize)
	hashSession(ss, 1+int(int8(differ)), &rEnc, ct)
	return ss, nil
}

// hide encrypts r under h into ct (rounded h*r followed by the hash
// confirmation) and stores the encoding of r in rEnc.
func hide(ct []byte, rEnc *[smallBytes]byte, r *[p]int8, h *[p]int16, cache *[hashBytes]byte) {
	smallEncode(rEnc[:], r)

	var hr, c [p]int16
	rqMulSmall(&hr, h, r)
	round(&c, &hr)
	roundedEncode(ct[:roundedBytes], &c)

	hashConfirm(ct[roundedBytes:], rEnc, cache)
}

// hashPrefix writes the first 32 bytes of SHA-512(b || in) to out.
func hashPrefix(out []byte, b byte, in ...[]byte) {
	d := sha512.New()
	d.Write([]byte{b})
	for _, s := range in {
		d.Write(s)
	}
	var sum [sha512.Size]byte
	copy(out[:hashBytes], d.Sum(sum[:0]))
}

// hashConfirm is Hash2(Hash3(r) || Hash4(pk)).
func hashConfirm(out []byte, rEnc *[smallBytes]byte, cache *[hashBytes]byte) {
	var x [hashBytes]byte
	hashPrefix(x[:], 3, rEnc[:])
	hashPrefix(out, 2, x[:], cache[:])
}

// hashSession is Hash_b(Hash3(r) || ct).
func hashSession(out []byte, b int, rEnc *[smallBytes]byte, ct []byte) {
	var x [hashBytes]byte
	hashPrefix(x[:], 3, rEnc[:])
	hashPrefix(out, byte(b), x[:], ct)
}

// urandom32 reads one little-endian 32-bit word, four bytes per read as
// the reference's randombytes calls do.
func urandom32(rand io.Reader, buf *[4]byte) (uint32, error) {
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return 0, fmt.Errorf("read random word failed: %w", err)
	}
	return binary.LittleEndian.Uint32(buf[:]), nil
}

// smallRandom fills g with coefficients in {-1, 0, 1}, each taken from the
// top bits of 30 random bits times 3.
func smallRandom(g *[p]int8, rand io.Reader) error {
	var buf [4]byte
	for i := range p {
		x, err := urandom32(rand, &buf)
		if err != nil {
			return err
		}
		g[i] = int8(((x&0x3fffffff)*3)>>30) - 1
	}
	return nil
}

// shortRandom fills out with a random polynomial of weight w. Sorting w
// words tagged as ±1 and p-w tagged as 0 by their random high bits
// shuffles the tags.
func shortRandom(out *[p]int8, rand io.Reader) error {
	var list [p]uint32
	var buf [4]byte
	for i := range p {
		x, err := urandom32(rand, &buf)
		if err != nil {
			return err
		}
		list[i] = x
	}
	for i := range w {
		list[i] &^= 1
	}
	for i := w; i < p; i++ {
		list[i] = list[i]&^2 | 1
	}
	sortUint32(list[:])
	for i := range p {
		out[i] = int8(list[i]&3) - 1
	}
	return nil
}
