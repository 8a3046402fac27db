//go:build integration

package shell

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The oracle is a Debian 12 minbase tree built by debootstrap and kept
// between runs. Building it took 32 s on the development machine
// (--variant=minbase with procps, iproute2 and cron, about 230 MB).
const (
	defaultChroot = "/var/cache/decnet-test/bookworm"
	chrootEnv     = "DECNET_TEST_BOOKWORM"
	debianMirror  = "http://deb.debian.org/debian"
	oraclePath    = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

func bookworm(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("oracle needs root for chroot and debootstrap")
	}
	dir := os.Getenv(chrootEnv)
	if dir == "" {
		dir = defaultChroot
	}
	if _, err := os.Stat(filepath.Join(dir, "usr/bin/bash")); err == nil {
		mountProc(t, dir)
		return dir
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		t.Skip("debootstrap not installed")
	}
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command("debootstrap", "--variant=minbase", "--include=procps,iproute2,cron", "bookworm", tmp, debianMirror)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("debootstrap: %v\n%s", err, out)
	}
	t.Logf("debootstrap took %s", time.Since(start).Round(time.Second))
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	mountProc(t, dir)
	return dir
}

// mountProc gives the chroot a /proc for ps, free and uptime, and
// unmounts it afterwards if this test mounted it.
func mountProc(t *testing.T, dir string) {
	t.Helper()
	proc := filepath.Join(dir, "proc")
	if _, err := os.Stat(filepath.Join(proc, "version")); err == nil {
		return
	}
	if err := syscall.Mount("proc", proc, "proc", 0, ""); err != nil {
		t.Skipf("mount proc in chroot: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(proc, syscall.MNT_DETACH) })
}

type result struct {
	out, err string
	status   int
}

// real runs line as sshd would: bash -c in the home directory.
func real(t *testing.T, root, user, line string) result {
	t.Helper()
	home := "/root"
	args := []string{}
	if user != "root" {
		home = "/tmp"
		args = append(args, "--userspec=1000:1000")
	}
	args = append(args, root, "/usr/bin/env", "-i", "HOME="+home, oraclePath, "LANG=C.UTF-8", "bash", "-c", "cd; "+line)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "chroot", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader("")
	err := cmd.Run()
	status := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("chroot %q: %v", line, err)
	}
	// The oracle's syntax errors quote the "cd; " this harness adds.
	e := strings.ReplaceAll(errb.String(), "`cd; ", "`")
	return result{out.String(), e, status}
}

func emulated(t *testing.T, user, line string) result {
	t.Helper()
	sh := newShell(Config{Seed: testSeed, User: user}, time.Now)
	if user != "root" {
		sh.cwd = "/tmp"
	}
	var out, errb bytes.Buffer
	st := sh.Exec(context.Background(), line, &out, &errb)
	return result{out.String(), errb.String(), st}
}

// TestOracleExact compares lines whose output a real host prints the
// same everywhere: error texts, exit statuses, fixed files.
func TestOracleExact(t *testing.T) {
	root := bookworm(t)
	cases := []struct{ user, line string }{
		{"root", "foo"}, {"root", "ifconfig"}, {"root", "busybox"}, {"root", "foo; echo x"}, {"root", "ls | foo"},
		{"root", "cd /x"}, {"root", "cd /etc/passwd"}, {"root", "cd a b"}, {"root", "cd; pwd"},
		{"root", "cat /etc"}, {"root", "cat /root"}, {"root", "cat /nope"}, {"root", "ls /nope"}, {"root", "ls -la /nope"},
		{"root", "mkdir /tmp"}, {"root", "rm /nope"}, {"root", "echo a > /nope/x"}, {"root", "touch /nope/x"},
		{"root", "cp /nope /tmp"}, {"root", "mv /nope /tmp"}, {"root", "chmod 777 /nope"},
		{"root", "rm -rf /tmp/dx; mkdir /tmp/dx/y"}, {"root", "rmdir /nope"},
		{"root", "uname -z"}, {"root", "ls -z"}, {"root", "head -n"}, {"root", "grep"}, {"root", "sleep"}, {"root", "mkdir"},
		{"root", "touch"}, {"root", "rm"}, {"root", "cp"}, {"root", "cp /etc/passwd"},
		{"root", "| foo"}, {"root", "ls ;; x"}, {"root", "echo 'abc"}, {"root", "echo \"abc"}, {"root", "echo |"}, {"root", "a &&"},
		{"root", "crontab -l"}, {"root", "id"}, {"root", "whoami"}, {"root", "uname"}, {"root", "uname -m"}, {"root", "uname -o"},
		{"root", "echo -e 'a\\tb' -n"}, {"root", "echo -n x"}, {"root", "echo $((1+2*3))"}, {"root", "export A=1; echo $A"},
		{"root", "echo $HOME"}, {"root", "which ls"}, {"root", "which nope"}, {"root", "type ls"}, {"root", "false; echo $?"},
		{"root", "foo 2>&1; echo $?"}, {"root", "exit 3"}, {"root", "cat /etc/os-release"}, {"root", "cat /etc/debian_version"},
		{"root", "cat /etc/shells"}, {"root", "cat /etc/issue"}, {"root", "echo \"a  b\" 'c  d' e\\ f"},
		{"root", "echo $(echo in) `echo tick`"}, {"root", "true && echo y || echo n"}, {"root", "printf 'b\\na\\nb\\n' | sort | uniq -c"},
		{"root", "cat /etc/passwd | head -n 2"}, {"root", "echo hi > /tmp/o1; cat /tmp/o1; rm /tmp/o1"}, {"root", "ls /root/.nope"},
		{"root", "cd /tmp && pwd"}, {"root", "kill 999999"}, {"root", "logout"},
		{"root", "for i in a b; do echo $i; done"}, {"root", "if [ -d /tmp ]; then echo dir; else echo no; fi"},
		{"root", "i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo $i; done"}, {"root", "{ echo a; echo b; } | wc -l"},
		{"root", "(cd /tmp; pwd); pwd"}, {"root", "done"}, {"root", "for i in a; do echo"}, {"root", "[ 1 = 1"},
		{"root", "if then"}, {"root", "echo ${HOME:-x} ${NOPE:-d}"}, {"root", "echo ~root ~"}, {"root", "a=5; echo $((a*2))"},
		{"root", "ls /root /nope"}, {"root", "cat /etc/issue.net /nope"}, {"root", "echo a >/dev/null; echo $?"},
		{"root", "echo x | cat -"}, {"root", "cat < /nope"}, {"root", "test -e /etc/passwd && echo yes"},
		{"root", "./nope"}, {"root", "/usr/bin/nope"}, {"root", "cd /tmp; cd -; pwd"}, {"root", "rm /tmp"}, {"root", "rmdir /etc"},
		{"root", "cp /tmp /var"}, {"root", "export 1A=b"}, {"root", "exit foo"}, {"root", "tty"},
		{"root", "echo a; exit; echo b"}, {"root", "x=$(false); echo $?"}, {"root", "echo $0 $-"},
		{"root", "grep ^root: /etc/passwd"}, {"root", "grep -E 'root|daemon' /etc/passwd | wc -l"}, {"root", "echo 'a(b)' | grep '(b)'"},
		{"root", "echo ab | grep 'a\\|x'"}, {"root", "grep -c nope /etc/passwd"}, {"root", "grep x /nope"},
		{"root", "printf 'echo a\\nfoo\\ncd /x\\ncat /nope\\n' > /tmp/s.sh; sh /tmp/s.sh; echo $?; bash /tmp/s.sh; rm /tmp/s.sh"},
		{"root", "printf 'foo\\n' > /tmp/s2.sh; chmod +x /tmp/s2.sh; /tmp/s2.sh; rm /tmp/s2.sh"},
		{"root", "printf '#!/bin/sh\\n\\nfoo\\n' > /tmp/s3.sh; chmod +x /tmp/s3.sh; /tmp/s3.sh; rm /tmp/s3.sh"},
		{"root", "sh -c 'foo'"}, {"root", "sh -c 'echo a; cd /x'"}, {"root", "sh -c 'echo \"a'"}, {"root", "sh -c '| x'"},
		{"root", "sh nope.sh"}, {"root", "bash nope.sh"}, {"root", "echo foo | sh"}, {"root", "echo a\nfoo"},
		{"root", "x=$(foo); echo $?"}, {"root", "echo a\n| b"}, {"root", "echo a; sh -c 'echo |'"},
		{"user", "cat /etc/shadow"}, {"user", "cd /root"}, {"user", "touch /etc/x"}, {"user", "ls /root"}, {"user", "mkdir /x"},
	}
	matched := 0
	for _, tc := range cases {
		want := real(t, root, tc.user, tc.line)
		got := emulated(t, tc.user, tc.line)
		if got != want {
			t.Errorf("%s %q:\n real     out=%q err=%q status=%d\n emulated out=%q err=%q status=%d", tc.user, tc.line, want.out, want.err, want.status, got.out, got.err, got.status)
			continue
		}
		matched++
	}
	t.Logf("%d of %d lines match the oracle byte for byte", matched, len(cases))
}

// TestOracleInteractive checks the login shell's own messages: its
// error prefix, syntax errors, and what it prints at end of input.
func TestOracleInteractive(t *testing.T) {
	root := bookworm(t)
	for _, input := range []string{
		"foo\ncd /x\n| x\nls /nope\nexit\n",
		"for\ndone\necho 'a\n",
		"echo \"b\n",
		"if true; then\n",
	} {
		cmd := exec.Command("chroot", root, "/usr/bin/env", "-i", "HOME=/root", "TERM=xterm", oraclePath, "/bin/bash", "-c", "cd; exec -a -bash /bin/bash --login -i")
		cmd.Stdin = strings.NewReader(input)
		// The login shell exits with the status of its last command.
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("interactive oracle: %v\n%s", err, out)
		}
		var realLines []string
		for l := range strings.SplitSeq(string(out), "\n") {
			// Prompts and echoes are dropped. A pipe gets no echo, so
			// the oracle's message may follow a "> " prompt.
			l = strings.TrimPrefix(l, "> ")
			if strings.HasPrefix(l, "-bash: ") && !strings.Contains(l, "job control") && !strings.Contains(l, "terminal process group") || strings.HasPrefix(l, "ls: ") || strings.HasSuffix(l, "logout") {
				realLines = append(realLines, strings.TrimPrefix(l, "> "))
			}
		}

		// The oracle reads end of file where a terminal user types ^D.
		sh := newShell(Config{Seed: testSeed, Hostname: "vm"}, time.Now)
		term := &scripted{in: strings.NewReader(strings.ReplaceAll(input, "\n", "\r") + "\x04")}
		if err := sh.Interactive(context.Background(), term); err != nil {
			t.Fatal(err)
		}
		var gotLines []string
		for l := range strings.SplitSeq(strings.ReplaceAll(term.out.String(), "\r\n", "\n"), "\n") {
			l = strings.TrimPrefix(l, "> ")
			if strings.HasPrefix(l, "-bash: ") || strings.HasPrefix(l, "ls: ") || l == "logout" {
				gotLines = append(gotLines, l)
			}
		}
		if strings.Join(gotLines, "\n") != strings.Join(realLines, "\n") {
			t.Errorf("input %q:\n real     %q\n emulated %q", input, realLines, gotLines)
		}
	}
}

