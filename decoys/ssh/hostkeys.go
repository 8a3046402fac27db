package ssh

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"

	"golang.org/x/crypto/ssh"
)

// minSeedBytes is the shortest decky seed accepted. Host keys derive from
// the seed alone, so a short seed would make them guessable.
const minSeedBytes = 16

// rsaHostKeyBits matches the RSA host key "ssh-keygen -A" creates on
// Debian 12 and Ubuntu 24.04 (3072 bits, the default since OpenSSH 8.4).
const rsaHostKeyBits = 3072

// HKDF info labels, one per derived value, so that no two values share
// key material.
const (
	infoEd25519 = "decnet decoys/ssh host key ed25519"
	infoECDSA   = "decnet decoys/ssh host key ecdsa-p256"
	infoRSA     = "decnet decoys/ssh host key rsa"
)

// hostKeys holds the decky's host keys, one per key type.
type hostKeys struct {
	ed25519 ssh.Signer
	ecdsa   ssh.Signer
	rsa     ssh.Signer
}

// deriveHostKeys derives the Ed25519, ECDSA P-256 and RSA host keys from
// the decky seed. The same seed gives the same keys on every run and Go
// version, because every step is deterministic (HKDF-SHA256, ChaCha8 and
// big.Int.ProbablyPrime, whose Miller-Rabin bases come from the candidate
// itself).
func deriveHostKeys(seed []byte) (*hostKeys, error) {
	if len(seed) < minSeedBytes {
		return nil, fmt.Errorf("derive host keys: seed has %d bytes, need at least %d", len(seed), minSeedBytes)
	}

	edSeed, err := hkdf.Key(sha256.New, seed, nil, infoEd25519, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("derive ed25519 seed: %w", err)
	}
	edSigner, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(edSeed))
	if err != nil {
		return nil, fmt.Errorf("create ed25519 signer: %w", err)
	}

	ecKey, err := deriveECDSAKey(seed)
	if err != nil {
		return nil, err
	}
	ecSigner, err := ssh.NewSignerFromKey(ecKey)
	if err != nil {
		return nil, fmt.Errorf("create ecdsa signer: %w", err)
	}

	rsaKey, err := deriveRSAKey(seed, rsaHostKeyBits)
	if err != nil {
		return nil, err
	}
	rsaSigner, err := ssh.NewSignerFromKey(rsaKey)
	if err != nil {
		return nil, fmt.Errorf("create rsa signer: %w", err)
	}
	algorithmSigner, ok := rsaSigner.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("create rsa signer: signer does not support SHA-2 signatures")
	}
	// OpenSSH 8.8 and later no longer sign with SHA-1 ("ssh-rsa").
	rsaSHA2, err := ssh.NewSignerWithAlgorithms(algorithmSigner, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256})
	if err != nil {
		return nil, fmt.Errorf("restrict rsa signer: %w", err)
	}

	return &hostKeys{ed25519: edSigner, ecdsa: ecSigner, rsa: rsaSHA2}, nil
}

// deriveECDSAKey derives a P-256 scalar from the seed. A derived value
// outside [1, n-1] is rejected by ParseRawPrivateKey and the next counter
// is tried; that happens with probability about 2^-32 per try.
func deriveECDSAKey(seed []byte) (*ecdsa.PrivateKey, error) {
	for counter := 0; counter < 16; counter++ {
		scalar, err := hkdf.Key(sha256.New, seed, nil, fmt.Sprintf("%s #%d", infoECDSA, counter), 32)
		if err != nil {
			return nil, fmt.Errorf("derive ecdsa scalar: %w", err)
		}
		key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
		if err == nil {
			return key, nil
		}
	}
	return nil, errors.New("derive ecdsa scalar: no valid scalar in 16 tries")
}

// deriveRSAKey builds an RSA key with e = 65537 from two primes found by
// an incremental search over a ChaCha8 stream keyed from the seed.
// rsa.GenerateKey cannot be used: since Go 1.24 it ignores its random
// reader, so its output cannot be reproduced.
func deriveRSAKey(seed []byte, bits int) (*rsa.PrivateKey, error) {
	streamKey, err := hkdf.Key(sha256.New, seed, nil, infoRSA, 32)
	if err != nil {
		return nil, fmt.Errorf("derive rsa stream key: %w", err)
	}
	stream := rand.NewChaCha8([32]byte(streamKey))

	const e = 65537
	smallPrimes := primesBelow(1 << 14)
	for {
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
		pMinus1 := new(big.Int).Sub(p, one)
		qMinus1 := new(big.Int).Sub(q, one)
		phi := new(big.Int).Mul(pMinus1, qMinus1)
		d := new(big.Int).ModInverse(big.NewInt(e), phi)
		if d == nil {
			continue
		}

		key := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: n, E: e},
			D:         d,
			Primes:    []*big.Int{p, q},
		}
		key.Precompute()
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("validate derived rsa key: %w", err)
		}
		return key, nil
	}
}

// searchWindow is how many odd numbers after a random start searchPrime
// sieves before it draws a new start. Prime gaps near 2^1536 average about
// 1065, so a window of 4096 odd numbers (8192 integers) rarely runs dry.
const searchWindow = 4096

// searchPrime returns the first probable prime p of exactly bits bits at
// or after a random odd start, with gcd(e, p-1) = 1 for the prime e. The
// top two bits are set so that the product of two such primes has exactly
// twice as many bits. Candidates divisible by a small prime are skipped
// without a Miller-Rabin test.
func searchPrime(stream io.Reader, bits int, e uint64, smallPrimes []uint64) (*big.Int, error) {
	if bits < 16 {
		return nil, fmt.Errorf("search prime: %d bits is too small", bits)
	}
	buf := make([]byte, (bits+7)/8)
	excess := uint(len(buf)*8 - bits)

	for {
		if _, err := io.ReadFull(stream, buf); err != nil {
			return nil, fmt.Errorf("search prime: read stream: %w", err)
		}
		buf[0] &= 0xff >> excess
		buf[0] |= 0xc0 >> excess
		if excess == 7 {
			buf[1] |= 0x80
		}
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
			// p-1 must not be a multiple of e, or e has no inverse.
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

// primesBelow returns the odd primes below limit (sieve of Eratosthenes).
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
