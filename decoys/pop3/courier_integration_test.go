//go:build integration

package pop3

import (
	"crypto/tls"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/mailbox"
	"github.com/decnet/decnet/decoys/mailbox/couriertest"
)

func startCourierPair(t *testing.T) (*testService, *couriertest.Oracle) {
	t.Helper()
	ts := startService(t, decoys.Config{Persona: PersonaCourier, Options: map[string]string{
		"login": "list", "credentials": oracleUser + ":" + oraclePass, OptionAuthMechanisms: "plain login",
	}})
	// Courier pauses 5 s after every failed login; the decoy does too.
	ts.svc.failDelay = func() time.Duration { return courierPersona().fixedFailDelay }
	box := mailbox.Generate(ts.svc.seed, mailbox.Options{User: oracleUser, Domain: ts.svc.host, Now: ts.svc.now()})
	return ts, couriertest.Start(t, oracleUser, oraclePass, box, testSeed)
}

// TestCourierOracleSession runs one script, logins failed and accepted
// and the transaction commands, against the decoy and the real Courier
// holding the same messages.
func TestCourierOracleSession(t *testing.T) {
	ts, oracle := startCourierPair(t)
	script := []string{
		"CAPA", "AUTH", "PASS x", "APOP a b", "FOO", "AUTH PLAIN\r\n*", "AUTH FOO", "AUTH PLAIN AGFsaWNlAHdyb25n",
		"AUTH LOGIN\r\nYWxpY2U=\r\nd3Jvbmc=", "USER alice", "PASS wrong", "USER alice", "PASS wonderland",
		"CAPA", "STAT", "LIST", "LIST 1", "LIST 99", "LIST x", "UIDL 99", "TOP 1 2", "RETR 2", "DELE 2", "RETR 2",
		"RSET", "NOOP", "FOO", "QUIT",
	}
	run := func(addr string) []string {
		s := open(t, addr)
		out := []string{s.settle(500 * time.Millisecond)}
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
	if want[0] != "+OK Hello there.\r\n" {
		t.Fatalf("courier greeting %q: the oracle is not Courier", want[0])
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

// TestCourierOracleTLS compares a session after STLS, where Courier's
// CAPA drops STLS, and the certificate's TLS version.
func TestCourierOracleTLS(t *testing.T) {
	ts, oracle := startCourierPair(t)
	script := []string{"CAPA", "STLS", "USER alice", "PASS wonderland", "CAPA", "STAT", "QUIT"}
	run := func(addr string) ([]string, uint16) {
		s := open(t, addr)
		out := []string{s.settle(500 * time.Millisecond)}
		_, _ = io.WriteString(s.conn, "STLS\r\n")
		out = append(out, s.settle(500*time.Millisecond))
		s.startTLS()
		version := s.conn.(*tls.Conn).ConnectionState().Version
		for _, line := range script {
			if _, err := io.WriteString(s.conn, line+"\r\n"); err != nil {
				t.Fatal(err)
			}
			out = append(out, s.reply())
		}
		return out, version
	}
	want, wantVersion := run(oracle.POP3)
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
		{"capa", "CAPA\r\n"},
		{"lower case", "capa\r\n"},
		{"sasl discovery", "AUTH\r\n"},
		{"auth plain", "AUTH PLAIN\r\n"},
		{"apop", "APOP a b\r\n"},
		{"bare line feed", "NOOP\n"},
		{"empty line", "\r\n"},
		{"stls with argument", "STLS x\r\n"},
		{"quit", "QUIT\r\n"},
		{"http request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"overlong line", "USER " + strings.Repeat("a", 2000) + "\r\n"},
		{"long line no lf", strings.Repeat("a", 2000)},
		{"nul", "CA\x00PA\r\n"},
		{"pipelined", "USER a\r\nCAPA\r\nNOOP\r\n"},
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
				t.Errorf("decoy differs from courier\ndecoy:   %q\ncourier: %q", got, want)
			}
		})
	}
}

// TestCurlPOP3Courier logs in with curl over STLS and in plain text, both
// allowed by Courier's defaults, and checks the recorded attempts.
func TestCurlPOP3Courier(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	ts := startService(t, decoys.Config{Persona: PersonaCourier, Options: map[string]string{
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
	out, err = exec.Command(curl, "-sS", "--interface", "127.0.0.3", "-u", "bob:guess", url).CombinedOutput()
	if err == nil {
		t.Errorf("curl with a wrong password succeeded: %s", out)
	}

	auths := ts.rec.waitKind(t, decoys.KindAuthAttempt, 2)
	// Courier's CAPA lists no SASL, so curl falls back to USER and PASS.
	want := []struct{ src, mech, user, pass string }{
		{"127.0.0.2", decoys.MechanismPOP3Pass, "alice", "wonderland"},
		{"127.0.0.3", decoys.MechanismPOP3Pass, "bob", "guess"},
	}
	for i, w := range want {
		a := auths[i].GetAuthAttempt()
		if auths[i].GetSource().GetAddress() != w.src || a.GetMechanism() != w.mech || a.GetPrincipal() != w.user || string(a.GetSecret()) != w.pass {
			t.Errorf("attempt %d = %s %s %q %q, want %+v", i, auths[i].GetSource().GetAddress(), a.GetMechanism(), a.GetPrincipal(), a.GetSecret(), w)
		}
		if got := a.GetOutcome().String(); (i == 0) != strings.HasSuffix(got, "ACCEPTED") {
			t.Errorf("attempt %d outcome %s", i, got)
		}
	}
}
