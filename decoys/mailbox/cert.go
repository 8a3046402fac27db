package mailbox

import (
	"crypto/hkdf"
	"crypto/sha1" //nolint:gosec // G505: the subject key identifier is defined as a SHA-1 (RFC 5280 4.2.1.2)
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"github.com/decnet/decnet/decoys/seedkey"
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
	key, err := seedkey.RSA(seed, infoCertKey, certKeyBits)
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
