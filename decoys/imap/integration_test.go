//go:build integration

package imap

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/mailbox/dovecottest"
)

const (
	oracleUser = "alice"
	oraclePass = "wonderland"
)

// startPair starts the decoy with the "list" policy for the oracle user
// and a real Dovecot whose maildir holds the decoy's messages for that
// user.
func startPair(t *testing.T) (*testService, *dovecottest.Oracle) {
	t.Helper()
	ts := startService(t, decoys.Config{Options: map[string]string{"login": "list", "credentials": oracleUser + ":" + oraclePass}})
	oracle := dovecottest.Start(t, oracleUser, oraclePass, ts.svc.mailboxFor(oracleUser), testSeed)
	return ts, oracle
}

// session is a raw client that reads whole replies: up to the tagged
// line, with literals.
type session struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func open(t *testing.T, addr string) (*session, string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	s := &session{t: t, conn: conn, br: bufio.NewReader(conn)}
	greeting, err := s.br.ReadString('\n')
	if err != nil {
		t.Fatalf("greeting from %s: %v", addr, err)
	}
	return s, greeting
}

var literalAtEnd = regexp.MustCompile(`\{(\d+)\}\r\n$`)

// do sends line and returns everything up to and including the line
// tagged tag (or the connection's end).
func (s *session) do(tag, line string) string {
	s.t.Helper()
	if _, err := io.WriteString(s.conn, line); err != nil {
		s.t.Fatalf("write %q: %v", line, err)
	}
	var b strings.Builder
	for {
		l, err := s.br.ReadString('\n')
		b.WriteString(l)
		if err != nil {
			return b.String() + "<EOF>"
		}
		if m := literalAtEnd.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			buf := make([]byte, n)
			if _, err := io.ReadFull(s.br, buf); err != nil {
				s.t.Fatalf("read literal: %v", err)
			}
			b.Write(buf)
			continue
		}
		if strings.HasPrefix(l, tag+" ") || strings.HasPrefix(l, "* BYE") {
			return b.String()
		}
	}
}

func (s *session) startTLS() {
	s.t.Helper()
	tc := tls.Client(s.conn, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // G402: self-signed on both sides
	if err := tc.Handshake(); err != nil {
		s.t.Fatalf("tls: %v", err)
	}
	s.conn, s.br = tc, bufio.NewReader(tc)
}

// settle reads what arrives until the peer is quiet for 700 ms or closes.
func (s *session) settle() string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
		n, err := s.br.Read(buf)
		b.Write(buf[:n])
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return b.String()
		}
		if err != nil {
			return b.String() + "<EOF>"
		}
	}
}

var timingText = regexp.MustCompile(` \(\d+\.\d{3} \+ \d+\.\d{3}( \+ \d+\.\d{3})? secs\)\.`)

// normalize masks Dovecot's timing and sorts LIST lines, whose order is
// the maildir's directory order.
func normalize(s string) string {
	s = timingText.ReplaceAllString(s, " (T secs).")
	lines := strings.SplitAfter(s, "\r\n")
	var list []string
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "* LIST ") {
			list = append(list, l)
			continue
		}
		if len(list) > 0 {
			slices.Sort(list)
			out = append(out, list...)
			list = nil
		}
		out = append(out, l)
	}
	slices.Sort(list)
	out = append(out, list...)
	return strings.Join(out, "")
}

