package sntrup761

import (
	"crypto/aes"
	"crypto/cipher"
)

// katDRBG is the AES-256 CTR_DRBG (no derivation function) of the NIST
// post-quantum call's rng.c, which every submission's KAT generator uses
// as randombytes. Each Read is one randombytes call: it draws whole
// counter blocks and then updates the state, so the split of reads
// matters, not just the bytes.
type katDRBG struct {
	key [32]byte
	v   [16]byte
}

func newKATDRBG(entropy [48]byte) *katDRBG {
	d := &katDRBG{}
	d.update(&entropy)
	return d
}

func (d *katDRBG) block() cipher.Block {
	b, err := aes.NewCipher(d.key[:])
	if err != nil {
		panic(err)
	}
	return b
}

// incrementV adds one to V as a big-endian counter.
func (d *katDRBG) incrementV() {
	for j := 15; j >= 0; j-- {
		d.v[j]++
		if d.v[j] != 0 {
			return
		}
	}
}

func (d *katDRBG) update(provided *[48]byte) {
	b := d.block()
	var temp [48]byte
	for i := range 3 {
		d.incrementV()
		b.Encrypt(temp[16*i:], d.v[:])
	}
	if provided != nil {
		for i := range temp {
			temp[i] ^= provided[i]
		}
	}
	copy(d.key[:], temp[:32])
	copy(d.v[:], temp[32:])
}

func (d *katDRBG) Read(out []byte) (int, error) {
	b := d.block()
	var blk [16]byte
	for n := 0; n < len(out); n += 16 {
		d.incrementV()
		b.Encrypt(blk[:], d.v[:])
		copy(out[n:], blk[:])
	}
	d.update(nil)
	return len(out), nil
}
