// Package umac implements UMAC (RFC 4418) with AES-128, as OpenSSH uses it
// for the MACs umac-64@openssh.com and umac-128@openssh.com and their -etm
// variants.
//
// OpenSSH passes the packet sequence number as the nonce. Its mac.c widens
// the 32-bit sequence number to 64 bits, stores it big-endian in an 8-byte
// buffer (POKE_U64 or put_u64) and hands that to umac_final. Callers build
// the nonce the same way:
//
//	var nonce [8]byte
//	binary.BigEndian.PutUint64(nonce[:], uint64(seq))
//	tag := m.Sum(nil, nonce, packet)
//
// The MAC key is 16 bytes for both tag sizes. For umac-64 the data is the
// unencrypted packet (length, padding length, payload, padding); for the
// -etm variants it is the length field followed by the ciphertext.
package umac

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
)

// KeySize is the length of a UMAC-AES-128 key.
const KeySize = 16

// Sizes of the UHASH stages, RFC 4418 section 5.
const (
	l1KeyBytes = 1024 // NH block (and key) length
	maxStreams = 4    // one 32-bit UHASH iteration per 4 tag bytes

	// poly64Blocks is the number of L1 outputs (2^17 bytes of them) hashed
	// under the 64-bit prime before L2 switches to the 128-bit prime,
	// that is messages longer than 16 MiB.
	poly64Blocks = 1 << 14
)

// Errors returned by New.
var (
	ErrKeySize = errors.New("umac: invalid key length, expected 16 bytes")
	ErrTagSize = errors.New("umac: invalid tag size, expected 4, 8, 12 or 16 bytes")
)

// MAC computes UMAC tags under one key. Its methods use internal scratch
// space, so a MAC must not be used by several goroutines at once. SSH keeps
// one per direction anyway.
type MAC struct {
	tagSize int
	streams int

	// nhKey is the L1 key as 32-bit words. Iteration i uses the words from
	// 4*i on (a Toeplitz shift of 16 bytes).
	nhKey [l1KeyBytes/4 + 4*(maxStreams-1)]uint32
	// l2Key64 and l2Key128 are the masked POLY keys of each iteration.
	// l2Key128 is stored as high and low halves.
	l2Key64  [maxStreams]uint64
	l2Key128 [maxStreams][2]uint64
	// l3Key1 contains the eight L3 multipliers of each iteration, already
	// reduced modulo 2^36 - 5, and l3Key2 the 32-bit output masks.
	l3Key1 [maxStreams][8]uint64
	l3Key2 [maxStreams]uint32

	pdf cipher.Block

	// Scratch for the block cipher, kept here so that Sum does not make
	// its arguments escape to the heap through the interface call.
	pdfIn, pdfOut [aes.BlockSize]byte
	pad           [32]byte
}

// New returns a UMAC with the given 16-byte key and tag size in bytes.
// OpenSSH uses 8 (umac-64) and 16 (umac-128). The sizes 4 and 12 are the
// RFC's other ones.
func New(key []byte, tagSize int) (*MAC, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	if tagSize != 4 && tagSize != 8 && tagSize != 12 && tagSize != 16 {
		return nil, ErrTagSize
	}
	prf, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	m := &MAC{tagSize: tagSize, streams: tagSize / 4}

	// Derive each subkey with KDF(K, index, length), RFC 4418 section 3.2.
	var pdfKey [16]byte
	kdf(pdfKey[:], prf, 0)
	if m.pdf, err = aes.NewCipher(pdfKey[:]); err != nil {
		return nil, err
	}

	var l1 [l1KeyBytes + 16*(maxStreams-1)]byte
	kdf(l1[:], prf, 1)
	for i := range m.nhKey {
		m.nhKey[i] = binary.BigEndian.Uint32(l1[4*i:])
	}

	const polyMask = 0x01ffffff01ffffff
	var l2 [24 * maxStreams]byte
	kdf(l2[:], prf, 2)
	for i := range maxStreams {
		m.l2Key64[i] = binary.BigEndian.Uint64(l2[24*i:]) & polyMask
		m.l2Key128[i][0] = binary.BigEndian.Uint64(l2[24*i+8:]) & polyMask
		m.l2Key128[i][1] = binary.BigEndian.Uint64(l2[24*i+16:]) & polyMask
	}

	var l3 [64 * maxStreams]byte
	kdf(l3[:], prf, 3)
	for i := range maxStreams {
		for j := range 8 {
			m.l3Key1[i][j] = binary.BigEndian.Uint64(l3[64*i+8*j:]) % p36
		}
	}
	var l3b [4 * maxStreams]byte
	kdf(l3b[:], prf, 4)
	for i := range maxStreams {
		m.l3Key2[i] = binary.BigEndian.Uint32(l3b[4*i:])
	}
	return m, nil
}

// Size returns the tag length in bytes.
func (m *MAC) Size() int { return m.tagSize }

