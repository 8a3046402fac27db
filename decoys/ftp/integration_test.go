//go:build integration

package ftp

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// TestVsftpdOracle runs the same command sequences against Debian's
// vsftpd 3.0.3 (started by hand on a loopback port, anonymous logins on)
// and the default persona, and compares the replies byte for byte with
// only the passive port numbers and STAT's live client count masked.
func TestVsftpdOracle(t *testing.T) {
	bin, err := exec.LookPath("vsftpd")
	if err != nil {
		t.Skip("vsftpd is not installed; install it under a policy-rc.d that exits 101")
	}
	if os.Geteuid() != 0 {
		t.Skip("vsftpd needs root to chroot and drop privileges")
	}
	oracle := startVsftpd(t, bin, "")
	ts := startService(t, decoys.Config{Options: map[string]string{OptAnonymous: "true"}})

	long := strings.Repeat("a", 4095)
	seqs := []struct {
		name string
		// sends are written one at a time, each followed by one reply
		// read; a send ending in "\x00" is written without reading.
		sends []string
		// untilClose reads to the end after the last send.
		untilClose bool
	}{
		{name: "before login", sends: []string{"FEAT\r\n", "SYST\r\n", "HELP\r\n", "STAT\r\n", "NOOP\r\n", "PWD\r\n",
			"OPTS UTF8 ON\r\n", "OPTS UTF8\r\n", "OPTS utf8 on\r\n", "AUTH TLS\r\n", "AUTH SSL\r\n", "PBSZ 0\r\n", "PROT P\r\n",
			"FOO\r\n", "   \r\n", "PASS x\r\n", "USER\r\n", "CWD /\r\n", "LIST\r\n", "PASV\r\n", "QUIT\r\n"}, untilClose: true},
		{name: "bare line feeds and empty lines", sends: []string{"feat\n", "\r\n\nsyst\n", "user a\n", "QUIT\n"}, untilClose: true},
		{name: "wrong password three times", sends: []string{"USER nosuchuser\r\n", "PASS bad\r\n", "USER nosuchuser\r\n", "PASS bad2\r\n",
			"USER root\r\n", "PASS toor\r\n"}, untilClose: true},
		// nuclei's dionaea-ftp-honeypot-detect: PASS without an
		// argument, which Dionaea rejects with a syntax error.
		{name: "nuclei dionaea PASS without argument", sends: []string{"USER root\r\n", "PASS \r\n", "PASS\r\n"}, untilClose: false},
		{name: "overlong line", sends: []string{long + "\r\n"}, untilClose: true},
		{name: "longest line", sends: []string{long + "\n", "QUIT\r\n"}, untilClose: true},
		{name: "after anonymous login", sends: []string{"USER anonymous\r\n", "PASS guest@\r\n", "SYST\r\n", "FEAT\r\n", "PWD\r\n",
			"TYPE I\r\n", "TYPE A\r\n", "TYPE L 8\r\n", "TYPE X\r\n", "TYPE\r\n", "MODE S\r\n", "MODE B\r\n", "STRU F\r\n", "STRU R\r\n",
			"ALLO 5\r\n", "REST 5\r\n", "REST x\r\n", "REST -5\r\n", "ABOR\r\n", "CWD /nope\r\n", "CWD\r\n", "SIZE nope\r\n",
			"MDTM nope\r\n", "SIZE\r\n", "MDTM\r\n", "RETR nope\r\n", "LIST\r\n", "NLST\r\n", "STOR x\r\n",
			"PORT 127,0,0,1,4,1\r\n", "PORT 10,0,0,1,4,1\r\n", "PORT 127,0,0,1,0,21\r\n", "PORT 1,2,3\r\n", "PORT 127,0,0,1,300,1\r\n",
			"EPRT |1|127.0.0.1|1025|\r\n", "EPRT |1|10.0.0.1|1025|\r\n", "EPRT |2|::1|1025|\r\n", "EPRT x\r\n", "EPRT ||||\r\n",
			"EPRT |1|127.0.0.1|70000|\r\n", "EPRT |1|127.0.0.1|0|\r\n", "EPSV 2\r\n", "EPSV x\r\n",
			"STOR x\r\n", "APPE x\r\n", "STOU\r\n", "DELE x\r\n", "MKD x\r\n", "RMD x\r\n", "RNFR x\r\n", "RNTO y\r\n",
			"SITE HELP\r\n", "SITE CHMOD 777 x\r\n", "REIN\r\n", "ACCT x\r\n", "SMNT x\r\n", "USER x\r\n", "PASS y\r\n",
			"STAT\r\n", "FOO\r\n", "\r\n", "  \r\n", "AUTH TLS\r\n", "PBSZ 0\r\n", "PROT P\r\n", "HELP\r\n", "NOOP\r\n",
			"OPTS UTF8 ON\r\n", "\xff\xf4\xff\xf2ABOR\r\n", "\xff\xf4\xff\xf2STAT\r\n", "abor\r\n", "NOOP x\r\n", "NO\x00OP\r\n",
			"PASV\r\n", "EPSV\r\n", "EPSV 1\r\n", "EPSV ALL\r\n", "PASV\r\n", "QUIT\r\n"}, untilClose: true},
	}
	for _, seq := range seqs {
		t.Run(seq.name, func(t *testing.T) {
			want := maskPorts(transcript(t, oracle, seq.sends, seq.untilClose))
			got := maskPorts(transcript(t, ts.addr, seq.sends, seq.untilClose))
			if got != want {
				t.Errorf("decoy differs from vsftpd\ndecoy:  %q\nvsftpd: %q", got, want)
			}
		})
	}
}

