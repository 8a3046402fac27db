package imap

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
)

const (
	greetingPlain = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n"
	capsTLS       = "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN\r\n"
	postCaps      = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE"
	alert         = "* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.\r\n"
)

// TestDovecotBeforeLogin replays transcripts of Debian 12's dovecot-imapd
// from a non-local address.
func TestDovecotBeforeLogin(t *testing.T) {
	ts := startService(t, decoys.Config{})
	c := dial(t, "127.0.0.2", ts.addr)
	c.expect(greetingPlain)
	c.send("a CAPABILITY\r\n")
	c.expect("* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED\r\n",
		"a OK Pre-login capabilities listed, post-login capabilities have more.\r\n")
	c.send("b LOGIN alice wonderland\r\n")
	c.expect(alert, "b NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n")
	c.send("c AUTHENTICATE PLAIN\r\n")
	c.expect("c NO [PRIVACYREQUIRED] Plaintext authentication disabled.\r\n")
	c.send("d AUTHENTICATE LOGIN\r\n")
	c.expect("d NO [ALERT] Unsupported authentication mechanism.\r\n")
	c.send("e NOOP\r\nh ID NIL\r\nm ENABLE X\r\n")
	c.expect("e OK NOOP completed.\r\n", "* ID (\"name\" \"Dovecot\")\r\n", "h OK ID completed.\r\n",
		"* ENABLED\r\n", "m OK ENABLE ignored in non-authenticated state.\r\n")
	c.send("k LOGIN {5}\r\n")
	c.expect("+ OK\r\n")
	c.send("alice {3}\r\n")
	c.expect("+ OK\r\n")
	c.send("abc\r\n")
	c.expect(alert, "k NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n")
	c.send("l LOGIN {5+}\r\nalice x\r\n")
	c.expect(alert, "l NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n")
	c.send("v fetch 1 \"x\r\nLOGIN a b\r\n")
	c.expect("v BAD Missing '\"'\r\n", "LOGIN BAD First parameter in line is IMAP's command tag, not the command name. Add that before the command, like: a login user pass\r\n")
	c.send("f FOO\r\nFOO\r\n\r\n")
	c.expect("f BAD Error in IMAP command received by server.\r\n", "FOO BAD Error in IMAP command received by server.\r\n",
		"* BYE Too many invalid IMAP commands.\r\n")
	if rest := c.rest(); rest != "" {
		t.Errorf("after BYE: %q", rest)
	}
	checkAuths(t, ts.rec, "127.0.0.2",
		wantAuth{decoys.MechanismIMAPLogin, "alice", "wonderland", false},
		wantAuth{decoys.MechanismIMAPLogin, "alice", "abc", false},
		wantAuth{decoys.MechanismIMAPLogin, "alice", "x", false})
}

