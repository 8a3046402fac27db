package mailbox

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// FuzzDecodePlain checks that a decoded PLAIN response re-encodes to the
// same message, and that nothing else is accepted.
func FuzzDecodePlain(f *testing.F) {
	for _, s := range []string{"AGFsaWNlAHdvbmRlcmxhbmQ=", "AGFsaWNlAHdvbmRlcmxhbmQ", "=", "!!!", "YQBiAGM=", "AAA=", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		p, err := DecodePlain(line)
		if err != nil {
			return
		}
		raw := append([]byte(p.AuthzID+"\x00"+p.AuthcID+"\x00"), p.Password...)
		dec, err := DecodeBase64(line)
		if err != nil || !bytes.Equal(dec, raw) {
			t.Fatalf("round trip of %q: %q vs %q (%v)", line, dec, raw, err)
		}
		if bytes.IndexByte(p.Password, 0) >= 0 {
			t.Fatalf("password with NUL accepted: %q", p.Password)
		}
		_ = base64.StdEncoding.EncodeToString(raw)
	})
}
