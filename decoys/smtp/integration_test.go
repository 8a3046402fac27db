//go:build integration

package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// oracle is a real Postfix with Dovecot SASL started on loopback.
type oracle struct {
	addr string
}

// startPostfix runs Debian's postfix (master in the foreground) and a
// Dovecot auth server on free loopback ports, with configurations in a
// temporary directory. The setup is the persona's: Debian's main.cf, SASL
// through Dovecot (plain login cram-md5) and relay for authenticated
// clients only. mynetworks excludes loopback, so test clients are foreign.
func startPostfix(t *testing.T, hostname string, extra ...string) *oracle {
	t.Helper()
	postfix, err := exec.LookPath("postfix")
	if err != nil {
		t.Skip("postfix is not installed")
	}
	dovecot, err := exec.LookPath("dovecot")
	if err != nil {
		t.Skip("dovecot is not installed (dovecot-core provides the SASL server)")
	}
	if os.Geteuid() != 0 {
		t.Skip("starting postfix needs root")
	}
	if v, _ := exec.Command("postconf", "-h", "mail_version").Output(); !strings.HasPrefix(string(v), "3.7.") {
		t.Skipf("postfix is %s, the persona is 3.7", strings.TrimSpace(string(v)))
	}

	dir, err := os.MkdirTemp("", "smtp-oracle-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"conf", "queue", "data", "dovecot/run", "dovecot/state"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "postfix", filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
	port := freePort(t)
	domain := hostname[strings.IndexByte(hostname, '.')+1:]

	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("conf/main.cf", fmt.Sprintf(`smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6
smtpd_tls_cert_file = %[1]s/cert.pem
smtpd_tls_key_file = %[1]s/key.pem
smtpd_tls_security_level = may
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
myhostname = %[2]s
mydomain = %[3]s
alias_maps = hash:%[1]s/conf/aliases
alias_database = hash:%[1]s/conf/aliases
myorigin = $mydomain
mydestination = $myhostname, $mydomain, localhost.localdomain, localhost
relayhost =
mynetworks = 192.0.2.1/32
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
queue_directory = %[1]s/queue
data_directory = %[1]s/data
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = %[1]s/dovecot/auth
default_transport = error
local_transport = discard
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
%[4]s
`, dir, hostname, domain, strings.Join(extra, "\n")))
	write("conf/aliases", "postmaster: root\n")
	write("conf/master.cf", fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`, port))
	write("dovecot/dovecot.conf", fmt.Sprintf(`base_dir = %[1]s/dovecot/run
state_dir = %[1]s/dovecot/state
protocols =
listen = 127.0.0.1
ssl = no
log_path = %[1]s/dovecot/log
auth_mechanisms = plain login cram-md5
passdb {
  driver = passwd-file
  args = scheme=plain %[1]s/dovecot/users
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service auth {
  unix_listener %[1]s/dovecot/auth {
    mode = 0666
  }
}
`, dir))
	write("dovecot/users", "someone:{PLAIN}a-password-nobody-sends\n")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
		"-subj", "/CN="+hostname, "-addext", "subjectAltName=DNS:"+hostname,
		"-keyout", filepath.Join(dir, "key.pem"), "-out", filepath.Join(dir, "cert.pem")).CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v: %s", err, out)
	}
	if out, err := exec.Command("postalias", filepath.Join(dir, "conf/aliases")).CombinedOutput(); err != nil {
		t.Fatalf("postalias: %v: %s", err, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	dc := exec.CommandContext(ctx, dovecot, "-F", "-c", filepath.Join(dir, "dovecot/dovecot.conf"))
	if err := dc.Start(); err != nil {
		cancel()
		t.Fatalf("start dovecot: %v", err)
	}
	pf := exec.CommandContext(ctx, postfix, "-c", filepath.Join(dir, "conf"), "start-fg")
	if err := pf.Start(); err != nil {
		cancel()
		t.Fatalf("start postfix: %v", err)
	}
	t.Cleanup(func() {
		_ = exec.Command(postfix, "-c", filepath.Join(dir, "conf"), "stop").Run()
		cancel()
		_ = pf.Wait()
		_ = dc.Wait()
	})

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			_ = conn.Close()
			break
		}
		if i == 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
			t.Fatalf("postfix did not listen on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &oracle{addr: addr}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// transcript sends each step of a probe on a fresh connection from
// source and returns the banner and each reply. A step may hold several
// pipelined commands; replies is how many replies it expects.
type step struct {
	send    string
	replies int
}

func transcript(t *testing.T, source, addr string, steps []step) []string {
	t.Helper()
	c := dialFrom(t, source, addr)
	out := []string{c.readReply(10 * time.Second)}
	// Dovecot's penalty grows to 15 s after four failed attempts.
	const replyWait = 20 * time.Second
	for _, s := range steps {
		c.send(s.send)
		n := max(s.replies, 1)
		var b strings.Builder
		for range n {
			r := c.readReply(replyWait)
			b.WriteString(r)
			if strings.HasSuffix(r, ">") {
				break
			}
		}
		out = append(out, b.String())
		if strings.HasSuffix(b.String(), "<EOF>") {
			break
		}
	}
	return out
}

var queueIDs = regexp.MustCompile(`queued as [0-9A-F]+`)

var (
	challengeLine = regexp.MustCompile(`^334 (\S+)\r\n$`)
	cramChallenge = regexp.MustCompile(`^<\d{16}\.\d+@[\w.-]+>$`)
)

// maskQueueIDs masks queue ids and CRAM-MD5 challenges, which carry the
// time and the system host name.
func maskQueueIDs(s string) string {
	if m := challengeLine.FindStringSubmatch(s); m != nil {
		if raw, err := base64.StdEncoding.DecodeString(m[1]); err == nil && cramChallenge.Match(raw) {
			return "334 <cram-md5 challenge>\r\n"
		}
	}
	return queueIDs.ReplaceAllString(s, "queued as *")
}

// TestPostfixOracle compares the decoy with the real postfix reply by
// reply for a set of sessions, normal and malformed. Queue ids are
// masked; their format is checked on the decoy.
func TestPostfixOracle(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("oracle seed for the smtp decoy 01")}, false)
	o := startPostfix(t, ts.svc.Hostname())
	host := ts.svc.Hostname()
	domain := host[strings.IndexByte(host, '.')+1:]
	one := func(lines ...string) []step {
		out := make([]step, len(lines))
		for i, l := range lines {
			out[i] = step{send: l, replies: 1}
		}
		return out
	}
	long := strings.Repeat("a", 3000)
	probes := []struct {
		name  string
		steps []step
	}{
		{"ehlo", one("EHLO client.example\r\n", "QUIT\r\n")},
		{"helo", one("HELO client.example\r\n", "HELO\r\n", "EHLO\r\n", "HELO a b c\r\n")},
		{"lower case", one("ehlo x\r\n", "noop\r\n", "rset\r\n")},
		{"double ehlo", one("EHLO a\r\n", "EHLO b\r\n")},
		{"mail before ehlo", one("MAIL FROM:<a@b.example>\r\n", "RCPT TO:<root@"+domain+">\r\n")},
		{"rcpt before mail", one("EHLO a\r\n", "RCPT TO:<root@"+domain+">\r\n", "DATA\r\n")},
		{"nested mail", one("EHLO a\r\n", "MAIL FROM:<>\r\n", "MAIL FROM:<>\r\n")},
		{"unknown command", one("EHLO a\r\n", "FOO\r\n", "EXPN root\r\n", "HELP\r\n", "XCLIENT NAME=x\r\n")},
		{"empty lines", one("\r\n", "   \r\n", " NOOP\r\n")},
		{"bare lf", one("EHLO x\n", "NOOP\n", "NOOP\r\r\n")},
		{"nul", one("NO\x00OP\r\n", "NOOP x\x00y\r\n")},
		{"bad utf8", one("NOOP \xff\r\n", "EHLO \xc3\xa9\r\n")},
		{"overlong", one("NOOP "+long+"\r\n", long+"\r\n", "NOOP\r\n")},
		{"http", one("GET / HTTP/1.0\r\n")},
		{"header", one("Subject: hi\r\n")},
		{"binary", one("\x16\x03\x01\x00\x10abc\r\n")},
		{"relay", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<x@elsewhere.example>\r\n", "DATA\r\n")},
		{"local users", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<root@"+domain+">\r\n",
			"RCPT TO:<nosuchuser@"+domain+">\r\n", "RCPT TO:<ROOT+tag@"+strings.ToUpper(domain)+">\r\n",
			"RCPT TO:<postmaster>\r\n", "RCPT TO:<nosuchuser>\r\n", "RCPT TO:<root@localhost>\r\n", "RCPT TO:<root@"+host+">\r\n")},
		{"address syntax", one("EHLO a\r\n", "MAIL FROM:<a b@c.example>\r\n", "MAIL FROM:<a@b..c>\r\n",
			"MAIL FROM:<a@-b.c>\r\n", "MAIL FROM:<a@>\r\n", "MAIL FROM:<a@[1.2.3]>\r\n", "MAIL FROM:<a@1.2.3.4>\r\n",
			"MAIL FROM:<a,b@c.d>\r\n", "MAIL FROM:<a@b.c\r\n", "MAIL FROM:<a@b.c>x\r\n")},
		{"address forms", one("EHLO a\r\n", "MAIL FROM:a@b.example\r\n", "RSET\r\n", "MAIL FROM: <a@b.example>\r\n", "RSET\r\n",
			"MAIL FROM:<\"a b\"@c.example>\r\n", "RSET\r\n", "MAIL FROM:<@x.y:a@b.example>\r\n", "RSET\r\n",
			"MAIL FROM:<a@[1.2.3.4]>\r\n", "RSET\r\n", "MAIL FROM:<a(c)@b.example>\r\n")},
		{"mail parameters", one("EHLO a\r\n", "MAIL FROM:<a@b.c> SIZE=99999999\r\n", "MAIL FROM:<a@b.c> SIZE=x\r\n",
			"MAIL FROM:<a@b.c> FOO=bar\r\n", "MAIL FROM:<a@b.c> RET=X\r\n", "MAIL FROM:\r\n", "MAIL TO:<a@b.c>\r\n",
			"MAIL FROM:<a@b.c> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=abc\r\n",
			"RCPT TO:<root@"+domain+"> NOTIFY=SUCCESS,FAILURE\r\n", "RCPT TO:<root@"+domain+"> FOO\r\n",
			"RCPT TO:\r\n", "RCPT TO:<>\r\n")},
		{"data", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<root@"+domain+">\r\n", "DATA x\r\n",
			"DATA\r\n", "Subject: test\r\n\r\nbody\r\n..dot\r\n.\r\n", "QUIT\r\n")},
		{"data bare lf", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<root@"+domain+">\r\n",
			"DATA\r\n", "Subject: x\n\nbody\n.\n", "NOOP\r\n")},
		{"pipelining", []step{{send: "EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<root@" + domain + ">\r\nRCPT TO:<x@y.example>\r\nDATA\r\n", replies: 5},
			{send: "hello\r\n.\r\nQUIT\r\n", replies: 2}}},
		{"bdat", one("EHLO a\r\n", "BDAT 5\r\nabcde", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<root@"+domain+">\r\n",
			"BDAT 0\r\n", "BDAT 3 LAST\r\nabc", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<root@"+domain+">\r\n",
			"BDAT 4\r\nab\r\n", "BDAT 6 LAST\r\nx\r\nyz\r\n", "BDAT x\r\n")},
		{"vrfy etrn", one("VRFY\r\n", "VRFY root\r\n", "VRFY nosuchuser\r\n", "VRFY <a@b.example>\r\n", "VRFY a b\r\n",
			"ETRN\r\n", "ETRN example.org\r\n", "ETRN -x\r\n")},
		{"starttls syntax", one("STARTTLS x\r\n", "RSET x\r\n", "NOOP x\r\n", "QUIT x\r\n")},
		{"auth errors", one("EHLO a\r\n", "AUTH\r\n", "AUTH FOO\r\n", "AUTH PLAIN !!!\r\n", "AUTH PLAIN a b\r\n",
			"AUTH PLAIN\r\n", "*\r\n", "MAIL FROM:<>\r\n", "AUTH LOGIN\r\n")},
		{"auth flows", one("AUTH LOGIN Ym9i\r\n", "eA==\r\n", "AUTH PLAIN abc\r\n", "AUTH PLAIN =\r\n",
			"AUTH CRAM-MD5\r\n", "Ym9iIDAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm\r\n", "AUTH LOGIN\r\n", "!!\r\n",
			"AUTH plain AGJvYgBzZWNyZXQ=\r\n")},
		{"more commands", one("XFORWARD NAME=x\r\n", "HELO\ta\r\n", "EHLO [127.0.0.1]\r\n", "VRFY root SMTPUTF8\r\n",
			"VRFY SMTPUTF8\r\n", "VRFY <root>\r\n", "VRFY \"root\"\r\n", "NOOP a b c\r\n", "RSET\r\n", "QUIT\r\n")},
		{"data long lines", one("EHLO a\r\n", "MAIL FROM:<a@b.example> SIZE=10\r\n", "RCPT TO:<root@"+domain+">\r\n",
			"DATA\r\n", "Subject: "+long+"\r\n\r\nx\x00y\r\n.\r\n", "NOOP\r\n")},
		{"bdat errors", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<root@"+domain+">\r\n",
			"BDAT 3\r\nabc", "DATA\r\n", "RCPT TO:<root@"+domain+">\r\n", "MAIL FROM:<>\r\n", "BDAT 2 last\r\nde",
			"BDAT 1 LAST x\r\n")},
		{"error limit", one(strings.Split(strings.Repeat("FOO\r\n|", 21), "|")[:21]...)},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			want := transcript(t, "127.0.0.3", o.addr, p.steps)
			got := transcript(t, "127.0.0.3", ts.addr, p.steps)
			for i := range max(len(want), len(got)) {
				var w, g string
				if i < len(want) {
					w = maskQueueIDs(want[i])
				}
				if i < len(got) {
					g = maskQueueIDs(got[i])
				}
				if w != g {
					t.Errorf("reply %d differs\ndecoy:   %q\npostfix: %q", i, g, w)
				}
			}
			for _, r := range got {
				if strings.Contains(r, "queued as") && !postfixQueueID.MatchString(r) {
					t.Errorf("queue id format: %q", r)
				}
			}
		})
	}
}

// TestPostfixOracleAddresses compares the replies to MAIL FROM and RCPT
// TO for a list of well-formed and malformed addresses, each on its own
// connection so that the error counter plays no part.
func TestPostfixOracleAddresses(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("oracle seed for the smtp decoy 01")}, false)
	o := startPostfix(t, ts.svc.Hostname())
	domain := ts.svc.Hostname()[strings.IndexByte(ts.svc.Hostname(), '.')+1:]
	addrs := []string{
		"<a@b.example>", "<>", " <a@b.example>", "a@b.example", "<\"a b\"@c.example>", "<a b@c.example>",
		"<a@b@c>", "<a@b.c", "<@x.y:a@b.example>", "<a@[1.2.3.4]>", "<a@[1.2.3]>", "<a@[IPv6:::1]>", "<a@b..c>",
		"<a@-b.c>", "<a@b-.c>", "<a@b_c.d>", "<a>", "<a@>", "<@b.c>", "<a@b.c (comment)>", "<a(c)@b.c>",
		"<a@b.c>x", "<<a@b.c>>", "<a,b@c.d>", "<a;b@c.d>", "<a\\@b@c.d>", "<\"a@b.c>", "<a@b.c>>", "<a@b.c>;",
		"<a@b.c.>", "<a@1.2.3.4>", "<a@localhost>", "<a@b>", "<.a@b.c>", "<a..b@c.d>", "<a@b.c:x>",
		"<a@123>", "<a@1.2.3>", "<a@b.123>", "<(x)>", "<a@b.c(>", "<a@[1.2.3.4>", "<a@b]c>", "<\"\"@b.c>",
		"<root@" + domain + ">", "<ROOT@" + strings.ToUpper(domain) + ">", "<nosuchuser@" + domain + ">",
		"<root+x@" + domain + ">", "<root@localhost.localdomain>", "<postmaster>", "<nosuchuser>", "<a%b@" + domain + ">",
	}
	for _, verb := range []string{"MAIL FROM:", "RCPT TO:"} {
		for _, a := range addrs {
			t.Run(verb+a, func(t *testing.T) {
				steps := []step{{send: "EHLO x\r\n", replies: 1}}
				if verb == "RCPT TO:" {
					steps = append(steps, step{send: "MAIL FROM:<>\r\n", replies: 1})
				}
				steps = append(steps, step{send: verb + a + "\r\n", replies: 1})
				want := transcript(t, "127.0.0.3", o.addr, steps)
				got := transcript(t, "127.0.0.3", ts.addr, steps)
				if w, g := want[len(want)-1], got[len(got)-1]; w != g {
					t.Errorf("decoy %q, postfix %q", g, w)
				}
			})
		}
	}
}

// TestPostfixOracleTLSSession compares a session continued inside TLS
// after STARTTLS: the EHLO keywords without STARTTLS, a second STARTTLS,
// authentication and mail commands.
func TestPostfixOracleTLSSession(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("oracle seed for the smtp decoy 01")}, false)
	o := startPostfix(t, ts.svc.Hostname())
	run := func(addr string) []string {
		c := dialFrom(t, "127.0.0.3", addr)
		out := []string{c.readReply(10 * time.Second), c.exchange("EHLO x\r\n"), c.exchange("MAIL FROM:<>\r\n")}
		// Plain text pipelined after STARTTLS must be dropped.
		out = append(out, c.exchange("STARTTLS\r\nNOOP\r\n"))
		tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // G402: the test talks to a self-signed server
		if err := tc.Handshake(); err != nil {
			t.Fatalf("handshake with %s: %v", addr, err)
		}
		c.conn = tc
		c.br = bufio.NewReader(tc)
		for _, s := range []string{"MAIL FROM:<>\r\n", "EHLO y\r\n", "STARTTLS\r\n", "AUTH LOGIN\r\n", "*\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<x@y.example>\r\n", "QUIT\r\n"} {
			out = append(out, c.exchange(s))
		}
		return out
	}
	want := run(o.addr)
	got := run(ts.addr)
	for i := range max(len(want), len(got)) {
		if i >= len(want) || i >= len(got) || want[i] != got[i] {
			t.Errorf("step %d\ndecoy:   %q\npostfix: %q", i, got, want)
			break
		}
	}
}

// TestPostfixOracleTimeout shortens smtpd_timeout to one second and the
// decoy's read timeout to match, and compares what each sends to a client
// that stops talking, idle, in the middle of a line, and inside DATA.
func TestPostfixOracleTimeout(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("oracle seed for the smtp decoy 01"), Limits: decoys.Limits{ReadTimeout: time.Second}}, false)
	o := startPostfix(t, ts.svc.Hostname(), "smtpd_timeout = 1s")
	domain := ts.svc.Hostname()[strings.IndexByte(ts.svc.Hostname(), '.')+1:]
	probes := map[string][]step{
		"idle":         {{send: "EHLO x\r\n", replies: 1}, {send: "", replies: 1}},
		"partial line": {{send: "NOOP", replies: 1}},
		"in data": {{send: "EHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<root@" + domain + ">\r\nDATA\r\n", replies: 4},
			{send: "Subject: x\r\n", replies: 1}},
	}
	for name, steps := range probes {
		t.Run(name, func(t *testing.T) {
			want := transcript(t, "127.0.0.3", o.addr, steps)
			got := transcript(t, "127.0.0.3", ts.addr, steps)
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("decoy   %q\npostfix %q", got, want)
			}
		})
	}
}