// TestOracleStructure compares per-host output by shape: headers
// exactly, rows by pattern.
func TestOracleStructure(t *testing.T) {
	root := bookworm(t)
	type check struct {
		line string
		// header lines compared exactly.
		header int
		// row is the pattern every other line of both outputs matches.
		row string
	}
	checks := []check{
		{"ps aux", 1, `^\S+ +\d+ +\d+(\.\d)? +\d+\.\d +\d+ +\d+ \S+ +\S+ +(\d\d:\d\d|[A-Z][a-z]{2}\d\d|\d{4}) +\d+:\d\d \S.*$`},
		{"ps -ef", 1, `^\S+ +\d+ +\d+ +\d+ (\d\d:\d\d|[A-Z][a-z]{2}\d\d|\d{4}) \S+ +\d\d:\d\d:\d\d \S.*$`},
		{"ps", 1, `^ *\d+ \S+ +\d\d:\d\d:\d\d \S.*$`},
		{"free", 1, `^(Mem: +\d+ +\d+ +\d+ +\d+ +\d+ +\d+|Swap: +\d+ +\d+ +\d+)$`},
		{"free -m", 1, `^(Mem: +\d+ +\d+ +\d+ +\d+ +\d+ +\d+|Swap: +\d+ +\d+ +\d+)$`},
		{"free -h", 1, `^(Mem:( +[\d.]+[KMGT]?i?B?){6}|Swap:( +[\d.]+[KMGT]?i?B?){3})$`},
		{"uname -a", 0, `^Linux \S+ \S+ #\d+\S* SMP PREEMPT_DYNAMIC .+ x86_64 GNU/Linux$`},
		{"uname -r", 0, `^\d+\.\d+\.\d+-\S+$`},
		{"nproc", 0, `^\d+$`},
		{"cat /proc/uptime", 0, `^\d+\.\d\d \d+\.\d\d$`},
		{"cat /proc/loadavg", 0, `^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+$`},
		{"uptime", 0, `^ \d\d:\d\d:\d\d up .+, +\d+ users?, +load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d$`},
		{"w", 0, `^( \d\d:\d\d:\d\d up .+load average: .+|USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT|\S+ +pts/\d+ +\S+ +\d\d:\d\d .+)$`},
		{"ip r", 0, `^(default via \S+ dev \S+ (proto \S+ )?(metric \d+ )?|\S+/\d+ dev \S+ proto kernel scope link src \S+ (metric \d+ )?)$`},
		{"ip a", 0, `^(\d+: \S+: <[A-Z_,]+> mtu \d+ qdisc \S+ state \S+ group default qlen \d+|    link/(loopback|ether) \S+ brd \S+|    altname \S+|    inet6? \S+ (brd \S+ )?scope \S+ (dynamic )?(noprefixroute )?\S* ?|       valid_lft \S+ preferred_lft \S+)$`},
		{"dpkg -l", 3, `^(\|\|/ Name +Version +Architecture +Description|\+\+\+-=+-=+-=+-=+|ii  \S+ +\S+ +(amd64|all) +\S.*)$`},
		{"ls -la /root", 0, `^(total \d+|[-dlc][rwxsStT-]{9} +\d+ \S+ +\S+ +\d+ [A-Z][a-z]{2} [ \d]\d ( \d{4}|\d\d:\d\d) .+)$`},
		{"ls -l /", 0, `^(total \d+|[-dlc][rwxsStT-]{9} +\d+ \S+ +\S+ +\d+ [A-Z][a-z]{2} [ \d]\d ( \d{4}|\d\d:\d\d) .+)$`},
		{"id", 0, `^uid=0\(root\) gid=0\(root\) groups=0\(root\)$`},
	}
	for _, c := range checks {
		want := real(t, root, "root", c.line)
		got := emulated(t, "root", c.line)
		if want.status != got.status || (want.err == "") != (got.err == "") {
			t.Errorf("%q: real status %d err %q, emulated status %d err %q", c.line, want.status, want.err, got.status, got.err)
			continue
		}
		wl := strings.Split(strings.TrimSuffix(want.out, "\n"), "\n")
		gl := strings.Split(strings.TrimSuffix(got.out, "\n"), "\n")
		if len(wl) < c.header || len(gl) < c.header || psHeader(c.line, wl[:c.header]) != psHeader(c.line, gl[:c.header]) {
			t.Errorf("%q header:\n real     %q\n emulated %q", c.line, wl[:min(c.header, len(wl))], gl[:min(c.header, len(gl))])
			continue
		}
		re := regexp.MustCompile(c.row)
		for name, ls := range map[string][]string{"real": wl[c.header:], "emulated": gl[c.header:]} {
			for _, l := range ls {
				if !re.MatchString(l) {
					t.Errorf("%q %s line does not match %s:\n%q", c.line, name, c.row, l)
					break
				}
			}
		}
	}
}

