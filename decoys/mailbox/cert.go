package mailbox

import (
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // G505: the subject key identifier is defined as a SHA-1 (RFC 5280 4.2.1.2)
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

// certKeyBits is the RSA size of the certificate Debian's dovecot-core
// postinst creates with openssl req.
const certKeyBits = 2048

// certLifetime is the validity of that certificate (openssl req -days 3650).
const certLifetime = 3650 * 24 * time.Hour

const (
	infoCertKey    = "decnet decoys/mailbox tls key"
	infoCertSerial = "decnet decoys/mailbox tls serial"
)

// minSeedBytes is the shortest seed Certificate accepts: the private key
// derives from it alone.
const minSeedBytes = 16

// Certificate returns the decky's self-signed certificate for host, shaped
// as the one Debian's dovecot-core installs: RSA 2048, a 20-byte random
// serial, CN and one DNS name equal to host, CA:FALSE, a subject key
// identifier, ten years from the install time. The same seed gives the
// same key and certificate, so the POP3 and IMAP decoys of a decky show
// one certificate as one Dovecot does. Deriving the key takes about 0.1 s.
func Certificate(seed []byte, host string) (tls.Certificate, error) {
	if len(seed) < minSeedBytes {
		return tls.Certificate{}, fmt.Errorf("derive certificate: seed has %d bytes, need at least %d", len(seed), minSeedBytes)
	}
	key, err := deriveRSAKey(seed, certKeyBits)
	if err != nil {
		return tls.Certificate{}, err
	}

	serialBytes, err := hkdf.Key(sha256.New, seed, nil, infoCertSerial, 20)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("derive serial: %w", err)
	}
	// A positive serial of at most 20 bytes, as openssl writes.
	serialBytes[0] &= 0x7f
	serial := new(big.Int).SetBytes(serialBytes)

	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("marshal public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(pub, &spki); err != nil {
		return tls.Certificate{}, fmt.Errorf("parse public key: %w", err)
	}
	ski := sha1.Sum(spki.Key.Bytes) //nolint:gosec // G401: RFC 5280 method 1, not a security use

	notBefore := installTime(seed).Add(-time.Duration(seed[0]) * time.Minute).Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host},
		Issuer:                pkix.Name{CommonName: host},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(certLifetime),
		DNSNames:              []string{host},
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          ski[:],
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	// PKCS #1 v1.5 signatures are deterministic, so the random source
	// is never read for them; a fixed reader keeps that explicit.
	der, err := x509.CreateCertificate(zeroReader{}, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// deriveRSAKey builds an RSA key with e = 65537 from two primes found by
// an incremental search over a ChaCha8 stream keyed from the seed.
// rsa.GenerateKey ignores its reader since Go 1.24, so it cannot give the
// same key twice.
func deriveRSAKey(seed []byte, bits int) (*rsa.PrivateKey, error) {
	streamKey, err := hkdf.Key(sha256.New, seed, nil, infoCertKey, 32)
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
