//go:build integration

package ftp

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

// proftpdRoot is where integration/setup.sh unpacks Debian 12's
// proftpd-core and the libraries it needs.
const proftpdRoot = "/opt/decnet-oracles/proftpd"

// The oracle runs in its own UTS namespace under proftpdHost, which its
// /etc/hosts maps to 127.0.1.1 as Debian's installer does. ProFTPD
// takes its ServerAdmin from that name. A second address of the same name
// makes it add an IPv4-mapped listener, so that clients see the
// ::ffff: local address a default install's dual-stack wildcard socket
// shows, while nothing listens beyond loopback. Clients connect to
// proftpdAddr.
const (
	proftpdHost = "ftp01"
	proftpdAddr = "127.0.1.2"
)

// proftpdUID is alice's uid in the oracle's /etc/passwd and in the
// decoy's tree.
const proftpdUID = 1000

// proftpdPasswordHash is crypt(3) SHA-512 of "pw", alice's password in
// the oracle.
const proftpdPasswordHash = "$6$decnetoracle$DLuTXLMOfg36BGdma1Q2j9udW4KW4tkKSBFOKSL4FY55Y8ZHEYnW6e6n9/BMoC2d0/1FQObsp6d5vDIi2s.RQ0" //nolint:gosec // G101: the test user's hash

// startProFTPD runs Debian's proftpd standalone with the packaged
// proftpd.conf, changed only to listen on a free port of loopback and to
// write its logs under a temporary directory. The daemon runs as root in
// private mount and UTS namespaces, where /etc/passwd, /etc/shadow,
// /etc/group, /etc/hosts, /etc/pam.d (the host's plus the package's
// proftpd file), /run and /home are the test's own; home fills the
// directory mounted on /home. It returns the address to connect to.
func startProFTPD(t *testing.T, home func(dir string)) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(proftpdRoot, "usr/sbin/proftpd")); err != nil {
		t.Skip("proftpd is not unpacked in " + proftpdRoot + " (integration/setup.sh)")
	}
	if os.Geteuid() != 0 {
		t.Skip("proftpd needs root for its mount namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare is missing")
	}

	dir, err := os.MkdirTemp("", "proftpdtest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	// The sessions run as alice and must reach /home/alice.
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // G302: see above
		t.Fatal(err)
	}
	for _, d := range []string{"run/proftpd", "log", "home", "pam.d", "nolocales"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil { //nolint:gosec // G301: as for dir
			t.Fatal(err)
		}
	}
	home(filepath.Join(dir, "home"))

	writeProFTPDEtc(t, dir)
	port := freePortOn(t, proftpdAddr)
	conf := proftpdConf(t, dir, port)
	confPath := filepath.Join(dir, "proftpd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil { //nolint:gosec // G306: read by the daemon only
		t.Fatal(err)
	}

	script := proftpdScript(dir, confPath)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, unshare, "-m", "-u", "--propagation", "private", "sh", "-c", script) //nolint:gosec // G204: the unpacked proftpd on this test's own files
	// systemd starts the daemon with a near-empty environment: no LANG,
	// so mod_lang falls back to en_US. TZ pins listings to UTC like the
	// decoy's.
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TZ=UTC"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start proftpd: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	addr := net.JoinHostPort(proftpdAddr, strconv.Itoa(port))
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			// Read the banner so that the probe is a whole session.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.ReadAll(io.LimitReader(conn, 1))
			_ = conn.Close()
			return addr
		}
		if i == 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "log", "proftpd.log"))
			t.Fatalf("proftpd did not listen on %s: %v\n%s\n%s", addr, err, stderr.String(), log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// proftpdScript mounts the test's files over the system's and runs the
// daemon in the foreground. /usr/share/locale gets the package's message
// catalogs, where a real install has them, and /usr/lib/locale an empty
// directory, so that no generated locale is found: a minimal Debian.
func proftpdScript(dir, confPath string) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	for _, m := range [][2]string{
		{dir + "/run", "/run"},
		{dir + "/passwd", "/etc/passwd"},
		{dir + "/group", "/etc/group"},
		{dir + "/shadow", "/etc/shadow"},
		{dir + "/hosts", "/etc/hosts"},
		{dir + "/resolv.conf", "/etc/resolv.conf"},
		{dir + "/pam.d", "/etc/pam.d"},
		{dir + "/home", "/home"},
		{proftpdRoot + "/usr/share/locale", "/usr/share/locale"},
		{dir + "/nolocales", "/usr/lib/locale"},
	} {
		fmt.Fprintf(&b, "mount --bind %s %s\n", m[0], m[1])
	}
	fmt.Fprintf(&b, "hostname %s\n", proftpdHost)
	fmt.Fprintf(&b, "LD_LIBRARY_PATH=%s/usr/lib/x86_64-linux-gnu exec %s/usr/sbin/proftpd --nodaemon -c %s\n",
		proftpdRoot, proftpdRoot, confPath)
	return b.String()
}