func TestMalformedBeforeLogin(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"bare lf", "a noop\n", "a OK NOOP completed.\r\n"},
		{"double space", "a  noop\r\n", "a BAD Error in IMAP command received by server.\r\n"},
		{"quoted name", "a \"noop\"\r\n", "a BAD Error in IMAP command received by server.\r\n"},
		{"star tag", "* noop\r\n", "* BAD Error in IMAP command received by server.\r\n"},
		{"long tag", strings.Repeat("a", 200) + " NOOP\r\n", "* BAD Error in IMAP command received by server.\r\n"},
		{"bad literal", "a LOGIN {x}\r\n", "a BAD Invalid literal size\r\n"},
		{"literal no lf", "a LOGIN {3}x\r\n", "+ OK\r\na BAD Missing LF after literal size\r\n"},
		{"huge literal", "a LOGIN {99999999}\r\n", "* BYE Literal size too large\r\n"},
		{"long token", "a NOOP " + strings.Repeat("b", 2000) + "\r\n", "* BYE Input buffer full, aborting\r\n"},
		{"unexpected paren", "a LOGIN a)\r\n", "a BAD Unexpected ')'\r\n"},
		{"missing paren", "a ID (\"a\"\r\n", "a BAD Missing ')'\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{})
			c := dial(t, "127.0.0.2", ts.addr)
			c.expect(greetingPlain)
			c.send(tc.in)
			got := ""
			for len(got) < len(tc.want) {
				l, err := c.br.ReadString('\n')
				got += l
				if err != nil {
					break
				}
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

var timing = regexp.MustCompile(` \(\d+\.\d{3} \+ \d+\.\d{3}( \+ \d+\.\d{3})? secs\)\.\r\n$`)

// expectDone reads a tagged reply and compares it with Dovecot's timing
// masked.
func (c *client) expectDone(want string) {
	c.t.Helper()
	got := timing.ReplaceAllString(c.line(), " (T secs).\r\n")
	if got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

func TestLoginAndMailbox(t *testing.T) {
	ts := startService(t, decoys.Config{Options: map[string]string{"login": "list", "credentials": "alice:wonderland"}})
	c := dial(t, "127.0.0.3", ts.addr)
	c.expect(greetingPlain)
	c.send("a STARTTLS\r\n")
	c.expect("a OK Begin TLS negotiation now.\r\n")
	c.startTLS()
	c.send("b CAPABILITY\r\n")
	c.expect(capsTLS, "b OK Pre-login capabilities listed, post-login capabilities have more.\r\n")
	c.send("c LOGIN alice nope\r\n")
	c.expect("c NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
	c.send("d AUTHENTICATE PLAIN\r\n")
	c.expect("+ \r\n")
	c.send(base64.StdEncoding.EncodeToString([]byte("\x00alice\x00wonderland")) + "\r\n")
	c.expect("d OK [CAPABILITY " + postCaps + "] Logged in\r\n")

	box := ts.svc.mailboxFor("alice")
	var list []string
	for _, f := range box.Folders {
		flags := `\HasNoChildren`
		if f.SpecialUse != "" {
			flags += " " + f.SpecialUse
		}
		list = append(list, fmt.Sprintf("* LIST (%s) \".\" %s\r\n", flags, f.Name))
	}
	c.send("e LIST \"\" *\r\n")
	c.expectBlock(strings.Join(list, ""))
	c.expectDone("e OK List completed (T secs).\r\n")
	c.send("f LSUB \"\" *\r\n")
	c.expectDone("f OK Lsub completed (T secs).\r\n")

	inbox := box.Folder("INBOX")
	n := len(inbox.Messages)
	c.send("g SELECT INBOX\r\n")
	c.expect("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
		"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n",
		fmt.Sprintf("* %d EXISTS\r\n", n), "* 0 RECENT\r\n",
		fmt.Sprintf("* OK [UNSEEN %d] First unseen.\r\n", n-1),
		fmt.Sprintf("* OK [UIDVALIDITY %d] UIDs valid\r\n", inbox.UIDValidity),
		fmt.Sprintf("* OK [UIDNEXT %d] Predicted next UID\r\n", n+1))
	c.expectDone("g OK [READ-WRITE] Select completed (T secs).\r\n")

	m := inbox.Messages[0]
	c.send("h FETCH 1 (FLAGS UID RFC822.SIZE INTERNALDATE)\r\n")
	c.expect(fmt.Sprintf("* 1 FETCH (FLAGS (\\Seen) UID 1 RFC822.SIZE %d INTERNALDATE \"%s\")\r\n", len(m.Raw), m.Internal.Format("02-Jan-2006 15:04:05 -0700")))
	c.expectDone("h OK Fetch completed (T secs).\r\n")
	c.send("i FETCH 1 BODYSTRUCTURE\r\n")
	c.expect(fmt.Sprintf("* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" %d %d NIL NIL NIL NIL))\r\n", len(m.Body()), m.BodyLines))
	c.expectDone("i OK Fetch completed (T secs).\r\n")
	last := inbox.Messages[n-1]
	c.send(fmt.Sprintf("j FETCH %d BODY[]\r\n", n))
	c.expectBlock(fmt.Sprintf("* %d FETCH (FLAGS (\\Seen) BODY[] {%d}\r\n%s)\r\n", n, len(last.Raw), last.Raw))
	c.expectDone("j OK Fetch completed (T secs).\r\n")
	c.send("k UID SEARCH ALL\r\nl FOO\r\nm FETCH\r\nn FETCH x y\r\n")
	var uids []string
	for _, m := range inbox.Messages {
		uids = append(uids, fmt.Sprint(m.UID))
	}
	c.expect("* SEARCH " + strings.Join(uids, " ") + "\r\n")
	c.expectDone("k OK Search completed (T secs).\r\n")
	c.expectDone("l BAD Error in IMAP command FOO: Unknown command (T secs).\r\n")
	c.expectDone("m BAD Error in IMAP command FETCH: Invalid arguments (T secs).\r\n")
	c.expectDone("n BAD Error in IMAP command FETCH: Invalid messageset (T secs).\r\n")
	c.send("o IDLE\r\n")
	c.expect("+ idling\r\n")
	c.send("DONE\r\n")
	c.expectDone("o OK Idle completed (T secs).\r\n")
	c.send("p LOGOUT\r\n")
	c.expect("* BYE Logging out\r\n")
	c.expectDone("p OK Logout completed (T secs).\r\n")

	checkAuths(t, ts.rec, "127.0.0.3",
		wantAuth{decoys.MechanismIMAPLogin, "alice", "nope", false},
		wantAuth{decoys.MechanismSASLPlain, "alice", "wonderland", true})
}

// TestAppendCaptured checks that an APPEND is stored for the session and
// reported as a captured file.
func TestAppendCaptured(t *testing.T) {
	ts := startService(t, decoys.Config{Options: map[string]string{
		"login": "list", "credentials": "alice:wonderland", OptionDisablePlaintextAuth: "no",
	}})
	c := dial(t, "127.0.0.2", ts.addr)
	c.line()
	c.send("a LOGIN alice wonderland\r\n")
	c.line()
	drafts := ts.svc.mailboxFor("alice").Folder("Drafts")
	c.send("b APPEND Drafts (\\Seen) {7+}\r\nSubject\r\n")
	c.expectDone(fmt.Sprintf("b OK [APPENDUID %d 1] Append completed (T secs).\r\n", drafts.UIDValidity))
	c.send("c STATUS Drafts (MESSAGES UIDNEXT)\r\n")
	c.expect("* STATUS Drafts (MESSAGES 1 UIDNEXT 2)\r\n")

	files := ts.rec.waitKind(t, decoys.KindFileCaptured, 1)
	fc := files[0].GetFileCaptured()
	sum := sha256.Sum256([]byte("Subject"))
	if fc.GetChannel() != channelAppend || fc.GetName() != "Drafts" || fc.GetSize() != 7 || !bytes.Equal(fc.GetSha256(), sum[:]) {
		t.Errorf("file captured %v", fc)
	}
}
