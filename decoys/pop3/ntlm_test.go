package pop3

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm"
	"github.com/decnet/decnet/decoys/ntlm/ntlmtest"
)

// TestExchangeAuthNTLM runs AUTH NTLM against the Exchange persona
// before STLS: the CHALLENGE names the decky, the AUTHENTICATE message is
// recorded as a line the password verifies, and the client gets
// Exchange's failure reply.
func TestExchangeAuthNTLM(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExchange, Decky: "EX01"})
	c := dial(t, "127.0.0.2", ts.addr)
	c.line()
	negotiate := base64.StdEncoding.EncodeToString(ntlmtest.Negotiate())

	c.send("AUTH NTLM\r\n")
	c.expect("+ \r\n")
	c.send(negotiate + "\r\n")
	reply := c.line()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(reply, "+ "), "\r\n"))
	if err != nil || ntlm.MessageType(raw) != ntlm.TypeChallenge {
		t.Fatalf("challenge %q", reply)
	}
	if !bytes.Contains(raw, []byte("E\x00X\x000\x001\x00")) {
		t.Errorf("challenge does not name EX01: % x", raw)
	}
	auth, err := ntlmtest.Authenticate(raw, "alice", "CORP", "WS01", "Secr3t!", [8]byte{7, 7, 7, 7, 7, 7, 7, 7})
	if err != nil {
		t.Fatal(err)
	}
	c.send(base64.StdEncoding.EncodeToString(auth) + "\r\n")
	c.expect("-ERR Logon failure: unknown user name or bad password.\r\n")

	// The NEGOTIATE message as an initial response, then a reply that
	// is not base64, which Exchange fails at once.
	c.send("AUTH NTLM " + negotiate + "\r\n")
	if r := c.line(); !strings.HasPrefix(r, "+ TlRMTVNTUAACAAAA") {
		t.Fatalf("challenge after an initial response %q", r)
	}
	c.send("!!\r\n")
	c.expect("-ERR Logon failure: unknown user name or bad password.\r\n")

	got := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)
	a := got[0].GetAuthAttempt()
	if len(got) != 1 || a.GetMechanism() != decoys.MechanismSASLNTLM || a.GetSecretKind() != decoys.SecretNTLMv2 || a.GetPrincipal() != `CORP\alice` {
		t.Fatalf("%d attempts, first %s %s %q", len(got), a.GetMechanism(), a.GetSecretKind(), a.GetPrincipal())
	}
	if want := "alice::CORP:" + hex.EncodeToString(raw[24:32]) + ":"; !strings.HasPrefix(string(a.GetSecret()), want) {
		t.Errorf("secret %q does not start with %q", a.GetSecret(), want)
	}
	if _, _, err := ntlmtest.VerifyV2(a.GetSecret(), "Secr3t!"); err != nil {
		t.Error(err)
	}
}

// TestDovecotRejectsNTLM checks that a persona that does not offer NTLM
// still rejects it as an unknown mechanism.
func TestDovecotRejectsNTLM(t *testing.T) {
	ts := startService(t, decoys.Config{})
	c := dial(t, "127.0.0.2", ts.addr)
	c.line()
	c.send("AUTH NTLM\r\n")
	c.expect("-ERR [AUTH] Unsupported authentication mechanism.\r\n")
}
