// Package seedkey derives keys from a decky's seed, so a decky keeps its
// keys across restarts and two deckies never share one.
package seedkey

import (
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
)

// RSA builds an RSA key of bits bits with e = 65537 from two primes found by
// an incremental search over a ChaCha8 stream keyed from the seed and
// info (an HKDF-SHA256 info label, so each use of a seed gets its own key).
// rsa.GenerateKey ignores its reader since Go 1.24, so it cannot give the
// same key twice.
func RSA(seed []byte, info string, bits int) (*rsa.PrivateKey, error) {
	if bits < 32 {
		return nil, errors.New("derive rsa key: too few bits")
	}
	streamKey, err := hkdf.Key(sha256.New, seed, nil, info, 32)
	if err != nil {
		return nil, fmt.Errorf("derive rsa stream key: %w", err)
	}
	stream := rand.NewChaCha8([32]byte(streamKey))

	const e = 65537
	smallPrimes := primesBelow(1 << 12)
	for tries := 0; tries < 64; tries++ {
		p, err := searchPrime(stream, bits/2, e, smallPrimes)
		if err != nil {
			return nil, err
		}
		q, err := searchPrime(stream, bits-bits/2, e, smallPrimes)
		if err != nil {
			return nil, err
		}
		if p.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != bits {
			continue
		}
		one := big.NewInt(1)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(big.NewInt(e), phi)
		if d == nil {
			continue
		}
		key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: e}, D: d, Primes: []*big.Int{p, q}}
		key.Precompute()
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("validate derived rsa key: %w", err)
		}
		return key, nil
	}
	return nil, errors.New("derive rsa key: no key in 64 tries")
}

// searchWindow is how many odd numbers after a random start searchPrime
// sieves before it draws a new start; prime gaps near 2^1024 average
// about 710.
const searchWindow = 4096

// searchPrime returns the first probable prime of exactly bits bits at or
// after a random odd start with its top two bits set, such that e does
// not divide p-1.
func searchPrime(stream io.Reader, bits int, e uint64, smallPrimes []uint64) (*big.Int, error) {
	buf := make([]byte, (bits+7)/8)
	excess := uint(len(buf)*8 - bits)
	for {
		if _, err := io.ReadFull(stream, buf); err != nil {
			return nil, fmt.Errorf("search prime: read stream: %w", err)
		}
		buf[0] &= 0xff >> excess
		buf[0] |= 0xc0 >> excess
		buf[len(buf)-1] |= 1
		start := new(big.Int).SetBytes(buf)

		residues := make([]uint64, len(smallPrimes))
		mod := new(big.Int)
		for i, sp := range smallPrimes {
			residues[i] = mod.Mod(start, new(big.Int).SetUint64(sp)).Uint64()
		}
		startModE := mod.Mod(start, new(big.Int).SetUint64(e)).Uint64()

	candidates:
		for delta := uint64(0); delta < 2*searchWindow; delta += 2 {
			for i, sp := range smallPrimes {
				if (residues[i]+delta)%sp == 0 {
					continue candidates
				}
			}
			if (startModE+delta)%e == 1 {
				continue
			}
			candidate := new(big.Int).Add(start, new(big.Int).SetUint64(delta))
			if candidate.BitLen() != bits {
				break
			}
			if candidate.ProbablyPrime(20) {
				return candidate, nil
			}
		}
	}
}

func primesBelow(limit int) []uint64 {
	composite := make([]bool, limit)
	var primes []uint64
	for i := 3; i < limit; i += 2 {
		if composite[i] {
			continue
		}
		primes = append(primes, uint64(i))
		for j := i * i; j < limit; j += 2 * i {
			composite[j] = true
		}
	}
	return primes
}
