//go:build integration

package smtp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// eximRoot is where integration/setup.sh unpacks exim4-daemon-light,
// exim4-base and exim4-config: Exim conflicts with Postfix, which the
// Postfix oracle needs installed.
const eximRoot = "/opt/decnet-oracles/exim4"

// eximUID is the uid and gid that the oracle's Debian-exim account gets
// when the system has none. Exim drops to it to receive mail; nothing on
// the host uses it.
const eximUID = 64990

// findExim returns the root under which Exim and Debian's configuration
// template are found: the unpacked packages, or the system when
// exim4-daemon-light and exim4-config are installed.
func findExim(t *testing.T) string {
	t.Helper()
	for _, root := range []string{eximRoot, "/"} {
		_, errBin := os.Stat(filepath.Join(root, "usr/sbin/exim4"))
		_, errTpl := os.Stat(filepath.Join(root, "etc/exim4/exim4.conf.template"))
		if errBin == nil && errTpl == nil {
			return root
		}
	}
	t.Skip("exim is neither unpacked in " + eximRoot + " (integration/setup.sh) nor installed")
	return ""
}

// startExim runs Debian 12's Exim as a daemon on a free loopback port.
// Its configuration is what update-exim4.conf generates for an "internet
// site" (mail sent and received directly over SMTP), plus what the
// persona adds: TLS with a generated certificate, and the PLAIN and
// LOGIN authenticators from Debian's template, which are offered only
// under TLS. Exim runs as root in a private mount namespace, where
// copies of /etc/passwd, /etc/group and /etc/mailname stand in for the
// originals: Exim needs its Debian-exim account, and update-exim4.conf
// reads the mail name from /etc/mailname.
func startExim(t *testing.T, hostname string) *oracle {
	t.Helper()
	root := findExim(t)
	if os.Geteuid() != 0 {
		t.Skip("exim needs root for its mount namespace and its -C configuration")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare is missing")
	}
	if _, err := os.Stat("/etc/mailname"); err != nil {
		t.Skip("/etc/mailname is missing; a copy is mounted over it")
	}

	dir, err := os.MkdirTemp("", "smtp-exim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	// The receiving processes run as Debian-exim and read the
	// certificate and the configuration below dir.
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // G302: see above
		t.Fatal(err)
	}
	for _, d := range []string{"conf", "spool", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil { //nolint:gosec // G301: as for dir
			t.Fatal(err)
		}
	}
	for _, d := range []string{"spool", "log"} {
		if err := os.Chown(filepath.Join(dir, d), eximUID, eximUID); err != nil {
			t.Fatal(err)
		}
	}
	domain := hostname[strings.IndexByte(hostname, '.')+1:]
	write := func(name, content string) {
		t.Helper()
		// Exim refuses a configuration that others may write; the rest
		// is read by Debian-exim.
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil { //nolint:gosec // G306: see above
			t.Fatal(err)
		}
	}
	writeEximAccounts(t, dir, write)
	write("mailname", domain+"\n")

	// The debconf settings of an internet site whose mail name is the
	// domain and which accepts mail for the host and the domain.
	write("conf/update-exim4.conf.conf", fmt.Sprintf(`dc_eximconfig_configtype='internet'
dc_other_hostnames='%s;%s'
dc_local_interfaces=''
dc_readhost=''
dc_relay_domains=''
dc_minimaldns='false'
dc_relay_nets=''
dc_smarthost=''
CFILEMODE='644'
dc_use_split_config='false'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
`, hostname, domain))
	template, err := os.ReadFile(filepath.Join(root, "etc/exim4/exim4.conf.template"))
	if err != nil {
		t.Fatal(err)
	}
	write("conf/exim4.conf.template", string(enableExampleAuthenticators(t, template)))
	// The authenticators look users up in CONFDIR/passwd; without it
	// every attempt fails as temporary (435). The password of its one
	// user is not sent by the tests.
	write("conf/passwd", "someone:$1$7b3Kx2Qd$HhOUKwBlKprNWMeYv8vGq.\n")
	// What Debian's exim4.conf.localmacros would hold; update-exim4.conf
	// reads that file only from /etc/exim4, so it is prepended here. The
	// template defines each macro only where it is not defined yet.
	write("localmacros", fmt.Sprintf(`MAIN_HARDCODE_PRIMARY_HOSTNAME = %[2]s
MAIN_TLS_ENABLE = yes
MAIN_TLS_CERTIFICATE = %[1]s/cert.pem
MAIN_TLS_PRIVATEKEY = %[1]s/key.pem
CONFDIR = %[1]s/conf
SPOOLDIR = %[1]s/spool
log_file_path = %[1]s/log/%%slog
`, dir, hostname))
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
		"-subj", "/CN="+hostname, "-addext", "subjectAltName=DNS:"+hostname,
		"-keyout", filepath.Join(dir, "key.pem"), "-out", filepath.Join(dir, "cert.pem")).CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v: %s", err, out)
	}
	if err := os.Chown(filepath.Join(dir, "key.pem"), eximUID, eximUID); err != nil {
		t.Fatal(err)
	}

	// The first run generates the configuration and prints the version;
	// the second is the daemon.
	mounts := fmt.Sprintf(`mount --bind %[1]s/passwd /etc/passwd && mount --bind %[1]s/group /etc/group &&
mount --bind %[1]s/mailname /etc/mailname || exit 1
export LD_LIBRARY_PATH=%[2]s/usr/lib/x86_64-linux-gnu
`, dir, root)
	prepare := mounts + fmt.Sprintf(`%[2]s/usr/sbin/update-exim4.conf -d %[1]s/conf -o %[1]s/generated.conf || exit 1
cat %[1]s/localmacros %[1]s/generated.conf > %[1]s/exim4.conf || exit 1
exec %[2]s/usr/sbin/exim4 -C %[1]s/exim4.conf -bV
`, dir, root)
	out, err := exec.Command(unshare, "-m", "sh", "-c", prepare).CombinedOutput() //nolint:gosec // G204: Debian's exim on this test's own files
	if err != nil {
		t.Fatalf("configure exim: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("Exim version 4.96 ")) {
		t.Skipf("exim -bV: %.60s, the persona is 4.96", out)
	}

	port := freePort(t)
	daemon := mounts + fmt.Sprintf("exec %[2]s/usr/sbin/exim4 -C %[1]s/exim4.conf -bdf -oX 127.0.0.1.%[3]d\n", dir, root, port)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, unshare, "-m", "sh", "-c", daemon) //nolint:gosec // G204: as above
	cmd.Stderr = os.Stderr
	// The daemon exits on SIGTERM; its receiving processes end with
	// their connections.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start exim: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		var d net.Dialer
		conn, err := d.DialContext(t.Context(), "tcp", addr)
		if err == nil {
			_ = conn.Close()
			break
		}
		if i == 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "log/paniclog"))
			t.Fatalf("exim did not listen on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &oracle{addr: addr}
}