// proftpdConf returns the packaged proftpd.conf and modules.conf with the
// module path, the port, the log files and the include directory moved
// to the unpacked package and dir. SocketBindTight keeps the listener
// on the loopback addresses of the host name.
func proftpdConf(t *testing.T, dir string, port int) string {
	t.Helper()
	templates := filepath.Join(proftpdRoot, "usr/share/proftpd/templates")
	modules := mustRead(t, filepath.Join(templates, "modules.conf"))
	modules = mustReplace(t, modules, "ModulePath /usr/lib/proftpd", "ModulePath "+proftpdRoot+"/usr/lib/proftpd")
	modulesPath := filepath.Join(dir, "modules.conf")
	if err := os.WriteFile(modulesPath, []byte(modules), 0o644); err != nil { //nolint:gosec // G306: read by the daemon only
		t.Fatal(err)
	}

	conf := mustRead(t, filepath.Join(templates, "proftpd.conf"))
	conf = mustReplace(t, conf, "Include /etc/proftpd/modules.conf", "Include "+modulesPath)
	conf = mustReplace(t, conf, "\nPort 21\n", fmt.Sprintf("\nPort %d\nSocketBindTight on\n", port))
	conf = mustReplace(t, conf, "/var/log/proftpd/", dir+"/log/")
	conf = mustReplace(t, conf, "Include /etc/proftpd/conf.d/", "Include "+proftpdRoot+"/etc/proftpd/conf.d/")
	return conf
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mustReplace replaces every old in s and fails when there is none, so
// that a changed template cannot leave the daemon on port 21.
func mustReplace(t *testing.T, s, old, repl string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("proftpd template lacks %q", old)
	}
	return strings.ReplaceAll(s, old, repl)
}

// writeProFTPDEtc writes the account, name service and PAM files the
// namespace mounts. The accounts are those of a Debian host with
// proftpd-core installed (its postinst adds the proftpd user) and one
// local user, alice.
func writeProFTPDEtc(t *testing.T, dir string) {
	t.Helper()
	files := []struct {
		name, text string
		mode       os.FileMode
	}{
		{"passwd", "root:x:0:0:root:/root:/bin/bash\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" +
			"proftpd:x:101:65534::/run/proftpd:/usr/sbin/nologin\n" +
			"ftp:x:102:65534::/srv/ftp:/usr/sbin/nologin\n" +
			fmt.Sprintf("alice:x:%d:%d:alice:/home/alice:/bin/bash\n", proftpdUID, proftpdUID), 0o644},
		{"group", "root:x:0:\nnogroup:x:65534:\n" + fmt.Sprintf("alice:x:%d:\n", proftpdUID), 0o644},
		{"shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\nproftpd:!:19000:0:99999:7:::\n" +
			"ftp:*:19000:0:99999:7:::\nalice:" + proftpdPasswordHash + ":19000:0:99999:7:::\n", 0o640},
		{"hosts", fmt.Sprintf("127.0.0.1\tlocalhost\n127.0.1.1\t%[1]s\n%[2]s\t%[1]s\n", proftpdHost, proftpdAddr), 0o644},
		// Lookups that miss /etc/hosts fail at once on loopback rather
		// than leave the machine.
		{"resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.text), f.mode); err != nil {
			t.Fatal(err)
		}
	}

	entries, err := os.ReadDir("/etc/pam.d")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			copyFile(t, filepath.Join("/etc/pam.d", e.Name()), filepath.Join(dir, "pam.d", e.Name()))
		}
	}
	copyFile(t, filepath.Join(proftpdRoot, "etc/pam.d/proftpd"), filepath.Join(dir, "pam.d", "proftpd"))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil { //nolint:gosec // G306: PAM files are world-readable
		t.Fatal(err)
	}
}

