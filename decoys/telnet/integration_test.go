//go:build integration

package telnet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// policySilent answers nothing, like a scanner's NULL probe. Only the
// runs against a real telnetd use it.
var policySilent = clientPolicy{name: "silent", silent: true}

const telnetdPath = "/usr/sbin/telnetd"

// startOracle serves the real inetutils telnetd on a loopback port the way
// inetd does: each accepted socket becomes the daemon's stdin and stdout.
// telnetd runs login(1), which needs root.
func startOracle(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(telnetdPath); err != nil {
		t.Skip("inetutils-telnetd is not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("the real telnetd runs login(1), which needs root")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var procs []*os.Process
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f, err := conn.(*net.TCPConn).File()
			_ = conn.Close()
			if err != nil {
				continue
			}
			cmd := exec.Command(telnetdPath)
			cmd.Stdin, cmd.Stdout = f, f
			if err := cmd.Start(); err != nil {
				_ = f.Close()
				continue
			}
			_ = f.Close()
			mu.Lock()
			procs = append(procs, cmd.Process)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = cmd.Wait()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, p := range procs {
			// Killing a daemon that already exited fails harmlessly.
			_ = p.Kill()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// oracleHostname is the name login(1) shows on this machine.
func oracleHostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(h, ".", 2)[0]
}

// transcript runs one client policy through a failed login and returns
// the server's bytes per step, masked.
func transcript(t *testing.T, addr, src string, policy clientPolicy, hostnames ...string) []string {
	conn := dialFrom(t, src, addr)
	c := newPolicyClient(t, conn, policy)
	var steps []string
	if policy.silent {
		return []string{mask(c.readFor(time.Second), hostnames...)}
	}
	steps = append(steps, mask(c.readUntilText("login: "), hostnames...))
	// Answers that arrive after the prompt are part of the opening.
	steps[0] += mask(c.readFor(300*time.Millisecond), hostnames...)
	eol := policy.eol
	if eol == "" {
		eol = "\r\n"
	}
	c.send("root" + eol)
	steps = append(steps, mask(c.readUntilText("Password: "), hostnames...))
	c.send("wrong" + eol)
	steps = append(steps, mask(c.readUntilText("login: "), hostnames...))
	return steps
}

// TestDebianOracleNegotiation compares the decoy with the real inetutils
// telnetd for several client behaviours: every byte of the negotiation,
// the host line, the prompts and the failure text, with the kernel
// release, host name and pts number masked.
func TestDebianOracleNegotiation(t *testing.T) {
	oracle := startOracle(t)
	ts := startService(t, "", nil, nil)
	for _, policy := range []clientPolicy{policySilent, policyRefuse, policyMinimal, policyNetkit} {
		t.Run(policy.name, func(t *testing.T) {
			want := transcript(t, oracle, "127.0.0.1", policy, oracleHostname(t))
			got := transcript(t, ts.addr, "127.0.0.2", policy, ts.svc.hostname)
			if len(got) != len(want) {
				t.Fatalf("steps %d, want %d", len(got), len(want))
			}
			if policy.name == policyRefuse.name {
				// The real daemon's echo of the user name races with the
				// client's second DONT ECHO: login(1) turns echo on when it
				// starts, and a DONT ECHO processed after that turns it
				// off. The decoy echoes, as the real one does when the
				// answer comes first.
				want[1] = strings.TrimPrefix(want[1], "root\r\n")
				got[1] = strings.TrimPrefix(got[1], "root\r\n")
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("step %d\n got %q\nwant %q", i, got[i], want[i])
				}
			}
		})
	}
}

// TestDebianOracleMalformed sends malformed and unusual telnet commands
// after the opening and compares the replies (or the silence, or the
// close) with the real telnetd's.
func TestDebianOracleMalformed(t *testing.T) {
	oracle := startOracle(t)
	// The real failure delay, so that a probe that ends in a failed login
	// shows the same silence within the read window.
	ts := startService(t, "", nil, func(s *Service) { s.failureDelay = uniformDelay })
	probes := []struct{ name, raw string }{
		{"are you there", "\xff\xf6"},
		{"unknown command", "\xff\x00\xff\x01"},
		{"unknown option will", "\xff\xfb\xc8"},
		{"unknown option do", "\xff\xfd\xc8"},
		{"do timing mark", "\xff\xfd\x06"},
		{"do timing mark twice", "\xff\xfd\x06\xff\xfd\x06"},
		{"will echo", "\xff\xfb\x01"},
		{"do logout", "\xff\xfd\x12"},
		{"sb without se", "\xff\xfa\x18\x00vt100"},
		{"sb ended by will", "\xff\xfa\x1f\x00\xff\xfb\x03"},
		{"overlong sb", "\xff\xfa\x18\x00" + strings.Repeat("A", 2000) + "\xff\xf0"},
		{"se alone", "\xff\xf0"},
		{"abort output", "\xff\xf5"},
		{"tn3270 probe", "\xff\xfb\x18\xff\xfa\x18\x00IBM-3279-4-E\xff\xf0\xff\xfb\x19\xff\xfd\x19\xff\xfb\x00\xff\xfd\x00"},
		{"http request", "GET / HTTP/1.0\r\n\r\n"},
		{"lone iac", "\xff"},
	}
	for _, p := range probes {
		for _, atPrompt := range []bool{false, true} {
			name := p.name + "/before negotiation"
			if atPrompt {
				name = p.name + "/at login prompt"
			}
			t.Run(name, func(t *testing.T) {
				run := func(addr, src string, hostname string) string {
					conn := dialFrom(t, src, addr)
					if !atPrompt {
						c := newPolicyClient(t, conn, policySilent)
						c.readFor(800 * time.Millisecond)
						c.send(p.raw)
						return fmt.Sprintf("%q closed=%v", c.readFor(700*time.Millisecond), c.closed)
					}
					c := newPolicyClient(t, conn, policyMinimal)
					c.readUntilText("login: ")
					c.readFor(200 * time.Millisecond)
					c.send(p.raw)
					got := mask(c.readFor(700*time.Millisecond), hostname)
					return fmt.Sprintf("%q closed=%v", got, c.closed)
				}
				want := run(oracle, "127.0.0.1", oracleHostname(t))
				got := run(ts.addr, "127.0.0.3", ts.svc.hostname)
				if got != want {
					t.Errorf("reply\n got %s\nwant %s", got, want)
				}
			})
		}
	}
}

// clientProxy forwards one connection to target and keeps what the server
// sent.
type clientProxy struct {
	addr string
	mu   sync.Mutex
	got  []byte
	done chan struct{}
}

func startProxy(t *testing.T, target string) *clientProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &clientProxy{addr: ln.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Dial from the client's own source address, so the server sees
		// it.
		src := c.RemoteAddr().(*net.TCPAddr).IP
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
		s, err := d.Dial("tcp", target)
		if err != nil {
			return
		}
		defer s.Close()
		go func() { _, _ = io.Copy(s, c); _ = s.(*net.TCPConn).CloseWrite() }()
		buf := make([]byte, 4096)
		for {
			n, err := s.Read(buf)
			p.mu.Lock()
			p.got = append(p.got, buf[:n]...)
			p.mu.Unlock()
			_, _ = c.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { <-p.done })
	return p
}

// telnetClient runs the real telnet client in a pty (script(1)) with
// the given source address. Input lines are typed when the screen shows
// the text before them.
type telnetClient struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	mu     sync.Mutex
	screen bytes.Buffer
	exited chan struct{}
}

func startTelnet(t *testing.T, src, addr string) *telnetClient {
	t.Helper()
	telnet, err := exec.LookPath("telnet")
	if err != nil {
		t.Skip("telnet is not installed")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (bsdutils) is not installed")
	}
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(script, "-q", "-c", fmt.Sprintf("%s -b %s %s %s", telnet, src, host, port), "/dev/null")
	cmd.Env = append(os.Environ(), "TERM=xterm")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &telnetClient{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	go func() {
		r := bufio.NewReader(stdout)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			c.mu.Lock()
			c.screen.Write(buf[:n])
			c.mu.Unlock()
			if err != nil {
				break
			}
		}
		_ = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-c.exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-c.exited
		}
	})
	return c
}

