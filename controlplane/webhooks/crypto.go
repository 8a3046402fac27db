package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/decnet/decnet/controlplane/auth"
)

// KeySize is the length of the key that seals secrets at rest (AES-256).
const KeySize = 32

// secretPrefix marks a DECNET webhook signing secret, so one found in a
// paste or a repository is recognisable.
const secretPrefix = "whsec_"

// secretBytes is the entropy of a signing secret.
const secretBytes = 32

// Fields a sealed value is bound to, through the GCM additional data.
const (
	fieldURL           = "url"
	fieldSecret        = "secret"
	fieldPrevious      = "previous_secret"
	fieldAuthorization = "authorization"
)

// errUnseal hides why opening failed: a wrong key and a tampered value
// look the same, and neither detail helps the caller.
var errUnseal = errors.New("unseal: wrong key or corrupted value")

// sealer encrypts secrets at rest. A sealed value is nonce || ciphertext.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("new sealer: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func additionalData(id, field string) []byte {
	return []byte("decnet-webhook\x00" + id + "\x00" + field)
}

func (s *sealer) seal(id, field string, plain []byte) []byte {
	if len(plain) == 0 {
		return nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	// Since Go 1.24 crypto/rand.Read crashes the program rather than
	// return an error, so there is no error to handle.
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, additionalData(id, field))
}

func (s *sealer) open(id, field string, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errUnseal
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], additionalData(id, field))
	if err != nil {
		return nil, errUnseal
	}
	return plain, nil
}

// newSecret returns a fresh signing secret.
func newSecret() auth.Secret {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return auth.Secret(secretPrefix + base64.RawURLEncoding.EncodeToString(b))
}

// SignatureHeader carries the signatures of a delivery.
const SignatureHeader = "Decnet-Signature"

// Other headers of every delivery.
const (
	EventIDHeader   = "Decnet-Event-Id"
	SubjectHeader   = "Decnet-Subject"
	TimestampHeader = "Decnet-Timestamp"
	userAgent       = "DECNET-Webhooks/1"
)

// sign returns the Decnet-Signature value: "t=<unix seconds>" and one
// "v1=<hex HMAC-SHA256>" per secret, over "<unix seconds>.<body>". Binding
// the time lets receivers refuse replays older than their tolerance.
func sign(t time.Time, body []byte, secrets ...auth.Secret) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range secrets {
		if s.Empty() {
			continue
		}
		b.WriteString(",v1=" + hex.EncodeToString(mac(s, ts, body)))
	}
	return b.String()
}

func mac(secret auth.Secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret.Reveal()))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("no valid signature")
	ErrStaleRequest = errors.New("signature timestamp outside tolerance")
)

// Verify checks a Decnet-Signature header value against body the way a
// receiver should: the timestamp within tolerance of now, and any v1
// signature matching secret in constant time. It is what receivers in Go
// can use, and what the tests use.
func Verify(header string, body []byte, secret auth.Secret, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("verify signature: %w", ErrNoSignature)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("verify signature: %w", ErrStaleRequest)
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return fmt.Errorf("verify signature: %w", ErrNoSignature)
}
