package sshserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const testVersion = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10"

// testConfig returns a Config with an Ed25519 host key that accepts the
// password "secret" for every user.
func testConfig(t testing.TB) *Config {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return &Config{
		ServerVersion: testVersion,
		Algorithms: Algorithms{
			KeyExchanges: []string{"curve25519-sha256", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256", kexStrictServer},
			HostKeys:     []string{"ssh-ed25519"},
			Ciphers:      []string{"chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-gcm@openssh.com"},
			MACs:         []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"},
			Compressions: []string{"none", "zlib@openssh.com"},
		},
		HostKeys:     []ssh.Signer{signer},
		AuthMethods:  []string{MethodPublicKey, MethodPassword},
		MaxAuthTries: 6,
		Subsystems:   []string{"sftp"},
		Auth: func(_ context.Context, _ *ConnMeta, req *AuthRequest) bool {
			return req.Method == MethodPassword && string(req.Secret) == "secret"
		},
	}
}

// serveTest serves cfg on a loopback listener and returns its address and
// a function returning each connection's ServeConn error.
func serveTest(t testing.TB, cfg *Config) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				_, _ = nc.Write([]byte(cfg.ServerVersion + "\r\n"))
				br := bufio.NewReader(nc)
				line, err := br.ReadString('\n')
				if err != nil {
					errs <- err
					return
				}
				errs <- ServeConn(ctx, nc, br, []byte(strings.TrimRight(line, "\r\n")), cfg)
			}()
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String(), func() error {
		select {
		case err := <-errs:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("no connection ended")
			return nil
		}
	}
}

func dialTest(t *testing.T, addr, password string) *ssh.Client {
	t.Helper()
	client, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func TestExecPlaceholderExitsZero(t *testing.T) {
	addr, _ := serveTest(t, testConfig(t))
	client := dialTest(t, addr, "secret")
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("uname -a")
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	if len(out) != 0 {
		t.Errorf("output = %q, want none", out)
	}
}

func TestSessionHandlerSeesRequests(t *testing.T) {
	cfg := testConfig(t)
	type seen struct {
		request, command string
		pty              *PTY
		env              map[string]string
		input            []byte
		resize           WindowSize
	}
	got := make(chan seen, 1)
	cfg.Session = func(ctx context.Context, ch *Channel) {
		s := seen{request: ch.Request, command: ch.Command, pty: ch.PTY(), env: ch.Env}
		s.resize = <-ch.Resized()
		buf := make([]byte, 5)
		_, _ = io.ReadFull(ch, buf)
		s.input = buf
		_, _ = ch.Write(bytes.Repeat([]byte("o"), 3<<20))
		_, _ = ch.Stderr().Write([]byte("err\n"))
		got <- s
		_ = ch.Exit(3)
	}
	addr, _ := serveTest(t, cfg)
	client := dialTest(t, addr, "secret")
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Setenv("LANG", "C.UTF-8"); err != nil {
		t.Errorf("env LANG refused: %v", err)
	}
	if err := sess.Setenv("PATH", "/tmp"); err == nil {
		t.Error("env PATH accepted, want refused (AcceptEnv LANG LC_*)")
	}
	if err := sess.RequestPty("xterm-256color", 40, 120, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
		t.Fatalf("pty-req: %v", err)
	}
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("ls -la /"); err != nil {
		t.Fatal(err)
	}
	if err := sess.WindowChange(50, 132); err != nil {
		t.Fatal(err)
	}
	_, _ = stdin.Write([]byte("hello"))
	err = sess.Wait()
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 3 {
		t.Errorf("wait = %v, want exit status 3", err)
	}

	s := <-got
	if s.request != "exec" || s.command != "ls -la /" {
		t.Errorf("request, command = %q, %q", s.request, s.command)
	}
	if s.pty == nil || s.pty.Term != "xterm-256color" {
		t.Fatalf("pty = %+v", s.pty)
	}
	if s.env["LANG"] != "C.UTF-8" || len(s.env) != 1 {
		t.Errorf("env = %v, want only LANG", s.env)
	}
	if s.resize.Columns != 132 || s.resize.Rows != 50 {
		t.Errorf("resize = %+v, want 132x50", s.resize)
	}
	if string(s.input) != "hello" {
		t.Errorf("input = %q", s.input)
	}
	if stdout.Len() != 3<<20 || stderr.String() != "err\n" {
		t.Errorf("stdout %d bytes, stderr %q; want %d bytes and \"err\\n\"", stdout.Len(), stderr.String(), 3<<20)
	}
}

func TestForwardingRefused(t *testing.T) {
	cfg := testConfig(t)
	var mu sync.Mutex
	var forwards []Forward
	cfg.OnForward = func(_ *ConnMeta, f Forward) {
		mu.Lock()
		forwards = append(forwards, f)
		mu.Unlock()
	}
	addr, _ := serveTest(t, cfg)
	client := dialTest(t, addr, "secret")

	_, err := client.Dial("tcp", "10.0.0.1:22")
	var openErr *ssh.OpenChannelError
	if !errors.As(err, &openErr) || openErr.Reason != ssh.Prohibited || openErr.Message != "open failed" {
		t.Errorf("direct-tcpip = %v, want administratively prohibited, \"open failed\"", err)
	}
	if _, err := client.Listen("tcp", "0.0.0.0:8080"); err == nil {
		t.Error("tcpip-forward accepted")
	}
	ok, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
	if err != nil || ok {
		t.Errorf("keepalive = %v, %v, want false, nil", ok, err)
	}
	ok, _, err = client.SendRequest("no-more-sessions@openssh.com", true, nil)
	if err != nil || !ok {
		t.Errorf("no-more-sessions = %v, %v, want true, nil", ok, err)
	}

	mu.Lock()
	defer mu.Unlock()
	want := []Forward{
		{Kind: "direct-tcpip", Host: "10.0.0.1", Port: 22, OriginHost: "127.0.0.1"},
		{Kind: "tcpip-forward", Host: "0.0.0.0", Port: 8080},
	}
	if len(forwards) != 2 || forwards[0].Kind != want[0].Kind || forwards[0].Host != want[0].Host || forwards[0].Port != want[0].Port || forwards[1] != want[1] {
		t.Errorf("forwards = %+v, want %+v", forwards, want)
	}
}

func TestSubsystems(t *testing.T) {
	addr, _ := serveTest(t, testConfig(t))
	client := dialTest(t, addr, "secret")
	for _, tt := range []struct {
		name string
		ok   bool
	}{{"sftp", true}, {"netconf", false}} {
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		err = sess.RequestSubsystem(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("subsystem %s: %v, want accepted %v", tt.name, err, tt.ok)
		}
		_ = sess.Close()
	}
}

func TestMaxAuthTries(t *testing.T) {
	addr, serveErr := serveTest(t, testConfig(t))
	tries := 0
	_, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User: "root",
		Auth: []ssh.AuthMethod{ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
			tries++
			return "wrong", nil
		}), 20)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err == nil || !strings.Contains(err.Error(), "Too many authentication failures") {
		t.Errorf("dial = %v, want the MaxAuthTries disconnect", err)
	}
	if tries != 6 {
		t.Errorf("tries = %d, want 6", tries)
	}
	var disc *DisconnectError
	if err := serveErr(); !errors.As(err, &disc) || disc.Reason != 2 {
		t.Errorf("ServeConn = %v, want a protocol-error disconnect", err)
	}
}

