package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// agentURIPrefix is the opaque part of an agent URI SAN before the UUID:
// the full SAN reads urn:decnet:agent:<uuid>.
const agentURIPrefix = "decnet:agent:"

// maxAgentNameLength is the upper bound RFC 5280 sets for a common name,
// in characters.
const maxAgentNameLength = 64

// ErrNoAgentID is returned by AgentIDFromCertificate for a certificate
// without an agent URI SAN.
var ErrNoAgentID = errors.New("certificate has no agent URI SAN (urn:decnet:agent:<uuid>)")

// AgentURI returns the URI SAN that identifies an agent:
// urn:decnet:agent:<id>. id should be a UUID in canonical form.
func AgentURI(id string) *url.URL {
	return &url.URL{Scheme: "urn", Opaque: agentURIPrefix + id}
}

// AgentIDFromCertificate returns the agent id from the certificate's URI
// SAN. The certificate must carry exactly one agent URI, holding a UUID in
// canonical lowercase form; other URI SANs are ignored.
func AgentIDFromCertificate(cert *x509.Certificate) (string, error) {
	var ids []string
	for _, u := range cert.URIs {
		if !strings.EqualFold(u.Scheme, "urn") || !strings.HasPrefix(u.Opaque, agentURIPrefix) {
			continue
		}
		ids = append(ids, strings.TrimPrefix(u.Opaque, agentURIPrefix))
	}

	switch len(ids) {
	case 0:
		return "", ErrNoAgentID
	case 1:
	default:
		return "", fmt.Errorf("certificate has %d agent URI SANs, want exactly one", len(ids))
	}
	if err := checkAgentID(ids[0]); err != nil {
		return "", fmt.Errorf("read agent URI SAN: %w", err)
	}
	return ids[0], nil
}

// checkAgentID accepts only the canonical form (lowercase, hyphenated),
// because agent ids are compared as strings everywhere.
func checkAgentID(id string) error {
	parsed, err := uuid.Parse(id)
	if err != nil {
		return fmt.Errorf("agent id %q is not a UUID: %w", id, err)
	}
	if parsed == uuid.Nil {
		return fmt.Errorf("agent id %q is the nil UUID", id)
	}
	if parsed.String() != id {
		return fmt.Errorf("agent id %q is not in canonical form %q", id, parsed.String())
	}
	return nil
}

// CheckAgentName reports whether name can be an agent certificate's common
// name: 1 to 64 characters of valid UTF-8 without control characters.
func CheckAgentName(name string) error {
	switch {
	case name == "":
		return errors.New("agent name is empty")
	case !utf8.ValidString(name):
		return fmt.Errorf("agent name %q is not valid UTF-8", name)
	case utf8.RuneCountInString(name) > maxAgentNameLength:
		return fmt.Errorf("agent name %q is longer than %d characters", name, maxAgentNameLength)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("agent name %q contains control characters", name)
	}
	return nil
}

// ParseAgentCSR parses a DER-encoded PKCS #10 request and checks its
// signature and key type. The enrollment service calls it before it
// consumes a token, so that a broken request does not burn the token.
func ParseAgentCSR(csrDER []byte) (*x509.CertificateRequest, error) {
	if len(csrDER) == 0 {
		return nil, errors.New("parse certificate signing request: request is empty")
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("parse certificate signing request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("check certificate signing request signature: %w", err)
	}
	if err := checkAgentKey(csr.PublicKey); err != nil {
		return nil, fmt.Errorf("check certificate signing request key: %w", err)
	}
	return csr, nil
}

// checkAgentKey accepts ECDSA on P-256 or P-384 and Ed25519, compact key
// types that crypto/tls signs TLS 1.3 handshakes with.
func checkAgentKey(pub any) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("unsupported ECDSA curve %s, want P-256 or P-384", k.Curve.Params().Name)
		}
		return nil
	case ed25519.PublicKey:
		return nil
	default:
		return fmt.Errorf("unsupported public key type %T, want ECDSA P-256, P-384 or Ed25519", pub)
	}
}
