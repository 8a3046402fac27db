package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/decoys"
)

func newEximService(t testing.TB) *Service {
	t.Helper()
	svc, err := New(decoys.Config{Decky: "d", Seed: testSeed, Persona: PersonaExim, Emitter: newRecordingEmitter(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	svc.sleep = func(context.Context, time.Duration) {}
	return svc
}

// TestEximSession runs scripted sessions through the Exim command loop.
// The whole script arrives at once, as a client that pipelines sends it,
// and each case checks everything after the greeting.
func TestEximSession(t *testing.T) {
	svc := newEximService(t)
	host := svc.Hostname()
	domain := host[strings.IndexByte(host, '.')+1:]
	ehlo := "250-" + host + " Hello a [127.0.0.9]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n" +
		"250-PIPECONNECT\r\n250-CHUNKING\r\n250-STARTTLS\r\n250-PRDR\r\n250 HELP\r\n"
	cases := []struct {
		name, in, want string
	}{
		{"quit", "QUIT\r\n", "221 " + host + " closing connection\r\n"},
		{"bare lf and trailing blanks", "NOOP\nRSET \t\r\r\n", "250 OK\r\n250 Reset OK\r\n"},
		{"verb prefix", "NOOPX\r\nNOOP\tx\r\nnoop x\r\n", "500 unrecognized command\r\n500 unrecognized command\r\n250 OK\r\n"},
		{"nul", "NO\x00OP\r\n", "501 NUL characters are not allowed in SMTP commands\r\n"},
		{"argument to rset", "RSET x\r\nQUIT x\r\nDATA x\r\n",
			"501 unexpected argument data\r\n501 unexpected argument data\r\n501 unexpected argument data\r\n"},
		{"syntax error limit", "RSET x\r\nFOO\r\nRSET x\r\nBAR\r\nNOOP\r\n",
			"501 unexpected argument data\r\n500 unrecognized command\r\n501 unexpected argument data\r\n" +
				"500-unrecognized command\r\n500 Too many syntax or protocol errors\r\n"},
		{"nul past the limit closes silently", "A\r\nB\r\nC\r\n\x00\r\nNOOP\r\n",
			strings.Repeat("500 unrecognized command\r\n", 3) + "501 NUL characters are not allowed in SMTP commands\r\n"},
		{"unknown limit", "A\r\nB\r\nC\r\nD\r\nNOOP\r\n",
			strings.Repeat("500 unrecognized command\r\n", 3) + "500 Too many unrecognized commands\r\n"},
		{"nonmail limit", strings.Repeat("NOOP\r\n", 11) + "QUIT\r\n",
			strings.Repeat("250 OK\r\n", 10) + "554 Too many nonmail commands\r\n"},
		{"one free rset", "RSET\r\n" + strings.Repeat("NOOP\r\n", 10) + "RSET\r\n",
			"250 Reset OK\r\n" + strings.Repeat("250 OK\r\n", 10) + "554 Too many nonmail commands\r\n"},
		{"overlong line", "NOOP " + strings.Repeat("b", 20000) + "\r\nNOOP\r\n",
			"500 unrecognized command\r\n500 unrecognized command\r\n250 OK\r\n"},
		{"helo arguments", "HELO a_b\r\nEHLO [1.2.3]\r\nHELO [IPv6:::1]\r\n",
			"501 Syntactically invalid HELO argument(s)\r\n501 Syntactically invalid EHLO argument(s)\r\n250 " + host + " Hello [IPv6:::1] [127.0.0.9]\r\n"},
		{"mail without helo", "MAIL FROM:<a@b.example>\r\n", "503 HELO or EHLO required\r\n"},
		{"pipelining after helo", "HELO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n",
			"250 " + host + " Hello a [127.0.0.9]\r\n554 SMTP synchronization error\r\n"},
		{"pipelining after ehlo", "EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n",
			ehlo + "250 OK\r\n550 relay not permitted\r\n503-All RCPT commands were rejected with this error:\r\n" +
				"503-relay not permitted\r\n503 Valid RCPT command must precede DATA\r\n"},
		{"rcpt without mail", "EHLO a\r\nRCPT TO:<x@y.example>\r\n", ehlo + "503 sender not yet given\r\n"},
		{"starttls not advertised", "STARTTLS\r\n", "503 STARTTLS command used when not advertised\r\n"},
		{"auth outside tls", "EHLO a\r\nAUTH PLAIN\r\n", ehlo + "503 AUTH command used when not advertised\r\n"},
		{"vrfy expn etrn", "VRFY\r\nVRFY root\r\nVRFY <root@x.example>\r\nEXPN root\r\nETRN x\r\n",
			"501 empty address\r\n501 root: recipient address must contain a domain\r\n252 Administrative prohibition\r\n" +
				"550 Administrative prohibition\r\n458 Administrative prohibition\r\n"},
		{"unqualified sender", "EHLO a\r\nMAIL FROM:<a> SIZE=10\r\n", ehlo + "501 <a>: sender address must contain a domain\r\n"},
		{"domain literal", "EHLO a\r\nMAIL FROM:<a@[1.2.3.4]>\r\n", ehlo + "501 <a@[1.2.3.4]>: domain literals not allowed\r\n"},
		{"unknown mail option", "EHLO a\r\nMAIL FROM:<a@b.example> FOO=bar\r\n",
			ehlo + "501 <a@b.example> FOO=bar: malformed address: FOO=bar may not follow <a@b.example> \r\n"},
		{"mail options after helo", "HELO a\r\nMAIL FROM:<a@b.example> SIZE=10\r\n", "250 " + host + " Hello a [127.0.0.9]\r\n" +
			"501 <a@b.example> SIZE=10: malformed address: SIZE=10 may not follow <a@b.example> \r\n"},
		{"rcpt forms", "EHLO a\r\nMAIL FROM:<>\r\nRCPT TO:<a>\r\nRCPT TO:<root+x@" + domain + ">\r\nRCPT TO:<postmaster>\r\n",
			ehlo + "250 OK\r\n501 <a>: recipient address must contain a domain\r\n550 Unrouteable address\r\n250 Accepted\r\n"},
		{"help", "HELP\r\n", "214-Commands supported:\r\n214 AUTH STARTTLS HELO EHLO MAIL RCPT DATA BDAT NOOP QUIT RSET HELP\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := string(runSession(t, svc, []byte(tc.in)))
			_, rest, ok := strings.Cut(out, "\r\n")
			if !ok || !strings.HasPrefix(out, "220 "+host+" ESMTP Exim 4.96 ") {
				t.Fatalf("greeting %q", out)
			}
			if rest != tc.want {
				t.Errorf("replies\n got %q\nwant %q", rest, tc.want)
			}
		})
	}
}

// TestEximBdatReplies checks Exim's replies to BDAT chunks: each chunk
// is acknowledged with its size, and the last one with the total and
// the message id.
func TestEximBdatReplies(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExim}, false)
	c := dialFrom(t, "127.0.0.5", ts.addr)
	c.readReply(5 * time.Second)
	c.exchange("EHLO x\r\n")
	c.exchange("MAIL FROM:<a@b.example>\r\n")
	if r := c.exchange("RCPT TO:<postmaster>\r\n"); r != "250 Accepted\r\n" {
		t.Fatalf("RCPT %q", r)
	}
	if r := c.exchange("BDAT 3\r\nabc"); r != "250 3 byte chunk received\r\n" {
		t.Errorf("first chunk %q", r)
	}
	if r := c.exchange("BDAT 2\r\nde"); r != "250 2 byte chunk received\r\n" {
		t.Errorf("second chunk %q", r)
	}
	last := c.exchange("BDAT 4 LAST\r\nf\r\n\r\n")
	if !regexp.MustCompile(`^250- 4 byte chunk, total 9\r\n250 OK id=[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}\r\n$`).MatchString(last) {
		t.Errorf("last chunk %q", last)
	}
}

