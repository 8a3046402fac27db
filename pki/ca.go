// Package pki holds DECNET's certificate authority, the TLS configurations
// built on it, and bootstrap tokens. Agents are identified by the UUID in
// their certificate's URI SAN, never by an address or a name.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Backdate is how far before its issue time a leaf's NotBefore lies, so a
// peer whose clock is a few minutes behind accepts it. A holder computes
// the issue time as NotBefore plus Backdate, for example to schedule a
// renewal.
const Backdate = clockSkew

// File names of the CA inside its directory.
const (
	CACertificateFile = "ca.crt"
	CAKeyFile         = "ca.key"
)

const (
	// rootLifetime is long because replacing a root means enrolling every
	// agent again.
	rootLifetime = 10 * 365 * 24 * time.Hour

	// clockSkew backdates NotBefore so that a peer whose clock is a few
	// minutes behind accepts a certificate issued just now.
	clockSkew = 5 * time.Minute

	// rootCommonName is the subject of a newly created root.
	rootCommonName = "DECNET Root CA"
)

// CA issues server certificates and agent certificates. The root signs
// leaves directly for now. Callers must not rely on that, because chains
// may gain an intermediate.
type CA struct {
	root        *x509.Certificate
	key         crypto.Signer
	fingerprint [32]byte
	now         func() time.Time
}

// LoadOrCreateCA loads ca.crt and ca.key from dir, or creates a self-signed
// root there when neither file exists. dir is created with mode 0700, the
// key is written with mode 0600 and the certificate with mode 0644. now is
// the clock for validity periods, and nil means time.Now.
func LoadOrCreateCA(dir string, now func() time.Time) (*CA, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create CA directory: %w", err)
	}

	certPath := filepath.Join(dir, CACertificateFile)
	keyPath := filepath.Join(dir, CAKeyFile)
	certExists, err := fileExists(certPath)
	if err != nil {
		return nil, err
	}
	keyExists, err := fileExists(keyPath)
	if err != nil {
		return nil, err
	}

	switch {
	case certExists && keyExists:
		return loadCA(certPath, keyPath, now)
	case !certExists && !keyExists:
		return createCA(certPath, keyPath, now)
	case certExists:
		return nil, fmt.Errorf("load CA: %s exists but %s is missing; restore the key or move %s away to create a new CA", certPath, keyPath, certPath)
	default:
		return nil, fmt.Errorf("load CA: %s exists but %s is missing; restore the certificate or move %s away to create a new CA", keyPath, certPath, keyPath)
	}
}

func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
}

func createCA(certPath, keyPath string, now func() time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}

	start := now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: rootCommonName, Organization: []string{"DECNET"}},
		NotBefore:             start.Add(-clockSkew),
		NotAfter:              start.Add(rootLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// One level below the root leaves room for an online
		// intermediate without a new root.
		MaxPathLen: 1,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new CA certificate: %w", err)
	}

	keyPEM, err := EncodePrivateKeyPEM(key)
	if err != nil {
		return nil, err
	}
	// The key goes first: a certificate without its key is useless, and
	// LoadOrCreateCA reports either half missing.
	// NOTE: two processes creating the CA in the same directory at once
	// can each keep a different key in memory; start one first.
	if err := WriteFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(certPath, EncodeCertificatesPEM(der), 0o644); err != nil {
		return nil, err
	}
	return newCA(root, key, now), nil
}

func loadCA(certPath, keyPath string, now func() time.Time) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	certs, err := ParseCertificatesPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("load CA certificate %s: %w", certPath, err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("load CA certificate %s: found %d certificates, want exactly one", certPath, len(certs))
	}
	root := certs[0]

	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("read CA key: %w", err)
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load CA key %s: %w", keyPath, err)
	}

	if err := checkRoot(root, key, now()); err != nil {
		return nil, fmt.Errorf("load CA from %s and %s: %w", certPath, keyPath, err)
	}
	return newCA(root, key, now), nil
}

