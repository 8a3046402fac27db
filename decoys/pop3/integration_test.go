//go:build integration

package pop3

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/mailbox"
	"github.com/decnet/decnet/decoys/mailbox/dovecottest"
)

const (
	oracleUser = "alice"
	oraclePass = "wonderland"
)

func startPair(t *testing.T) (*testService, *dovecottest.Oracle) {
	t.Helper()
	ts := startService(t, decoys.Config{Options: map[string]string{"login": "list", "credentials": oracleUser + ":" + oraclePass}})
	box := mailbox.Generate(ts.svc.seed, mailbox.Options{User: oracleUser, Domain: ts.svc.host, Now: ts.svc.now()})
	return ts, dovecottest.Start(t, oracleUser, oraclePass, box, testSeed)
}

type session struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func open(t *testing.T, addr string) *session {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &session{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// settle reads until the peer is quiet for quiet or closes.
func (s *session) settle(quiet time.Duration) string {
	return s.read(quiet, quiet)
}

// reply waits up to 20 s for the first byte of a reply, then reads until
// the peer is quiet. A failed login takes Dovecot 2 s plus the source's
// penalty of up to 15 s.
func (s *session) reply() string {
	return s.read(20*time.Second, 300*time.Millisecond)
}

func (s *session) read(first, quiet time.Duration) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for wait := first; ; wait = quiet {
		_ = s.conn.SetReadDeadline(time.Now().Add(wait))
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

func (s *session) startTLS() {
	s.t.Helper()
	_ = s.conn.SetDeadline(time.Now().Add(60 * time.Second))
	tc := tls.Client(s.conn, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // G402: self-signed on both sides
	if err := tc.Handshake(); err != nil {
		s.t.Fatalf("tls: %v", err)
	}
	s.conn, s.br = tc, bufio.NewReader(tc)
}

// TestDovecotOracleSession runs a script after STLS against the decoy and
// the real Dovecot holding the same messages.
func TestDovecotOracleSession(t *testing.T) {
	ts, oracle := startPair(t)
	script := []string{
		"CAPA", "AUTH", "STLS", "PASS x", "APOP a b", "AUTH LOGIN", "AUTH PLAIN !!!",
		"AUTH PLAIN\r\n*", "AUTH PLAIN\r\n!!", "AUTH PLAIN =", "XCLIENT ADDR=192.0.2.1",
		"USER alice", "PASS wrong", "USER alice", "PASS wonderland",
		"CAPA", "STAT", "LIST", "LIST 1", "LIST 99", "LIST x", "LIST 1x", "UIDL", "UIDL 2",
		"TOP 1 2", "TOP 1", "TOP 1 x", "TOP 1 0", "RETR 2", "DELE 2", "RETR 2", "LIST", "STAT", "RSET", "STAT",
		"NOOP", "FOO", "USER x", "", "RETR 1",
	}
	run := func(addr string) []string {
		s := open(t, addr)
		out := []string{s.settle(500 * time.Millisecond)}
		_, _ = io.WriteString(s.conn, "STLS\r\n")
		out = append(out, s.settle(500*time.Millisecond))
		s.startTLS()
		for _, line := range script {
			if _, err := io.WriteString(s.conn, line+"\r\n"); err != nil {
				t.Fatal(err)
			}
			out = append(out, s.reply())
		}
		return out
	}
	want := run(oracle.POP3)
	got := run(ts.addr)
	for i := range want {
		label := []string{"greeting", "STLS"}
		if i >= 2 {
			label = []string{script[i-2]}
		}
		if got[i] != want[i] {
			t.Errorf("%s:\ndecoy:   %q\ndovecot: %q", label[min(i, len(label)-1)], got[i], want[i])
		}
	}
}

// TestDovecotOracleMalformed compares replies to probes before login, one
// connection each.
func TestDovecotOracleMalformed(t *testing.T) {
	ts, oracle := startPair(t)
	probes := []struct{ name, raw string }{
		{"capa", "CAPA\r\n"},
		{"lower case", "capa\r\n"},
		{"user pass", "USER alice\r\nPASS secret\r\n"},
		{"pass alone", "PASS secret\r\n"},
		{"sasl discovery", "AUTH\r\n"},
		{"auth plain", "AUTH PLAIN\r\n"},
		{"auth plain ir", "AUTH PLAIN AGJvYgBwdw==\r\n"},
		{"auth login", "AUTH LOGIN\r\n"},
		{"apop", "APOP a b\r\n"},
		{"bare line feed", "NOOP\n"},
		{"empty line", "\r\n"},
		{"three unknown", "\r\nNOOP\nFOO\r\nQUIT\r\n"},
		{"long name", "CAPABILITY\r\n"},
		{"overlong line", "USER " + strings.Repeat("a", 2000) + "\r\n"},
		{"long line no lf", strings.Repeat("a", 2000)},
		{"stls with argument", "STLS x\r\n"},
		{"xclient", "XCLIENT ADDR=1.2.3.4\r\n"},
		{"quit", "QUIT\r\n"},
		{"http request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"nul", "CA\x00PA\r\n"},
		{"cr in name", "CA\rPA\r\n"},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			probe := func(addr string) string {
				s := open(t, addr)
				greeting := s.settle(300 * time.Millisecond)
				_, _ = io.WriteString(s.conn, p.raw)
				return greeting + s.settle(700*time.Millisecond)
			}
			if want, got := probe(oracle.POP3), probe(ts.addr); got != want {
				t.Errorf("decoy differs from dovecot\ndecoy:   %q\ndovecot: %q", got, want)
			}
		})
	}
}

// TestCurlPOP3 drives the decoy with curl: AUTH PLAIN and AUTH LOGIN over
// STLS, and a plain-text attempt that curl itself refuses to send.
func TestCurlPOP3(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	ts := startService(t, decoys.Config{Options: map[string]string{
		"login": "list", "credentials": "alice:wonderland", OptionAuthMechanisms: "plain login",
	}})
	url := "pop3://" + ts.addr + "/"

	out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.2", "--ssl-reqd", "-k", "-u", "alice:wonderland", url).CombinedOutput()
	if err != nil {
		t.Fatalf("curl list: %v: %s", err, out)
	}
	if !regexp.MustCompile(`(?m)^1 \d+\r?$`).Match(out) {
		t.Errorf("curl listing: %q", out)
	}
	out, err = exec.Command(curl, "-sS", "--interface", "127.0.0.3", "--ssl-reqd", "-k", "--login-options", "AUTH=LOGIN",
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
		{"127.0.0.3", decoys.MechanismSASLLogin, "bob", "guess"},
	}
	for i, w := range want {
		a := auths[i].GetAuthAttempt()
		if auths[i].GetSource().GetAddress() != w.src || a.GetMechanism() != w.mech || a.GetPrincipal() != w.user || string(a.GetSecret()) != w.pass {
			t.Errorf("attempt %d = %s %s %q %q, want %+v", i, auths[i].GetSource().GetAddress(), a.GetMechanism(), a.GetPrincipal(), a.GetSecret(), w)
		}
	}
	if len(auths) != 2 {
		t.Errorf("%d attempts, want 2 (none from the plain-text curl)", len(auths))
	}
}

func TestNmapPOP3(t *testing.T) {
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		t.Skip("nmap is not installed")
	}
	for _, tc := range []struct{ persona, want string }{
		{PersonaDovecot, "Dovecot pop3d"},
		{PersonaExchange, "Microsoft Exchange"},
		{PersonaCourier, "Courier pop3d"},
	} {
		t.Run(tc.persona, func(t *testing.T) {
			ts := startService(t, decoys.Config{Persona: tc.persona})
			_, port, _ := net.SplitHostPort(ts.addr)
			out, err := exec.Command(nmap, "-sV", "-Pn", "-p", port, "127.0.0.1").CombinedOutput()
			if err != nil {
				t.Fatalf("nmap: %v: %s", err, out)
			}
			line := regexp.MustCompile(`(?m)^` + port + `/tcp.*$`).FindString(string(out))
			if !strings.Contains(line, tc.want) || strings.Contains(line, "tcpwrapped") {
				t.Errorf("nmap says %q, want %q", line, tc.want)
			}
			t.Logf("nmap: %s", line)
		})
	}
}

// TestFloodAndSlowClients opens more idle connections from one source than
// it may hold and a client that drips a line, and checks that another
// source is still served and the dripping client gets Dovecot's
// inactivity reply once its line deadline passes.
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
		for _, b := range []byte("CAPA x x x x x x x x x\r\n") {
			if _, err := drip.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
	}()

	c := dial(t, "127.0.0.6", ts.addr)
	c.expect("+OK Dovecot (Debian) ready.\r\n")
	c.send("QUIT\r\n")
	c.expect("+OK Logging out\r\n")

	_ = drip.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, _ := io.ReadAll(drip)
	if string(out) != "+OK Dovecot (Debian) ready.\r\n-ERR Disconnected for inactivity.\r\n" {
		t.Errorf("slow client got %q", out)
	}
}
