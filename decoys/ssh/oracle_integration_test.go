//go:build integration

package ssh

import (
	"bufio"
	"context"
	"crypto/md5" //nolint:gosec // G501: HASSH is defined over MD5
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startSSHD starts Debian's sshd in the foreground on a loopback high port
// with fresh host keys and the stock settings that matter here, and
// returns its address. It skips when sshd is missing or is not the
// persona's version.
func startSSHD(t *testing.T) string {
	return startSSHDWithKey(t, "")
}

// startSSHDWithKey is startSSHD with authorizedKey (one authorized_keys
// line, or empty) accepted for every user, root included.
func startSSHDWithKey(t *testing.T, authorizedKey string) string {
	t.Helper()
	const bin = "/usr/sbin/sshd"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("sshd is not installed; install openssh-server under a policy-rc.d that exits 101")
	}
	if v, _ := exec.Command("dpkg-query", "-W", "-f", "${Version}", "openssh-server").Output(); string(v) != "1:9.2p1-2+deb12u10" {
		t.Skipf("openssh-server is %q, the persona is 1:9.2p1-2+deb12u10", v)
	}
	if os.Geteuid() != 0 {
		t.Skip("sshd needs root")
	}
	dir := t.TempDir()
	var keys []string
	for _, kt := range []string{"rsa", "ecdsa", "ed25519"} {
		path := filepath.Join(dir, "ssh_host_"+kt+"_key")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", kt, "-N", "", "-f", path).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
		keys = append(keys, "HostKey "+path)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	port := freeTCPPort(t)
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, []byte(authorizedKey), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
%s
PidFile %s/sshd.pid
UsePAM yes
KbdInteractiveAuthentication no
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
AllowTcpForwarding no
Subsystem sftp /usr/lib/openssh/sftp-server
AuthorizedKeysFile %s
StrictModes no
`, port, strings.Join(keys, "\n"), dir, authorized)
	confPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-D", "-e", "-f", confPath)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
			return addr
		}
		if i == 100 {
			t.Fatalf("sshd did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// kexInitPayload builds a client KEXINIT with the given lists.
func kexInitPayload(kex, hostKey, cipher, mac, comp string) []byte {
	b := []byte{20}
	b = append(b, make([]byte, 16)...)
	for _, l := range []string{kex, hostKey, cipher, cipher, mac, mac, comp, comp, "", ""} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(l)))
		b = append(b, l...)
	}
	return append(b, 0, 0, 0, 0, 0)
}

// framePadded frames payload with the given padding length, or the
// minimum when padding is 0.
func framePadded(payload []byte, padding int) []byte {
	if padding == 0 {
		return framePacket(payload)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+padding))
	out = append(out, byte(padding))
	out = append(out, payload...)
	return append(out, make([]byte, padding)...)
}

// probeReply sends the client identification, reads the server's
// KEXINIT, sends probe and describes what the server sent until it
// closed: one line per packet, then "EOF" or "TIMEOUT".
func probeReply(t *testing.T, addr string, probe []byte) (string, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatalf("read identification: %v", err)
	}
	if _, err := conn.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n")); err != nil {
		t.Fatal(err)
	}
	kexinit, err := readPacket(r)
	if err != nil {
		t.Fatalf("read KEXINIT: %v", err)
	}
	_, _ = conn.Write(probe)

	var lines []string
	for {
		p, err := readPacket(r)
		var netErr net.Error
		switch {
		case errors.As(err, &netErr) && netErr.Timeout():
			return strings.Join(append(lines, "TIMEOUT"), "; "), kexinit
		case err != nil:
			return strings.Join(append(lines, "EOF"), "; "), kexinit
		}
		lines = append(lines, describePacket(p))
	}
}

func describePacket(p []byte) string {
	switch p[0] {
	case 1:
		reason := binary.BigEndian.Uint32(p[1:])
		n := binary.BigEndian.Uint32(p[5:])
		return fmt.Sprintf("DISCONNECT %d %q", reason, p[9:9+n])
	case 3:
		return fmt.Sprintf("UNIMPLEMENTED %d", binary.BigEndian.Uint32(p[1:]))
	case 31:
		return "KEX_REPLY"
	case 21:
		return "NEWKEYS"
	}
	return fmt.Sprintf("type %d", p[0])
}

// hassh returns the HASSHServer of a KEXINIT payload: MD5 of
// "kex;ciphers;macs;compression" (server to client lists).
func hassh(payload []byte) string {
	r := payload[17:]
	var lists []string
	for range 10 {
		n := binary.BigEndian.Uint32(r)
		lists = append(lists, string(r[4:4+n]))
		r = r[4+n:]
	}
	sum := md5.Sum([]byte(strings.Join([]string{lists[0], lists[3], lists[5], lists[7]}, ";"))) //nolint:gosec // G401: HASSH
	return hex.EncodeToString(sum[:])
}

// TestOracleKexInitAndMalformedInput sends the same probes to Debian's
// sshd and to the decoy and requires the same KEXINIT name-lists (hence
// HASSHServer) and the same reaction to each malformed input.
func TestOracleKexInitAndMalformedInput(t *testing.T) {
	real := startSSHD(t)
	ts := startService(t, nil)

	good := kexInitPayload("curve25519-sha256", "ssh-ed25519", "aes128-ctr", "hmac-sha2-256", "none")
	strict := kexInitPayload("curve25519-sha256,kex-strict-c-v00@openssh.com", "ssh-ed25519", "aes128-ctr", "hmac-sha2-256", "none")
	invalidType := framePacket([]byte{0, 0, 0, 0})
	ecdhInit := func(n int) []byte {
		b := []byte{30}
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		return append(b, make([]byte, n)...)
	}
	concat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	probes := []struct {
		name  string
		probe []byte
	}{
		{"zero length", append([]byte{0, 0, 0, 0}, make([]byte, 12)...)},
		{"huge length", append([]byte{0x7f, 0xff, 0xff, 0xff}, make([]byte, 12)...)},
		{"misaligned length", append([]byte{0, 0, 0, 13, 4}, make([]byte, 20)...)},
		{"padding 2", framePadded([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0}, 2)},
		{"padding beyond length", append([]byte{0, 0, 0, 12, 20}, make([]byte, 12)...)},
		{"only padding", framePadded(nil, 11)},
		{"type 0", invalidType},
		{"type 200", framePacket([]byte{200, 1, 2, 3})},
		{"service request before kex", concat(framePacket([]byte{5, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h'}), invalidType)},
		{"userauth before kex", concat(framePacket([]byte{50, 0, 0, 0, 0}), invalidType)},
		{"channel open before kex", concat(framePacket([]byte{90, 0, 0, 0, 0}), invalidType)},
		{"type 49 before kex", concat(framePacket([]byte{49, 0, 0, 0, 0}), invalidType)},
		{"debug before kex", concat(framePacket([]byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 0}), invalidType)},
		{"disconnect before kex", concat(framePacket([]byte{1, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0}), invalidType)},
		{"userauth during kex", concat(framePacket(good), framePacket([]byte{50, 0, 0, 0, 0}), invalidType)},
		{"strict, userauth during kex", concat(framePacket(strict), framePacket([]byte{50, 0, 0, 0, 0}), invalidType)},
		{"ignore then kexinit", concat(framePacket([]byte{2, 0, 0, 0, 0}), framePacket(good), invalidType)},
		{"truncated kexinit", framePacket([]byte{20, 1, 2, 3, 4, 5})},
		{"no common kex", framePacket(kexInitPayload("foo", "ssh-ed25519", "aes128-ctr", "hmac-sha2-256", "none"))},
		{"no common cipher", framePacket(kexInitPayload("curve25519-sha256", "ssh-ed25519", "3des-cbc", "hmac-sha2-256", "none"))},
		{"no common mac", framePacket(kexInitPayload("curve25519-sha256", "ssh-ed25519", "aes128-ctr", "hmac-md5", "none"))},
		{"aead without mac", concat(framePacket(kexInitPayload("curve25519-sha256", "ssh-ed25519", "aes128-gcm@openssh.com", "hmac-md5", "none")), invalidType)},
		{"strict, ignore first", concat(framePacket([]byte{2, 0, 0, 0, 0}), framePacket(strict))},
		{"strict, ignore during kex", concat(framePacket(strict), framePacket([]byte{2, 0, 0, 0, 0}))},
		{"strict, service request during kex", concat(framePacket(strict), framePacket([]byte{5, 0, 0, 0, 1, 'x'}))},
		{"ignore during kex", concat(framePacket(good), framePacket([]byte{2, 0, 0, 0, 0}), invalidType)},
		{"unknown during kex", concat(framePacket(good), framePacket([]byte{40, 0, 0, 0, 0}), invalidType)},
		{"second kexinit", concat(framePacket(good), framePacket(good), invalidType)},
		{"short curve25519 value", concat(framePacket(good), framePacket(ecdhInit(31)))},
		{"zero curve25519 value", concat(framePacket(good), framePacket(ecdhInit(32)))},
		{"curve25519 trailing bytes", concat(framePacket(good), framePacket(append(ecdhInit(32), 1)))},
		{"gex bad range", concat(framePacket(kexInitPayload("diffie-hellman-group-exchange-sha256", "ssh-ed25519", "aes128-ctr", "hmac-sha2-256", "none")),
			framePacket([]byte{34, 0, 0, 0x20, 0, 0, 0, 0x10, 0, 0, 0, 0x08, 0}))},
		{"dh value 1", concat(framePacket(kexInitPayload("diffie-hellman-group14-sha256", "ssh-ed25519", "aes128-ctr", "hmac-sha2-256", "none")),
			framePacket([]byte{30, 0, 0, 0, 1, 1}))},
	}

	var realInit, decoyInit []byte
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			want, ri := probeReply(t, real, p.probe)
			got, di := probeReply(t, ts.addr, p.probe)
			realInit, decoyInit = ri, di
			if got != want {
				t.Errorf("decoy: %s\nsshd:  %s", got, want)
			}
		})
	}

	if hassh(decoyInit) != hassh(realInit) {
		t.Errorf("HASSHServer = %s, sshd's is %s", hassh(decoyInit), hassh(realInit))
	}
	strip := func(b []byte) []byte { return b[17:] } // the cookie is random
	if string(strip(decoyInit)) != string(strip(realInit)) {
		t.Errorf("KEXINIT after the cookie differs:\ndecoy % x\nsshd  % x", strip(decoyInit), strip(realInit))
	}
}

// rawKexInitFrame returns the length field, padding length and padding
// of the server's KEXINIT packet.
func rawKexInitFrame(t *testing.T, addr string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n")); err != nil {
		t.Fatal(err)
	}
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(head[:4])-1)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("length %d, padding %d: % x", binary.BigEndian.Uint32(head[:4]), head[4], body[len(body)-int(head[4]):])
}

// TestOracleKexInitFraming compares the framing of the first packet: its
// length and its padding, which sshd leaves zero before encryption.
func TestOracleKexInitFraming(t *testing.T) {
	real := startSSHD(t)
	ts := startService(t, nil)
	if got, want := rawKexInitFrame(t, ts.addr), rawKexInitFrame(t, real); got != want {
		t.Errorf("decoy KEXINIT %s, sshd %s", got, want)
	}
}

// clientView runs ssh -vvv against addr and keeps the lines that show
// what the server sent: algorithm lists, EXT_INFO, authentication
// replies, disconnect texts. Lines that name the port or a host key
// fingerprint are dropped.
func clientView(t *testing.T, addr string, args ...string) []string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	full := append([]string{"-p", "wrongpass", "/usr/bin/ssh", "-vvv", "-F", "/dev/null", "-p", port,
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10"}, args...)
	full = append(full, "nosuchuser@"+host, "true")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "sshpass", full...).CombinedOutput()
	keep := []string{
		"debug1: Remote protocol version", "debug2: KEX algorithms", "debug2: host key algorithms",
		"debug2: ciphers ", "debug2: MACs ", "debug2: compression ", "debug1: kex: ", "debug3: kex_choose_conf",
		"debug1: kex_input_ext_info", "debug1: Authentications that can continue", "debug2: service_accept",
		"Received disconnect", "Permission denied", "debug1: Server accepts key", "Too many authentication",
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimRight(l, "\r")
		for _, k := range keep {
			if strings.HasPrefix(l, k) || (strings.Contains(l, k) && !strings.HasPrefix(l, "debug")) {
				lines = append(lines, strings.ReplaceAll(l, port, "PORT"))
				break
			}
		}
	}
	return lines
}

// TestOracleOpenSSHClientView compares what the OpenSSH client reports
// about Debian's sshd and about the decoy for a rejected password and for
// too many public keys.
func TestOracleOpenSSHClientView(t *testing.T) {
	requireTools(t, "/usr/bin/ssh", "sshpass", "ssh-keygen")
	real := startSSHD(t)
	ts := startService(t, func(s *Service) {
		s.failureDelay = func(delayRange) time.Duration { return 10 * time.Millisecond }
	})

	dir := t.TempDir()
	var keyArgs []string
	for i := range 7 {
		path := filepath.Join(dir, "id_"+strconv.Itoa(i))
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
		keyArgs = append(keyArgs, "-i", path)
	}

	cases := []struct {
		name string
		args []string
	}{
		{"password", []string{"-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1"}},
		{"seven keys", append([]string{"-o", "PreferredAuthentications=publickey", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"}, keyArgs...)},
		{"keyboard-interactive", []string{"-o", "PreferredAuthentications=keyboard-interactive", "-o", "BatchMode=yes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := clientView(t, real, c.args...)
			got := clientView(t, ts.addr, c.args...)
			// Identification, five algorithm lists twice, the choices,
			// EXT_INFO and at least one authentication reply.
			if len(want) < 15 {
				t.Fatalf("too little client output to compare:\n%s", strings.Join(want, "\n"))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("decoy:\n%s\nsshd:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

var authorizedKeysPath = regexp.MustCompile(`Remote: \S*authorized_keys:`)

// TestOracleAcceptedLoginSession logs in with a public key that both
// servers accept and runs "true", then compares what the client saw of
// the session: window, replies, EOF, exit status and close, in order.
func TestOracleAcceptedLoginSession(t *testing.T) {
	requireTools(t, "/usr/bin/ssh", "ssh-keygen")
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyPath).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(keyPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	real := startSSHDWithKey(t, string(pub))
	ts := startService(t, func(s *Service) {
		s.Accept = func(user, method string, secret []byte) bool { return method == "publickey" }
	})

	view := func(addr string) []string {
		host, port, _ := net.SplitHostPort(addr)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "/usr/bin/ssh", "-vvv", "-F", "/dev/null", "-p", port, "-i", keyPath,
			"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "root@"+host, "true").CombinedOutput()
		if err != nil {
			t.Fatalf("ssh to %s: %v\n%s", addr, err, out)
		}
		keep := []string{"Authenticated to", "client_input_global_request", "debug1: Remote:", "open confirm",
			"rcvd adjust", "request accepted", "rcvd eof", "client_input_channel_req", "rcvd close", "Exit status"}
		var lines []string
		for _, l := range strings.Split(string(out), "\n") {
			for _, k := range keep {
				if strings.Contains(l, k) {
					// The oracle's authorized_keys lives in a temporary
					// directory, the decoy names the user's.
					l = authorizedKeysPath.ReplaceAllString(l, "Remote: AUTHORIZED_KEYS:")
					lines = append(lines, strings.ReplaceAll(l, port, "PORT"))
					break
				}
			}
		}
		return lines
	}
	want := view(real)
	got := view(ts.addr)
	if len(want) < 8 {
		t.Fatalf("too little client output to compare:\n%s", strings.Join(want, "\n"))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("decoy:\n%s\nsshd:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestOracleNmap runs nmap's version detection and SSH scripts against
// Debian's sshd and the decoy and compares the reports.
func TestOracleNmap(t *testing.T) {
	requireTools(t, "nmap")
	real := startSSHD(t)
	ts := startService(t, nil)
	scan := func(addr string) string {
		host, port, _ := net.SplitHostPort(addr)
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "nmap", "-Pn", "-n", "-sV", "-p", port,
			"--script", "ssh2-enum-algos,ssh-auth-methods,sshv1", host).CombinedOutput()
		if err != nil {
			t.Fatalf("nmap: %v\n%s", err, out)
		}
		// nmap prints script results in no fixed order, so each script's
		// block is compared on its own.
		var blocks []string
		for _, l := range strings.Split(string(out), "\n") {
			switch {
			case strings.Contains(l, "/tcp"):
				blocks = append(blocks, strings.ReplaceAll(l, port, "PORT"))
			case strings.HasPrefix(l, "| ") && len(l) > 2 && l[2] != ' ':
				blocks = append(blocks, l)
			case strings.HasPrefix(l, "|") && len(blocks) > 0:
				blocks[len(blocks)-1] += "\n" + l
			}
		}
		slices.Sort(blocks)
		return strings.Join(blocks, "\n")
	}
	want := scan(real)
	got := scan(ts.addr)
	if !strings.Contains(want, "OpenSSH 9.2p1 Debian 2+deb12u10") {
		t.Fatalf("nmap did not identify sshd:\n%s", want)
	}
	if got != want {
		t.Errorf("decoy:\n%s\nsshd:\n%s", got, want)
	}
}
