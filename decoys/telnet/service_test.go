package telnet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func TestNewRejectsBadConfig(t *testing.T) {
	base := decoys.Config{Seed: testSeed, Emitter: newRecordingEmitter()}
	tests := []struct {
		name   string
		adjust func(*decoys.Config)
		is     error
	}{
		{"unknown persona", func(c *decoys.Config) { c.Persona = "vxworks" }, ErrUnknownPersona},
		{"unknown option", func(c *decoys.Config) { c.Options = map[string]string{"banner": "x"} }, nil},
		{"missing emitter", func(c *decoys.Config) { c.Emitter = nil }, nil},
		{"short seed", func(c *decoys.Config) { c.Seed = []byte("short") }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.adjust(&cfg)
			_, err := New(cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
		})
	}
}

func TestHostnameFromSeed(t *testing.T) {
	a := startService(t, "", nil, nil).svc
	b := startService(t, "", nil, nil).svc
	if a.hostname == "" || a.hostname != b.hostname || a.kernelRelease == "" {
		t.Errorf("hostnames %q %q kernel %q", a.hostname, b.hostname, a.kernelRelease)
	}
	named := startService(t, "", map[string]string{OptionHostname: "web01"}, nil).svc
	if named.hostname != "web01" {
		t.Errorf("hostname option ignored: %q", named.hostname)
	}
	if !strings.HasPrefix(a.kernelRelease, "6.1.0-") {
		t.Errorf("kernel release %q, want a Debian 12 one", a.kernelRelease)
	}
}

// refuseTranscript is what inetutils telnetd 2.4 sent, up to the login
// prompt, to a client that refused every option (captured on Debian 12,
// kernel release, host name and pts number masked).
const refuseTranscript = "\xff\xfb%\xff\xfb&\xff\xfd\x18\xff\xfd \xff\xfd#\xff\xfd'\xff\xfd$" +
	"\xff\xfb\x03\xff\xfd\x01\xff\xfd\"\xff\xfd\x1f\xff\xfb\x05\xff\xfd!" +
	"\xff\xfb\x01\xff\xfd\x06\xff\xfd\x00" +
	"\r\nLinux <release> (<host>) (pts/N)\r\n\r\n" +
	"\xff\xfb\x03\xff\xfb\x01<host> login: "

// netkitTranscript is what it sent to the Debian telnet client.
const netkitTranscript = "\xff\xfb%\xff\xfb&\xff\xfd\x18\xff\xfd \xff\xfd#\xff\xfd'\xff\xfd$" +
	"\xff\xfa \x01\xff\xf0\xff\xfa'\x01\xff\xf0\xff\xfa\x18\x01\xff\xf0" +
	"\xff\xfb\x03\xff\xfd\x01\xff\xfd\"\xff\xfd\x1f\xff\xfb\x05\xff\xfd!" +
	"\xff\xfa\"\x01\x03\xff\xf0\x00\xff\xfa!\x03\xff\xf0\x00\xff\xfb\x01\xff\xfd\x00\xff\xfe\"" +
	"\xff\xfa\"\x03\x03\xe2\x03\x04\x82\x0f\x07\xe2\x1c\x08\x82\x04\t\xc2\x1a\n\x82\x7f\x0b\x82\x15\x0c\x82\x17\r\x82\x12\x0e\x82\x16\x0f\x82\x11\x10\x82\x13\xff\xf0" +
	"\r\nLinux <release> (<host>) (pts/N)\r\n\r\n<host> login: "

