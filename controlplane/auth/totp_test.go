package auth

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA-1 rows, truncated to six digits as
// authenticator apps show them.
func TestTOTPCodeRFC6238(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	} {
		if got := totpCode(key, uint64(tc.unix)/30); got != tc.want {
			t.Errorf("code at %d = %s, want %s", tc.unix, got, tc.want)
		}
	}
}

func TestVerifyTOTP(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	now := time.Unix(1111111111, 0)
	step, ok := verifyTOTP(secret, "050471", now, 0)
	if !ok || step != 1111111111/30 {
		t.Fatalf("current code: %d %v", step, ok)
	}
	// One step of drift either way passes; two do not.
	if _, ok := verifyTOTP(secret, "050471", now.Add(30*time.Second), 0); !ok {
		t.Error("code of the previous step refused")
	}
	if _, ok := verifyTOTP(secret, "050471", now.Add(61*time.Second), 0); ok {
		t.Error("code two steps old accepted")
	}
	// A used step cannot be replayed.
	if _, ok := verifyTOTP(secret, "050471", now, step); ok {
		t.Error("replayed code accepted")
	}
	for _, bad := range []string{"", "05047", "0504711", "abcdef", "000000"} {
		if _, ok := verifyTOTP(secret, bad, now, 0); ok {
			t.Errorf("code %q accepted", bad)
		}
	}
	if _, ok := verifyTOTP("not base32!", "050471", now, 0); ok {
		t.Error("malformed secret accepted")
	}
}

func TestTOTPURL(t *testing.T) {
	u := TOTPURL("DECNET", "alice", "JBSWY3DPEHPK3PXP")
	if !strings.HasPrefix(u, "otpauth://totp/DECNET:alice?") || !strings.Contains(u, "secret=JBSWY3DPEHPK3PXP") || !strings.Contains(u, "issuer=DECNET") {
		t.Errorf("url = %s", u)
	}
}
