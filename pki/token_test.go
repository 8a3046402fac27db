package pki

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func newTestToken(t *testing.T) BootstrapToken {
	t.Helper()
	fp := sha256.Sum256([]byte("root"))
	tok, err := NewBootstrapToken(testAgentID, fp)
	if err != nil {
		t.Fatalf("NewBootstrapToken: %v", err)
	}
	return tok
}

func TestBootstrapTokenRoundTrip(t *testing.T) {
	tok := newTestToken(t)
	encoded := tok.Encode()

	if !strings.HasPrefix(encoded, TokenPrefix) {
		t.Errorf("encoded token %q lacks prefix %q", encoded, TokenPrefix)
	}
	parsed, err := ParseBootstrapToken(" " + encoded + "\n")
	if err != nil {
		t.Fatalf("ParseBootstrapToken: %v", err)
	}
	if parsed != tok {
		t.Error("parsed token differs from the original")
	}
	if parsed.AgentID() != testAgentID {
		t.Errorf("AgentID = %q, want %q", parsed.AgentID(), testAgentID)
	}
	if parsed.RootFingerprint() != sha256.Sum256([]byte("root")) {
		t.Errorf("RootFingerprint = %x, want the one given", parsed.RootFingerprint())
	}
	if want := sha256.Sum256(tok.secret[:]); string(parsed.Hash()) != string(want[:]) {
		t.Errorf("Hash = %x, want SHA-256 of the secret %x", parsed.Hash(), want)
	}
}

func TestBootstrapTokenSecretsDiffer(t *testing.T) {
	a, b := newTestToken(t), newTestToken(t)
	if a.secret == b.secret {
		t.Error("two tokens share a secret")
	}
	if a.secret == [32]byte{} {
		t.Error("secret is all zero")
	}
}

func TestNewBootstrapTokenRejectsBadAgentID(t *testing.T) {
	if _, err := NewBootstrapToken("sensor-1", [32]byte{}); err == nil {
		t.Error("NewBootstrapToken accepted a non-UUID agent id")
	}
}

func TestParseBootstrapTokenErrors(t *testing.T) {
	valid := newTestToken(t).Encode()
	payload := strings.TrimPrefix(valid, TokenPrefix)
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"empty", "", "token is empty"},
		{"whitespace only", " \n", "token is empty"},
		{"missing prefix", payload, `missing prefix "DNT1."`},
		{"other version", "DNT2." + payload, "unsupported token version"},
		{"bad base64", TokenPrefix + payload[:10] + "!" + payload[11:], "invalid base64url payload"},
		{"padded base64", TokenPrefix + base64.URLEncoding.EncodeToString(make([]byte, 80)), "invalid base64url payload"},
		{"too short", TokenPrefix + b64(make([]byte, 79)), "payload is 79 bytes, want 80"},
		{"too long", TokenPrefix + b64(make([]byte, 81)), "payload is 81 bytes, want 80"},
		{"nil agent id", TokenPrefix + b64(make([]byte, 80)), "nil UUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBootstrapToken(tt.input)
			if err == nil {
				t.Fatal("ParseBootstrapToken succeeded, want an error")
			}
			if !errors.Is(err, ErrMalformedToken) {
				t.Errorf("error %q does not wrap ErrMalformedToken", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestBootstrapTokenRedaction(t *testing.T) {
	tok := newTestToken(t)
	encoded := tok.Encode()
	// Any of these in the output would leak the secret.
	leaks := []string{
		encoded,
		strings.TrimPrefix(encoded, TokenPrefix),
		fmt.Sprintf("%x", tok.secret[:]),
		base64.RawURLEncoding.EncodeToString(tok.secret[:]),
		fmt.Sprint(tok.secret[0], " ", tok.secret[1], " ", tok.secret[2]),
	}

	jsonOut, err := json.Marshal(tok)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	wrapped, err := json.Marshal(struct{ Token BootstrapToken }{tok})
	if err != nil {
		t.Fatalf("json.Marshal of a wrapping struct: %v", err)
	}
	outputs := map[string]string{
		"%v":          fmt.Sprintf("%v", tok),
		"%+v":         fmt.Sprintf("%+v", tok),
		"%#v":         fmt.Sprintf("%#v", tok),
		"%s":          fmt.Sprintf("%s", tok),
		"%q":          fmt.Sprintf("%q", tok),
		"%x":          fmt.Sprintf("%x", tok),
		"%d":          fmt.Sprintf("%d", tok),
		"pointer %+v": fmt.Sprintf("%+v", &tok),
		"struct %+v":  fmt.Sprintf("%+v", struct{ T BootstrapToken }{tok}),
		"String":      tok.String(),
		"json":        string(jsonOut),
		"json nested": string(wrapped),
	}

	for name, out := range outputs {
		if !strings.Contains(out, "redacted") {
			t.Errorf("%s output %q does not say redacted", name, out)
		}
		for _, leak := range leaks {
			if strings.Contains(out, leak) {
				t.Errorf("%s output %q contains the secret as %q", name, out, leak)
			}
		}
	}
	if !strings.Contains(outputs["%v"], testAgentID) {
		t.Errorf("%%v output %q lacks the agent id", outputs["%v"])
	}
}
