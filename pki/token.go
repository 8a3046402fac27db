package pki

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// TokenPrefix starts every encoded bootstrap token and names its format
// version.
const TokenPrefix = "DNT1."

// Sizes of the parts of an encoded token: agent UUID, secret, root
// fingerprint.
const (
	tokenIDSize          = 16
	tokenSecretSize      = 32
	tokenFingerprintSize = sha256.Size
	tokenPayloadSize     = tokenIDSize + tokenSecretSize + tokenFingerprintSize
)

// ErrMalformedToken is wrapped by every ParseBootstrapToken error.
var ErrMalformedToken = errors.New("malformed bootstrap token")

// BootstrapToken authorizes one enrollment of one agent. It carries the
// agent id, a random secret and the fingerprint of the CA root the agent
// must trust. The store keeps only Hash.
//
// The secret leaves the value only through Encode and Hash: fmt verbs,
// String and JSON show the agent id and fingerprint with the secret
// redacted.
type BootstrapToken struct {
	agentID         uuid.UUID
	secret          [tokenSecretSize]byte
	rootFingerprint [tokenFingerprintSize]byte
}

// NewBootstrapToken creates a token with a fresh random secret for the
// agent. agentID must be a UUID in canonical form.
func NewBootstrapToken(agentID string, rootFingerprint [32]byte) (BootstrapToken, error) {
	if err := checkAgentID(agentID); err != nil {
		return BootstrapToken{}, fmt.Errorf("create bootstrap token: %w", err)
	}
	t := BootstrapToken{
		agentID:         uuid.MustParse(agentID),
		rootFingerprint: rootFingerprint,
	}
	if _, err := rand.Read(t.secret[:]); err != nil {
		return BootstrapToken{}, fmt.Errorf("create bootstrap token secret: %w", err)
	}
	return t, nil
}

// ParseBootstrapToken decodes a token produced by Encode. Surrounding
// whitespace is ignored. Errors wrap ErrMalformedToken and never contain
// the token.
func ParseBootstrapToken(s string) (BootstrapToken, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return BootstrapToken{}, fmt.Errorf("%w: token is empty", ErrMalformedToken)
	}
	payload, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok {
		if strings.HasPrefix(s, "DNT") {
			return BootstrapToken{}, fmt.Errorf("%w: unsupported token version, want prefix %q", ErrMalformedToken, TokenPrefix)
		}
		return BootstrapToken{}, fmt.Errorf("%w: missing prefix %q", ErrMalformedToken, TokenPrefix)
	}

	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return BootstrapToken{}, fmt.Errorf("%w: invalid base64url payload: %w", ErrMalformedToken, err)
	}
	if len(raw) != tokenPayloadSize {
		return BootstrapToken{}, fmt.Errorf("%w: payload is %d bytes, want %d", ErrMalformedToken, len(raw), tokenPayloadSize)
	}

	var t BootstrapToken
	copy(t.agentID[:], raw[:tokenIDSize])
	copy(t.secret[:], raw[tokenIDSize:tokenIDSize+tokenSecretSize])
	copy(t.rootFingerprint[:], raw[tokenIDSize+tokenSecretSize:])
	if t.agentID == uuid.Nil {
		return BootstrapToken{}, fmt.Errorf("%w: agent id is the nil UUID", ErrMalformedToken)
	}
	return t, nil
}

// Encode returns the token as printed for the operator: TokenPrefix
// followed by base64url (no padding) of agent UUID (16 bytes), secret (32)
// and root fingerprint (32). The result is a secret.
func (t BootstrapToken) Encode() string {
	raw := make([]byte, 0, tokenPayloadSize)
	raw = append(raw, t.agentID[:]...)
	raw = append(raw, t.secret[:]...)
	raw = append(raw, t.rootFingerprint[:]...)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
}

// AgentID returns the id of the agent the token may enroll, in canonical
// form.
func (t BootstrapToken) AgentID() string {
	return t.agentID.String()
}

// RootFingerprint returns the SHA-256 of the CA root the agent must trust.
func (t BootstrapToken) RootFingerprint() [32]byte {
	return t.rootFingerprint
}

// Hash returns the SHA-256 of the secret, the only form the store keeps.
func (t BootstrapToken) Hash() []byte {
	sum := sha256.Sum256(t.secret[:])
	return sum[:]
}

// String returns a redacted description of the token.
func (t BootstrapToken) String() string {
	return fmt.Sprintf("BootstrapToken{agent_id: %s, root_fingerprint: %s, secret: [redacted]}",
		t.agentID, hex.EncodeToString(t.rootFingerprint[:]))
}

// Format prints String for every verb, %#v and %x included, so that no
// fmt verb reaches the secret through reflection.
func (t BootstrapToken) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(t.String()))
}

// MarshalJSON encodes the agent id and fingerprint; the secret is left out.
func (t BootstrapToken) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"agent_id":%q,"root_fingerprint":%q,"secret":"[redacted]"}`,
		t.agentID.String(), hex.EncodeToString(t.rootFingerprint[:])), nil
}

// MarshalText returns the redacted String, for encoders that prefer text.
func (t BootstrapToken) MarshalText() ([]byte, error) {
	return []byte(t.String()), nil
}
