package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.step.sm/crypto/keyutil"
	"go.step.sm/crypto/x509util"
)

// issueIntermediate creates a new intermediate under root and writes its
// key and certificate to dir, replacing any there.
func issueIntermediate(dir string, root *x509.Certificate, rootKey crypto.Signer, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := keyutil.GenerateDefaultSigner()
	if err != nil {
		return nil, nil, fmt.Errorf("generate intermediate key: %w", err)
	}
	notAfter := now.Add(intermediateLifetime)
	if notAfter.After(root.NotAfter) {
		notAfter = root.NotAfter
	}
	template := &x509.Certificate{
		Subject:               pkix.Name{CommonName: intermediateCommonName, Organization: []string{"DECNET"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// Leaves only: a stolen intermediate key cannot mint CAs.
		MaxPathLen:     0,
		MaxPathLenZero: true,
	}
	cert, err := x509util.CreateCertificate(template, root, key.Public(), rootKey)
	if err != nil {
		return nil, nil, fmt.Errorf("create intermediate certificate: %w", err)
	}

	// NOTE: a crash between these two writes leaves a key that does not
	// match the certificate; loading then fails and rotating again fixes
	// it.
	if err := writeKey(filepath.Join(dir, IntermediateKeyFile), key); err != nil {
		return nil, nil, err
	}
	if err := WriteFileAtomic(filepath.Join(dir, IntermediateCertificateFile), EncodeCertificatesPEM(cert.Raw), 0o644); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// loadIntermediate reads the intermediate from dir and checks it against
// root. It returns an error wrapping fs.ErrNotExist only when neither file
// exists.
func loadIntermediate(dir string, root *x509.Certificate, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	certPath := filepath.Join(dir, IntermediateCertificateFile)
	keyPath := filepath.Join(dir, IntermediateKeyFile)
	certExists, err := fileExists(certPath)
	if err != nil {
		return nil, nil, err
	}
	keyExists, err := fileExists(keyPath)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !certExists && !keyExists:
		return nil, nil, fmt.Errorf("load intermediate: %w", fs.ErrNotExist)
	case !keyExists:
		return nil, nil, fmt.Errorf("%s exists but %s is missing; restore the key or rotate the intermediate", certPath, keyPath)
	case !certExists:
		return nil, nil, fmt.Errorf("%s exists but %s is missing; restore the certificate or rotate the intermediate", keyPath, certPath)
	}

	cert, err := readOneCertificate(certPath)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("read intermediate key: %w", err)
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("load intermediate key %s: %w", keyPath, err)
	}
	if err := checkKeyMatches(cert, key); err != nil {
		return nil, nil, fmt.Errorf("load intermediate from %s and %s: %w", certPath, keyPath, err)
	}
	if err := checkIntermediate(cert, root, now); err != nil {
		return nil, nil, fmt.Errorf("load intermediate %s: %w", certPath, err)
	}
	return cert, key, nil
}

// checkIntermediate verifies that cert is an unexpired CA certificate
// signed by root.
func checkIntermediate(cert, root *x509.Certificate, now time.Time) error {
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return errors.New("the certificate is not a CA certificate")
	}
	if err := cert.CheckSignatureFrom(root); err != nil {
		return fmt.Errorf("the certificate is not signed by the root: %w", err)
	}
	if now.After(cert.NotAfter) {
		return fmt.Errorf("the intermediate expired at %s; rotate it with decnet ca rotate-intermediate", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// retiredEntry is an intermediate replaced by a rotation.
type retiredEntry struct {
	cert      *x509.Certificate
	keepUntil time.Time
}

// readRetired parses the retired intermediates file; a missing file is an
// empty list.
func readRetired(dir string) ([]retiredEntry, error) {
	path := filepath.Join(dir, RetiredIntermediatesFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read retired intermediates: %w", err)
	}

	var out []retiredEntry
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != pemTypeCertificate {
			return nil, fmt.Errorf("load %s: found PEM block %q, want %q", path, block.Type, pemTypeCertificate)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("load %s: parse certificate %d: %w", path, len(out)+1, err)
		}
		keep, err := time.Parse(time.RFC3339, block.Headers[pemHeaderKeepUntil])
		if err != nil {
			return nil, fmt.Errorf("load %s: certificate %d: read %s header: %w", path, len(out)+1, pemHeaderKeepUntil, err)
		}
		out = append(out, retiredEntry{cert: cert, keepUntil: keep})
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("load %s: found data after the last PEM certificate", path)
	}
	return out, nil
}

// loadRetired returns the retired intermediates still trusted at now. One
// that no longer chains to root is an error rather than silently dropped.
func loadRetired(dir string, root *x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	entries, err := readRetired(dir)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for _, e := range entries {
		if !now.Before(e.keepUntil) || now.After(e.cert.NotAfter) {
			continue
		}
		if err := e.cert.CheckSignatureFrom(root); err != nil {
			return nil, fmt.Errorf("retired intermediate %s is not signed by the root: %w", e.cert.SerialNumber.Text(16), err)
		}
		out = append(out, e.cert)
	}
	return out, nil
}

func encodeRetired(entries []retiredEntry) []byte {
	var out []byte
	for _, e := range entries {
		out = append(out, pem.EncodeToMemory(&pem.Block{
			Type:    pemTypeCertificate,
			Headers: map[string]string{pemHeaderKeepUntil: e.keepUntil.UTC().Format(time.RFC3339)},
			Bytes:   e.cert.Raw,
		})...)
	}
	return out
}

// RotateIntermediate issues a new intermediate for the CA in dir with the
// root key at rootKeyPath (empty means ca.key in dir) and retires the
// current one: client certificates it issued stay accepted until keepOld
// from now, or its expiry if sooner. keepOld must cover the longest agent
// certificate lifetime, so agents renew under the new intermediate before
// the old one leaves the pool. Retired entries past their time are
// dropped. A running server keeps the intermediate it loaded until it
// restarts.
func RotateIntermediate(dir, rootKeyPath string, keepOld time.Duration, now func() time.Time) (*x509.Certificate, error) {
	if now == nil {
		now = time.Now
	}
	if keepOld < 0 {
		return nil, fmt.Errorf("rotate intermediate: keep time %s is negative", keepOld)
	}
	ca, err := loadExisting(dir, now)
	if err != nil {
		return nil, fmt.Errorf("rotate intermediate: %w", err)
	}
	if rootKeyPath == "" {
		rootKeyPath = filepath.Join(dir, CAKeyFile)
	}
	rootKey, err := ReadRootKey(rootKeyPath, ca.root)
	if err != nil {
		return nil, fmt.Errorf("rotate intermediate: %w", err)
	}

	at := now()
	entries, err := readRetired(dir)
	if err != nil {
		return nil, fmt.Errorf("rotate intermediate: %w", err)
	}
	kept := entries[:0]
	for _, e := range entries {
		if at.Before(e.keepUntil) && !at.After(e.cert.NotAfter) {
			kept = append(kept, e)
		}
	}
	keepUntil := at.Add(keepOld)
	if keepUntil.After(ca.issuer.NotAfter) {
		keepUntil = ca.issuer.NotAfter
	}
	kept = append(kept, retiredEntry{cert: ca.issuer, keepUntil: keepUntil})

	// The old intermediate is recorded before it is replaced, so no
	// crash leaves its agents' certificates untrusted.
	if err := WriteFileAtomic(filepath.Join(dir, RetiredIntermediatesFile), encodeRetired(kept), 0o644); err != nil {
		return nil, fmt.Errorf("rotate intermediate: %w", err)
	}
	cert, _, err := issueIntermediate(dir, ca.root, rootKey, at)
	if err != nil {
		return nil, fmt.Errorf("rotate intermediate: %w", err)
	}
	return cert, nil
}

// loadExisting loads the CA in dir without creating one.
func loadExisting(dir string, now func() time.Time) (*CA, error) {
	if now == nil {
		now = time.Now
	}
	exists, err := fileExists(filepath.Join(dir, CACertificateFile))
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("no CA in %s; run decnet ca init first", dir)
	}
	return loadCA(dir, now)
}

// ExportRootKey moves the root key out of the CA directory dir to dest,
// which must not exist yet. dest is written with mode 0600 and synced
// before ca.key is removed, so a failure never loses the key. The server
// then runs on the intermediate alone; rotating the intermediate needs the
// key back.
func ExportRootKey(dir, dest string) error {
	ca, err := loadExisting(dir, nil)
	if err != nil {
		return fmt.Errorf("export root key: %w", err)
	}
	src := filepath.Join(dir, CAKeyFile)
	if _, err := ReadRootKey(src, ca.root); err != nil {
		return fmt.Errorf("export root key: %w", err)
	}
	exists, err := fileExists(dest)
	if err != nil {
		return fmt.Errorf("export root key: %w", err)
	}
	if exists {
		return fmt.Errorf("export root key: %s exists; choose a new file", dest)
	}

	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("export root key: %w", err)
	}
	if err := WriteFileAtomic(dest, data, 0o600); err != nil {
		return fmt.Errorf("export root key: %w", err)
	}
	// Read the copy back through the same checks before the original
	// goes.
	if _, err := ReadRootKey(dest, ca.root); err != nil {
		return fmt.Errorf("export root key: check copy: %w", err)
	}
	if err := os.Remove(src); err != nil {
		return fmt.Errorf("export root key: remove %s: %w", src, err)
	}
	return nil
}
