// Package pki holds DECNET's certificate authority, the TLS configurations
// built on it, and bootstrap tokens. Agents are identified by the UUID in
// their certificate's URI SAN, never by an address or a name.
//
// The CA has two levels: a root, whose fingerprint bootstrap tokens pin
// and whose key may be kept offline, and an intermediate that signs every
// leaf. Certificates are built on go.step.sm/crypto, and docs/pki.md
// explains that choice.
package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.step.sm/crypto/keyutil"
	"go.step.sm/crypto/x509util"
)

// Backdate is how far before its issue time a leaf's NotBefore lies, so a
// peer whose clock is a few minutes behind accepts it. A holder computes
// the issue time as NotBefore plus Backdate, for example to schedule a
// renewal.
const Backdate = clockSkew

// File names of the CA inside its directory. The root keeps the names of
// the single-level CA that came before, so existing data directories,
// agents and scripts that read ca.crt keep working.
const (
	// CACertificateFile is the root certificate.
	CACertificateFile = "ca.crt"
	// CAKeyFile is the root key. The server runs without it; see
	// ExportRootKey.
	CAKeyFile = "ca.key"
	// IntermediateCertificateFile and IntermediateKeyFile are the
	// intermediate that signs leaves.
	IntermediateCertificateFile = "intermediate.crt"
	IntermediateKeyFile         = "intermediate.key"
	// RetiredIntermediatesFile holds intermediates replaced by
	// RotateIntermediate, each with the time until which certificates it
	// issued are still accepted.
	RetiredIntermediatesFile = "retired-intermediates.crt"
)

const (
	// rootLifetime is long because replacing a root means enrolling every
	// agent again.
	rootLifetime = 10 * 365 * 24 * time.Hour

	// intermediateLifetime bounds the damage of a stolen online key while
	// leaving years between the rotations that need the offline root key.
	intermediateLifetime = 3 * 365 * 24 * time.Hour

	// clockSkew backdates NotBefore so that a peer whose clock is a few
	// minutes behind accepts a certificate issued just now.
	clockSkew = 5 * time.Minute

	// rootCommonName and intermediateCommonName are the subjects of new
	// CA certificates.
	rootCommonName         = "DECNET Root CA"
	intermediateCommonName = "DECNET Intermediate CA"

	// pemHeaderKeepUntil marks how long a retired intermediate stays
	// trusted for client certificates, in RFC 3339.
	pemHeaderKeepUntil = "Keep-Until"
)

// ErrRootKeyOffline is returned by operations that need the root key when
// ca.key is not in the CA directory.
var ErrRootKeyOffline = errors.New("the root key is not in the CA directory")

// CA issues server certificates and agent certificates through its current
// intermediate. A CA does not change after it is loaded: a rotated
// intermediate takes effect when the server loads the CA again.
type CA struct {
	root        *x509.Certificate
	fingerprint [32]byte
	// hasRootKey reports whether ca.key was present; the root key itself
	// is never kept in memory by a running server.
	hasRootKey bool

	issuer    *x509.Certificate
	issuerKey crypto.Signer
	// retired are earlier intermediates whose certificates are still
	// accepted from clients.
	retired []*x509.Certificate

	now func() time.Time
}

// LoadOrCreateCA loads the CA from dir, or creates a root and an
// intermediate there when dir holds no CA. A directory with only a root
// and its key, as written before intermediates existed, gains an
// intermediate. The root key may be absent once the intermediate exists.
// dir is created with mode 0700, keys are written with mode 0600 and
// certificates with mode 0644. now is the clock for validity periods, and
// nil means time.Now.
func LoadOrCreateCA(dir string, now func() time.Time) (*CA, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create CA directory: %w", err)
	}
	rootExists, err := fileExists(filepath.Join(dir, CACertificateFile))
	if err != nil {
		return nil, err
	}
	if !rootExists {
		return createCA(dir, now)
	}
	return loadCA(dir, now)
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