// writeEximAccounts copies /etc/passwd and /etc/group, adding the
// Debian-exim account that exim4-base creates at install time unless the
// system has it.
func writeEximAccounts(t *testing.T, dir string, write func(name, content string)) {
	t.Helper()
	for _, f := range []struct{ name, line string }{
		{"passwd", fmt.Sprintf("Debian-exim:x:%d:%d::/var/spool/exim4:/usr/sbin/nologin\n", eximUID, eximUID)},
		{"group", fmt.Sprintf("Debian-exim:x:%d:\n", eximUID)},
	} {
		orig, err := os.ReadFile("/etc/" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(orig, []byte("\nDebian-exim:")) {
			orig = append(orig, f.line...)
		}
		write(f.name, string(orig))
	}
}

// enableExampleAuthenticators uncomments the plain_server and
// login_server examples of Debian's template, as an administrator does
// to use them.
func enableExampleAuthenticators(t *testing.T, template []byte) []byte {
	t.Helper()
	lines := strings.Split(string(template), "\n")
	found := 0
	in := false
	for i, l := range lines {
		if l == "# plain_server:" || l == "# login_server:" {
			in = true
			found++
		}
		if !in {
			continue
		}
		rest, ok := strings.CutPrefix(l, "# ")
		if !ok {
			in = false
			continue
		}
		lines[i] = rest
	}
	if found != 2 {
		t.Fatalf("exim4.conf.template: found %d of the 2 example authenticators", found)
	}
	return []byte(strings.Join(lines, "\n"))
}

// eximDate matches the date at the end of Exim's banner ($tod_full).
var eximDate = regexp.MustCompile(`^(220 \S+ ESMTP Exim 4\.96) [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}( [-+]\d{4}\r\n)`)

// maskEximDate replaces the banner's date and time, which are the only
// part of the replies compared here that depends on the moment. The
// time zone stays: both run in the test's.
func maskEximDate(s string) string {
	return eximID.ReplaceAllString(eximDate.ReplaceAllString(s, "$1 <date>$2"), "id=<id>")
}

// eximID matches the message id of Exim's reply to a complete message.
var eximID = regexp.MustCompile(`id=[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}\b`)

// clientHello returns the first TLS record a Go client sends, to be sent
// where a command is expected.
func clientHello(t *testing.T) string {
	t.Helper()
	a, b := net.Pipe()
	defer func() { _ = a.Close() }()
	go func() {
		tc := tls.Client(b, &tls.Config{ServerName: "mail.example", MinVersion: tls.VersionTLS12})
		_ = tc.Handshake()
		_ = b.Close()
	}()
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(a, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(a, body); err != nil {
		t.Fatal(err)
	}
	return string(hdr) + string(body)
}

// TestEximOracle compares the Exim persona with the real Exim reply by
// reply, byte for byte, for sessions normal and malformed, each on a
// fresh connection from a client that is not in the relay networks.
func TestEximOracle(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("oracle seed for the smtp decoy 01"), Persona: PersonaExim}, false)
	o := startExim(t, ts.svc.Hostname())
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
		{"helo", one("HELO client.example\r\n", "HELO\r\n", "EHLO\r\n", "HELO a b c\r\n", "EHLO a b\r\n")},
		{"vrfy", one("EHLO a\r\n", "VRFY root\r\n", "VRFY\r\n", "VRFY <root@"+domain+">\r\n", "VRFY x@elsewhere.example\r\n")},
		{"expn", one("EHLO a\r\n", "EXPN root\r\n", "EXPN\r\n")},
		{"help", one("HELP\r\n", "HELP mail\r\n", "help\r\n")},
		{"noop rset", one("NOOP\r\n", "NOOP x\r\n", "RSET\r\n", "RSET x\r\n", "noop\r\n")},
		{"unknown command", one("EHLO a\r\n", "FOO\r\n", "XCLIENT NAME=x\r\n", "ETRN x\r\n")},
		{"too many unknown", one("FOO\r\n", "BAR\r\n", "BAZ\r\n", "QUX\r\n", "NOOP\r\n")},
		{"mail before ehlo", one("MAIL FROM:<a@b.example>\r\n", "RCPT TO:<root@"+domain+">\r\n", "DATA\r\n")},
		{"relay", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<x@elsewhere.example>\r\n", "DATA\r\n")},
		{"auth without tls", one("EHLO a\r\n", "AUTH\r\n", "AUTH PLAIN\r\n", "AUTH LOGIN\r\n", "AUTH FOO\r\n")},
		{"pipelining", []step{{send: "EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@elsewhere.example>\r\nRSET\r\nNOOP\r\n", replies: 5},
			{send: "QUIT\r\n", replies: 1}}},
		{"pipelining after helo", []step{{send: "HELO a\r\n", replies: 1},
			{send: "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@elsewhere.example>\r\n", replies: 2}}},
		{"pipelined ehlo", []step{{send: "EHLO a\r\nNOOP\r\n", replies: 2}}},
		{"bare lf", one("EHLO x\n", "NOOP\n", "NOOP\r\r\n", "RSET\n")},
		{"nul", one("NO\x00OP\r\n", "NOOP x\x00y\r\n", "\x00\r\n")},
		{"overlong", one("NOOP "+long+"\r\n", long+"\r\n", "NOOP\r\n")},
		{"very long", one("NOOP "+strings.Repeat("b", 20000)+"\r\n", "NOOP\r\n")},
		{"tls hello in plain", one(clientHello(t), "NOOP\r\n")},
		{"empty lines", one("\r\n", "   \r\n", " NOOP\r\n")},
		{"syntax error limit", one("RSET x\r\n", "FOO\r\n", "QUIT x\r\n", "BAR\r\n", "NOOP\r\n")},
		{"nul past the limit", one("A\r\n", "B\r\n", "C\r\n", "\x00\r\n", "NOOP\r\n")},
		{"nonmail limit", one(append([]string{"RSET\r\n"}, strings.Split(strings.Repeat("NOOP\r\n|", 11), "|")[:11]...)...)},
		{"helo arguments", one("HELO a_b\r\n", "EHLO [1.2.3]\r\n", "HELO [IPv6:::1]\r\n", "HELO\ta\r\n", "EHLO Mixed.Case\r\n")},
		{"starttls not advertised", one("STARTTLS\r\n", "HELO a\r\n", "STARTTLS\r\n")},
		{"rcpt without mail", one("EHLO a\r\n", "RCPT TO:<x@y.example>\r\n", "RCPT TO:<x@y.example>\r\n", "DATA\r\n")},
		{"etrn", one("ETRN x\r\n", "EHLO a\r\n", "MAIL FROM:<>\r\n", "ETRN x\r\n")},
		{"vrfy forms", one("VRFY postmaster\r\n", "VRFY <root>\r\n", "VRFY a@b.example\r\n")},
		{"data without rcpt", []step{{send: "EHLO a\r\n", replies: 1}, {send: "MAIL FROM:<>\r\nDATA\r\n", replies: 2},
			{send: "NOOP\r\nNOOP\r\n", replies: 2}}},
		{"mail addresses", one("EHLO a\r\n", "MAIL FROM:<a>\r\n", "MAIL FROM:a\r\n", "MAIL FROM:<a> SIZE=10\r\n",
			"MAIL FROM:<a@b.example> SIZE=x\r\n", "RSET\r\n", "MAIL FROM:<a@b.example> RET=HDRS BODY=8BITMIME\r\n", "RSET\r\n",
			"MAIL FROM:<a@b.example> SIZE=999999999\r\n", "MAIL FROM:<a@[1.2.3.4]>\r\n", "MAIL FROM:<a@b.example> FOO=bar\r\n", "QUIT\r\n")},
		{"rcpt addresses", one("EHLO a\r\n", "MAIL FROM:<>\r\n", "RCPT TO:<a>\r\n", "RCPT TO:<postmaster>\r\n",
			"RCPT TO:<root@"+domain+">\r\n", "RCPT TO:<nosuchuser@"+domain+">\r\n", "RCPT TO:<root+x@"+domain+">\r\n",
			"RCPT TO:<ROOT@"+strings.ToUpper(domain)+">\r\n", "RCPT TO:<root@"+host+">\r\n", "RCPT TO:<root@localhost>\r\n",
			"RCPT TO:<a@[1.2.3.4]>\r\n", "RCPT TO:<a@b.example> SIZE=10\r\n", "RCPT TO:<>\r\n", "QUIT\r\n")},
		{"auth in transaction", one("EHLO a\r\n", "MAIL FROM:<>\r\n", "AUTH PLAIN\r\n", "RSET\r\n", "AUTH\r\n")},
		{"bdat chunks", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<postmaster@"+domain+">\r\n",
			"BDAT 3\r\nabc", "BDAT 2\r\nde", "BDAT 4 LAST\r\nf\r\n\r\n", "BDAT 1\r\n")},
		{"bdat without size", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<postmaster@"+domain+">\r\n",
			"BDAT\r\n", "NOOP\r\n", "MAIL FROM:<>\r\n", "RSET\r\n", "NOOP\r\n")},
		// Exim 4.96 dies with SIGSEGV on an RSET after a zero-size
		// chunk; the decoy does not imitate the crash, so the probe
		// stops before it.
		{"bdat of zero", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<postmaster@"+domain+">\r\n",
			"BDAT 0\r\n", "NOOP\r\n")},
		{"bdat size not a number", one("EHLO a\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<postmaster@"+domain+">\r\n",
			"BDAT x\r\n", "NOOP\r\n", "RSET\r\n", "NOOP\r\n")},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			want := transcript(t, "127.0.0.3", o.addr, p.steps)
			got := transcript(t, "127.0.0.3", ts.addr, p.steps)
			compareEximTranscripts(t, want, got)
		})
	}

	// A client that sends before the greeting: PIPECONNECT lets it.
	t.Run("early talker", func(t *testing.T) {
		early := func(addr string) []string {
			c := dialFrom(t, "127.0.0.3", addr)
			c.send("EHLO a\r\nNOOP\r\nQUIT\r\n")
			var out []string
			for len(out) < 10 {
				r := c.readReply(10 * time.Second)
				out = append(out, r)
				if strings.HasSuffix(r, ">") {
					break
				}
			}
			return out
		}
		compareEximTranscripts(t, early(o.addr), early(ts.addr))
	})
}

