//go:build integration && bench

package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/decoys"
	ftpdecoy "github.com/decnet/decnet/decoys/ftp"
	httpdecoy "github.com/decnet/decnet/decoys/http"
	imapdecoy "github.com/decnet/decnet/decoys/imap"
	pop3decoy "github.com/decnet/decnet/decoys/pop3"
	smtpdecoy "github.com/decnet/decnet/decoys/smtp"
	sshdecoy "github.com/decnet/decnet/decoys/ssh"
	telnetdecoy "github.com/decnet/decnet/decoys/telnet"
	tftpdecoy "github.com/decnet/decnet/decoys/tftp"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// nopEmitter counts events and keeps none.
type nopEmitter struct{ n atomic.Int64 }

func (e *nopEmitter) Emit(*eventv1.Event) { e.n.Add(1) }

var benchSeed = []byte("decnet benchmark seed, 32 bytes!")

// serveDecoy runs svc on a loopback port until the test ends.
func serveDecoy(t *testing.T, svc decoys.Service) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = svc.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// startBenchSSHD runs Debian's sshd with PAM on a loopback port, the way a
// stock install answers passwords.
func startBenchSSHD(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sshd needs root")
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		t.Skip("sshd is not installed")
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	conf := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\n%s\nPidFile %s/sshd.pid\nUsePAM yes\nKbdInteractiveAuthentication no\nMaxStartups 1000:30:1000\nPerSourceMaxStartups none\n",
		port, strings.Join(keys, "\n"), dir)
	confPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", confPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sshd did not listen on %s", addr)
	return ""
}

// source returns loopback source i, from 127.0.1.0 on, so per-source
// limits never bind.
func source(i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))}
}