// waitScreen waits until the screen has shown want count times.
func (c *telnetClient) waitScreen(t *testing.T, want string, count int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n := strings.Count(c.screen.String(), want)
		c.mu.Unlock()
		if n >= count {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Fatalf("screen never showed %q %d times: %q", want, count, c.screen.String())
}

func (c *telnetClient) typeLine(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, s+"\r"); err != nil {
		t.Fatalf("type %q: %v", s, err)
	}
}

func (c *telnetClient) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.screen.String()
}

// TestTelnetClientSideBySide runs the real telnet client through a failed
// login against the real telnetd and the decoy and compares every byte
// the servers sent.
func TestTelnetClientSideBySide(t *testing.T) {
	oracle := startOracle(t)
	ts := startService(t, "", nil, nil)
	run := func(target, src string, hostname string) string {
		p := startProxy(t, target)
		c := startTelnet(t, src, p.addr)
		c.waitScreen(t, "login: ", 1)
		c.typeLine(t, "root")
		c.waitScreen(t, "Password: ", 1)
		c.typeLine(t, "hunter2")
		c.waitScreen(t, "login: ", 2)
		p.mu.Lock()
		defer p.mu.Unlock()
		return mask(p.got, hostname)
	}
	want := run(oracle, "127.0.0.1", oracleHostname(t))
	got := run(ts.addr, "127.0.0.4", ts.svc.hostname)
	if got != want {
		t.Errorf("server bytes\n got %q\nwant %q", got, want)
	}
	auths := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)
	a := auths[0].GetAuthAttempt()
	if a.GetPrincipal() != "root" || string(a.GetSecret()) != "hunter2" || a.GetMechanism() != decoys.MechanismTelnet || a.GetSecretKind() != decoys.SecretPlaintext {
		t.Errorf("attempt %q %q %s %s", a.GetPrincipal(), a.GetSecret(), a.GetMechanism(), a.GetSecretKind())
	}
	if src := auths[0].GetSource().GetAddress(); src != "127.0.0.4" {
		t.Errorf("attempt source %s, want 127.0.0.4", src)
	}
}

