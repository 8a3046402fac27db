package httpdecoy

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/decnet/decnet/decoys"
)

// credential is one secret found in a request.
type credential struct {
	mechanism string
	principal string
	secret    []byte
}

// parseAuthorization extracts the credential of a Basic or Bearer
// Authorization value. Other schemes (Digest, NTLM, Negotiate) carry no
// reusable password and return ok false; they stay visible in the
// http.request headers.
//
// A Basic value that is not valid base64 is still recorded, with an empty
// principal and the raw token as the secret, because a probe that sends
// garbage is worth seeing. A decoded value without a colon is a user id
// with an empty password (RFC 7617 section 2 requires the colon).
func parseAuthorization(value string) (c credential, ok bool) {
	scheme, token, _ := strings.Cut(strings.TrimLeft(value, " \t"), " ")
	token = strings.Trim(token, " \t")

	switch {
	case strings.EqualFold(scheme, "Basic"):
		c.mechanism = decoys.MechanismHTTPBasic
		decoded, err := base64.StdEncoding.DecodeString(token)
		if err != nil {
			// Some clients drop the padding.
			decoded, err = base64.RawStdEncoding.DecodeString(token)
		}
		if err != nil {
			c.secret = []byte(token)
			return c, true
		}
		user, password, found := bytes.Cut(decoded, []byte{':'})
		c.principal = string(user)
		if found {
			c.secret = password
		}
		return c, true
	case strings.EqualFold(scheme, "Bearer"):
		c.mechanism = decoys.MechanismHTTPBearer
		c.secret = []byte(token)
		return c, true
	}
	return credential{}, false
}