// psHeader normalises the width of ps's PID columns, which procps sizes
// from kernel.pid_max: systemd raises it to 4194304 on a Debian 12
// server (7 digits) while the oracle's host keeps 32768 (5 digits).
func psHeader(line string, header []string) string {
	h := strings.Join(header, "\n")
	if strings.HasPrefix(line, "ps") {
		h = strings.Join(strings.Fields(h), " ")
	}
	return h
}

// TestOracleColumns checks that columns end where the real tools end
// them. dpkg -l is limited to the packages both trees hold, so its
// widths depend on the same names.
func TestOracleColumns(t *testing.T) {
	root := bookworm(t)
	for _, line := range []string{"free", "free -m", "free -h", "dpkg -l 'lib*' | head -8"} {
		want := strings.Split(real(t, root, "root", line).out, "\n")
		got := strings.Split(emulated(t, "root", line).out, "\n")
		for i := 0; i < 3 && i < len(want) && i < len(got); i++ {
			if fmtEnds(want[i]) != fmtEnds(got[i]) {
				t.Errorf("%q line %d columns:\n real     %q\n emulated %q", line, i, want[i], got[i])
			}
		}
	}
}

func fmtEnds(s string) string {
	var ends []string
	for i := 1; i <= len(s); i++ {
		if s[i-1] != ' ' && (i == len(s) || s[i] == ' ') {
			ends = append(ends, string(rune('0'+i%10)))
		}
	}
	return strings.Join(ends, ",")
}

