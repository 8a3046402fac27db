package enroll

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/decnet/decnet/pki"
)

// Files of the agent identity inside the data directory.
const (
	KeyFile         = "agent.key"
	CertificateFile = "agent.crt"
	CAFile          = "ca.crt"
	IdentityFile    = "agent.json"
)

// ErrNotEnrolled is returned by LoadIdentity when the data directory holds
// no complete identity.
var ErrNotEnrolled = errors.New("agent is not enrolled")

// Identity is the agent's enrolled identity: its certificate and key, the
// CA root, and the addresses of the control plane.
type Identity struct {
	AgentID string
	// Name is a label. AgentID, not Name, identifies the agent.
	Name      string
	ServerURL string
	// BridgeAddresses are host:port (UDP) addresses, in order of
	// preference.
	BridgeAddresses []string
	// Certificate holds the agent certificate chain (without the root),
	// the private key and the parsed Leaf.
	Certificate tls.Certificate
	Root        *x509.Certificate
	// Roots contains only Root.
	Roots *x509.CertPool
}

// identityJSON is the JSON content of agent.json.
type identityJSON struct {
	AgentID         string   `json:"agent_id"`
	AgentName       string   `json:"agent_name"`
	ServerURL       string   `json:"server_url"`
	BridgeAddresses []string `json:"bridge_addresses"`
}

// LoadIdentity reads the identity that Enroll wrote into dataDir. It checks
// that the files belong together (key and certificate match, the chain
// leads to the root, the certificate names the agent in agent.json) but not
// that the certificate is still valid: the TLS handshake checks the time.
func LoadIdentity(dataDir string) (*Identity, error) {
	data, err := os.ReadFile(filepath.Join(dataDir, IdentityFile))
	if err != nil {
		return nil, missingOr(dataDir, IdentityFile, err)
	}
	var file identityJSON
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dataDir, IdentityFile), err)
	}

	keyPEM, err := os.ReadFile(filepath.Join(dataDir, KeyFile))
	if err != nil {
		return nil, missingOr(dataDir, KeyFile, err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dataDir, CertificateFile))
	if err != nil {
		return nil, missingOr(dataDir, CertificateFile, err)
	}
	rootPEM, err := os.ReadFile(filepath.Join(dataDir, CAFile))
	if err != nil {
		return nil, missingOr(dataDir, CAFile, err)
	}

	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load agent certificate and key from %s: %w", dataDir, err)
	}
	roots, err := pki.ParseCertificatesPEM(rootPEM)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", filepath.Join(dataDir, CAFile), err)
	}
	if len(roots) != 1 {
		return nil, fmt.Errorf("load %s: found %d certificates, want exactly one", filepath.Join(dataDir, CAFile), len(roots))
	}
	root := roots[0]

	chain := make([]*x509.Certificate, 0, len(cert.Certificate))
	for i, der := range cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("parse certificate %d of %s: %w", i, filepath.Join(dataDir, CertificateFile), err)
		}
		chain = append(chain, c)
	}
	// Checking at the leaf's NotBefore verifies that the chain fits
	// together without failing on an expired certificate.
	if err := verifyChain(chain, root, chain[0].NotBefore); err != nil {
		return nil, fmt.Errorf("load identity from %s: %w", dataDir, err)
	}
	id, err := pki.AgentIDFromCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("load identity from %s: %w", dataDir, err)
	}
	if id != file.AgentID {
		return nil, fmt.Errorf("load identity from %s: certificate names agent %s but %s names %s", dataDir, id, IdentityFile, file.AgentID)
	}
	cert.Leaf = chain[0]

	pool := x509.NewCertPool()
	pool.AddCert(root)
	return &Identity{
		AgentID:         file.AgentID,
		Name:            file.AgentName,
		ServerURL:       file.ServerURL,
		BridgeAddresses: file.BridgeAddresses,
		Certificate:     cert,
		Root:            root,
		Roots:           pool,
	}, nil
}

func missingOr(dataDir, name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s is missing; run `decnet-agent enroll --server URL --token TOKEN` with --data-dir %s first",
			ErrNotEnrolled, filepath.Join(dataDir, name), dataDir)
	}
	return fmt.Errorf("read %s: %w", filepath.Join(dataDir, name), err)
}

// checkNotEnrolled fails when any identity file exists in dataDir.
func checkNotEnrolled(dataDir string) error {
	for _, name := range []string{IdentityFile, KeyFile, CertificateFile, CAFile} {
		path := filepath.Join(dataDir, name)
		_, err := os.Stat(path)
		switch {
		case err == nil:
			return fmt.Errorf("%w: %s exists; remove %s, %s, %s and %s from %s to enroll again",
				ErrAlreadyEnrolled, path, IdentityFile, KeyFile, CertificateFile, CAFile, dataDir)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("stat %s: %w", path, err)
		}
	}
	return nil
}

// writeIdentity writes each file atomically, agent.json last: LoadIdentity
// reads agent.json first, so an interrupted write reads as not enrolled.
func writeIdentity(dataDir string, key crypto.Signer, chain []*x509.Certificate, root *x509.Certificate, file identityJSON) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}

	keyPEM, err := pki.EncodePrivateKeyPEM(key)
	if err != nil {
		return err
	}
	ders := make([][]byte, len(chain))
	for i, cert := range chain {
		ders[i] = cert.Raw
	}
	fileJSON, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", IdentityFile, err)
	}

	writes := []struct {
		name string
		data []byte
		perm fs.FileMode
	}{
		{KeyFile, keyPEM, 0o600},
		{CertificateFile, pki.EncodeCertificatesPEM(ders...), 0o644},
		{CAFile, pki.EncodeCertificatesPEM(root.Raw), 0o644},
		{IdentityFile, append(fileJSON, '\n'), 0o644},
	}
	for _, w := range writes {
		if err := pki.WriteFileAtomic(filepath.Join(dataDir, w.name), w.data, w.perm); err != nil {
			return fmt.Errorf("write agent identity: %w", err)
		}
	}
	return nil
}

// SaveCertificate replaces agent.key and agent.crt with a renewed key and
// chain, each file atomically, so the next LoadIdentity uses them.
//
// NOTE: the two files are replaced one after the other. A crash between
// the two renames leaves a key that does not match the certificate, which
// LoadIdentity reports; enroll again in that case.
func SaveCertificate(dataDir string, cert *tls.Certificate) error {
	key, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return fmt.Errorf("save agent certificate: private key of type %T cannot sign", cert.PrivateKey)
	}
	keyPEM, err := pki.EncodePrivateKeyPEM(key)
	if err != nil {
		return err
	}
	if err := pki.WriteFileAtomic(filepath.Join(dataDir, KeyFile), keyPEM, 0o600); err != nil {
		return fmt.Errorf("save agent key: %w", err)
	}
	if err := pki.WriteFileAtomic(filepath.Join(dataDir, CertificateFile), pki.EncodeCertificatesPEM(cert.Certificate...), 0o644); err != nil {
		return fmt.Errorf("save agent certificate: %w", err)
	}
	return nil
}