// TestTelnetClientLoginShell logs in with the real telnet client under the
// login policy "after:2", which accepts the second attempt, runs commands
// in the emulated shell and checks the events and the recording.
func TestTelnetClientLoginShell(t *testing.T) {
	ts := startService(t, "", map[string]string{OptionRecordingDir: t.TempDir(), "login": "after:2"}, nil)
	c := startTelnet(t, "127.0.0.5", ts.addr)
	c.waitScreen(t, "login: ", 1)
	c.typeLine(t, "root")
	c.waitScreen(t, "Password: ", 1)
	c.typeLine(t, "123456")
	c.waitScreen(t, "Login incorrect", 1)
	c.waitScreen(t, "login: ", 2)
	c.typeLine(t, "root")
	c.waitScreen(t, "Password: ", 2)
	c.typeLine(t, "toor")
	c.waitScreen(t, "# ", 1)
	c.typeLine(t, "id")
	c.waitScreen(t, "uid=0(root)", 1)
	c.typeLine(t, "uname -r")
	c.waitScreen(t, ts.svc.kernelRelease, 2)
	c.typeLine(t, "exit")
	c.waitScreen(t, "Connection closed by foreign host.", 1)

	screen := c.text()
	if !strings.Contains(screen, "The programs included with the Debian GNU/Linux system are free software") {
		t.Errorf("no Debian login message on screen: %q", screen)
	}

	auths := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 2)
	if auths[0].GetAuthAttempt().GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED ||
		auths[1].GetAuthAttempt().GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED {
		t.Errorf("outcomes %v %v", auths[0].GetAuthAttempt().GetOutcome(), auths[1].GetAuthAttempt().GetOutcome())
	}
	if string(auths[1].GetAuthAttempt().GetSecret()) != "toor" {
		t.Errorf("accepted secret %q", auths[1].GetAuthAttempt().GetSecret())
	}
	cmds := ts.emitter.waitFor(t, decoys.KindCommand, 3)
	var lines []string
	for _, ev := range cmds {
		lines = append(lines, ev.GetCommand().GetLine())
	}
	if strings.Join(lines, "|") != "id|uname -r|exit" {
		t.Errorf("commands %q", lines)
	}
	rec := ts.emitter.waitFor(t, decoys.KindSessionRecorded, 1)[0].GetSessionRecorded()
	cast := string(rec.GetCast())
	if !strings.HasPrefix(cast, `{"version":2,"width":`) || !strings.Contains(cast, "uid=0(root)") || !strings.Contains(cast, `"i", "id\r"`) {
		t.Errorf("recording %q", cast)
	}
	if rec.GetInputBytes() == 0 || rec.GetOutputBytes() == 0 || rec.GetTruncated() {
		t.Errorf("recording counters in %d out %d truncated %v", rec.GetInputBytes(), rec.GetOutputBytes(), rec.GetTruncated())
	}
}

