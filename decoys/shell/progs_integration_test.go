//go:build integration

package shell

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The program oracle is a second Debian 12 tree with the packages whose
// programs the shell emulates. It is kept apart from the minbase tree so
// that the shell oracle keeps seeing a minimal host.
const (
	defaultProgsChroot = "/var/cache/decnet-test/bookworm-progs"
	progsChrootEnv     = "DECNET_TEST_BOOKWORM_PROGS"
	progsPackages      = "procps,iproute2,cron,openssh-client,python3,perl,sudo,netcat-traditional,lsb-release,systemd,findutils"
)

func bookwormProgs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("oracle needs root for chroot and debootstrap")
	}
	dir := os.Getenv(progsChrootEnv)
	if dir == "" {
		dir = defaultProgsChroot
	}
	if _, err := os.Stat(filepath.Join(dir, "usr/bin/python3")); err == nil {
		mountProc(t, dir)
		return dir
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		t.Skip("debootstrap not installed")
	}
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	start := time.Now()
	cmd := exec.Command("debootstrap", "--variant=minbase", "--include="+progsPackages, "bookworm", tmp, debianMirror)
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

// TestOracleProgsExact compares the emulated programs with the real ones
// where the output is the same on every host. Nothing here opens a
// connection: the real ssh and nc are only asked for versions and
// usage.
func TestOracleProgsExact(t *testing.T) {
	root := bookwormProgs(t)
	cases := []string{
		"ssh -V", "ssh", "nc", "nc 127.0.0.1", "nc -x",
		"python3 -V", "python3 --version", "python3 -c 'print(6*7)'", "python3 -c 'print(\"hello\")'",
		"python3 -c 'import sys; print(sys.version)'", "python3 -c 'import sys;print(sys.version_info)'",
		"python3 -c 'import requests'", "python3 -c 'print \"x\"'", "python3 -c", "python3 /tmp/x.py",
		"python3 -m nosuch", "echo 'print(1+2)' | python3", "python3 -c 'import pty'",
		"perl -v", "perl -e 1", "perl -e 'print \"a\\tb\\n\"'", "perl -e 'print 1+1'", "perl /nope.pl",
		"lsb_release -a", "lsb_release -cs", "lsb_release -is",
		"systemctl --version | head -1", "service nope status", "service",
		"getent passwd root", "getent passwd 0", "getent passwd nosuch", "getent nope", "getent",
		"find /nope", "find /etc -nametypo x", "find / -maxdepth", "find /etc/passwd /nope",
		"find /etc/hostname -maxdepth 0 -type f", "locale", "locale -a",
		"basename", "dirname", "chgrp", "ln", "tar", "stat", "seq", "expr", "chroot", "truncate", "pgrep", "arch",
	}
	matched := 0
	for _, line := range cases {
		want := real(t, root, "root", line)
		got := emulated(t, "root", line)
		if got != want {
			t.Errorf("%q:\n real     out=%q err=%q status=%d\n emulated out=%q err=%q status=%d", line, want.out, want.err, want.status, got.out, got.err, got.status)
			continue
		}
		matched++
	}
	t.Logf("%d of %d lines match the oracle byte for byte", matched, len(cases))
}

// TestOracleProgsStructure checks programs whose output depends on the
// host: the same header and the same row shape.
func TestOracleProgsStructure(t *testing.T) {
	root := bookwormProgs(t)
	for _, c := range []struct {
		line, header string
		row          *regexp.Regexp
	}{
		{"ss -tln", "State  Recv-Q Send-Q Local Address:Port", regexp.MustCompile(`^LISTEN 0      \d+ +\S+:\d+ +\S+:\* +$`)},
		{"mount", "", regexp.MustCompile(`^\S+ on /\S* type \S+ \([a-z0-9=,_-]+\)$`)},
		{"systemctl --version", "systemd 252 (", regexp.MustCompile(`^[+-][A-Z0-9_]+( [+-][A-Z0-9_]+)+ default-hierarchy=unified$`)},
		{"service --status-all", "", regexp.MustCompile(`^ \[ [+-?] \]  [a-z0-9.-]+$`)},
	} {
		want := real(t, root, "root", c.line)
		got := emulated(t, "root", c.line)
		if got.status != want.status {
			t.Errorf("%q: real status %d, emulated %d", c.line, want.status, got.status)
		}
		if !strings.HasPrefix(want.out, c.header) || !strings.HasPrefix(got.out, c.header) {
			t.Errorf("%q header %q:\n real     %q\n emulated %q", c.line, c.header, want.out, got.out)
		}
		for name, out := range map[string]string{"real": want.out, "emulated": got.out} {
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if c.header != "" {
				lines = lines[1:]
			}
			for _, l := range lines {
				if !c.row.MatchString(l) {
					t.Errorf("%q %s line does not match %s:\n%q", c.line, name, c.row, l)
				}
			}
		}
	}
}