func TestDebianNegotiation(t *testing.T) {
	ts := startService(t, "", nil, nil)
	tests := []struct {
		policy clientPolicy
		want   string
	}{
		{policyRefuse, refuseTranscript},
		{policyNetkit, netkitTranscript},
	}
	for _, tc := range tests {
		t.Run(tc.policy.name, func(t *testing.T) {
			c := newPolicyClient(t, dialFrom(t, "127.0.0.2", ts.addr), tc.policy)
			got := mask(c.readUntilText("login: "), ts.svc.hostname)
			if got != tc.want {
				t.Errorf("negotiation\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDebianSilentClientGetsOpening(t *testing.T) {
	ts := startService(t, "", nil, nil)
	conn := dialFrom(t, "127.0.0.2", ts.addr)
	opening := string(personas[0].opening)
	buf := make([]byte, len(opening))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatal(err)
	}
	if string(buf) != opening {
		t.Errorf("opening %q, want %q", buf, opening)
	}
}

func TestOpeningOtherPersonas(t *testing.T) {
	tests := []struct {
		persona string
		want    func(host string) string
	}{
		{PersonaBusyBox, func(h string) string { return "\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03" + h + " login: " }},
		{PersonaCiscoIOS, func(string) string {
			return "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f\r\n\r\nUser Access Verification\r\n\r\nUsername: "
		}},
	}
	for _, tc := range tests {
		t.Run(tc.persona, func(t *testing.T) {
			ts := startService(t, tc.persona, nil, nil)
			conn := dialFrom(t, "127.0.0.2", ts.addr)
			got := readUntil(t, conn, ": ")
			if string(got) != tc.want(ts.svc.hostname) {
				t.Errorf("opening %q, want %q", got, tc.want(ts.svc.hostname))
			}
		})
	}
}

func TestLoginFailuresPerPersona(t *testing.T) {
	tests := []struct {
		persona  string
		prompt   string
		failure  string
		maxTries int
	}{
		{PersonaDebian12, " login: ", "\r\nLogin incorrect\r\n", 5},
		{PersonaBusyBox, " login: ", "Login incorrect\r\n", 3},
		{PersonaCiscoIOS, "Username: ", "% Login invalid\r\n\r\n", 3},
	}
	for _, tc := range tests {
		t.Run(tc.persona, func(t *testing.T) {
			ts := startService(t, tc.persona, nil, nil)
			c := newPolicyClient(t, dialFrom(t, "127.0.0.3", ts.addr), policyMinimal)
			c.readUntilText(tc.prompt)
			for i := range tc.maxTries {
				c.send("admin\r\n")
				echo := c.readUntilText("Password: ")
				if !bytes.HasSuffix(echo, []byte("admin\r\nPassword: ")) {
					t.Errorf("try %d: user name echo %q", i, echo)
				}
				c.send("secret" + string(rune('0'+i)) + "\r\n")
				if i < tc.maxTries-1 {
					reply := c.readUntilText(tc.prompt)
					if !bytes.HasPrefix(reply, []byte("\r\n"+tc.failure)) {
						t.Errorf("try %d: reply %q, want the failure text", i, reply)
					}
				}
			}
			rest := c.readFor(10 * time.Second)
			if !c.closed || string(rest) != "\r\n"+tc.failure {
				t.Errorf("after the last try: %q closed=%v", rest, c.closed)
			}

			auths := ts.emitter.waitFor(t, decoys.KindAuthAttempt, tc.maxTries)
			for i, ev := range auths {
				a := ev.GetAuthAttempt()
				if a.GetPrincipal() != "admin" || string(a.GetSecret()) != "secret"+string(rune('0'+i)) {
					t.Errorf("attempt %d: %q %q", i, a.GetPrincipal(), a.GetSecret())
				}
				if a.GetMechanism() != decoys.MechanismTelnet || a.GetSecretKind() != decoys.SecretPlaintext || a.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED {
					t.Errorf("attempt %d: %s %s %v", i, a.GetMechanism(), a.GetSecretKind(), a.GetOutcome())
				}
				if ev.GetSource().GetAddress() != "127.0.0.3" {
					t.Errorf("attempt %d source %s", i, ev.GetSource().GetAddress())
				}
			}
			closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
			if r := closed[0].GetConnectionClosed().GetReason(); r != reasonLoginFailed {
				t.Errorf("close reason %q", r)
			}
		})
	}
}

func TestLineEditingAtPrompt(t *testing.T) {
	ts := startService(t, PersonaBusyBox, nil, nil)
	c := newPolicyClient(t, dialFrom(t, "127.0.0.2", ts.addr), policyMinimal)
	c.readUntilText(" login: ")
	// Typed one byte at a time: "roox", DEL, "t", ^U erases, then
	// "ad\bmin" with a backspace.
	for _, b := range []byte("roox\x7ft\x15adx\bmin\r\n") {
		c.send(string([]byte{b}))
	}
	echo := c.readUntilText("Password: ")
	want := "roox\b \bt\b \b\b \b\b \b\b \badx\b \bmin\r\nPassword: "
	if string(echo) != want {
		t.Errorf("echo %q, want %q", echo, want)
	}
	c.send("pw\r\n")
	auths := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)
	if p := auths[0].GetAuthAttempt().GetPrincipal(); p != "admin" {
		t.Errorf("principal %q, want admin", p)
	}
}

func TestEmptyUserNameReprompts(t *testing.T) {
	ts := startService(t, PersonaCiscoIOS, nil, nil)
	c := newPolicyClient(t, dialFrom(t, "127.0.0.2", ts.addr), policyMinimal)
	c.readUntilText("Username: ")
	c.send("\r\n")
	// The reply may carry SB TTYPE SEND ahead of the text.
	if got := c.readUntilText("Username: "); !bytes.HasSuffix(got, []byte("\xff\xf0\r\nUsername: ")) && string(got) != "\r\nUsername: " {
		t.Errorf("after an empty line: %q", got)
	}
}

// TestLoginTimeout checks the texts of the login programs' alarms, which
// were read from the real programs after 60 s (login(1) behind inetutils
// telnetd, BusyBox 1.35 login); the decoy's timeout is shortened here.
func TestLoginTimeout(t *testing.T) {
	tests := []struct {
		persona, prompt, want string
	}{
		{PersonaDebian12, " login: ", "\r\nLogin timed out after 60 seconds.\r\n"},
		{PersonaBusyBox, " login: ", "\r\r\nLogin timed out after 60 seconds\r\r\n"},
		{PersonaCiscoIOS, "Username: ", "\r\n% Username:  timeout expired!\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.persona, func(t *testing.T) {
			ts := startService(t, tc.persona, nil, func(s *Service) {
				p := *s.persona
				p.loginTimeout = 100 * time.Millisecond
				s.persona = &p
			})
			c := newPolicyClient(t, dialFrom(t, "127.0.0.2", ts.addr), policyMinimal)
			c.readUntilText(tc.prompt)
			rest := c.readFor(10 * time.Second)
			// Late option replies may come first.
			if !bytes.HasSuffix(rest, []byte(tc.want)) || !c.closed {
				t.Errorf("after the timeout: %q closed=%v", rest, c.closed)
			}
			closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)
			if r := closed[0].GetConnectionClosed().GetReason(); r != reasonLoginTimeout {
				t.Errorf("close reason %q", r)
			}
		})
	}
}

// fakeShell echoes each line it reads as "ran: <line>" until "exit".
type fakeShell struct {
	mu      sync.Mutex
	resizes []string
	cmd     func(string)
}

func (f *fakeShell) Interactive(ctx context.Context, term io.ReadWriter) error {
	if _, err := io.WriteString(term, "$ "); err != nil {
		return err
	}
	var line []byte
	buf := make([]byte, 64)
	for {
		n, err := term.Read(buf)
		if err != nil {
			return err
		}
		for _, b := range buf[:n] {
			if b != '\r' {
				line = append(line, b)
				continue
			}
			f.cmd(string(line))
			if string(line) == "exit" {
				_, err := io.WriteString(term, "logout\r\n")
				return err
			}
			if _, err := io.WriteString(term, "\r\nran: "+string(line)+"\r\n$ "); err != nil {
				return err
			}
			line = line[:0]
		}
	}
}

func (f *fakeShell) Resize(w, h int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resizes = append(f.resizes, strings.Repeat("x", 0)+string(rune('0'+w%10))+"x"+string(rune('0'+h%10)))
}

func (f *fakeShell) Motd(time.Time, time.Time, string) string { return "Welcome\n" }

func TestSuccessfulLoginRecordsSession(t *testing.T) {
	shell := &fakeShell{}
	ts := startService(t, "", map[string]string{OptionRecordingDir: t.TempDir()}, func(s *Service) {
		s.allow = func(_ netip.Addr, user string, pw []byte) bool { return user == "root" && string(pw) == "toor" }
		s.newShell = func(user string, session *decoys.Session) Shell {
			shell.cmd = func(line string) { session.Command(strings.ToValidUTF8(line, "\uFFFD"), "shell") }
			return shell
		}
	})
	c := newPolicyClient(t, dialFrom(t, "127.0.0.6", ts.addr), policyNetkit)
	c.readUntilText(" login: ")
	c.send("root\r")
	c.readUntilText("Password: ")
	c.send("toor\r")
	if got := c.readUntilText("$ "); string(got) != "\r\nWelcome\r\n$ " {
		t.Errorf("after login %q", got)
	}
	// IAC IAC is one 0xff data byte.
	c.send("ls\xff\xff\r")
	if got := c.readUntilText("$ "); string(got) != "\r\nran: ls\xff\xff\r\n$ " {
		t.Errorf("command output %q", got)
	}
	// A window size change reaches the shell and the recording.
	c.send("\xff\xfa\x1f\x00\x78\x00\x28\xff\xf0exit\r")
	c.readFor(5 * time.Second)
	if !c.closed {
		t.Error("connection open after exit")
	}

	rec := ts.emitter.waitFor(t, decoys.KindSessionRecorded, 1)[0].GetSessionRecorded()
	cast := string(rec.GetCast())
	for _, want := range []string{`"TERM":"xterm-256color"`, `"width":100,"height":30`, `"o", "Welcome\r\n"`, `"r", "120x40"`, `"i", "ls\ufffd\r"`, `"o", "logout\r\n"`} {
		if !strings.Contains(cast, want) {
			t.Errorf("recording lacks %s: %s", want, cast)
		}
	}
	cmds := ts.emitter.waitFor(t, decoys.KindCommand, 2)
	if cmds[0].GetCommand().GetLine() != "ls\uFFFD" || cmds[1].GetCommand().GetLine() != "exit" || cmds[0].GetCommand().GetChannel() != "shell" {
		t.Errorf("commands %q %q", cmds[0].GetCommand().GetLine(), cmds[1].GetCommand().GetLine())
	}
	auth := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt()
	if auth.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED {
		t.Errorf("outcome %v", auth.GetOutcome())
	}
	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)[0].GetConnectionClosed()
	if closed.GetReason() != reasonShellExit {
		t.Errorf("close reason %q", closed.GetReason())
	}
}