// TestVsftpdOracleWrites compares the replies to the commands that change
// files, with anonymous uploads on in both.
func TestVsftpdOracleWrites(t *testing.T) {
	bin, err := exec.LookPath("vsftpd")
	if err != nil {
		t.Skip("vsftpd is not installed; install it under a policy-rc.d that exits 101")
	}
	if os.Geteuid() != 0 {
		t.Skip("vsftpd needs root to chroot and drop privileges")
	}
	oracle := startVsftpd(t, bin, "anon_upload_enable=YES\nanon_mkdir_write_enable=YES\nanon_other_write_enable=YES\n")
	ts := startService(t, decoys.Config{Options: map[string]string{OptAnonymous: "true", OptAnonymousUpload: "true"}})

	sends := []string{"USER ftp\r\n", "PASS x\r\n", "MKD x\r\n", "CWD pub\r\n", "MKD d1\r\n", "MKD d1\r\n", "XMKD /pub/d2\r\n",
		"RNFR d1\r\n", "RNTO d3\r\n", "RNTO d4\r\n", "RNFR d3\r\n", "RNTO /x\r\n", "RMD d2\r\n", "RMD d2\r\n", "RMD nope\r\n",
		"DELE nope\r\n", "RNFR nope\r\n", "STOR a\r\n", "CWD d3\r\n", "PWD\r\n", "CDUP\r\n", "PWD\r\n", "RMD d3\r\n",
		"SITE HELP\r\n", "QUIT\r\n"}
	want := maskPorts(transcript(t, oracle, sends, true))
	got := maskPorts(transcript(t, ts.addr, sends, true))
	if got != want {
		t.Errorf("decoy differs from vsftpd\ndecoy:  %q\nvsftpd: %q", got, want)
	}
}

var (
	pasvPorts = regexp.MustCompile(`\((\d+,\d+,\d+,\d+),\d+,\d+\)`)
	epsvPort  = regexp.MustCompile(`\(\|\|\|\d+\|\)`)
)

// clientCount is the number of live sessions STAT reports; vsftpd's
// count includes sessions whose process has not yet been reaped.
var clientCount = regexp.MustCompile(`client count was \d+`)

func maskPorts(s string) string {
	s = clientCount.ReplaceAllString(s, "client count was *")
	s = pasvPorts.ReplaceAllString(s, "($1,*,*)")
	return epsvPort.ReplaceAllString(s, "(|||*|)")
}

// transcript connects from 127.0.0.1, reads the banner, then writes each
// send and reads the replies it causes, and returns everything read.
func transcript(t *testing.T, addr string, sends []string, untilClose bool) string {
	t.Helper()
	return transcriptFrom(t, "127.0.0.1", addr, sends, untilClose, 4*time.Second)
}

