package httpdecoy

import (
	"bytes"
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func TestCredentialCapture(t *testing.T) {
	digestMD5 := `username="dig", realm="Admin", nonce="abc123", uri="/admin", response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="0a4f113b"`
	digestSHA := `username="sha", realm="Admin", nonce="n", uri="/admin", algorithm=SHA-256, response="00ff"`
	digestLong := `username="big", realm="` + strings.Repeat("r", 5000) + `"`
	json := func(body string) string {
		return "POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
	}
	form := func(body string) string {
		return "POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
	}
	digest := func(credentials string) string {
		return "GET /admin HTTP/1.1\r\nHost: a\r\nAuthorization: Digest " + credentials + "\r\nConnection: close\r\n\r\n"
	}

	tests := []struct {
		name          string
		raw           string
		wantStatus    string
		wantMechanism string
		wantKind      string
		wantPrincipal string
		wantSecret    string
	}{
		{"query on login", "GET /login?username=u&password=p HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"200 OK", decoys.MechanismHTTPQuery, decoys.SecretPlaintext, "u", "p"},
		{"query on root with escapes", "GET /?user=r%20t&pwd=a%26b#frag HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"200 OK", decoys.MechanismHTTPQuery, decoys.SecretPlaintext, "r t", "a&b"},
		{"query password only", "HEAD /login?passwd=x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			"200 OK", decoys.MechanismHTTPQuery, decoys.SecretPlaintext, "", "x"},
		{"json", json(`{"username":"u","password":"p"}`), "200 OK", decoys.MechanismHTTPJSON, decoys.SecretPlaintext, "u", "p"},
		{"json alternative names", json(`{"email":"e@x.test","pass":"p w"}`), "200 OK", decoys.MechanismHTTPJSON, decoys.SecretPlaintext, "e@x.test", "p w"},
		{"json number password", json(`{"login":"admin","pwd":1234}`), "200 OK", decoys.MechanismHTTPJSON, decoys.SecretPlaintext, "admin", "1234"},
		{"form alternative names", form("user=root&passwd=toor"), "200 OK", decoys.MechanismHTTPForm, decoys.SecretPlaintext, "root", "toor"},
		{"form preferred name", form("login=second&username=first&pass=x"), "200 OK", decoys.MechanismHTTPForm, decoys.SecretPlaintext, "first", "x"},
		{"digest md5", digest(digestMD5), "401 Unauthorized", decoys.MechanismHTTPDigest, decoys.SecretHTTPDigestMD5, "dig", digestMD5},
		{"digest sha-256", digest(digestSHA), "401 Unauthorized", decoys.MechanismHTTPDigest, decoys.SecretHTTPDigestSHA256, "sha", digestSHA},
		{"digest extended username", digest(`username*=UTF-8''J%C3%A4ger, realm="r", algorithm=SHA-512-256-sess`),
			"401 Unauthorized", decoys.MechanismHTTPDigest, decoys.SecretHTTPDigestSHA512256, "Jäger", `username*=UTF-8''J%C3%A4ger, realm="r", algorithm=SHA-512-256-sess`},
		{"digest capped", digest(digestLong), "401 Unauthorized", decoys.MechanismHTTPDigest, decoys.SecretHTTPDigestMD5, "big", digestLong[:maxDigestBytes]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{Seed: []byte("seed-1")})
			raw := exchange(t, ts.addr, tt.raw)
			if !strings.HasPrefix(raw, "HTTP/1.1 "+tt.wantStatus+"\r\n") {
				t.Fatalf("response %q, want status %s", raw, tt.wantStatus)
			}

			auths := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)
			if len(auths) != 1 {
				t.Fatalf("%d auth.attempt events, want 1", len(auths))
			}
			a := auths[0].GetAuthAttempt()
			if a.GetMechanism() != tt.wantMechanism {
				t.Errorf("mechanism = %q, want %q", a.GetMechanism(), tt.wantMechanism)
			}
			if a.GetSecretKind() != tt.wantKind {
				t.Errorf("secret_kind = %q, want %q", a.GetSecretKind(), tt.wantKind)
			}
			if a.GetPrincipal() != tt.wantPrincipal {
				t.Errorf("principal = %q, want %q", a.GetPrincipal(), tt.wantPrincipal)
			}
			if string(a.GetSecret()) != tt.wantSecret {
				t.Errorf("secret = %q, want %q", a.GetSecret(), tt.wantSecret)
			}
			sum := sha256.Sum256([]byte(tt.wantSecret))
			if !bytes.Equal(a.GetSecretSha256(), sum[:]) {
				t.Errorf("secret_sha256 = %x, want %x", a.GetSecretSha256(), sum)
			}
			if a.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED {
				t.Errorf("outcome = %v", a.GetOutcome())
			}
		})
	}
}

func TestNoCredentialRecorded(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"query without login fields", "GET /login?lang=en HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
		{"query on another path", "GET /nope?username=u&password=p HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
		{"json without login fields", "POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"a\":\"b\"}"},
		{"json body as text", "POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{\"username\":\"u\"}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{})
			exchange(t, ts.addr, tt.raw)
			ts.rec.waitKind(t, decoys.KindConnectionClosed, 1)
			if n := len(ts.rec.byKind(decoys.KindAuthAttempt)); n != 0 {
				t.Errorf("%d auth.attempt events, want 0", n)
			}
		})
	}
}
