package mailbox

import (
	"bytes"
	"encoding/base64"
	"errors"
)

// MaxSASLLine caps one SASL line (initial response or continuation), as
// Dovecot's login processes do (LOGIN_MAX_AUTH_BUF_SIZE).
const MaxSASLLine = 8192

// ErrBadBase64 is returned for a SASL response that is not valid base64.
var ErrBadBase64 = errors.New("invalid base64 in sasl response")

// ErrBadPlain is returned for a PLAIN response without exactly three
// NUL-separated fields.
var ErrBadPlain = errors.New("malformed sasl plain response")

// DecodeBase64 decodes a SASL response line. "=" stands for an empty
// response (RFC 4959). Dovecot accepts missing padding, so this does too.
func DecodeBase64(line []byte) ([]byte, error) {
	if len(line) > MaxSASLLine {
		return nil, ErrBadBase64
	}
	if string(line) == "=" {
		return []byte{}, nil
	}
	trimmed := bytes.TrimRight(line, "=")
	out, err := base64.RawStdEncoding.DecodeString(string(trimmed))
	if err != nil {
		return nil, ErrBadBase64
	}
	return out, nil
}

// Plain is a decoded SASL PLAIN response (RFC 4616).
type Plain struct {
	AuthzID  string
	AuthcID  string
	Password []byte
}

// DecodePlain decodes the base64 PLAIN response message.
func DecodePlain(line []byte) (Plain, error) {
	raw, err := DecodeBase64(line)
	if err != nil {
		return Plain{}, err
	}
	parts := bytes.SplitN(raw, []byte{0}, 3)
	if len(parts) != 3 || bytes.IndexByte(parts[2], 0) >= 0 {
		return Plain{}, ErrBadPlain
	}
	return Plain{AuthzID: string(parts[0]), AuthcID: string(parts[1]), Password: parts[2]}, nil
}