// Sum appends the tag of msg under nonce to dst and returns the result.
func (m *MAC) Sum(dst []byte, nonce [8]byte, msg []byte) []byte {
	var tag [16]byte
	m.uhash(&tag, msg)

	// PDF, RFC 4418 section 3.3: for 4- and 8-byte tags the low bits of
	// the nonce select which slice of one AES block is the pad, so that
	// consecutive nonces share a block.
	index := 0
	switch m.tagSize {
	case 4:
		index = int(nonce[7] & 3)
		nonce[7] &^= 3
	case 8:
		index = int(nonce[7] & 1)
		nonce[7] &^= 1
	}
	copy(m.pdfIn[:8], nonce[:])
	clear(m.pdfIn[8:])
	m.pdf.Encrypt(m.pdfOut[:], m.pdfIn[:])
	pad := m.pdfOut[index*m.tagSize:]
	for i := range m.tagSize {
		tag[i] ^= pad[i]
	}
	return append(dst, tag[:m.tagSize]...)
}

// kdf fills out with KDF(K, index, len(out)): AES of the block holding
// index in byte 7 and a counter from 1 in bytes 8..15.
func kdf(out []byte, prf cipher.Block, index byte) {
	var in, block [16]byte
	in[7] = index
	for n, counter := 0, uint64(1); n < len(out); n, counter = n+16, counter+1 {
		binary.BigEndian.PutUint64(in[8:], counter)
		prf.Encrypt(block[:], in[:])
		copy(out[n:], block[:])
	}
}

// uhash writes UHASH(msg), 4 bytes per iteration, to tag.
func (m *MAC) uhash(tag *[16]byte, msg []byte) {
	var a [maxStreams]uint64
	if len(msg) <= l1KeyBytes {
		// For one L1 block L2 is skipped, and L3 hashes 0^64 || A.
		m.nhLast(&a, msg)
		for s := range m.streams {
			binary.BigEndian.PutUint32(tag[4*s:], m.l3(s, 0, a[s]))
		}
		return
	}

	var l2 l2State
	l2.init(m)
	for len(msg) > l1KeyBytes {
		a = [maxStreams]uint64{}
		m.nh(&a, msg[:l1KeyBytes], 0)
		for s := range m.streams {
			a[s] += 8 * l1KeyBytes
		}
		l2.absorb(m, &a)
		msg = msg[l1KeyBytes:]
	}
	m.nhLast(&a, msg)
	l2.absorb(m, &a)

	for s := range m.streams {
		hi, lo := l2.final(m, s)
		binary.BigEndian.PutUint32(tag[4*s:], m.l3(s, hi, lo))
	}
}

// nhLast hashes the final L1 block (0 to 1024 bytes): zero-padded to a
// positive multiple of 32 bytes, with its bit length added.
func (m *MAC) nhLast(a *[maxStreams]uint64, msg []byte) {
	*a = [maxStreams]uint64{}
	full := len(msg) &^ 31
	m.nh(a, msg[:full], 0)
	if rest := msg[full:]; len(rest) > 0 || len(msg) == 0 {
		clear(m.pad[:])
		copy(m.pad[:], rest)
		m.nh(a, m.pad[:], full/4)
	}
	for s := range m.streams {
		a[s] += 8 * uint64(len(msg))
	}
}

// nh adds to a[s] the NH sum of msg (a multiple of 32 bytes) under the key
// of iteration s, starting at key word keyOff, RFC 4418 section 5.1.
// Message words are little-endian (the RFC's ENDIAN-SWAP), and additions
// wrap at 32 and 64 bits.
func (m *MAC) nh(a *[maxStreams]uint64, msg []byte, keyOff int) {
	for off := 0; off+32 <= len(msg); off += 32 {
		blk := msg[off : off+32]
		m0 := binary.LittleEndian.Uint32(blk[0:])
		m1 := binary.LittleEndian.Uint32(blk[4:])
		m2 := binary.LittleEndian.Uint32(blk[8:])
		m3 := binary.LittleEndian.Uint32(blk[12:])
		m4 := binary.LittleEndian.Uint32(blk[16:])
		m5 := binary.LittleEndian.Uint32(blk[20:])
		m6 := binary.LittleEndian.Uint32(blk[24:])
		m7 := binary.LittleEndian.Uint32(blk[28:])
		w := keyOff + off/4
		for s := range m.streams {
			k := m.nhKey[w+4*s : w+4*s+8]
			a[s] += uint64(m0+k[0])*uint64(m4+k[4]) +
				uint64(m1+k[1])*uint64(m5+k[5]) +
				uint64(m2+k[2])*uint64(m6+k[6]) +
				uint64(m3+k[3])*uint64(m7+k[7])
		}
	}
}

// p36 is the L3 prime 2^36 - 5.
const p36 = 1<<36 - 5

// l3 is L3-HASH of the 16-byte string hi || lo for iteration s.
func (m *MAC) l3(s int, hi, lo uint64) uint32 {
	k := &m.l3Key1[s]
	// Eight 16-bit words times keys below 2^36 sum to less than 2^55.
	y := (hi>>48)*k[0] + (hi>>32&0xffff)*k[1] + (hi>>16&0xffff)*k[2] + (hi&0xffff)*k[3] +
		(lo>>48)*k[4] + (lo>>32&0xffff)*k[5] + (lo>>16&0xffff)*k[6] + (lo&0xffff)*k[7]
	y %= p36
	return uint32(y) ^ m.l3Key2[s]
}
