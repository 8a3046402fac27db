package pop3

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
)

const dovecotCapaPlain = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nSASL\r\n.\r\n"
const dovecotCapaTLS = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN\r\n.\r\n"

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name string
		cfg  decoys.Config
	}{
		{"unknown persona", decoys.Config{Persona: "qmail", Seed: testSeed}},
		{"unknown option", decoys.Config{Seed: testSeed, Options: map[string]string{"banner": "x"}}},
		{"bad mechanism", decoys.Config{Seed: testSeed, Options: map[string]string{OptionAuthMechanisms: "cram-md5"}}},
		{"bad yes/no", decoys.Config{Seed: testSeed, Options: map[string]string{OptionDisablePlaintextAuth: "maybe"}}},
		{"short seed", decoys.Config{Seed: []byte("short")}},
		{"list without credentials", decoys.Config{Seed: testSeed, Options: map[string]string{"login": "list"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Emitter = &recorder{added: make(chan struct{}, 1)}
			if _, err := New(tc.cfg); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
	_, err := New(decoys.Config{Persona: "qmail", Seed: testSeed, Emitter: &recorder{}})
	if !errors.Is(err, ErrUnknownPersona) {
		t.Errorf("error %v, want ErrUnknownPersona", err)
	}
}

// TestDovecotBeforeTLS replays a transcript of Debian 12's dovecot-pop3d
// seen from a non-local address.
func TestDovecotBeforeTLS(t *testing.T) {
	ts := startService(t, decoys.Config{})
	c := dial(t, "127.0.0.2", ts.addr)
	c.expect("+OK Dovecot (Debian) ready.\r\n")
	c.send("CAPA\r\n")
	c.expectBlock(dovecotCapaPlain)
	c.send("USER alice\r\nPASS secret1\r\n")
	c.expect("-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n",
		"-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n")
	c.send("AUTH\r\n")
	c.expect("+OK\r\n", ".\r\n")
	c.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00bob\x00pw2")) + "\r\n")
	c.expect("-ERR [AUTH] Plaintext authentication disabled.\r\n")
	c.send("AUTH LOGIN\r\n")
	c.expect("-ERR [AUTH] Unsupported authentication mechanism.\r\n")
	c.send("APOP a b\r\n")
	c.expect("-ERR APOP not enabled.\r\n")
	c.send("QUIT\r\n")
	c.expect("+OK Logging out\r\n")
	checkAuths(t, ts.rec, "127.0.0.2",
		wantAuth{decoys.MechanismPOP3Pass, "alice", "secret1", false},
		wantAuth{decoys.MechanismSASLPlain, "bob", "pw2", false})
}

func TestTooManyBadCommands(t *testing.T) {
	ts := startService(t, decoys.Config{})
	c := dial(t, "127.0.0.2", ts.addr)
	c.expect("+OK Dovecot (Debian) ready.\r\n")
	c.send("\r\nNOOP\nA" + strings.Repeat("x", 600) + "\r\nQUIT\r\n")
	got := c.rest()
	want := "-ERR Unknown command.\r\n-ERR Unknown command.\r\n-ERR Unknown command.\r\n-ERR Too many invalid bad commands.\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestInputBufferFull(t *testing.T) {
	ts := startService(t, decoys.Config{})
	c := dial(t, "127.0.0.2", ts.addr)
	c.expect("+OK Dovecot (Debian) ready.\r\n")
	c.send("USER " + strings.Repeat("a", 2000) + "\r\n")
	if got := c.rest(); got != "-ERR Input buffer full, aborting\r\n" {
		t.Errorf("got %q", got)
	}
}

func TestSplitLoginCommand(t *testing.T) {
	cases := []struct{ line, name, rest string }{
		{"CAPA", "CAPA", ""},
		{"capa\r", "CAPA", ""},
		{"user bob", "USER", "bob"},
		{"CAPABILITY", "CAPABILI", "TY"},
		{"US\rER x", "USER", "x"},
		{"AUTH", "AUTH", ""},
		{"a\x00b", "A", "\x00b"},
	}
	for _, tc := range cases {
		name, rest := splitLoginCommand([]byte(tc.line))
		if name != tc.name || string(rest) != tc.rest {
			t.Errorf("%q: got %q %q, want %q %q", tc.line, name, rest, tc.name, tc.rest)
		}
	}
}

// TestLoginAndMailbox logs in after STLS through the "list" policy and
// walks the transaction commands.
func TestLoginAndMailbox(t *testing.T) {
	ts := startService(t, decoys.Config{Options: map[string]string{"login": "list", "credentials": "alice:wonderland"}})
	c := dial(t, "127.0.0.3", ts.addr)
	c.expect("+OK Dovecot (Debian) ready.\r\n")
	c.send("STLS\r\n")
	c.expect("+OK Begin TLS negotiation now.\r\n")
	st := c.startTLS()
	if cn := st.PeerCertificates[0].Subject.CommonName; cn != "mail01" {
		t.Errorf("certificate CN %q", cn)
	}
	c.send("CAPA\r\n")
	c.expectBlock(dovecotCapaTLS)
	c.send("STLS\r\n")
	c.expect("-ERR TLS is already active.\r\n")
	c.send("PASS x\r\n")
	c.expect("-ERR No username given.\r\n")
	c.send("USER alice\r\nPASS nope\r\n")
	c.expect("+OK\r\n", "-ERR [AUTH] Authentication failed.\r\n")
	c.send("AUTH PLAIN\r\n")
	c.expect("+ \r\n")
	c.send("*\r\n")
	c.expect("-ERR Authentication aborted by client.\r\n")
	c.send("AUTH PLAIN !!!\r\n")
	c.expect("-ERR [AUTH] Invalid base64 data in initial response\r\n")
	c.send("USER alice\r\nPASS wonderland\r\n")
	c.expect("+OK\r\n", "+OK Logged in.\r\n")

	c.send("CAPA\r\n")
	c.expect("+OK\r\n", "CAPA\r\n", "TOP\r\n", "UIDL\r\n", "RESP-CODES\r\n", "PIPELINING\r\n", "AUTH-RESP-CODE\r\n", ".\r\n")
	box := ts.svc.inboxFor("alice")
	total := 0
	for _, m := range box.Messages {
		total += len(m.Raw)
	}
	c.send("STAT\r\n")
	c.expect("+OK " + strconv.Itoa(len(box.Messages)) + " " + strconv.Itoa(total) + "\r\n")
	c.send("LIST 1\r\n")
	c.expect("+OK 1 " + strconv.Itoa(len(box.Messages[0].Raw)) + "\r\n")
	c.send("LIST 99\r\nLIST x\r\nTOP 1\r\n")
	c.expect("-ERR There's no message 99.\r\n", "-ERR Invalid message number: x\r\n", "-ERR Noise after message number: \r\n")
	c.send("RETR 1\r\n")
	c.expect("+OK " + strconv.Itoa(len(box.Messages[0].Raw)) + " octets\r\n")
	c.expectBlock(string(box.Messages[0].Raw) + ".\r\n")
	c.send("DELE 1\r\nRETR 1\r\nRSET\r\nFOO\r\nQUIT\r\n")
	c.expect("+OK Marked to be deleted.\r\n", "-ERR Message is deleted.\r\n", "+OK\r\n", "-ERR Unknown command: FOO\r\n", "+OK Logging out.\r\n")

	checkAuths(t, ts.rec, "127.0.0.3",
		wantAuth{decoys.MechanismPOP3Pass, "alice", "nope", false},
		wantAuth{decoys.MechanismPOP3Pass, "alice", "wonderland", true})
}
