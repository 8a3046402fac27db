package webhooks

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/auth"
)

// FuzzParseRetryAfter feeds receiver-controlled Retry-After values: the
// wait is never negative, never past the ceiling, and nothing panics.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", "-1", "1e3", "18446744073709551616", strings.Repeat("9", 70), "\x00"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now, DefaultMaxBackoff)
		if d < 0 || d > DefaultMaxBackoff {
			t.Fatalf("parseRetryAfter(%q) = %v", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v without ok", v, d)
		}
	})
}

// FuzzVerify feeds arbitrary signature headers to Verify, which
// receivers run on whatever reaches them: it never panics and never
// accepts a header that does not carry the right MAC.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"id":"x"}`)
	now := time.Unix(1772366400, 0)
	good := sign(now, body, "whsec_a", "whsec_b")
	for _, s := range []string{good, "t=1772366400", "v1=00,t=1", "t=,v1=", ",,,=", "t=1772366400,v1=zz"} {
		f.Add(s)
	}
	want := hex.EncodeToString(mac("whsec_a", "1772366400", body))
	f.Fuzz(func(t *testing.T, header string) {
		err := Verify(header, body, auth.Secret("whsec_a"), now, time.Minute)
		// Any accepted header carries the MAC over this body, which the
		// fuzzer can only copy from the seed.
		if err == nil && !strings.Contains(strings.ToLower(header), want) {
			t.Fatalf("Verify accepted %q", header)
		}
	})
}