// TestOracleFetchRefused compares wget and curl against a closed
// loopback port with the emulation, which does not connect and answers
// an address literal as refused.
func TestOracleFetchRefused(t *testing.T) {
	for _, args := range [][]string{
		{"wget", "http://127.0.0.1:1/x"},
		{"wget", "-q", "http://127.0.0.1:1/x"},
		{"wget", "http://[::1]:1/bot.sh"},
		{"curl", "http://127.0.0.1:1/x"},
		{"curl", "-s", "http://127.0.0.1:1/x"},
		{"curl", "-sS", "-O", "http://127.0.0.1:1/x"},
	} {
		if _, err := exec.LookPath(args[0]); err != nil {
			t.Skipf("%s not installed", args[0])
		}
		dir := t.TempDir()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = []string{"LANG=C.UTF-8", "HOME=" + dir, oraclePath}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		status := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			status = ee.ExitCode()
		}
		want := result{out.String(), normalizeFetch(errb.String()), status}
		got := emulated(t, "root", strings.Join(args, " "))
		got.err = normalizeFetch(got.err)
		if got != want {
			t.Errorf("%q:\n real     %+v\n emulated %+v", args, want, got)
		}
	}
}

var (
	wgetDate    = regexp.MustCompile(`--\d{4}-\d\d-\d\d \d\d:\d\d:\d\d--`)
	curlElapsed = regexp.MustCompile(`after \d+ ms`)
)

// normalizeFetch blanks what differs between runs: wget's clock and
// the milliseconds curl waited.
func normalizeFetch(s string) string {
	return curlElapsed.ReplaceAllString(wgetDate.ReplaceAllString(s, "--DATE--"), "after N ms")
}

// TestOraclePackages checks that every package of the minbase tree is
// in the persona's list with the version Debian ships.
func TestOraclePackages(t *testing.T) {
	root := bookworm(t)
	out, err := exec.Command("chroot", root, "dpkg-query", "-W", "-f", "${Package} ${Version}\n").Output()
	if err != nil {
		t.Fatal(err)
	}
	sh := newShell(Config{Seed: testSeed}, time.Now)
	have := map[string]string{}
	for _, p := range sh.host.persona.packageList(sh.host.kernel) {
		have[p.base()] = p.version
	}
	for l := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		name, ver, _ := strings.Cut(l, " ")
		if have[name] != ver {
			t.Errorf("package %s: oracle %q, persona %q", name, ver, have[name])
		}
	}
}