// TestDovecotOracleMailbox runs one script of commands against the decoy
// and the real Dovecot holding the same messages and compares replies.
func TestDovecotOracleMailbox(t *testing.T) {
	ts, oracle := startPair(t)
	n := len(ts.svc.mailboxFor(oracleUser).Folder("INBOX").Messages)

	script := []string{
		"b CAPABILITY",
		"ba AUTHENTICATE PLAIN !!!",
		"bb LOGIN " + oracleUser + " wrong",
		"bc AUTHENTICATE PLAIN =",
		"bd AUTHENTICATE LOGIN",
		"be STARTTLS",
		"bf AUTHENTICATE PLAIN\r\n*",
		"bg AUTHENTICATE PLAIN\r\n!!",
		"bh LOGIN",
		"bi ENABLE CONDSTORE",
		"c LOGIN " + oracleUser + " " + oraclePass,
		"d CAPABILITY",
		`e LIST "" *`,
		`f LIST "" %`,
		`g LSUB "" *`,
		`h LIST "" ""`,
		"i STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)",
		"j STATUS Sent (MESSAGES UIDNEXT)",
		"k STATUS nonexist (MESSAGES)",
		"l FETCH 1 FLAGS",
		"m SELECT INBOX",
		"n FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)",
		"o FETCH 1 ENVELOPE",
		"p FETCH 1 BODYSTRUCTURE",
		"q FETCH 1 BODY",
		"r FETCH 1 BODY.PEEK[HEADER]",
		"s FETCH 2 BODY.PEEK[TEXT]",
		"t FETCH 2 (BODY.PEEK[HEADER.FIELDS (From Subject)])",
		fmt.Sprintf("u FETCH %d BODY[]", n),
		"v UID FETCH 1:* (FLAGS)",
		"w SEARCH ALL",
		"x UID SEARCH ALL",
		"y SEARCH UNSEEN",
		"z FOO",
		"a1 FETCH",
		"a2 FETCH x y",
		"a3 FETCH 99 FLAGS",
		"a4 UID FETCH 99 FLAGS",
		"a5 SEARCH",
		"a6 SEARCH foo",
		"a7 SELECT nonexist",
		"a8 EXAMINE INBOX",
		"a9 NOOP",
		"b1 ID NIL",
		"b2 NAMESPACE",
		"b3 CLOSE",
		"b4 select",
		"b5 fetch 1 \"x",
		"b6 LOGIN a b",
		"b7 SELECT INBOX (CONDSTORE)",
		"b8 FETCH 1 (UID MODSEQ)",
		"c1 SUBSCRIBE INBOX",
		`c2 LSUB "" *`,
		"c3 UNSUBSCRIBE INBOX",
		"c4 CREATE Foo",
		"c5 CREATE Foo",
		`c6 LIST "" Foo`,
		"c7 DELETE Foo",
		"c8 DELETE Nope",
		"c9 RENAME Nope X",
		"d1 SELECT INBOX",
		"d2 COPY 1:2 Trash",
		"d3 STATUS Trash (MESSAGES UIDNEXT)",
		"d4 CHECK",
		"d5 UNSELECT",
		"d6 APPEND Drafts {5+}\r\nhello",
		"d7 STATUS Drafts (MESSAGES UIDNEXT)",
		"d8 COPY 1 Trash",
		"d9 RENAME Junk Spam",
		`e1 LIST "" Spam`,
		"e2 GETQUOTAROOT INBOX",
		"b9 LOGOUT",
	}
	run := func(addr string) []string {
		s, greeting := open(t, addr)
		out := []string{greeting}
		out = append(out, s.do("a", "a STARTTLS\r\n"))
		s.startTLS()
		for _, line := range script {
			tag, _, _ := strings.Cut(line, " ")
			out = append(out, normalize(s.do(tag, strings.ReplaceAll(line, `\r\n`, "\r\n")+"\r\n")))
		}
		return out
	}
	want := run(oracle.IMAP)
	got := run(ts.addr)
	for i := range want {
		label := "greeting"
		if i > 1 {
			label = script[i-2]
		}
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("%s:\ndecoy:   %q\ndovecot: %q", label, got[i], want[i])
		}
	}
}

// TestDovecotOracleMalformed compares the replies to malformed probes
// before login, one connection each.
func TestDovecotOracleMalformed(t *testing.T) {
	ts, oracle := startPair(t)
	long := strings.Repeat("x", 2000)
	probes := []struct{ name, raw string }{
		{"capability", "a CAPABILITY\r\n"},
		{"login before tls", "b LOGIN alice wonderland\r\n"},
		{"authenticate plain before tls", "c AUTHENTICATE PLAIN\r\n"},
		{"authenticate login", "d AUTHENTICATE LOGIN\r\n"},
		{"authenticate without mechanism", "d AUTHENTICATE\r\n"},
		{"noop id enable", "e NOOP\r\nh ID NIL\r\nm ENABLE X\r\n"},
		{"bare line feed", "a noop\n"},
		{"empty line", "\r\n"},
		{"missing tag", "NOOP\r\n"},
		{"unknown command", "f FOO\r\n"},
		{"three bad commands", "f FOO\r\nFOO\r\n\r\n"},
		{"double space", "a  noop\r\n"},
		{"quoted command", "a \"noop\"\r\n"},
		{"star tag", "* noop\r\n"},
		{"long tag", strings.Repeat("a", 200) + " NOOP\r\n"},
		{"overlong line", "a NOOP " + long + "\r\n"},
		{"bad literal", "a LOGIN {x}\r\n"},
		{"literal without lf", "a LOGIN {3}x\r\n"},
		{"huge literal", "a LOGIN {99999999}\r\n"},
		{"nonsync literal", "l LOGIN {5+}\r\nalice x\r\n"},
		{"unexpected paren", "a LOGIN a)\r\n"},
		{"missing paren", "a ID (\"a\"\r\n"},
		{"cr without lf", "a LOGIN a\rb c\r\n"},
		{"tag named login", "LOGIN a b\r\n"},
		{"select before login", "g select INBOX\r\n"},
		{"http request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"starttls twice", "a STARTTLS\r\n"},
		{"logout", "j LOGOUT\r\n"},
		{"8bit atom", "a LOGIN \xe9 x\r\n"},
		{"nul in string", "a LOGIN \"a\x00\" x\r\n"},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			probe := func(addr string) string {
				s, greeting := open(t, addr)
				if _, err := io.WriteString(s.conn, p.raw); err != nil {
					t.Fatal(err)
				}
				return greeting + s.settle()
			}
			if want, got := probe(oracle.IMAP), probe(ts.addr); got != want {
				t.Errorf("decoy differs from dovecot\ndecoy:   %q\ndovecot: %q", got, want)
			}
		})
	}
}

