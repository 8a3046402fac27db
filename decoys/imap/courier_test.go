package imap

import (
	"testing"

	"github.com/decnet/decnet/decoys"
)

// courierCaps is the pre-TLS capability list of Debian 12's imaplogin.
const courierCaps = "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION STARTTLS ENABLE UTF8=ACCEPT"

// TestCourierBeforeLogin replays a transcript of the real imaplogin:
// the banner nmap names, NO for unknown commands and ID, one failure
// text for every way a login fails, and a plain "LOGIN Ok." reply.
func TestCourierBeforeLogin(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaCourier, Options: map[string]string{"login": "list", "credentials": "alice:wonderland", "auth_mechanisms": "plain login"}})
	c := dial(t, "127.0.0.2", ts.addr)
	c.expect("* OK [CAPABILITY " + courierCaps + "] Courier-IMAP ready. Copyright 1998-2019 Double Precision, Inc.  See COPYING for distribution information.\r\n")
	c.send("a CAPABILITY\r\nb FOO\r\nc ID NIL\r\nd NOOP\r\n")
	c.expect("* CAPABILITY "+courierCaps+"\r\n", "a OK CAPABILITY completed\r\n",
		"b NO Error in IMAP command received by server.\r\n", "c NO Error in IMAP command received by server.\r\n",
		"d OK NOOP completed\r\n")
	c.send("e LOGIN alice wrong\r\nf AUTHENTICATE PLAIN\r\n")
	c.expect("e NO Login failed.\r\n", "+ \r\n")
	c.send("*\r\ng AUTHENTICATE FOO\r\nh AUTHENTICATE LOGIN\r\n")
	c.expect("f NO Login failed.\r\n", "g NO Login failed.\r\n", "+ VXNlcm5hbWU6\r\n")
	c.send("YWxpY2U=\r\n")
	c.expect("+ UGFzc3dvcmQ6\r\n")
	c.send("d29uZw==\r\ni AUTHENTICATE PLAIN AGFsaWNlAHdyb25n\r\nj LOGIN alice wonderland\r\n")
	c.expect("h NO Login failed.\r\n", "i NO Login failed.\r\n", "j OK LOGIN Ok.\r\n")
	c.send("k LOGOUT\r\n")
	c.expect("* BYE Courier-IMAP server shutting down\r\n", "k OK LOGOUT completed\r\n")

	checkAuths(t, ts.rec, "127.0.0.2",
		wantAuth{decoys.MechanismIMAPLogin, "alice", "wrong", false},
		wantAuth{decoys.MechanismSASLLogin, "alice", "wong", false},
		wantAuth{decoys.MechanismSASLPlain, "alice", "wrong", false},
		wantAuth{decoys.MechanismIMAPLogin, "alice", "wonderland", true})
}
