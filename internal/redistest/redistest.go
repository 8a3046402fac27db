// Package redistest starts throwaway Redis servers for tests, from the
// redis-server binary of Debian's redis-server package. Each server lives
// in its own temporary directory, listens only on 127.0.0.1 at a free
// port, keeps nothing on disk and is stopped in t.Cleanup.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds the wait for a new server to reply to PING. Redis
// starts in milliseconds, and the margin covers a loaded CI runner.
const readyTimeout = 30 * time.Second

// startAttempts is how often Start tries a new port, because another
// process can take the free port between the probe and the server's bind.
const startAttempts = 3

// Server is a running Redis server owned by a test.
type Server struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a server of the test's own and stops it in t.Cleanup. It
// fails the test when redis-server is not installed: integration/setup.sh
// installs it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redistest: redis-server not installed: run integration/setup.sh as root")
	}

	var srv *Server
	for attempt := 0; attempt < startAttempts; attempt++ {
		srv, err = start(bin, t.TempDir())
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// URL returns a redis:// URL for the server's database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Stop ends the server with SIGTERM and waits for it. Calling it again does
// nothing.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(readyTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func start(bin, dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}

	// save "" and appendonly no keep the server off the disk; the test owns
	// the data only while it runs.
	conf := strings.Join([]string{
		"bind 127.0.0.1",
		fmt.Sprintf("port %d", port),
		"protected-mode yes",
		"save \"\"",
		"appendonly no",
		"dir " + dir,
		"daemonize no",
		"logfile " + filepath.Join(dir, "redis.log"),
		"",
	}, "\n")
	confPath := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("write redis config: %w", err)
	}

	// The server outlives this call, so Stop ends it rather than a context.
	cmd := exec.CommandContext(context.Background(), bin, confPath, "--save", "", "--appendonly", "no")
	// A test binary that panics on a timeout runs no cleanup; the kernel
	// then ends the server with it instead of leaving it orphaned.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	s := &Server{dir: dir, port: port, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()

	if err := s.waitReady(); err != nil {
		s.Stop()
		logData, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
		return nil, fmt.Errorf("%w; redis log:\n%s", err, logData)
	}
	return s, nil
}

// waitReady sends PING until the server replies PONG or exits.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("redis-server exited during startup")
		default:
		}
		if ping(s.Addr()) == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s not ready within %s", s.Addr(), readyTimeout)
}

func ping(addr string) error {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

func freePort() (int, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
