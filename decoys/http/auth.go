package httpdecoy

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/decnet/decnet/decoys"
)

// maxDigestBytes caps the Digest credentials kept as the secret and
// parsed for the username.
const maxDigestBytes = 4 << 10

// maxDigestParams caps the auth-params parseDigest reads.
const maxDigestParams = 32

// credential is one secret found in a request. An empty secretKind means
// decoys.SecretPlaintext.
type credential struct {
	mechanism  string
	secretKind string
	principal  string
	secret     []byte
}

// parseAuthorization extracts the credential of a Basic, Bearer or Digest
// Authorization value. Other schemes return ok false; NTLM and Negotiate
// need the connection's handshake state, which serveWindowsAuth keeps.
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
	case strings.EqualFold(scheme, "Digest"):
		return digestCredential(token), true
	}
	return credential{}, false
}

// digestCredential records the Digest credentials whole, capped at
// maxDigestBytes, with the username as the principal.
func digestCredential(credentials string) credential {
	if len(credentials) > maxDigestBytes {
		credentials = credentials[:maxDigestBytes]
	}
	params := parseDigest(credentials)

	c := credential{
		mechanism:  decoys.MechanismHTTPDigest,
		secretKind: decoys.SecretHTTPDigestMD5,
		principal:  params["username"],
		secret:     []byte(credentials),
	}
	if c.principal == "" {
		c.principal = decodeExtValue(params["username*"])
	}
	// RFC 7616 section 3.3: MD5 is the default, and the -sess variants
	// use the same hash.
	switch strings.ToUpper(params["algorithm"]) {
	case "SHA-256", "SHA-256-SESS":
		c.secretKind = decoys.SecretHTTPDigestSHA256
	case "SHA-512-256", "SHA-512-256-SESS":
		c.secretKind = decoys.SecretHTTPDigestSHA512256
	}
	return c
}

// parseDigest splits Digest credentials into their auth-params
// (RFC 9110 section 11.2): comma-separated name=token or
// name="quoted-string" pairs. Names are lower-cased; the first of a
// repeated name wins. It stops at maxDigestParams params or at the first
// malformed pair, returning what it read until then.
func parseDigest(s string) map[string]string {
	params := make(map[string]string)
	for len(params) < maxDigestParams {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			break
		}
		name := strings.ToLower(strings.TrimRight(s[:eq], " \t"))
		if strings.ContainsAny(name, " \t,\"") {
			break
		}
		s = strings.TrimLeft(s[eq+1:], " \t")

		var value string
		if strings.HasPrefix(s, `"`) {
			v, rest, ok := cutQuoted(s[1:])
			if !ok {
				break
			}
			value, s = v, rest
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			value, s = s[:end], s[end:]
		}
		if _, seen := params[name]; !seen {
			params[name] = value
		}
	}
	return params
}

// cutQuoted reads a quoted-string body up to its closing quote, undoing
// backslash escapes, and returns the value and the text after the quote.
func cutQuoted(s string) (value, rest string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], true
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// decodeExtValue decodes an RFC 8187 ext-value such as
// UTF-8”J%C3%A4ger, the form of Digest's username* parameter. A value
// it cannot decode is returned as sent.
func decodeExtValue(v string) string {
	parts := strings.SplitN(v, "'", 3)
	if len(parts) != 3 {
		return v
	}
	decoded, err := url.PathUnescape(parts[2])
	if err != nil {
		return v
	}
	return decoded
}