// TestEximPipelineAfterData checks that once a message was started the
// client may no longer send ahead of a command that must end a group.
func TestEximPipelineAfterData(t *testing.T) {
	svc := newEximService(t)
	out := string(runSession(t, svc, []byte("EHLO a\r\nMAIL FROM:<>\r\nDATA\r\nNOOP\r\nNOOP\r\n")))
	// Without any RCPT there is no rejection to quote.
	if strings.Contains(out, "503-All RCPT commands were rejected") {
		t.Errorf("DATA without RCPT quoted a rejection: %q", out)
	}
	if !strings.HasSuffix(out, "250 OK\r\n503 valid RCPT command must precede DATA\r\n554 SMTP synchronization error\r\n") {
		t.Errorf("replies %q", out)
	}
}

// TestEximAuthCapture authenticates inside TLS, where Debian's example
// authenticators are offered, and checks the replies and the recorded
// credentials.
func TestEximAuthCapture(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExim}, false)
	c := dialFrom(t, "127.0.0.5", ts.addr)
	c.readReply(5 * time.Second)
	c.exchange("EHLO x\r\n")
	if r := c.exchange("STARTTLS\r\n"); r != "220 TLS go ahead\r\n" {
		t.Fatalf("STARTTLS %q", r)
	}
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // G402: the decoy's certificate is self-signed
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.br = tc, bufio.NewReader(tc)
	if r := c.exchange("AUTH PLAIN\r\n"); r != "503 AUTH command used when not advertised\r\n" {
		t.Errorf("AUTH before EHLO in TLS %q", r)
	}
	if r := c.exchange("EHLO x\r\n"); !strings.Contains(r, "\r\n250-AUTH PLAIN LOGIN\r\n") || strings.Contains(r, "STARTTLS") {
		t.Errorf("EHLO in TLS %q", r)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	const failed = "535 Incorrect authentication data\r\n"
	steps := []struct{ send, want string }{
		{"AUTH PLAIN " + b64("\x00root\x00toor") + "\r\n", failed},
		{"AUTH PLAIN\r\n", "334 \r\n"},
		{"*\r\n", "501 Authentication cancelled\r\n"},
		{"AUTH PLAIN !!!\r\n", "501 Invalid base64 data\r\n"},
		{"AUTH LOGIN " + b64("info") + "\r\n", "334 UGFzc3dvcmQ6\r\n"},
		{b64("pa ss") + "\r\n", failed},
		{"AUTH login\r\n", "334 VXNlcm5hbWU6\r\n"},
		{b64("bob") + "\r\n", "334 UGFzc3dvcmQ6\r\n"},
		{b64("x") + "\r\n", failed},
		{"AUTH CRAM-MD5\r\n", "504 CRAM-MD5 authentication mechanism not supported\r\n"},
		{"AUTH P!\r\n", "501 invalid character in authentication mechanism name\r\n"},
	}
	for _, s := range steps {
		if r := c.exchange(s.send); r != s.want {
			t.Errorf("%q: got %q, want %q", s.send, r, s.want)
		}
	}

	got := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 3)
	want := []struct{ mech, user, secret string }{
		{decoys.MechanismSASLPlain, "root", "toor"},
		{decoys.MechanismSASLLogin, "info", "pa ss"},
		{decoys.MechanismSASLLogin, "bob", "x"},
	}
	for i, w := range want {
		a := got[i].GetAuthAttempt()
		if a.GetMechanism() != w.mech || a.GetSecretKind() != decoys.SecretPlaintext || a.GetPrincipal() != w.user || string(a.GetSecret()) != w.secret {
			t.Errorf("attempt %d: %s %q %q, want %v", i, a.GetMechanism(), a.GetPrincipal(), a.GetSecret(), w)
		}
	}
}
