package httpdecoy

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm"
	"github.com/decnet/decnet/decoys/ntlm/ntlmtest"
)

// ntlmClient sends requests over one kept connection and reads the
// responses, as a client running an NTLM handshake must.
type ntlmClient struct {
	t  *testing.T
	w  io.Writer
	br *bufio.Reader
}

func newNTLMClient(t *testing.T, addr string) *ntlmClient {
	conn := dialFrom(t, "127.0.0.3", addr)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &ntlmClient{t: t, w: conn, br: bufio.NewReader(conn)}
}

func (c *ntlmClient) get(path, authorization string) (*http.Response, string) {
	c.t.Helper()
	raw := "GET " + path + " HTTP/1.1\r\nHost: mail.example.test\r\n"
	if authorization != "" {
		raw += "Authorization: " + authorization + "\r\n"
	}
	if _, err := io.WriteString(c.w, raw+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// challengeOf returns the CHALLENGE message of a 401 for scheme.
func (c *ntlmClient) challengeOf(resp *http.Response, scheme string) []byte {
	c.t.Helper()
	values := resp.Header.Values("WWW-Authenticate")
	if resp.StatusCode != 401 || len(values) != 1 || !strings.HasPrefix(values[0], scheme+" ") {
		c.t.Fatalf("%d with WWW-Authenticate %q, want one %s challenge", resp.StatusCode, values, scheme)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(values[0], scheme+" "))
	if err != nil {
		c.t.Fatal(err)
	}
	return raw
}

func checkOffer(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if got := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || strings.Join(got, ",") != "Negotiate,NTLM" {
		t.Errorf("%d with WWW-Authenticate %q, want 401 with Negotiate and NTLM", resp.StatusCode, got)
	}
	if want := iisErrorPage(iisCustomErrors[401][0], iisCustomErrors[401][1]); body != want {
		t.Errorf("401 body %q", body)
	}
}

// TestWindowsAuthNTLM runs the handshake IIS runs for Exchange Web
// Services on one connection and checks the raw 401, the CHALLENGE and
// the recorded response, which must verify against the password.
func TestWindowsAuthNTLM(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaIIS, Decky: "EXCH01", Options: map[string]string{"app": AppOWA}})

	head, body := splitResponse(t, exchange(t, ts.addr, "GET /EWS/Exchange.asmx HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
	page := iisErrorPage(iisCustomErrors[401][0], iisCustomErrors[401][1])
	want := "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/html\r\nServer: Microsoft-IIS/10.0\r\n" +
		"WWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\nX-Powered-By: ASP.NET\r\nDate: " + testDate +
		"\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(page))
	if head != want || body != page {
		t.Errorf("head\n%q\nwant\n%q", head, want)
	}

	c := newNTLMClient(t, ts.addr)
	negotiate := base64.StdEncoding.EncodeToString(ntlmtest.Negotiate())
	resp, _ := c.get("/EWS/Exchange.asmx", "NTLM "+negotiate)
	challenge := c.challengeOf(resp, "NTLM")
	if ntlm.MessageType(challenge) != ntlm.TypeChallenge || !bytes.Contains(challenge, []byte("E\x00X\x00C\x00H\x000\x001\x00")) {
		t.Fatalf("challenge % x does not name EXCH01", challenge)
	}
	auth, err := ntlmtest.Authenticate(challenge, "alice", "CORP", "WS01", "Secr3t!", [8]byte{3, 3, 3, 3, 3, 3, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	resp, body = c.get("/EWS/Exchange.asmx", "NTLM "+base64.StdEncoding.EncodeToString(auth))
	checkOffer(t, resp, body)
	// Replaying the message on the same connection records nothing: its
	// challenge was used.
	resp, body = c.get("/EWS/Exchange.asmx", "NTLM "+base64.StdEncoding.EncodeToString(auth))
	checkOffer(t, resp, body)

	got := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)
	a := got[0].GetAuthAttempt()
	if len(got) != 1 || got[0].GetSource().GetAddress() != "127.0.0.3" || a.GetMechanism() != decoys.MechanismHTTPNTLM ||
		a.GetSecretKind() != decoys.SecretNTLMv2 || a.GetPrincipal() != `CORP\alice` {
		t.Fatalf("%d attempts, first %s %s %q", len(got), a.GetMechanism(), a.GetSecretKind(), a.GetPrincipal())
	}
	if prefix := "alice::CORP:" + hex.EncodeToString(challenge[24:32]) + ":"; !strings.HasPrefix(string(a.GetSecret()), prefix) {
		t.Errorf("secret %q does not start with %q", a.GetSecret(), prefix)
	}
	if _, _, err := ntlmtest.VerifyV2(a.GetSecret(), "Secr3t!"); err != nil {
		t.Error(err)
	}
}

// TestWindowsAuthNegotiate runs NTLM under the Negotiate scheme, bare and
// wrapped in SPNEGO as Windows clients send it, on each protected
// directory.
func TestWindowsAuthNegotiate(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaIIS, Options: map[string]string{"app": AppOWA}})
	c := newNTLMClient(t, ts.addr)
	negotiate := ntlmtest.Negotiate()

	for i, path := range []string{"/autodiscover/autodiscover.xml", "/rpc/rpcproxy.dll", "/mapi/emsmdb/", "/OAB/"} {
		// Bare NTLM under Negotiate gets a bare CHALLENGE.
		resp, _ := c.get(path, "Negotiate "+base64.StdEncoding.EncodeToString(negotiate))
		challenge := c.challengeOf(resp, "Negotiate")
		if ntlm.MessageType(challenge) != ntlm.TypeChallenge {
			t.Fatalf("%s: challenge % x", path, challenge)
		}

		// SPNEGO: a NegTokenInit with the NEGOTIATE message gets a
		// NegTokenResp, then a NegTokenResp carries AUTHENTICATE.
		init := derTLV(0x60, append(derTLV(0x06, []byte{0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}),
			derTLV(0xa0, derTLV(0x30, append(derTLV(0xa0, derTLV(0x30, ntlmSSPOID)), derTLV(0xa2, derTLV(0x04, negotiate))...)))...))
		resp, _ = c.get(path, "Negotiate "+base64.StdEncoding.EncodeToString(init))
		token := c.challengeOf(resp, "Negotiate")
		if token[0] != 0xa1 || !bytes.Contains(token, ntlmSSPOID) {
			t.Fatalf("%s: NegTokenResp % x", path, token)
		}
		challenge = token[bytes.Index(token, []byte(ntlm.Signature)):]
		auth, err := ntlmtest.Authenticate(challenge, "bob", "CORP", "", "hunter2", [8]byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		resp, body := c.get(path, "Negotiate "+base64.StdEncoding.EncodeToString(derTLV(0xa1, derTLV(0x30, derTLV(0xa2, derTLV(0x04, auth))))))
		checkOffer(t, resp, body)

		a := ts.rec.waitKind(t, decoys.KindAuthAttempt, i+1)[i].GetAuthAttempt()
		if a.GetMechanism() != decoys.MechanismHTTPNTLM || a.GetPrincipal() != `CORP\bob` {
			t.Errorf("%s: attempt %s %q", path, a.GetMechanism(), a.GetPrincipal())
		}
		if _, _, err := ntlmtest.VerifyV2(a.GetSecret(), "hunter2"); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// TestWindowsAuthScope checks where Windows authentication applies: not
// on OWA's forms logon, not without Exchange, and not on another
// connection than the one that got the CHALLENGE.
func TestWindowsAuthScope(t *testing.T) {
	plain := startService(t, decoys.Config{Persona: PersonaIIS})
	if raw := exchange(t, plain.addr, "GET /EWS/Exchange.asmx HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(raw, "HTTP/1.1 404 Not Found\r\n") {
		t.Errorf("IIS without Exchange: %q", raw[:min(len(raw), 60)])
	}

	ts := startService(t, decoys.Config{Persona: PersonaIIS, Options: map[string]string{"app": AppOWA}})
	if raw := exchange(t, ts.addr, "GET /owa/auth/logon.aspx HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(raw, "HTTP/1.1 200 OK\r\n") {
		t.Errorf("OWA logon: %q", raw[:min(len(raw), 60)])
	}
	if raw := exchange(t, ts.addr, "GET /ewsx HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(raw, "HTTP/1.1 404 Not Found\r\n") {
		t.Errorf("/ewsx: %q", raw[:min(len(raw), 60)])
	}

	first := newNTLMClient(t, ts.addr)
	resp, _ := first.get("/ews/", "NTLM "+base64.StdEncoding.EncodeToString(ntlmtest.Negotiate()))
	auth, err := ntlmtest.Authenticate(first.challengeOf(resp, "NTLM"), "carol", "CORP", "", "pw", [8]byte{})
	if err != nil {
		t.Fatal(err)
	}
	second := newNTLMClient(t, ts.addr)
	resp, body := second.get("/ews/", "NTLM "+base64.StdEncoding.EncodeToString(auth))
	checkOffer(t, resp, body)
	// Garbage and a malformed NEGOTIATE get the plain offer.
	for _, value := range []string{"NTLM !!!", "NTLM " + base64.StdEncoding.EncodeToString([]byte("NTLMSSP\x00\x01\x00\x00\x00")), "Negotiate YIIB"} {
		resp, body := second.get("/ews/", value)
		checkOffer(t, resp, body)
	}
	if n := len(ts.rec.byKind(decoys.KindAuthAttempt)); n != 0 {
		t.Errorf("%d attempts recorded, want none", n)
	}
}
