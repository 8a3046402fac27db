//go:build integration

package imap

import (
	"crypto/tls"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/mailbox/couriertest"
)

func startCourierPair(t *testing.T) (*testService, *couriertest.Oracle) {
	t.Helper()
	ts := startService(t, decoys.Config{Persona: PersonaCourier, Options: map[string]string{
		"login": "list", "credentials": oracleUser + ":" + oraclePass, OptionAuthMechanisms: "plain login",
	}})
	// Courier pauses 5 s after every failed login; the decoy does too.
	ts.svc.failDelay = func() time.Duration { return courierPersona().fixedFailDelay }
	return ts, couriertest.Start(t, oracleUser, oraclePass, ts.svc.mailboxFor(oracleUser), testSeed)
}

// courierAlert is the untagged warning the oracle adds after login
// because gamin's server is not running here. A Debian host with
// courier-imap installed runs it, so the decoy does not imitate this.
const courierAlert = "* OK [ALERT] Filesystem notification initialization error -- contact your mail administrator (check for configuration errors with the FAM/Gamin library)\r\n"

var courierUIDValidity = regexp.MustCompile(`UIDVALIDITY \d+`)

// TestCourierOracleSession runs one script before and after login against
// the decoy and the real Courier-IMAP holding the same messages.
func TestCourierOracleSession(t *testing.T) {
	ts, oracle := startCourierPair(t)
	script := []string{
		"CAPABILITY", "NOOP", "FOO", "ID NIL", "ENABLE UTF8=ACCEPT", "LOGIN alice wrong",
		"AUTHENTICATE PLAIN\r\n*", "AUTHENTICATE FOO", "AUTHENTICATE PLAIN AGFsaWNlAHdyb25n",
		"AUTHENTICATE LOGIN\r\nYWxpY2U=\r\nd3Jvbmc=", "AUTHENTICATE PLAIN !!!",
		"LOGIN alice wonderland", "CAPABILITY", "NOOP", "FOO", "SELECT INBOX", "CHECK", "LIST \"\" *",
		"FETCH 1 (FLAGS UID RFC822.SIZE)", "UID FETCH 1:* FLAGS", "FETCH 2 BODY.PEEK[HEADER.FIELDS (Subject)]",
		"FETCH 3 BODY[]", "NAMESPACE", "STATUS INBOX (MESSAGES UIDNEXT UNSEEN)", "LIST \"\" %",
		"STATUS INBOX.Sent (MESSAGES)", "STATUS Sent (MESSAGES)", "SELECT INBOX.Sent", "FETCH 1 (FLAGS RFC822.SIZE)", "LSUB \"\" *", "LOGOUT",
	}
	run := func(addr string) []string {
		s, greeting := open(t, addr)
		// Five failed logins take Courier 25 s.
		_ = s.conn.SetDeadline(time.Now().Add(3 * time.Minute))
		out := []string{greeting}
		for i, line := range script {
			tag := fmt.Sprintf("a%02d", i)
			first, rest, _ := strings.Cut(line, "\r\n")
			if rest != "" {
				// A SASL exchange: send the responses after each
				// continuation.
				if _, err := io.WriteString(s.conn, tag+" "+first+"\r\n"); err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				for _, resp := range strings.Split(rest, "\r\n") {
					l, _ := s.br.ReadString('\n')
					b.WriteString(l)
					_, _ = io.WriteString(s.conn, resp+"\r\n")
				}
				b.WriteString(s.do(tag, ""))
				out = append(out, b.String())
				continue
			}
			reply := s.do(tag, tag+" "+line+"\r\n")
			reply = strings.Replace(reply, courierAlert, "", 1)
			out = append(out, normalize(courierUIDValidity.ReplaceAllString(reply, "UIDVALIDITY N")))
		}
		return out
	}
	want := run(oracle.IMAP)
	got := run(ts.addr)
	if !strings.Contains(want[0], "Courier-IMAP ready.") {
		t.Fatalf("oracle greeting %q: the oracle is not Courier", want[0])
	}
	for i := range want {
		label := "greeting"
		if i > 0 {
			label = script[i-1]
		}
		if got[i] != want[i] {
			t.Errorf("%s:\ndecoy:   %q\ncourier: %q", label, got[i], want[i])
		}
	}
}