func createCA(dir string, now func() time.Time) (*CA, error) {
	// Any other CA file without a root is left over from something else;
	// refuse rather than issue a second, unrelated CA next to it.
	for _, name := range []string{CAKeyFile, IntermediateCertificateFile, IntermediateKeyFile} {
		exists, err := fileExists(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if exists {
			return nil, fmt.Errorf("load CA: %s exists but %s is missing; restore the root certificate or move %s away to create a new CA",
				filepath.Join(dir, name), filepath.Join(dir, CACertificateFile), filepath.Join(dir, name))
		}
	}

	key, err := keyutil.GenerateDefaultSigner()
	if err != nil {
		return nil, fmt.Errorf("generate root key: %w", err)
	}
	start := now()
	template := &x509.Certificate{
		Subject:               pkix.Name{CommonName: rootCommonName, Organization: []string{"DECNET"}},
		NotBefore:             start.Add(-clockSkew),
		NotAfter:              start.Add(rootLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// Exactly one intermediate below the root.
		MaxPathLen: 1,
	}
	root, err := x509util.CreateCertificate(template, template, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create root certificate: %w", err)
	}

	// The key goes first: a certificate without its key cannot issue an
	// intermediate, and LoadOrCreateCA reports what is missing.
	// NOTE: two processes creating the CA in the same directory at once
	// can each keep a different key in memory; start one first.
	if err := writeKey(filepath.Join(dir, CAKeyFile), key); err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(dir, CACertificateFile), EncodeCertificatesPEM(root.Raw), 0o644); err != nil {
		return nil, err
	}

	ca := &CA{root: root, fingerprint: Fingerprint(root), hasRootKey: true, now: now}
	if ca.issuer, ca.issuerKey, err = issueIntermediate(dir, root, key, now()); err != nil {
		return nil, err
	}
	return ca, nil
}

func loadCA(dir string, now func() time.Time) (*CA, error) {
	rootPath := filepath.Join(dir, CACertificateFile)
	root, err := readOneCertificate(rootPath)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	if err := checkRoot(root, now()); err != nil {
		return nil, fmt.Errorf("load CA from %s: %w", rootPath, err)
	}
	ca := &CA{root: root, fingerprint: Fingerprint(root), now: now}

	rootKey, err := readRootKey(dir, root)
	switch {
	case errors.Is(err, ErrRootKeyOffline):
	case err != nil:
		return nil, fmt.Errorf("load CA: %w", err)
	default:
		ca.hasRootKey = true
	}

	ca.issuer, ca.issuerKey, err = loadIntermediate(dir, root, now())
	if errors.Is(err, fs.ErrNotExist) {
		// A CA from before intermediates existed, or one whose
		// intermediate was deleted: issue one if the root key is here.
		if rootKey == nil {
			return nil, fmt.Errorf("load CA: %s is missing and %w; bring the root key back with decnet ca rotate-intermediate --root-key FILE",
				filepath.Join(dir, IntermediateCertificateFile), ErrRootKeyOffline)
		}
		ca.issuer, ca.issuerKey, err = issueIntermediate(dir, root, rootKey, now())
	}
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}

	if ca.retired, err = loadRetired(dir, root, now()); err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	return ca, nil
}

// checkRoot verifies that root is a usable, self-signed CA certificate.
func checkRoot(root *x509.Certificate, now time.Time) error {
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

// checkKeyMatches reports whether key is the private half of cert's key.
func checkKeyMatches(cert *x509.Certificate, key crypto.Signer) error {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return errors.New("the key does not match the certificate's public key")
	}
	return nil
}

// readRootKey reads ca.key from dir, or returns ErrRootKeyOffline when it
// is not there.
func readRootKey(dir string, root *x509.Certificate) (crypto.Signer, error) {
	return ReadRootKey(filepath.Join(dir, CAKeyFile), root)
}

// ReadRootKey reads the root key at path and checks it belongs to root. It
// returns an error wrapping ErrRootKeyOffline when the file does not exist.
func ReadRootKey(path string, root *x509.Certificate) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read root key %s: %w", path, ErrRootKeyOffline)
	}
	if err != nil {
		return nil, fmt.Errorf("read root key: %w", err)
	}
	key, err := parsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("load root key %s: %w", path, err)
	}
	if err := checkKeyMatches(root, key); err != nil {
		return nil, fmt.Errorf("load root key %s: %w", path, err)
	}
	return key, nil
}

func readOneCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	certs, err := ParseCertificatesPEM(data)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s: %w", path, err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("load certificate %s: found %d certificates, want exactly one", path, len(certs))
	}
	return certs[0], nil
}