func TestRekey(t *testing.T) {
	addr, _ := serveTest(t, testConfig(t))
	client, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.Password("secret")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		// x/crypto/ssh rekeys after RekeyThreshold bytes.
		Config: ssh.Config{RekeyThreshold: 4096},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for range 8 {
		sess, err := client.NewSession()
		if err != nil {
			t.Fatalf("session after rekey: %v", err)
		}
		if err := sess.Run(strings.Repeat("x", 2000)); err != nil {
			t.Fatalf("exec after rekey: %v", err)
		}
	}
}

func TestHostKeysProve(t *testing.T) {
	cfg := testConfig(t)
	addr, _ := serveTest(t, cfg)
	client := dialTest(t, addr, "secret")
	blob := cfg.HostKeys[0].PublicKey().Marshal()

	ok, resp, err := client.SendRequest("hostkeys-prove-00@openssh.com", true, appendString(nil, blob))
	if err != nil || !ok {
		t.Fatalf("hostkeys-prove = %v, %v, want accepted", ok, err)
	}
	r := reader{b: resp}
	sigBytes := r.string()
	if err := r.end(); err != nil {
		t.Fatalf("reply: %v", err)
	}
	sig := new(ssh.Signature)
	if err := ssh.Unmarshal(sigBytes, sig); err != nil {
		t.Fatal(err)
	}
	data := appendText(nil, "hostkeys-prove-00@openssh.com")
	data = appendString(data, client.SessionID())
	data = appendString(data, blob)
	if err := cfg.HostKeys[0].PublicKey().Verify(data, sig); err != nil {
		t.Errorf("proof does not verify: %v", err)
	}

	ok, _, err = client.SendRequest("hostkeys-prove-00@openssh.com", true, appendString(nil, []byte("other key")))
	if err != nil || ok {
		t.Errorf("prove of an unknown key = %v, %v, want refused", ok, err)
	}
}

func TestLoginGraceTimeCloses(t *testing.T) {
	cfg := testConfig(t)
	cfg.LoginGraceTime = 50 * time.Millisecond
	addr, serveErr := serveTest(t, cfg)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("SSH-2.0-idle\r\n")); err != nil {
		t.Fatal(err)
	}
	// The server's identification and KEXINIT, then nothing: the read
	// ends when the grace timer closes the connection.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("read = %v, want EOF from the server closing", err)
	}
	if err := serveErr(); !errors.Is(err, ErrLoginGraceTime) {
		t.Errorf("ServeConn = %v, want ErrLoginGraceTime", err)
	}
}

func TestChannelIDsReused(t *testing.T) {
	addr, _ := serveTest(t, testConfig(t))
	client := dialTest(t, addr, "secret")
	for range 3 {
		// x/crypto/ssh does not expose the server's id, so this checks
		// that sequential sessions keep working with reused ids.
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.Run("true"); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
	table := newChannelTable()
	a, b := &Channel{}, &Channel{}
	table.add(a)
	table.add(b)
	delete(table.byID, a.local)
	c := &Channel{}
	table.add(c)
	if a.local != 0 || b.local != 1 || c.local != 0 {
		t.Errorf("ids = %d, %d, %d, want 0, 1, 0", a.local, b.local, c.local)
	}
}

func TestSessionPanicEndsConnectionOnly(t *testing.T) {
	cfg := testConfig(t)
	cfg.Session = func(context.Context, *Channel) { panic("handler bug") }
	addr, serveErr := serveTest(t, cfg)
	client := dialTest(t, addr, "secret")
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Run("true"); err == nil {
		t.Error("run succeeded, want the connection to end")
	}
	if err := serveErr(); err == nil {
		t.Error("ServeConn returned nil after a handler panic")
	}
}