// compareEximTranscripts compares two transcripts reply by reply; the
// first must be Exim's greeting.
func compareEximTranscripts(t *testing.T, want, got []string) {
	t.Helper()
	if len(want) == 0 || !eximDate.MatchString(want[0]) {
		t.Fatalf("exim transcript does not start with a greeting: %q", want)
	}
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = maskEximDate(want[i])
		}
		if i < len(got) {
			g = maskEximDate(got[i])
		}
		if w != g {
			t.Errorf("reply %d differs\ndecoy: %q\nexim:  %q", i, g, w)
		}
	}
}

// TestEximOracleTLSSession compares sessions continued inside TLS after
// STARTTLS: the EHLO keywords with AUTH and without STARTTLS, a second
// STARTTLS, and the replies of authentication to good and bad input.
func TestEximOracleTLSSession(t *testing.T) {
	ts := startService(t, decoys.Config{Seed: []byte("oracle seed for the smtp decoy 01"), Persona: PersonaExim}, false)
	o := startExim(t, ts.svc.Hostname())
	run := func(addr string, lines []string) []string {
		c := dialFrom(t, "127.0.0.3", addr)
		out := []string{c.readReply(10 * time.Second), c.exchange("EHLO x\r\n"), c.exchange("STARTTLS\r\n")}
		tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // G402: the test talks to a self-signed server
		if err := tc.Handshake(); err != nil {
			t.Fatalf("handshake with %s: %v", addr, err)
		}
		c.conn = tc
		c.br = bufio.NewReader(tc)
		for _, s := range lines {
			out = append(out, c.exchange(s))
		}
		return out
	}
	sessions := map[string][]string{
		"errors": {"MAIL FROM:<>\r\n", "EHLO y\r\n", "STARTTLS\r\n", "AUTH\r\n", "AUTH FOO\r\n",
			"AUTH PLAIN !!!\r\n", "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n", "AUTH LOGIN\r\n", "*\r\n", "AUTH LOGIN Ym9i\r\n", "eA==\r\n",
			"AUTH PLAIN\r\n", "AGJvYgB4\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<x@y.example>\r\n", "QUIT\r\n"},
		"auth forms": {"EHLO y\r\n", "AUTH PLAIN =\r\n", "AUTH LOGIN\r\n", "Ym9iAHNlY3JldA==\r\n",
			"AUTH LOGIN\r\n", "=\r\n", "AUTH PLAIN AGJv YgB4\r\n", "AUTH PLAIN\r\n", "AGJv YgB4\r\n", "AUTH LOGIN Ym9\r\n",
			"AUTH plain " + strings.Repeat("QUFB", 3000) + "\r\n", "AUTH LOGIN\r\n", "Ym9i\r\n", "*\r\n", "QUIT\r\n"},
	}
	for name, lines := range sessions {
		t.Run(name, func(t *testing.T) {
			want := run(o.addr, lines)
			got := run(ts.addr, lines)
			compareEximTranscripts(t, want, got)
		})
	}
}
