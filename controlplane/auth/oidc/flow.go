package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// flowCookieName carries one login attempt from LoginPath to CallbackPath.
const flowCookieName = "decnet_oidc_flow"

// maxFlowCookieLen bounds what the callback decodes; a real flow cookie is
// about 250 bytes.
const maxFlowCookieLen = 1024

// flowKeyInfo separates the flow key derived from the client secret from
// any other use of that secret.
const flowKeyInfo = "decnet oidc flow cookie v1"

// ErrFlowInvalid covers a missing, forged, expired or mismatched flow
// cookie: the callback does not belong to a login this browser started.
var ErrFlowInvalid = errors.New("this sign-in was not started here or took too long; start again")

// flow is the state of one login between redirect and callback. The
// cookie is sealed with AES-GCM, so the browser can neither read the PKCE
// verifier nor change any field.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	// Expires is in Unix seconds.
	Expires int64 `json:"e"`
}

// flowSealer seals and opens flow cookies.
type flowSealer struct {
	aead cipher.AEAD
}

// newFlowSealer derives a 256-bit key from secret with HKDF-SHA256; an
// empty secret gets a random key, valid for this process only.
func newFlowSealer(secret []byte) (*flowSealer, error) {
	var key []byte
	if len(secret) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate flow key: %w", err)
		}
	} else {
		var err error
		if key, err = hkdf.Key(sha256.New, secret, nil, flowKeyInfo, 32); err != nil {
			return nil, fmt.Errorf("derive flow key: %w", err)
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("flow cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("flow cipher: %w", err)
	}
	return &flowSealer{aead: aead}, nil
}

// seal returns the cookie value of f.
func (s *flowSealer) seal(f flow) (string, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("seal flow: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal flow: %w", err)
	}
	sealed := s.aead.Seal(nonce, nonce, plain, []byte(flowCookieName))
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open returns the flow in value if it was sealed by this key and has not
// expired at now; anything else is ErrFlowInvalid.
func (s *flowSealer) open(value string, now time.Time) (flow, error) {
	if value == "" || len(value) > maxFlowCookieLen {
		return flow{}, ErrFlowInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return flow{}, ErrFlowInvalid
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(flowCookieName))
	if err != nil {
		return flow{}, ErrFlowInvalid
	}
	var f flow
	if err := json.Unmarshal(plain, &f); err != nil {
		return flow{}, ErrFlowInvalid
	}
	if f.State == "" || f.Nonce == "" || f.Verifier == "" || !now.Before(time.Unix(f.Expires, 0)) {
		return flow{}, ErrFlowInvalid
	}
	return f, nil
}

// randomToken returns 256 random bits in base64url, the size RFC 7636
// recommends for a PKCE verifier and ample for state and nonce.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
