package imap

import (
	"testing"

	"github.com/decnet/decnet/decoys"
)

func TestExchangeBeforeLogin(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExchange, Decky: "EX01"})
	c := dial(t, "127.0.0.2", ts.addr)
	c.expect("* OK The Microsoft Exchange IMAP4 service is ready. [ZQB4ADAAMQA=]\r\n")
	c.send("a CAPABILITY\r\nb LOGIN bob pw\r\nc FOO\r\nd LOGOUT\r\n")
	c.expect("* CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI STARTTLS LOGINDISABLED UIDPLUS MOVE ID CHILDREN IDLE NAMESPACE LITERAL+\r\n",
		"a OK CAPABILITY completed.\r\n",
		"b BAD Command received in Invalid state.\r\n",
		"c BAD Command Error. 10\r\n",
		"* BYE Microsoft Exchange Server IMAP4 server signing off.\r\n", "d OK LOGOUT completed.\r\n")
	checkAuths(t, ts.rec, "127.0.0.2", wantAuth{decoys.MechanismIMAPLogin, "bob", "pw", false})
}
