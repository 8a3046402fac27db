package pop3

import (
	"testing"

	"github.com/decnet/decnet/decoys"
)

// TestExchangeBanner checks the Exchange 2013-2019 banner: the server
// name in UTF-16LE base64, as nmap's "Microsoft Exchange Online pop3d"
// match expects.
func TestExchangeBanner(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExchange, Decky: "EX01"})
	c := dial(t, "127.0.0.2", ts.addr)
	// "ex01" in UTF-16LE is 65 00 78 00 30 00 31 00.
	c.expect("+OK The Microsoft Exchange POP3 service is ready. [ZQB4ADAAMQA=]\r\n")
	c.send("CAPA\r\n")
	c.expectBlock("+OK\r\nTOP\r\nUIDL\r\nSASL NTLM GSSAPI\r\nUSER\r\nSTLS\r\n.\r\n")
	c.send("USER bob\r\nPASS pw\r\nQUIT\r\n")
	c.expect("-ERR Command is not valid in this state.\r\n", "-ERR Command is not valid in this state.\r\n",
		"+OK Microsoft Exchange Server POP3 server signing off.\r\n")
	checkAuths(t, ts.rec, "127.0.0.2", wantAuth{decoys.MechanismPOP3Pass, "bob", "pw", false})
}

// TestAPOP offers APOP as Dovecot does with auth_mechanisms = apop: the
// banner carries the challenge and the attempt records challenge and
// digest.
func TestAPOP(t *testing.T) {
	ts := startService(t, decoys.Config{Options: map[string]string{OptionAuthMechanisms: "plain apop"}})
	c := dial(t, "127.0.0.2", ts.addr)
	banner := c.line()
	const prefix = "+OK Dovecot (Debian) ready. <"
	if len(banner) < len(prefix) || banner[:len(prefix)] != prefix {
		t.Fatalf("banner %q", banner)
	}
	challenge := banner[len(prefix)-1 : len(banner)-2]
	c.send("APOP bob 0123456789abcdef0123456789abcdef\r\nAPOP bob short\r\n")
	c.expect("-ERR [AUTH] Authentication failed.\r\n", "-ERR Invalid parameters.\r\n")
	checkAuths(t, ts.rec, "127.0.0.2", wantAuth{decoys.MechanismPOP3APOP, "bob", challenge + " 0123456789abcdef0123456789abcdef", false})
}