// checkRoot verifies that root is a usable, self-signed CA certificate for
// key.
func checkRoot(root *x509.Certificate, key crypto.Signer, now time.Time) error {
	pub, ok := root.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return errors.New("the key does not match the certificate's public key")
	}
	if !root.BasicConstraintsValid || !root.IsCA {
		return errors.New("the certificate is not a CA certificate")
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		return fmt.Errorf("the certificate is not self-signed: %w", err)
	}
	if now.After(root.NotAfter) {
		return fmt.Errorf("the root certificate expired at %s", root.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

func newCA(root *x509.Certificate, key crypto.Signer, now func() time.Time) *CA {
	return &CA{
		root:        root,
		key:         key,
		fingerprint: sha256.Sum256(root.Raw),
		now:         now,
	}
}

// Root returns the root certificate. Callers must not modify it.
func (ca *CA) Root() *x509.Certificate {
	return ca.root
}

// RootFingerprint returns the SHA-256 of the root certificate's DER
// encoding, the value that bootstrap tokens carry.
func (ca *CA) RootFingerprint() [32]byte {
	return ca.fingerprint
}

// RootPool returns a new pool that contains only the root.
func (ca *CA) RootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.root)
	return pool
}

// IssueServerCertificate creates a key pair and a server certificate for
// the given DNS names and IP addresses. The returned chain ends with the
// root, so that an agent on first contact can find the root by its
// fingerprint in what the server sends.
func (ca *CA) IssueServerCertificate(names []string, ips []net.IP, lifetime time.Duration) (tls.Certificate, error) {
	if len(names) == 0 && len(ips) == 0 {
		return tls.Certificate{}, errors.New("issue server certificate: no DNS name or IP address given")
	}
	if lifetime <= 0 {
		return tls.Certificate{}, fmt.Errorf("issue server certificate: lifetime %s is not positive", lifetime)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}

	commonName := ""
	if len(names) > 0 {
		commonName = names[0]
	} else {
		commonName = ips[0].String()
	}
	notBefore, notAfter := ca.validity(lifetime)
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		DNSNames:     names,
		IPAddresses:  ips,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.root, key.Public(), ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse new server certificate: %w", err)
	}

	return tls.Certificate{
		Certificate: [][]byte{der, ca.root.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

// SignAgentCSR issues a client certificate for the agent from a PKCS #10
// request. Only the request's public key is used: the subject is the agent
// name, the only SAN is the agent URI, and any names in the request are
// ignored. agentID must be a UUID in canonical form.
func (ca *CA) SignAgentCSR(csrDER []byte, agentID string, agentName string, lifetime time.Duration) (*x509.Certificate, error) {
	csr, err := ParseAgentCSR(csrDER)
	if err != nil {
		return nil, err
	}
	if err := checkAgentID(agentID); err != nil {
		return nil, fmt.Errorf("sign agent certificate: %w", err)
	}
	if err := CheckAgentName(agentName); err != nil {
		return nil, fmt.Errorf("sign agent certificate: %w", err)
	}
	if lifetime <= 0 {
		return nil, fmt.Errorf("sign agent certificate: lifetime %s is not positive", lifetime)
	}

	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notBefore, notAfter := ca.validity(lifetime)
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: agentName},
		URIs:         []*url.URL{AgentURI(agentID)},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.root, csr.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("create agent certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new agent certificate: %w", err)
	}
	return cert, nil
}

// validity returns the validity period of a new leaf: backdated for clock
// skew, and never past the root's expiry.
func (ca *CA) validity(lifetime time.Duration) (time.Time, time.Time) {
	start := ca.now()
	notAfter := start.Add(lifetime)
	if notAfter.After(ca.root.NotAfter) {
		notAfter = ca.root.NotAfter
	}
	return start.Add(-clockSkew), notAfter
}

// randomSerial returns a random 128-bit serial number, which makes serials
// unpredictable and collisions negligible.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	serial, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	return serial, nil
}