// writeTree writes the children of the decoy's directory n into dir with
// their modes, sizes, contents and times, owned by alice, so that the
// daemon lists what the decoy lists.
func writeTree(t *testing.T, dir string, n *node) {
	t.Helper()
	for _, c := range n.children {
		p := filepath.Join(dir, c.name)
		switch {
		case c.link != "":
			if err := os.Symlink(c.link, p); err != nil {
				t.Fatal(err)
			}
			continue
		case c.dir:
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			writeTree(t, p, c)
		default:
			f, err := os.Create(p) //nolint:gosec // G304: inside the test's directory
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, c.reader()); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(p, os.FileMode(c.perm&0o777)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, proftpdUID, proftpdUID); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, c.mtime, c.mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(dir, n.mtime, n.mtime); err != nil {
		t.Fatal(err)
	}
}

// freePortOn returns a port free on the loopback address host.
func freePortOn(t *testing.T, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proftpdClient is the source address of every oracle test connection;
// it has no /etc/hosts entry, so the daemon's reverse lookup of it fails
// as it does for most attackers.
const proftpdClient = "127.0.0.3"

// proftpdFirstReply bounds the wait for the first byte of a reply: a
// failed login takes PAM's two seconds and mod_delay may add half as
// much again.
const proftpdFirstReply = 6 * time.Second

// proftpdPair is the oracle and the ProFTPD persona, both serving
// alice's home as the decoy generates it at now.
type proftpdPair struct {
	oracle string
	decoy  *testService
	home   *node
}

func startProFTPDPair(t *testing.T) *proftpdPair {
	t.Helper()
	seed := []byte("proftpd-oracle-seed")
	// Whole seconds: the file system keeps them, and the decoy's
	// generated times derive from now.
	now := time.Now().UTC().Truncate(time.Second)
	tr := newUnixTree(seeder{seed: seed}, "alice", false, now)
	home := tr.lookup("/home/alice")
	oracle := startProFTPD(t, func(homes string) {
		alice := filepath.Join(homes, "alice")
		if err := os.Mkdir(alice, 0o755); err != nil {
			t.Fatal(err)
		}
		writeTree(t, alice, home)
		if err := os.Chown(alice, proftpdUID, proftpdUID); err != nil {
			t.Fatal(err)
		}
		homes0 := tr.lookup("/home")
		if err := os.Chtimes(homes, homes0.mtime, homes0.mtime); err != nil {
			t.Fatal(err)
		}
	})
	ts := startServiceOn(t, decoys.Config{Decky: proftpdHost, Persona: PersonaProFTPD, Seed: seed, Options: aliceOptions}, proftpdAddr)
	ts.svc.now = func() time.Time { return now }
	return &proftpdPair{oracle: oracle, decoy: ts, home: home}
}

// TestProFTPDOracle runs the same command sequences against Debian 12's
// ProFTPD 1.3.8 with its packaged configuration and against the ProFTPD
// persona, and compares the replies byte for byte with only the passive
// port numbers masked.
func TestProFTPDOracle(t *testing.T) {
	pair := startProFTPDPair(t)

	long := strings.Repeat("a", 5000)
	huge := strings.Repeat("b", 16000)
	seqs := []struct {
		name       string
		sends      []string
		untilClose bool
	}{
		{name: "before login", sends: []string{"FEAT\r\n", "SYST\r\n", "HELP\r\n", "HELP USER\r\n", "HELP FOO\r\n", "STAT\r\n",
			"NOOP\r\n", "PWD\r\n", "OPTS UTF8 ON\r\n", "OPTS UTF8\r\n", "OPTS utf8 off\r\n", "OPTS x\r\n", "OPTS\r\n",
			"AUTH TLS\r\n", "AUTH SSL\r\n", "PBSZ 0\r\n", "PROT P\r\n", "FOO\r\n", "foo bar\r\n", "   \r\n", "\r\n",
			"CLNT x\r\n", "CLNT\r\n", "LANG\r\n", "LANG fr\r\n", "HOST x\r\n", "HOST\r\n", "CSID x\r\n", "CWD /\r\n", "LIST\r\n",
			"PASV\r\n", "EPSV\r\n", "PORT 127,0,0,3,4,1\r\n", "MLSD\r\n", "MKD x\r\n", "SITE HELP\r\n", "SITE CHMOD 777 x\r\n",
			"REIN\r\n", "ACCT x\r\n", "ABOR\r\n", "QUIT\r\n"}, untilClose: true},
		{name: "login failures", sends: []string{"PASS x\r\n", "USER\r\n", "USER nosuchuser\r\n", "PASS bad\r\n",
			"USER root\r\n", "PASS toor\r\n", "USER alice\r\n", "PASS \r\n"}, untilClose: true},
		{name: "failure then login", sends: []string{"USER alice\r\n", "PASS bad\r\n", "USER alice\r\n", "PASS pw\r\n",
			"USER bob\r\n", "PASS x\r\n", "PWD\r\n", "QUIT\r\n"}, untilClose: true},
		{name: "after login", sends: []string{"USER alice\r\n", "PASS pw\r\n", "SYST\r\n", "FEAT\r\n", "PWD\r\n", "STAT\r\n",
			"TYPE I\r\n", "TYPE A\r\n", "TYPE L 8\r\n", "TYPE X\r\n", "TYPE\r\n", "MODE S\r\n", "MODE B\r\n", "MODE\r\n",
			"STRU F\r\n", "STRU R\r\n", "ALLO 5\r\n", "REST 5\r\n", "REST x\r\n", "REST -5\r\n", "ABOR\r\n", "CWD /nope\r\n",
			"CWD\r\n", "SIZE nope\r\n", "MDTM nope\r\n", "SIZE\r\n", "MDTM\r\n", "RETR nope\r\n", "RETR\r\n", "STOR\r\n",
			"PORT 127,0,0,3,4,1\r\n", "PORT 10,0,0,1,4,1\r\n", "PORT 127,0,0,3,0,21\r\n", "PORT 1,2,3\r\n", "PORT 127,0,0,3,300,1\r\n",
			"EPRT |1|127.0.0.3|1025|\r\n", "EPRT |1|10.0.0.1|1025|\r\n", "EPRT |2|::1|1025|\r\n", "EPRT x\r\n", "EPRT ||||\r\n",
			"EPRT |1|127.0.0.3|70000|\r\n", "EPSV 2\r\n", "EPSV x\r\n", "SITE HELP\r\n", "SITE CHMOD\r\n", "SITE FOO\r\n",
			"REIN\r\n", "ACCT x\r\n", "SMNT x\r\n", "FOO\r\n", "\r\n", "AUTH TLS\r\n", "PBSZ 0\r\n", "PROT P\r\n", "HELP\r\n",
			"NOOP\r\n", "OPTS UTF8 ON\r\n", "LANG\r\n", "CLNT x\r\n", "\xff\xf4\xff\xf2ABOR\r\n", "abor\r\n", "NOOP x\r\n",
			"PASV\r\n", "EPSV\r\n", "EPSV 1\r\n", "EPSV ALL\r\n", "PASV\r\n", "PORT 127,0,0,3,4,1\r\n", "QUIT\r\n"}, untilClose: true},
		{name: "files", sends: []string{"USER alice\r\n", "PASS pw\r\n", "SIZE notes.txt\r\n", "TYPE I\r\n", "SIZE notes.txt\r\n",
			"MDTM notes.txt\r\n", "SIZE backups\r\n", "MDTM backups\r\n", "STAT notes.txt\r\n", "STAT .\r\n", "STAT -a\r\n",
			"STAT backups\r\n", "STAT nope\r\n", "CWD backups\r\n", "PWD\r\n", "CDUP\r\n", "XPWD\r\n", "CWD /home/alice/public_html\r\n",
			"XCUP\r\n", "MKD d1\r\n", "MKD d1\r\n", "XMKD d2\r\n", "RNFR d1\r\n", "RNTO d3\r\n", "RNTO d4\r\n", "RNFR nope\r\n",
			"RMD d3\r\n", "RMD d2\r\n", "RMD d2\r\n", "DELE nope\r\n", "DELE backups\r\n", "RETR backups\r\n",
			"SITE MKDIR d5\r\n", "SITE MKDIR d5\r\n", "SITE RMDIR d5\r\n", "SITE RMDIR d5\r\n", "SITE CHMOD 600 notes.txt\r\n",
			"SITE CHMOD 600 nope\r\n", "SITE UTIME 202001010000 nope\r\n", "SITE CPFR notes.txt\r\n", "SITE CPFR nope\r\n",
			"QUIT\r\n"}, untilClose: true},
		{name: "bare line feeds", sends: []string{"feat\n", "\r\n\nsyst\n", "user a\n", "QUIT\n"}, untilClose: true},
		{name: "overlong line", sends: []string{long + "\r\n", "NOOP\r\n"}, untilClose: false},
		{name: "line of four buffers", sends: []string{huge + "\r\n", "NOOP\r\n"}, untilClose: true},
		{name: "NUL bytes", sends: []string{"NO\x00OP\r\n", "\x00\r\n", "SYST\x00x\r\n", "QUIT\r\n"}, untilClose: true},
		{name: "commands without waiting", sends: []string{"SYST\r\nNOOP\r\nFOO\r\n", "USER alice\r\nPASS pw\r\nPWD\r\n",
			"QUIT\r\nNOOP\r\n"}, untilClose: true},
		{name: "Telnet negotiation", sends: []string{"\xff\xfb\x01NOOP\r\n", "\xff\xfd\x03SYST\r\n", "NO\xff\xffOP\r\n", "QUIT\r\n"}, untilClose: true},
		{name: "HTTP request", sends: []string{"GET / HTTP/1.0\r\n"}, untilClose: true},
		{name: "SMTP greeting", sends: []string{"NOOP\r\n", "EHLO x\r\n"}, untilClose: true},
		{name: "SSH banner", sends: []string{"SSH-2.0-OpenSSH_9.2p1\r\n"}, untilClose: true},
		{name: "lower-case HTTP verb", sends: []string{"get / HTTP/1.0\r\n", "QUIT\r\n"}, untilClose: true},
		{name: "TLS ClientHello", sends: []string{string(clientHello()), "NOOP\r\n"}, untilClose: false},
	}
	for _, seq := range seqs {
		t.Run(seq.name, func(t *testing.T) {
			want := maskPorts(transcriptFrom(t, proftpdClient, pair.oracle, seq.sends, seq.untilClose, proftpdFirstReply))
			got := maskPorts(transcriptFrom(t, proftpdClient, pair.decoy.addr, seq.sends, seq.untilClose, proftpdFirstReply))
			if got != want {
				t.Errorf("decoy differs from proftpd\ndecoy:   %q\nproftpd: %q", got, want)
			}
		})
	}
}

// clientHello returns a fixed TLS 1.2 ClientHello record for
// "ftp01", as a client that expects implicit FTPS sends first.
func clientHello() []byte {
	sni := []byte(proftpdHost)
	var ext []byte
	// server_name: one host_name entry.
	ext = append(ext, 0x00, 0x00, 0x00, byte(len(sni)+5), 0x00, byte(len(sni)+3), 0x00, 0x00, byte(len(sni)))
	ext = append(ext, sni...)
	// supported_groups x25519, secp256r1; ec_point_formats uncompressed;
	// signature_algorithms rsa_pss_rsae_sha256, ecdsa_secp256r1_sha256.
	ext = append(ext, 0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17)
	ext = append(ext, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00)
	ext = append(ext, 0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x08, 0x04, 0x04, 0x03)

	var body []byte
	body = append(body, 0x03, 0x03)
	for i := range 32 {
		body = append(body, byte(0x40+i))
	}
	body = append(body, 0x00)                               // no session id
	body = append(body, 0x00, 0x04, 0xc0, 0x2f, 0xc0, 0x2b) // two ECDHE suites
	body = append(body, 0x01, 0x00)                         // null compression
	body = append(body, byte(len(ext)>>8), byte(len(ext)))
	body = append(body, ext...)

	hs := append([]byte{0x01, 0x00, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{0x16, 0x03, 0x01, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

// TestProFTPDOracleTransfers compares listings and a download over
// passive data connections, and checks that the passive ports differ
// between connections.
func TestProFTPDOracleTransfers(t *testing.T) {
	pair := startProFTPDPair(t)
	steps := []struct{ mode, cmd string }{
		{"EPSV", "LIST"}, {"PASV", "LIST -a"}, {"EPSV", "NLST"}, {"EPSV", "LIST backups"},
		{"PASV", "RETR notes.txt"}, {"EPSV", "LIST nope"}, {"EPSV", "RETR nope"},
	}
	want, oraclePorts := proftpdTransfers(t, pair.oracle, steps)
	got, decoyPorts := proftpdTransfers(t, pair.decoy.addr, steps)
	if got != want {
		t.Errorf("decoy differs from proftpd\ndecoy:   %q\nproftpd: %q", got, want)
	}
	_, again := proftpdTransfers(t, pair.decoy.addr, steps[:1])
	if again[0] == decoyPorts[0] {
		t.Errorf("two connections got the same passive port %d", again[0])
	}
	if len(oraclePorts) != len(decoyPorts) {
		t.Errorf("passive ports: decoy %v, proftpd %v", decoyPorts, oraclePorts)
	}
}

// proftpdTransfers logs in as alice and runs each step: the passive
// command, a data connection to the port it names, the transfer command,
// and the data and final reply when the transfer starts. It returns the
// transcript with ports masked, and the ports.
func proftpdTransfers(t *testing.T, addr string, steps []struct{ mode, cmd string }) (string, []int) {
	t.Helper()
	c := dialFrom(t, proftpdClient, addr)
	var out strings.Builder
	out.WriteString(c.reply())
	for _, l := range []string{"USER alice", "PASS pw", "TYPE A"} {
		out.WriteString(c.cmd(l))
	}
	host, _, _ := net.SplitHostPort(addr)
	var ports []int
	for _, s := range steps {
		r := c.cmd(s.mode)
		out.WriteString(maskPorts(r))
		port, ok := passivePort(r)
		if !ok {
			t.Fatalf("%s reply %q", s.mode, r)
		}
		ports = append(ports, port)
		dc := dialFrom(t, proftpdClient, net.JoinHostPort(host, strconv.Itoa(port)))
		r = c.cmd(s.cmd)
		out.WriteString(r)
		if !strings.HasPrefix(r, "150 ") {
			_ = dc.conn.Close()
			continue
		}
		_ = dc.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		data, err := io.ReadAll(dc.br)
		if err != nil {
			t.Fatalf("%s data: %v", s.cmd, err)
		}
		out.WriteString("<data>" + string(data) + "</data>")
		// Clients close their end at the end of the data; ProFTPD waits
		// for that close before its final reply.
		_ = dc.conn.Close()
		out.WriteString(c.reply())
	}
	return out.String(), ports
}

// passivePort reads the port of a 227 or 229 reply.
func passivePort(r string) (int, bool) {
	if m := regexp.MustCompile(`\(\|\|\|(\d+)\|\)`).FindStringSubmatch(r); m != nil {
		p, err := strconv.Atoi(m[1])
		return p, err == nil
	}
	if m := regexp.MustCompile(`\(\d+,\d+,\d+,\d+,(\d+),(\d+)\)`).FindStringSubmatch(r); m != nil {
		hi, _ := strconv.Atoi(m[1])
		lo, _ := strconv.Atoi(m[2])
		return hi<<8 | lo, true
	}
	return 0, false
}

// TestProFTPDOracleLoginDelay measures how long a wrong password takes
// to be refused by the daemon and by the persona with its own delay,
// and checks both against the persona's range. The margins cover
// scheduling, and mod_delay's padding of a reply toward the median of
// earlier ones.
func TestProFTPDOracleLoginDelay(t *testing.T) {
	pair := startProFTPDPair(t)
	p := proftpdPersona()
	lo, hi := p.failDelay[0], p.failDelay[1]

	svc, err := New(decoys.Config{Persona: PersonaProFTPD, Emitter: newRecorder(), Seed: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	pair.decoy.svc.failDelay = svc.failDelay

	for _, target := range []struct {
		name, addr string
		slack      time.Duration
	}{{"proftpd", pair.oracle, 400 * time.Millisecond}, {"decoy", pair.decoy.addr, 200 * time.Millisecond}} {
		c := dialFrom(t, proftpdClient, target.addr)
		c.reply()
		for range 2 {
			if r := c.cmd("USER alice"); !strings.HasPrefix(r, "331 ") {
				t.Fatalf("%s USER: %q", target.name, r)
			}
			start := time.Now()
			r := c.cmd("PASS wrong")
			took := time.Since(start)
			if r != "530 Login incorrect.\r\n" {
				t.Fatalf("%s PASS: %q", target.name, r)
			}
			t.Logf("%s refused a wrong password after %v", target.name, took)
			if took < lo-150*time.Millisecond || took > hi+target.slack {
				t.Errorf("%s refused a wrong password after %v, persona range %v to %v", target.name, took, lo, hi)
			}
		}
	}
}