// TestFloodDoesNotStopService floods one connection with data, commands
// and an endless subnegotiation while another client logs in.
func TestFloodDoesNotStopService(t *testing.T) {
	ts := startService(t, PersonaBusyBox, nil, nil)
	flood := dialFrom(t, "127.0.0.7", ts.addr)
	done := make(chan struct{})
	go func() {
		defer close(done)
		chunk := bytes.Repeat([]byte("A\xff\xf6\xff\xfd\xc8\xff\xfa\x18"), 4096)
		for range 64 {
			if _, err := flood.Write(chunk); err != nil {
				return
			}
		}
	}()

	c := newPolicyClient(t, dialFrom(t, "127.0.0.8", ts.addr), policyMinimal)
	c.readUntilText(" login: ")
	c.send("root\r\n")
	c.readUntilText("Password: ")
	c.send("pw\r\n")
	auths := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)
	if src := auths[0].GetSource().GetAddress(); src != "127.0.0.8" {
		t.Errorf("attempt from %s", src)
	}
	_ = flood.Close()
	<-done
}

// TestSlowReaderIsDropped sends IAC AYT without ever reading the
// replies: the server's writes stall, and the write timeout ends the
// connection instead of holding it.
func TestSlowReaderIsDropped(t *testing.T) {
	ts := startService(t, PersonaCiscoIOS, nil, func(s *Service) {
		s.limits.WriteTimeout = 200 * time.Millisecond
	})
	conn := dialFrom(t, "127.0.0.9", ts.addr)
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetReadBuffer(4096)
	}
	ayt := bytes.Repeat([]byte{cmdIAC, cmdAYT}, 8192)
	go func() {
		for range 256 {
			if _, err := conn.Write(ayt); err != nil {
				return
			}
		}
	}()
	closed := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)[0].GetConnectionClosed()
	if closed.GetBytesSent() == 0 {
		t.Errorf("closed with nothing sent: %+v", closed)
	}
}

func TestInvalidUTF8UserName(t *testing.T) {
	ts := startService(t, PersonaBusyBox, nil, nil)
	c := newPolicyClient(t, dialFrom(t, "127.0.0.2", ts.addr), policyMinimal)
	c.readUntilText(" login: ")
	c.send("r\xc3t\r\n")
	c.readUntilText("Password: ")
	c.send("p\xff\xff\xfe\r\n")
	a := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt()
	if a.GetPrincipal() != "r\uFFFDt" {
		t.Errorf("principal %q", a.GetPrincipal())
	}
	// The secret keeps its bytes; IAC IAC is one 0xff.
	if string(a.GetSecret()) != "p\xff\xfe" {
		t.Errorf("secret %q", a.GetSecret())
	}
}
