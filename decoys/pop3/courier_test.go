package pop3

import (
	"strconv"
	"testing"

	"github.com/decnet/decnet/decoys"
)

// courierCapa is the pre-TLS CAPA reply of Debian 12's courierpop3login.
const courierCapa = "+OK Here's what I can do:\r\nSTLS\r\nTOP\r\nUSER\r\nLOGIN-DELAY 10\r\nPIPELINING\r\nUIDL\r\nUTF8 USER\r\nIMPLEMENTATION Courier Mail Server\r\n.\r\n"

// TestCourierSession walks the Courier persona through the replies read
// off the real courierpop3login and courierpop3d: plain-text logins
// before STLS, AUTH PLAIN without advertised SASL, and Courier's own
// transaction texts.
func TestCourierSession(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaCourier, Options: map[string]string{"login": "list", "credentials": "alice:wonderland"}})
	c := dial(t, "127.0.0.3", ts.addr)
	c.expect("+OK Hello there.\r\n")
	c.send("CAPA\r\n")
	c.expectBlock(courierCapa)
	c.send("FOO\r\nPASS x\r\nAUTH\r\nAPOP alice 0123\r\nSTAT\r\n")
	c.expect("-ERR Invalid command.\r\n", "-ERR USER/PASS required.\r\n", "-ERR Invalid command.\r\n",
		"-ERR Invalid command.\r\n", "-ERR Invalid command.\r\n")
	c.send("USER alice\r\nPASS wrong\r\n")
	c.expect("+OK Password required.\r\n", "-ERR Login failed.\r\n")
	c.send("AUTH PLAIN\r\n")
	c.expect("+ \r\n")
	c.send("*\r\n")
	c.expect("-ERR Authentication aborted.\r\n")
	c.send("AUTH PLAIN AGFsaWNlAHdyb25n\r\nAUTH FOO\r\n")
	c.expect("-ERR Authentication failed.\r\n", "-ERR Authentication failed.\r\n")
	c.send("USER alice\r\nPASS wonderland\r\n")
	c.expect("+OK Password required.\r\n", "+OK logged in.\r\n")

	box := ts.svc.inboxFor("alice")
	c.send("LIST\r\n")
	c.expect("+OK POP3 clients that break here, they violate STD53.\r\n")
	for i, m := range box.Messages {
		c.expect(strconv.Itoa(i+1) + " " + strconv.Itoa(len(m.Raw)) + "\r\n")
	}
	c.expect(".\r\n")
	c.send("RETR 1\r\n")
	c.expect("+OK " + strconv.Itoa(len(box.Messages[0].Raw)) + " octets follow.\r\n")
	c.expectBlock(string(box.Messages[0].Raw) + ".\r\n")
	c.send("LIST 99\r\nLIST x\r\nNOOP\r\nDELE 1\r\nRETR 1\r\nRSET\r\nFOO\r\nQUIT\r\n")
	c.expect("-ERR Invalid message number.\r\n", "-ERR Invalid message number.\r\n", "+OK Yup.\r\n", "+OK Deleted.\r\n",
		"-ERR Invalid message number.\r\n", "+OK Resurrected.\r\n", "-ERR Invalid command.\r\n", "+OK Bye-bye.\r\n")

	checkAuths(t, ts.rec, "127.0.0.3",
		wantAuth{decoys.MechanismPOP3Pass, "alice", "wrong", false},
		wantAuth{decoys.MechanismSASLPlain, "alice", "wrong", false},
		wantAuth{decoys.MechanismPOP3Pass, "alice", "wonderland", true})
}