// handshakes runs SSH handshakes (version, key exchange, a "none"
// authentication request) from workers for d and returns how many
// finished per second.
func handshakes(addr string, workers int, d time.Duration) float64 {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				dialer := net.Dialer{LocalAddr: source(w*1000 + i%1000), Timeout: 10 * time.Second}
				conn, err := dialer.Dial("tcp", addr)
				if err != nil {
					continue
				}
				_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
				cfg := &ssh.ClientConfig{User: "root", HostKeyCallback: ssh.InsecureIgnoreHostKey()} //nolint:gosec // G106: the server under test is ours or a throwaway sshd
				// No auth method: the client fails after the server's first
				// answer to "none", which ends a complete handshake.
				if _, _, _, err := ssh.NewClientConn(conn, addr, cfg); err != nil && strings.Contains(err.Error(), "unable to authenticate") {
					n.Add(1)
				}
				_ = conn.Close()
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// passwordAttempts keeps conns connections sending wrong passwords for d
// and returns the attempts answered per second.
func passwordAttempts(addr string, conns int, d time.Duration) float64 {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				dialer := net.Dialer{LocalAddr: source(c*100 + i%100), Timeout: 10 * time.Second}
				conn, err := dialer.Dial("tcp", addr)
				if err != nil {
					continue
				}
				_ = conn.SetDeadline(deadline.Add(10 * time.Second))
				asked := 0
				password := ssh.PasswordCallback(func() (string, error) {
					if asked > 0 {
						n.Add(1) // the previous password was answered
					}
					asked++
					if time.Now().After(deadline) {
						return "", fmt.Errorf("time is up")
					}
					return "guess-" + strconv.Itoa(i*10+asked), nil
				})
				cfg := &ssh.ClientConfig{User: "root", HostKeyCallback: ssh.InsecureIgnoreHostKey(), //nolint:gosec // G106: as above
					Auth: []ssh.AuthMethod{ssh.RetryableAuthMethod(password, 6)}}
				if _, _, _, err := ssh.NewClientConn(conn, addr, cfg); err != nil && asked > 0 && strings.Contains(err.Error(), "unable to authenticate") {
					n.Add(1) // the last password was answered too
				}
				_ = conn.Close()
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// TestSSHThroughput compares what the SSH decoy absorbs with Debian's
// sshd on the same machine in the same run.
func TestSSHThroughput(t *testing.T) {
	sshd := startBenchSSHD(t)
	svc, err := sshdecoy.New(decoys.Config{Decky: "bench", Seed: benchSeed, Emitter: &nopEmitter{}, Logger: zerolog.Nop(),
		Limits: decoys.Limits{MaxConns: 4096, MaxConnsPerSource: 64}})
	if err != nil {
		t.Fatal(err)
	}
	decoy := serveDecoy(t, svc)
	d := *flagDuration
	for _, target := range []struct{ name, addr string }{{"decoy", decoy}, {"sshd", sshd}} {
		hs := handshakes(target.addr, 8, d)
		t.Logf("%s handshakes: %.1f/s (8 workers, %v)", target.name, hs, d)
	}
	for _, target := range []struct{ name, addr string }{{"decoy", decoy}, {"sshd", sshd}} {
		pa := passwordAttempts(target.addr, 64, d)
		t.Logf("%s password attempts: %.1f/s (64 connections, %v)", target.name, pa, d)
	}
}

// heapInUse returns the heap and stack bytes in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse) //nolint:gosec // G115: memory sizes fit
}

// TestIdleConnectionMemory measures the memory each decoy holds per idle
// connection: connections that opened, read the greeting (if any) and
// went quiet, as scanners leave them.
func TestIdleConnectionMemory(t *testing.T) {
	const n = 200
	newSvc := map[string]func(decoys.Config) (decoys.Service, error){
		"ssh":    func(c decoys.Config) (decoys.Service, error) { return sshdecoy.New(c) },
		"http":   func(c decoys.Config) (decoys.Service, error) { return httpdecoy.New(c) },
		"smtp":   func(c decoys.Config) (decoys.Service, error) { return smtpdecoy.New(c) },
		"telnet": func(c decoys.Config) (decoys.Service, error) { return telnetdecoy.New(c) },
		"ftp":    func(c decoys.Config) (decoys.Service, error) { return ftpdecoy.New(c) },
		"pop3":   func(c decoys.Config) (decoys.Service, error) { return pop3decoy.New(c) },
		"imap":   func(c decoys.Config) (decoys.Service, error) { return imapdecoy.New(c) },
	}
	// The client side of the connections stays in this process; a bare
	// listener that only accepts measures that part, which is subtracted.
	measure := func(addr string, greets bool) int64 {
		before := heapInUse()
		var conns []net.Conn
		for i := range n {
			dialer := net.Dialer{LocalAddr: source(i)}
			c, err := dialer.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("dial %s: %v", addr, err)
			}
			if greets {
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = c.Read(make([]byte, 4096))
			}
			conns = append(conns, c)
		}
		time.Sleep(500 * time.Millisecond)
		after := heapInUse()
		for _, c := range conns {
			_ = c.Close()
		}
		return (after - before) / n
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	baseline := measure(ln.Addr().String(), false)
	_ = ln.Close()
	mu.Lock()
	for _, c := range held {
		_ = c.Close()
	}
	mu.Unlock()
	t.Logf("baseline (client side and a bare accept): %d bytes per connection", baseline)

	for _, name := range []string{"ssh", "http", "smtp", "telnet", "ftp", "pop3", "imap"} {
		svc, err := newSvc[name](decoys.Config{Decky: "bench", Seed: benchSeed, Emitter: &nopEmitter{}, Logger: zerolog.Nop(),
			Limits: decoys.Limits{MaxConns: 4096, MaxConnsPerSource: 64}})
		if err != nil {
			t.Fatal(err)
		}
		addr := serveDecoy(t, svc)
		// HTTP says nothing until asked; the others greet.
		per := measure(addr, name != "http")
		t.Logf("%s: %d bytes per idle connection (%d above the baseline)", name, per, per-baseline)
	}
	idleTransferMemory(t, n)
}

// idleTransferMemory measures TFTP, which has no connections: its idle
// state is a read whose first block was received and never acknowledged,
// the transfer waiting between retransmissions. The baseline is the
// client sockets alone.
func idleTransferMemory(t *testing.T, n int) {
	measure := func(addr *net.UDPAddr) int64 {
		before := heapInUse()
		var conns []*net.UDPConn
		for i := range n {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: source(i).IP})
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			if addr == nil {
				continue
			}
			if _, err := c.WriteToUDP([]byte("\x00\x01pxelinux.0\x00octet\x00"), addr); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := c.ReadFromUDP(make([]byte, 600)); err != nil {
				t.Fatalf("first block: %v", err)
			}
		}
		time.Sleep(500 * time.Millisecond)
		after := heapInUse()
		for _, c := range conns {
			_ = c.Close()
		}
		return (after - before) / int64(n)
	}
	baseline := measure(nil)
	t.Logf("baseline (client UDP sockets): %d bytes per transfer", baseline)
	for _, persona := range tftpdecoy.Personas() {
		svc, err := tftpdecoy.New(decoys.Config{Decky: "bench", Seed: benchSeed, Persona: persona, Emitter: &nopEmitter{}, Logger: zerolog.Nop(),
			Limits: decoys.Limits{MaxConns: 4096, MaxConnsPerSource: 64}})
		if err != nil {
			t.Fatal(err)
		}
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = svc.ServePacket(ctx, pc); close(done) }()
		per := measure(pc.LocalAddr().(*net.UDPAddr))
		cancel()
		<-done
		t.Logf("tftp %s: %d bytes per idle transfer (%d above the baseline)", persona, per, per-baseline)
	}
}