// TestTelnetClientCiscoIOS logs into the Cisco persona with the real
// telnet client under "after:1", runs EXEC commands in both modes and
// checks the screen, the events and the recording.
func TestTelnetClientCiscoIOS(t *testing.T) {
	ts := startService(t, PersonaCiscoIOS, map[string]string{OptionRecordingDir: t.TempDir(), "login": "after:1"}, nil)
	host := ts.svc.hostname
	c := startTelnet(t, "127.0.0.6", ts.addr)
	c.waitScreen(t, "User Access Verification", 1)
	c.waitScreen(t, "Username: ", 1)
	c.typeLine(t, "admin")
	c.waitScreen(t, "Password: ", 1)
	c.typeLine(t, "cisco")
	c.waitScreen(t, host+">", 1)
	c.typeLine(t, "sh run")
	c.waitScreen(t, "% Invalid input detected at '^' marker.", 1)
	c.typeLine(t, "sh ver")
	c.waitScreen(t, " --More-- ", 1)
	if _, err := io.WriteString(c.stdin, "q"); err != nil {
		t.Fatal(err)
	}
	c.waitScreen(t, host+">", 3)
	c.typeLine(t, "terminal length 0")
	c.typeLine(t, "sh ver")
	c.waitScreen(t, "Configuration register is 0x2102", 1)
	c.typeLine(t, "en")
	c.waitScreen(t, "Password: ", 2)
	c.typeLine(t, "cisco")
	c.waitScreen(t, host+"#", 1)
	c.typeLine(t, "show ip interface brief")
	c.waitScreen(t, "GigabitEthernet0/2         unassigned      YES NVRAM  administratively down down", 1)
	c.typeLine(t, "exit")
	c.waitScreen(t, "Connection closed by foreign host.", 1)

	screen := c.text()
	if !strings.Contains(screen, host+">sh run\r\n"+strings.Repeat(" ", len(host)+4)+"^\r\n") {
		t.Errorf("caret not under the offending word: %q", screen)
	}
	if !strings.Contains(screen, "Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5, RELEASE SOFTWARE (fc1)") {
		t.Errorf("no show version on screen: %q", screen)
	}
	cmds := ts.emitter.waitFor(t, decoys.KindCommand, 7)
	var lines []string
	for _, ev := range cmds {
		lines = append(lines, ev.GetCommand().GetLine())
	}
	if strings.Join(lines, "|") != "sh run|sh ver|terminal length 0|sh ver|en|show ip interface brief|exit" {
		t.Errorf("commands %q", lines)
	}
	auths := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 2)
	if a := auths[1].GetAuthAttempt(); a.GetPrincipal() != "enable" || a.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED {
		t.Errorf("enable attempt %q %v", a.GetPrincipal(), a.GetOutcome())
	}
	rec := ts.emitter.waitFor(t, decoys.KindSessionRecorded, 1)[0].GetSessionRecorded()
	if cast := string(rec.GetCast()); !strings.Contains(cast, "C2900-UNIVERSALK9-M") || !strings.Contains(cast, `"i", "sh ver\r`) {
		t.Errorf("recording %q", cast)
	}
}

// nmapService runs nmap -sV against addr and returns the port's line and
// the fingerprint nmap prints for an unrecognised service.
func nmapService(t *testing.T, addr string) (string, string) {
	t.Helper()
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		t.Skip("nmap is not installed")
	}
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, nmap, "-sV", "-Pn", "-n", "-p", port, host).CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v: %s", err, out)
	}
	line := regexp.MustCompile(`(?m)^` + port + `/tcp\s+(.*)$`).FindStringSubmatch(string(out))
	if line == nil {
		t.Fatalf("no port line in %s", out)
	}
	var fp strings.Builder
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "SF:") {
			fp.WriteString(strings.TrimPrefix(l, "SF:"))
		}
	}
	return strings.Join(strings.Fields(line[1]), " "), fp.String()
}

// TestNmapPersonas checks what nmap -sV makes of the default persona.
// nmap 7.93 has no match for inetutils telnetd 2.4 (its opening starts
// with WILL AUTHENTICATION), so the check is that nmap's answer and
// fingerprint equal those of the real daemon. The other personas are in
// integration's TestNmapAllPersonas.
func TestNmapPersonas(t *testing.T) {
	t.Run(PersonaDebian12, func(t *testing.T) {
		oracle := startOracle(t)
		ts := startService(t, PersonaDebian12, nil, nil)
		wantLine, wantFP := nmapService(t, oracle)
		gotLine, gotFP := nmapService(t, ts.addr)
		if gotLine != wantLine || gotFP != wantFP {
			t.Errorf("nmap\n got %q %q\nwant %q %q", gotLine, gotFP, wantLine, wantFP)
		}
		if strings.Contains(gotLine, "tcpwrapped") || !strings.HasPrefix(gotLine, "open telnet") {
			t.Errorf("nmap line %q", gotLine)
		}
	})
}