func writeKey(path string, key crypto.Signer) error {
	keyPEM, err := EncodePrivateKeyPEM(key)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, keyPEM, 0o600)
}

// Root returns the root certificate. Callers must not modify it.
func (ca *CA) Root() *x509.Certificate {
	return ca.root
}

// Intermediate returns the intermediate that signs new certificates.
// Callers must not modify it.
func (ca *CA) Intermediate() *x509.Certificate {
	return ca.issuer
}

// IssuerChain returns the certificates between a leaf this CA issues and
// the root, nearest first, without the root. Append it to a new leaf for a
// peer that trusts only the root.
func (ca *CA) IssuerChain() []*x509.Certificate {
	return []*x509.Certificate{ca.issuer}
}

// HasRootKey reports whether the root key was in the CA directory when the
// CA was loaded.
func (ca *CA) HasRootKey() bool {
	return ca.hasRootKey
}

// RootFingerprint returns the SHA-256 of the root certificate's DER
// encoding, the value that bootstrap tokens carry.
func (ca *CA) RootFingerprint() [32]byte {
	return ca.fingerprint
}

// RootPool returns a new pool that verifies certificates this CA issued,
// with or without their intermediate: the root, the current intermediate
// and the retired intermediates still trusted. Use it for ClientCAs, so an
// agent that presents only its leaf, or a leaf from an intermediate
// rotated away, is still accepted. A peer that dials the server can use it
// as well; trusting the root alone also works, because the server sends
// its chain.
func (ca *CA) RootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.root)
	pool.AddCert(ca.issuer)
	for _, c := range ca.retired {
		pool.AddCert(c)
	}
	return pool
}

// IssueServerCertificate creates a key pair and a server certificate for
// the given DNS names and IP addresses. The returned chain is leaf,
// intermediate, root: an agent on first contact finds the root by its
// fingerprint in what the server sends, and one that trusts only the root
// builds the path through the intermediate.
func (ca *CA) IssueServerCertificate(names []string, ips []net.IP, lifetime time.Duration) (tls.Certificate, error) {
	if len(names) == 0 && len(ips) == 0 {
		return tls.Certificate{}, errors.New("issue server certificate: no DNS name or IP address given")
	}
	if lifetime <= 0 {
		return tls.Certificate{}, fmt.Errorf("issue server certificate: lifetime %s is not positive", lifetime)
	}

	key, err := keyutil.GenerateDefaultSigner()
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate server key: %w", err)
	}
	commonName := ""
	if len(names) > 0 {
		commonName = names[0]
	} else {
		commonName = ips[0].String()
	}
	notBefore, notAfter := ca.validity(lifetime)
	template := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		DNSNames:    names,
		IPAddresses: ips,
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leaf, err := x509util.CreateCertificate(template, ca.issuer, key.Public(), ca.issuerKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create server certificate: %w", err)
	}

	return tls.Certificate{
		Certificate: [][]byte{leaf.Raw, ca.issuer.Raw, ca.root.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

// SignAgentCSR issues a client certificate for the agent from a PKCS #10
// request, signed by the intermediate; send IssuerChain with it. Only the
// request's public key is used: the subject is the agent name, the only
// SAN is the agent URI, and any names in the request are ignored. agentID
// must be a UUID in canonical form.
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

	notBefore, notAfter := ca.validity(lifetime)
	template := &x509.Certificate{
		Subject:     pkix.Name{CommonName: agentName},
		URIs:        []*url.URL{AgentURI(agentID)},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	cert, err := x509util.CreateCertificate(template, ca.issuer, csr.PublicKey, ca.issuerKey)
	if err != nil {
		return nil, fmt.Errorf("create agent certificate: %w", err)
	}
	return cert, nil
}

// validity returns the validity period of a new leaf: backdated for clock
// skew, and never past the intermediate's expiry.
func (ca *CA) validity(lifetime time.Duration) (time.Time, time.Time) {
	start := ca.now()
	notAfter := start.Add(lifetime)
	if notAfter.After(ca.issuer.NotAfter) {
		notAfter = ca.issuer.NotAfter
	}
	return start.Add(-clockSkew), notAfter
}