// TestCourierOracleTLS compares the capability list after STARTTLS, a
// second STARTTLS and a login inside TLS, and the TLS version.
func TestCourierOracleTLS(t *testing.T) {
	ts, oracle := startCourierPair(t)
	run := func(addr string) ([]string, uint16) {
		s, greeting := open(t, addr)
		out := []string{greeting, s.do("a", "a STARTTLS\r\n")}
		s.startTLS()
		version := s.conn.(*tls.Conn).ConnectionState().Version
		for i, line := range []string{"CAPABILITY", "STARTTLS", "LOGIN alice wonderland", "LOGOUT"} {
			tag := fmt.Sprintf("b%d", i)
			out = append(out, strings.Replace(s.do(tag, tag+" "+line+"\r\n"), courierAlert, "", 1))
		}
		return out, version
	}
	want, wantVersion := run(oracle.IMAP)
	got, gotVersion := run(ts.addr)
	if gotVersion != wantVersion {
		t.Errorf("TLS version %x, courier %x", gotVersion, wantVersion)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d:\ndecoy:   %q\ncourier: %q", i, got[i], want[i])
		}
	}
}

// TestCourierOracleProbes compares replies to probes before login, one
// connection each.
func TestCourierOracleProbes(t *testing.T) {
	ts, oracle := startCourierPair(t)
	probes := []struct{ name, raw string }{
		{"capability", "a CAPABILITY\r\n"},
		{"lower case", "a capability\r\n"},
		{"no tag", "CAPABILITY\r\n"},
		{"lone noop", "NOOP\r\n"},
		{"lone word", "FOO\r\n"},
		{"empty line", "\r\n"},
		{"bare line feed", "a NOOP\n"},
		{"login tag", "LOGIN alice wonderland\r\n"},
		{"starttls twice args", "a STARTTLS x\r\n"},
		{"logout", "a LOGOUT\r\n"},
		{"http request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"literal", "a LOGIN {5}\r\n"},
		{"long line", "a FOO " + strings.Repeat("a ", 8000) + "\r\n"},
		{"atom too long", "a LOGIN " + strings.Repeat("a", 16385) + " b\r\n"},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			probe := func(addr string) string {
				s, greeting := open(t, addr)
				_, _ = io.WriteString(s.conn, p.raw)
				return greeting + s.settle()
			}
			if want, got := probe(oracle.IMAP), probe(ts.addr); got != want {
				t.Errorf("decoy differs from courier\ndecoy:   %q\ncourier: %q", got, want)
			}
		})
	}
}

// TestCurlIMAPCourier lists the mailboxes with curl over STARTTLS and
// fails a login in plain text; both attempts are recorded.
func TestCurlIMAPCourier(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	ts := startService(t, decoys.Config{Persona: PersonaCourier, Options: map[string]string{
		"login": "list", "credentials": "alice:wonderland",
	}})
	url := "imap://" + ts.addr + "/"

	out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.2", "--ssl-reqd", "-k", "-u", "alice:wonderland", url).CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "INBOX") {
		t.Errorf("curl listing: %q", out)
	}
	out, err = exec.Command(curl, "-sS", "--interface", "127.0.0.3", "-u", "bob:guess", url).CombinedOutput()
	if err == nil {
		t.Errorf("curl with a wrong password succeeded: %s", out)
	}

	auths := ts.rec.waitKind(t, decoys.KindAuthAttempt, 2)
	want := []struct{ src, mech, user, pass string }{
		{"127.0.0.2", decoys.MechanismSASLPlain, "alice", "wonderland"},
		{"127.0.0.3", decoys.MechanismIMAPLogin, "bob", "guess"},
	}
	for i, w := range want {
		a := auths[i].GetAuthAttempt()
		if auths[i].GetSource().GetAddress() != w.src || a.GetMechanism() != w.mech || a.GetPrincipal() != w.user || string(a.GetSecret()) != w.pass {
			t.Errorf("attempt %d = %s %s %q %q, want %+v", i, auths[i].GetSource().GetAddress(), a.GetMechanism(), a.GetPrincipal(), a.GetSecret(), w)
		}
	}
}
