package smtp

import (
	"crypto/sha1" //nolint:gosec // G505: the subject key identifier method of RFC 5280 4.2.1.2, not a signature
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/decnet/decnet/decoys/seedkey"
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
	key, err := seedkey.RSA(seed, labelTLSKey, snakeoilKeyBits)
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
