package smtp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm"
	"github.com/decnet/decnet/decoys/ntlm/ntlmtest"
)

// TestExchangeNTLM runs AUTH NTLM against the Exchange persona with and
// without an initial NEGOTIATE message, and checks that the AUTHENTICATE
// message is recorded as a line the password verifies, while the client
// gets Exchange's failure reply.
func TestExchangeNTLM(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExchange}, false)
	c := dialFrom(t, "127.0.0.6", ts.addr)
	c.readReply(5 * time.Second)
	c.exchange("EHLO x\r\n")
	const failed = "535 5.7.3 Authentication unsuccessful\r\n"
	negotiate := base64.StdEncoding.EncodeToString(ntlmtest.Negotiate())
	var challenges []string

	answer := func(reply, user, password string) string {
		t.Helper()
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(reply, "334 "), "\r\n"))
		if err != nil || ntlm.MessageType(raw) != ntlm.TypeChallenge {
			t.Fatalf("challenge reply %q", reply)
		}
		challenges = append(challenges, hex.EncodeToString(raw[24:32]))
		auth, err := ntlmtest.Authenticate(raw, user, "CORP", "WS01", password, [8]byte{1, 1, 1, 1, 1, 1, 1, 1})
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(auth)
	}

	if r := c.exchange("AUTH NTLM\r\n"); r != "334 NTLM supported\r\n" {
		t.Fatalf("AUTH NTLM reply %q", r)
	}
	if r := c.exchange(answer(c.exchange(negotiate+"\r\n"), "alice", "Secr3t!") + "\r\n"); r != failed {
		t.Errorf("reply to AUTHENTICATE %q", r)
	}
	if r := c.exchange(answer(c.exchange("AUTH NTLM "+negotiate+"\r\n"), "bob", "hunter2") + "\r\n"); r != failed {
		t.Errorf("reply to AUTHENTICATE after an initial response %q", r)
	}
	// A message that is not an AUTHENTICATE fails alike and records
	// nothing.
	c.exchange("AUTH NTLM " + negotiate + "\r\n")
	if r := c.exchange(negotiate + "\r\n"); r != failed {
		t.Errorf("reply to a second NEGOTIATE %q", r)
	}

	got := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 2)
	for i, w := range []struct{ user, password string }{{"alice", "Secr3t!"}, {"bob", "hunter2"}} {
		a := got[i].GetAuthAttempt()
		if a.GetMechanism() != decoys.MechanismSASLNTLM || a.GetSecretKind() != decoys.SecretNTLMv2 || a.GetPrincipal() != `CORP\`+w.user {
			t.Errorf("attempt %d: %s %s %q", i, a.GetMechanism(), a.GetSecretKind(), a.GetPrincipal())
		}
		if user, dom, err := ntlmtest.VerifyV2(a.GetSecret(), w.password); err != nil || user != w.user || dom != "CORP" {
			t.Errorf("attempt %d: %q %q %v", i, user, dom, err)
		}
		if want := w.user + "::CORP:" + challenges[i] + ":"; !strings.HasPrefix(string(a.GetSecret()), want) {
			t.Errorf("attempt %d: secret %q does not start with %q", i, a.GetSecret(), want)
		}
	}
	if n := len(ts.emitter.ofKind(decoys.KindAuthAttempt)); n != 2 {
		t.Errorf("%d attempts recorded, want 2", n)
	}
}

// TestExchangeNTLMTarget checks that the CHALLENGE names the same
// computer and domain as the decky's IMAP and POP3 services, whatever
// host name the SMTP banner shows.
func TestExchangeNTLMTarget(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExchange, Decky: "exch01"}, false)
	c := dialFrom(t, "127.0.0.6", ts.addr)
	c.readReply(5 * time.Second)
	c.exchange("EHLO x\r\n")
	reply := c.exchange("AUTH NTLM " + base64.StdEncoding.EncodeToString(ntlmtest.Negotiate()) + "\r\n")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(reply, "334 "), "\r\n"))
	if err != nil {
		t.Fatalf("challenge reply %q: %v", reply, err)
	}

	want := ntlm.TargetFor(testSeed, "exch01")
	if want.NetBIOSComputer != "EXCH01" {
		t.Fatalf("target %+v", want)
	}
	for _, name := range []string{want.NetBIOSDomain, want.NetBIOSComputer, want.DNSDomain, want.DNSComputer} {
		if !bytes.Contains(raw, utf16LE(name)) {
			t.Errorf("challenge lacks %q", name)
		}
	}
	banner, _, _ := strings.Cut(ts.svc.Hostname(), ".")
	if bytes.Contains(raw, utf16LE(strings.ToUpper(banner)+".")) {
		t.Errorf("challenge names the banner host %q", ts.svc.Hostname())
	}
}

// utf16LE encodes s as NTLM carries names in Unicode messages.
func utf16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}
