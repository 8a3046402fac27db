package pki

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// FingerprintMismatchError reports that no certificate the server sent is
// the CA root a bootstrap token pins.
type FingerprintMismatchError struct {
	// Expected is the pinned root fingerprint.
	Expected [32]byte
	// Received are the fingerprints of the certificates the server sent,
	// leaf first.
	Received [][32]byte
	// Reason is set when a certificate matched Expected but cannot be a
	// root, for example because it is not a self-signed CA certificate.
	Reason string
}

func (e *FingerprintMismatchError) Error() string {
	received := make([]string, len(e.Received))
	for i, fp := range e.Received {
		received[i] = hex.EncodeToString(fp[:])
	}
	msg := fmt.Sprintf("server did not present the pinned CA root: expected root fingerprint %s, received certificate fingerprints [%s]",
		hex.EncodeToString(e.Expected[:]), strings.Join(received, ", "))
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg + "; check that the token was created by this server's CA"
}

// Fingerprint returns the SHA-256 of the certificate's DER encoding.
func Fingerprint(cert *x509.Certificate) [32]byte {
	return sha256.Sum256(cert.Raw)
}

// FetchPinnedRoot returns the CA root whose SHA-256 equals fingerprint,
// taken from the chain the server at addr (host:port) sends, after a fully
// verified handshake against that root alone.
//
// It needs two handshakes and never skips verification. The first one
// trusts no root, so it fails with a *tls.CertificateVerificationError
// that carries the unverified chain, and the pinned root is picked from
// it. The second one verifies the server against a pool that contains only that
// root, with the usual name, time and key usage checks. The server's side
// of the first handshake ends with a bad-certificate alert.
func FetchPinnedRoot(ctx context.Context, addr, serverName string, fingerprint [32]byte) (*x509.Certificate, error) {
	probe := AgentTLSConfig(nil, x509.NewCertPool(), serverName, nil)
	conn, err := (&tls.Dialer{Config: probe}).DialContext(ctx, "tcp", addr)
	if err == nil {
		// An empty pool verifies nothing, so this means the TLS stack
		// did not verify at all; refuse rather than trust it.
		_ = conn.Close()
		return nil, fmt.Errorf("fetch CA root from %s: handshake succeeded without any trusted root", addr)
	}
	var verifyErr *tls.CertificateVerificationError
	if !errors.As(err, &verifyErr) {
		return nil, fmt.Errorf("fetch CA root from %s: %w", addr, err)
	}

	root, err := pickPinnedRoot(verifyErr.UnverifiedCertificates, fingerprint)
	if err != nil {
		return nil, fmt.Errorf("fetch CA root from %s: %w", addr, err)
	}

	pool := x509.NewCertPool()
	pool.AddCert(root)
	conn, err = (&tls.Dialer{Config: AgentTLSConfig(nil, pool, serverName, nil)}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("verify %s against the pinned CA root: %w", addr, ExplainNameMismatch(err))
	}
	_ = conn.Close()
	return root, nil
}

// pickPinnedRoot returns the certificate of chain with the pinned
// fingerprint, provided it is a self-signed CA certificate.
func pickPinnedRoot(chain []*x509.Certificate, fingerprint [32]byte) (*x509.Certificate, error) {
	mismatch := &FingerprintMismatchError{Expected: fingerprint}
	for _, cert := range chain {
		mismatch.Received = append(mismatch.Received, Fingerprint(cert))
	}

	for _, cert := range chain {
		if Fingerprint(cert) != fingerprint {
			continue
		}
		if !cert.BasicConstraintsValid || !cert.IsCA {
			mismatch.Reason = "the matching certificate is not a CA certificate"
			return nil, mismatch
		}
		if !bytes.Equal(cert.RawSubject, cert.RawIssuer) || cert.CheckSignatureFrom(cert) != nil {
			mismatch.Reason = "the matching certificate is not self-signed"
			return nil, mismatch
		}
		return cert, nil
	}
	return nil, mismatch
}