// transcriptFrom is transcript from the address source, waiting up to
// first for the first byte of each reply.
func transcriptFrom(t *testing.T, source, addr string, sends []string, untilClose bool, first time.Duration) string {
	t.Helper()
	c := dialFrom(t, source, addr)
	var out strings.Builder
	out.WriteString(c.reply())
	for _, s := range sends {
		if _, err := io.WriteString(c.conn, s); err != nil {
			out.WriteString("<write failed>")
			break
		}
		out.WriteString(">>" + abbreviate(s))
		out.WriteString(drain(c, first))
	}
	if untilClose {
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		rest, _ := io.ReadAll(c.br)
		out.Write(rest)
		out.WriteString("<EOF>")
	}
	return out.String()
}

// abbreviate shortens a long send in a transcript to its start and
// length.
func abbreviate(s string) string {
	if len(s) <= 200 {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:32], len(s))
}

// drain reads replies until the connection is quiet for a moment; the
// first reply may take up to first (a failed login's delay).
func drain(c *client, first time.Duration) string {
	var out bytes.Buffer
	wait := first
	buf := make([]byte, 64<<10)
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(wait))
		n, err := c.br.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.String()
		}
		wait = 150 * time.Millisecond
	}
}

// startVsftpd runs vsftpd in the foreground on a free loopback port with
// anonymous logins on and extra added to its configuration, and returns
// its address. The anonymous root holds pub, writable by everyone.
func startVsftpd(t *testing.T, bin, extra string) string {
	t.Helper()
	dir := t.TempDir()
	anonRoot := filepath.Join(dir, "anon")
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{dir, anonRoot, empty} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pub := filepath.Join(anonRoot, "pub")
	if err := os.Mkdir(pub, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pub, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(anonRoot, 0o555); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := fmt.Sprintf(`listen=YES
listen_address=127.0.0.1
listen_port=%d
background=NO
anonymous_enable=YES
local_enable=YES
write_enable=YES
anon_root=%s
secure_chroot_dir=%s
seccomp_sandbox=NO
pam_service_name=vsftpd
use_localtime=YES
dirmessage_enable=YES
xferlog_enable=NO
%s`, port, anonRoot, empty, extra)
	confPath := filepath.Join(dir, "vsftpd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, confPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start vsftpd: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			_ = conn.Close()
			return addr
		}
		if i == 100 {
			t.Fatalf("vsftpd did not listen on %s: %v\n%s", addr, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// TestLftp drives each persona with lftp from 127.0.0.3 in passive and in
// active mode: a failed login, then a login, a listing, a download and an
// upload.
func TestLftp(t *testing.T) {
	lftp, err := exec.LookPath("lftp")
	if err != nil {
		t.Skip("lftp is not installed")
	}
	personas := []struct {
		persona, fetch, prefix, listing, home string
	}{
		{PersonaVsftpd, "notes.txt", "- rotate db dumps", `(?m)^-rw-------    1 1000     1000 +\d+ \w{3} \d\d +[\d:]+ notes\.txt\r?$`, "/home/alice/"},
		{PersonaProFTPD, "notes.txt", "- rotate db dumps", `(?m)^-rw-------   1 alice    alice +\d+ \w{3} [ \d]\d +[\d:]+ notes\.txt\r?$`, "/home/alice/"},
		{PersonaMSFTP, "readme.txt", "Drop files for the ERP", `(?m)^\d\d-\d\d-\d\d  \d\d:\d\d[AP]M +\d+ readme\.txt\r?$`, "/"},
	}
	for _, p := range personas {
		for _, mode := range []struct {
			name    string
			passive string
		}{{"passive", "on"}, {"active", "off"}} {
			t.Run(p.persona+" "+mode.name, func(t *testing.T) {
				ts := startService(t, decoys.Config{Persona: p.persona, Options: aliceOptions})
				host, port, _ := net.SplitHostPort(ts.addr)
				dir := t.TempDir()
				settings := "set net:socket-bind-ipv4 127.0.0.3; set ftp:passive-mode " + mode.passive +
					"; set net:max-retries 1; set net:reconnect-interval-base 1; set cmd:fail-exit yes; "

				out, err := exec.Command(lftp, "-u", "alice,wrong", "-p", port, "-e", settings+"ls; bye", host).CombinedOutput()
				if err == nil || !strings.Contains(string(out), "530") {
					t.Errorf("wrong password: err %v, output %q", err, out)
				}

				up := filepath.Join(dir, "up.bin")
				payload := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 4096)
				if err := os.WriteFile(up, payload, 0o644); err != nil {
					t.Fatal(err)
				}
				got := filepath.Join(dir, p.fetch)
				script := settings + "ls; get " + p.fetch + " -o " + got + "; put " + up + " -o dropped.bin; ls; bye"
				out, err = exec.Command(lftp, "-u", "alice,pw", "-p", port, "-e", script, host).CombinedOutput()
				if err != nil {
					t.Fatalf("lftp session: %v\n%s", err, out)
				}
				if !regexp.MustCompile(p.listing).Match(out) || !strings.Contains(string(out), " dropped.bin") {
					t.Errorf("listing output:\n%s", out)
				}
				body, _ := os.ReadFile(got)
				if !strings.HasPrefix(string(body), p.prefix) {
					t.Errorf("downloaded %s = %q", p.fetch, body)
				}

				assertAttempts(t, ts.rec, "127.0.0.3", []string{"wrong", "pw"})
				capt := ts.rec.waitKind(t, decoys.KindFileCaptured, 1)[0].GetFileCaptured()
				sum := sha256.Sum256(payload)
				if !bytes.Equal(capt.GetSha256(), sum[:]) || capt.GetName() != p.home+"dropped.bin" {
					t.Errorf("captured %x %q", capt.GetSha256(), capt.GetName())
				}
				if r := ts.rec.waitKind(t, decoys.KindFileRequested, 1)[0].GetFileRequested(); r.GetName() != p.fetch || !r.GetServed() {
					t.Errorf("requested %v", r)
				}
			})
		}
	}
}

func assertAttempts(t *testing.T, rec *recorder, source string, secrets []string) {
	t.Helper()
	evs := rec.waitKind(t, decoys.KindAuthAttempt, len(secrets))
	for i, s := range secrets {
		a := evs[i].GetAuthAttempt()
		want := eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
		if s == "pw" {
			want = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
		}
		if a.GetPrincipal() != "alice" || string(a.GetSecret()) != s || a.GetOutcome() != want {
			t.Errorf("attempt %d = %q %q %s, want alice %q %s", i, a.GetPrincipal(), a.GetSecret(), a.GetOutcome(), s, want)
		}
		if source != "" && evs[i].GetSource().GetAddress() != source {
			t.Errorf("attempt %d from %s, want %s", i, evs[i].GetSource().GetAddress(), source)
		}
	}
}

// TestTnftp drives the decoy with the ftp command (tnftp) in passive and
// active mode.
func TestTnftp(t *testing.T) {
	ftp, err := exec.LookPath("ftp")
	if err != nil {
		t.Skip("ftp (tnftp) is not installed")
	}
	for _, mode := range []struct{ name, flag string }{{"passive", "-p"}, {"active", "-A"}} {
		t.Run(mode.name, func(t *testing.T) {
			ts := startService(t, decoys.Config{Options: aliceOptions})
			host, port, _ := net.SplitHostPort(ts.addr)
			dir := t.TempDir()
			up := filepath.Join(dir, "x.sh")
			if err := os.WriteFile(up, []byte("#!/bin/sh\nid\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			got := filepath.Join(dir, "got.txt")
			script := "user alice wrong\nuser alice pw\nls\nget notes.txt " + got + "\nput " + up + " x.sh\nbye\n"
			cmd := exec.Command(ftp, "-n", "-v", mode.flag, host, port)
			cmd.Stdin = strings.NewReader(script)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("ftp: %v\n%s", err, out)
			}
			for _, want := range []string{"530 Login incorrect.", "230 Login successful.", "notes.txt", "226 Transfer complete."} {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if notes, _ := os.ReadFile(got); !strings.HasPrefix(string(notes), "- rotate db dumps") {
				t.Errorf("downloaded %q", notes)
			}
			assertAttempts(t, ts.rec, "127.0.0.1", []string{"wrong", "pw"})
			if capt := ts.rec.waitKind(t, decoys.KindFileCaptured, 1)[0].GetFileCaptured(); capt.GetSize() != 13 || capt.GetName() != "/home/alice/x.sh" {
				t.Errorf("captured %d %q", capt.GetSize(), capt.GetName())
			}
		})
	}
}
