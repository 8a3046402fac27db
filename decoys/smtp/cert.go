package smtp

import (
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // G505: the subject key identifier method of RFC 5280 4.2.1.2, not a signature
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"time"
)

// snakeoilKeyBits is the RSA size of the certificate make-ssl-cert creates
// on Debian 12 (ssl-cert 1.1.2, /usr/share/ssl-cert/ssleay.cnf).
const snakeoilKeyBits = 2048

// snakeoilValidity is openssl req -days 3650, as make-ssl-cert calls it.
const snakeoilValidity = 3650 * 24 * time.Hour

// The certificate's creation date, the install date of the decky's host,
// falls in the installWindow after Debian 12's release (10 June 2023). It
// is fixed per seed, not relative to the clock, so that it survives
// restarts.
var debian12Release = time.Date(2023, time.June, 10, 0, 0, 0, 0, time.UTC)

const installWindow = 900 * 24 * time.Hour

var (
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
)

// snakeoilCertificate builds the certificate Debian's ssl-cert package
// makes at install time: RSA 2048, SHA-256 signature, a random positive
// 20-byte serial, subject and issuer "CN=<host>", ten years of validity,
// and the three extensions of ssleay.cnf in openssl's order
// (basicConstraints CA:FALSE, subjectAltName DNS:<host>, subject key
// identifier). Every value derives from the seed, so a decky presents the
// same certificate across restarts and no two deckies share one.
func snakeoilCertificate(seed []byte, host string) (tls.Certificate, error) {
	key, err := deriveRSAKey(seed, snakeoilKeyBits)
	if err != nil {
		return tls.Certificate{}, err
	}

	serial := derive(seed, labelTLSCert+" serial")[:20]
	serial[0] &= 0x7f // openssl keeps serials positive
	if serial[0] == 0 {
		serial[0] = 0x01
	}
	offset := time.Duration(deriveUint(seed, labelTLSCert, 0, uint64(installWindow/time.Second))) * time.Second
	notBefore := debian12Release.Add(offset)

	pubDER, err := asn1.Marshal(struct {
		N *big.Int
		E int
	}{key.N, key.E})
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("encode public key: %w", err)
	}
	ski := sha1.Sum(pubDER) //nolint:gosec // G401: see import
	basic, err := asn1.Marshal(struct{}{})
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("encode basic constraints: %w", err)
	}
	san, err := asn1.Marshal([]asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte(host)}})
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("encode subject alternative name: %w", err)
	}
	skiDER, err := asn1.Marshal(ski[:])
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("encode key identifier: %w", err)
	}

	name := pkix.Name{CommonName: host}
	template := &x509.Certificate{
		SerialNumber:       new(big.Int).SetBytes(serial),
		Subject:            name,
		Issuer:             name,
		NotBefore:          notBefore,
		NotAfter:           notBefore.Add(snakeoilValidity),
		SignatureAlgorithm: x509.SHA256WithRSA,
		// Set through ExtraExtensions so that crypto/x509 adds none of
		// its own and keeps openssl's order.
		ExtraExtensions: []pkix.Extension{
			{Id: oidBasicConstraints, Value: basic},
			{Id: oidSubjectAltName, Value: san},
			{Id: oidSubjectKeyID, Value: skiDER},
		},
	}
	// The signature is deterministic (PKCS #1 v1.5), so the random source
	// only satisfies the API.
	der, err := x509.CreateCertificate(rand.NewChaCha8([32]byte(derive(seed, labelTLSCert+" rng"))), template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// deriveRSAKey builds an RSA key with e = 65537 from two primes found by
// an incremental search over a ChaCha8 stream keyed from the seed.
// rsa.GenerateKey cannot be used: since Go 1.24 it ignores its random
// reader, so its output cannot be reproduced.
func deriveRSAKey(seed []byte, bits int) (*rsa.PrivateKey, error) {
	streamKey, err := hkdf.Key(sha256.New, seed, nil, labelTLSKey, 32)
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
}

// searchWindow is the count of odd numbers after a random start that
// searchPrime sieves before it draws a new start. Prime gaps near 2^1024
// average about 710 (ln 2^1024), so the window rarely runs dry.
const searchWindow = 4096

// searchPrime returns the first probable prime of exactly bits bits at or
// after a random odd start, with gcd(e, p-1) = 1. The top two bits are
// set so that the product of two such primes has twice as many bits.
func searchPrime(stream io.Reader, bits int, e uint64, smallPrimes []uint64) (*big.Int, error) {
	if bits < 16 {
		return nil, errors.New("search prime: too few bits")
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

// primesBelow returns the odd primes below limit.
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