// TestCurlIMAP logs in with curl over STARTTLS, with LOGIN and with
// AUTHENTICATE PLAIN, and asserts the recorded attempts.
func TestCurlIMAP(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	ts := startService(t, decoys.Config{Options: map[string]string{"login": "list", "credentials": "alice:wonderland"}})
	url := "imap://" + ts.addr + "/"

	out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.2", "--ssl-reqd", "-k", "-u", "alice:wonderland", url).CombinedOutput()
	if err != nil {
		t.Fatalf("curl list: %v: %s", err, out)
	}
	if !strings.Contains(string(out), `* LIST (\HasNoChildren) "." INBOX`) {
		t.Errorf("curl listing: %q", out)
	}
	out, err = exec.Command(curl, "-sS", "--interface", "127.0.0.3", "--ssl-reqd", "-k", "--login-options", "AUTH=PLAIN",
		"-u", "bob:guess", url).CombinedOutput()
	if err == nil {
		t.Errorf("curl with a wrong password succeeded: %s", out)
	}
	out, err = exec.Command(curl, "-sS", "--interface", "127.0.0.4", "-u", "carol:plain", url).CombinedOutput()
	if err == nil {
		t.Errorf("curl without TLS succeeded: %s", out)
	}

	auths := ts.rec.waitKind(t, decoys.KindAuthAttempt, 2)
	want := []struct{ src, mech, user, pass string }{
		{"127.0.0.2", decoys.MechanismSASLPlain, "alice", "wonderland"},
		{"127.0.0.3", decoys.MechanismSASLPlain, "bob", "guess"},
	}
	for i, w := range want {
		a := auths[i].GetAuthAttempt()
		if auths[i].GetSource().GetAddress() != w.src || a.GetMechanism() != w.mech || a.GetPrincipal() != w.user || string(a.GetSecret()) != w.pass {
			t.Errorf("attempt %d = %s %s %q %q, want %+v", i, auths[i].GetSource().GetAddress(), a.GetMechanism(), a.GetPrincipal(), a.GetSecret(), w)
		}
	}
	// Before TLS curl gets LOGINDISABLED and no mechanism, so it never
	// sends carol's password.
	for _, ev := range ts.rec.byKind(decoys.KindAuthAttempt) {
		if ev.GetSource().GetAddress() == "127.0.0.4" {
			t.Errorf("attempt from the plain-text curl: %v", ev.GetAuthAttempt())
		}
	}
}

// TestFloodAndSlowClients opens many idle connections and a client that
// drips a line, and checks that a normal client is still served.
func TestFloodAndSlowClients(t *testing.T) {
	ts := startService(t, decoys.Config{Limits: decoys.Limits{ReadTimeout: 2 * time.Second, MaxConnsPerSource: 8}})
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 5)}}
		c, err := d.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	drip := conns[0]
	go func() {
		for _, b := range []byte("a NOOP x x x x x x x x x x\r\n") {
			if _, err := drip.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
	}()

	c := dial(t, "127.0.0.6", ts.addr)
	c.expect(greetingPlain)
	c.send("a NOOP\r\n")
	c.expect("a OK NOOP completed.\r\n")

	// The dripping client gets its line deadline, not one per byte.
	_ = drip.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, _ := io.ReadAll(drip)
	if !strings.HasSuffix(string(out), "* BYE Disconnected for inactivity.\r\n") {
		t.Errorf("slow client got %q", out)
	}
}
