package httpdecoy

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"sync"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm"
)

// maxNTLMToken caps the base64 token of an NTLM or Negotiate
// Authorization value. An AUTHENTICATE message of a Windows client is
// under 2 KiB; a SPNEGO-wrapped one a little more.
const maxNTLMToken = 16 << 10

// windowsAuthPaths are the virtual directories of Exchange 2019 that
// IIS protects with Windows authentication (Negotiate and NTLM) in a
// default install: Exchange Web Services, Autodiscover, Outlook
// Anywhere, MAPI over HTTP and the offline address book. ActiveSync is
// left out: its default is Basic authentication.
var windowsAuthPaths = []string{"/ews", "/autodiscover", "/rpc", "/mapi", "/oab"}

// windowsAuth is IIS's Windows authentication in front of Exchange's
// protected directories. It runs the NTLM handshake over a kept
// connection (NEGOTIATE, then a CHALLENGE in the 401, then
// AUTHENTICATE) and records the AUTHENTICATE message.
type windowsAuth struct {
	target ntlm.Target
}

// newWindowsAuth returns the Windows authentication of a decky, or nil
// where the decky serves none: only IIS with Exchange's logon has
// directories that use it, since a default IIS site enables only
// anonymous access.
func newWindowsAuth(personaID, app string, seed []byte, computer string) *windowsAuth {
	if personaID != PersonaIIS || app != AppOWA {
		return nil
	}
	return &windowsAuth{target: ntlm.NewTarget(computer, ntlm.Domain(seed))}
}

// protects reports whether IIS requires Windows authentication on path.
func (w *windowsAuth) protects(path string) bool {
	p := strings.ToLower(path)
	for _, dir := range windowsAuthPaths {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// ntlmConn is the NTLM state of one connection: the server challenge of
// the CHALLENGE last sent on it, to which the AUTHENTICATE message
// responds. The streams of an HTTP/2 connection share it, hence the lock.
type ntlmConn struct {
	mu        sync.Mutex
	challenge [8]byte
	pending   bool
}

type ntlmConnKey struct{}

// withNTLMConn gives ctx, the context of one connection, its NTLM state.
func withNTLMConn(ctx context.Context) context.Context {
	return context.WithValue(ctx, ntlmConnKey{}, &ntlmConn{})
}

func ntlmConnOf(ctx context.Context) *ntlmConn {
	if c, ok := ctx.Value(ntlmConnKey{}).(*ntlmConn); ok {
		return c
	}
	return &ntlmConn{}
}

func (c *ntlmConn) set(challenge [8]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.challenge, c.pending = challenge, true
}

// take returns the pending challenge once: a second AUTHENTICATE message
// needs a new CHALLENGE, as with IIS.
func (c *ntlmConn) take() ([8]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.challenge, c.pending
	c.pending = false
	return ch, ok
}

// serveWindowsAuth responds to a request for a protected directory: the 401
// that offers Negotiate and NTLM, or the 401 carrying the CHALLENGE when
// the request holds a NEGOTIATE message. An AUTHENTICATE message is
// recorded and refused with the first 401, as IIS refuses a wrong
// password.
func (s *Service) serveWindowsAuth(ctx context.Context, sess *decoys.Session, req *request, page pageInfo) *response {
	state := ntlmConnOf(ctx)
	scheme, msg, spnego := ntlmAuthorization(req)

	switch ntlm.MessageType(msg) {
	case ntlm.TypeNegotiate:
		if _, err := ntlm.ParseNegotiate(msg); err != nil {
			break
		}
		challenge := ntlm.NewServerChallenge()
		state.set(challenge)
		reply := ntlm.ChallengeMessage(s.windowsAuth.target, challenge, s.now())
		if spnego {
			reply = spnegoChallenge(reply)
		}
		return s.windowsAuthResponse(page, scheme+" "+base64.StdEncoding.EncodeToString(reply))
	case ntlm.TypeAuthenticate:
		challenge, ok := state.take()
		if !ok {
			break
		}
		if a, err := ntlm.ParseAuthenticate(msg); err == nil {
			if cred, ok := a.Credential(challenge); ok {
				s.emitAuth(sess, credential{mechanism: decoys.MechanismHTTPNTLM, secretKind: cred.SecretKind,
					principal: cred.Principal, secret: cred.Secret})
			}
		}
	}
	return s.windowsAuthResponse(page, "Negotiate", "NTLM")
}

// windowsAuthResponse is IIS's 401 with one WWW-Authenticate header per
// challenge, in the order IIS sends them.
func (s *Service) windowsAuthResponse(page pageInfo, challenges ...string) *response {
	page.status = 401
	resp := s.persona.errorResponse(page)
	for _, c := range challenges {
		resp.extra = append(resp.extra, header{name: "WWW-Authenticate", value: c})
	}
	return resp
}

// ntlmAuthorization finds the first NTLM or Negotiate Authorization
// value of req and returns its scheme as sent, the NTLM message it
// carries and whether SPNEGO wrapped it. Negotiate carries a bare NTLM
// message from clients that skip SPNEGO, or one inside a SPNEGO token.
func ntlmAuthorization(req *request) (scheme string, msg []byte, spnego bool) {
	for _, value := range req.authorization {
		sch, token, _ := strings.Cut(strings.TrimLeft(value, " \t"), " ")
		if !strings.EqualFold(sch, "NTLM") && !strings.EqualFold(sch, "Negotiate") {
			continue
		}
		token = strings.Trim(token, " \t")
		if len(token) > maxNTLMToken {
			return sch, nil, false
		}
		raw, err := base64.StdEncoding.DecodeString(token)
		if err != nil {
			return sch, nil, false
		}
		if bytes.HasPrefix(raw, []byte(ntlm.Signature)) {
			return sch, raw, false
		}
		// A SPNEGO token (RFC 4178) embeds the NTLM message whole. The
		// DER around it need not be parsed, because the signature
		// cannot occur in the mechanism OIDs before the message.
		if i := bytes.Index(raw, []byte(ntlm.Signature)); i > 0 && (raw[0] == 0x60 || raw[0] == 0xa1) {
			return sch, raw[i:], true
		}
		return sch, nil, false
	}
	return "", nil, false
}

// ntlmSSPOID is the DER of the NTLMSSP mechanism, 1.3.6.1.4.1.311.2.2.10.
var ntlmSSPOID = []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}

// spnegoChallenge wraps a CHALLENGE message in the NegTokenResp a
// Windows server sends (RFC 4178 section 4.2.2): negState
// accept-incomplete, supportedMech NTLMSSP, and the message as the
// responseToken.
func spnegoChallenge(msg []byte) []byte {
	var seq []byte
	seq = append(seq, derTLV(0xa0, []byte{0x0a, 0x01, 0x01})...)
	seq = append(seq, derTLV(0xa1, ntlmSSPOID)...)
	seq = append(seq, derTLV(0xa2, derTLV(0x04, msg))...)
	return derTLV(0xa1, derTLV(0x30, seq))
}

// derTLV encodes one DER element with a definite length.
func derTLV(tag byte, content []byte) []byte {
	out := []byte{tag}
	switch n := len(content); {
	case n < 0x80:
		out = append(out, byte(n))
	case n <= 0xff:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n)) //nolint:gosec // G115: messages stay under 64 KiB
	}
	return append(out, content...)
}
