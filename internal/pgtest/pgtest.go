// Package pgtest starts throwaway PostgreSQL servers for tests, from the
// binaries of Debian's postgresql package. Each server lives in its own
// temporary directory, listens only on 127.0.0.1 at a free port, keeps its
// Unix socket in that directory and trusts every local connection.
//
// A test binary shares one server: its TestMain calls Main, and each test
// calls NewDatabase for a database of its own. Start gives a test a server
// of its own, stopped in t.Cleanup.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// installRoot contains one directory per installed major version, each
// with a bin directory (Debian's layout, such as /usr/lib/postgresql/15/bin).
const installRoot = "/usr/lib/postgresql"

// superuser is the role initdb creates and every DSN connects as.
const superuser = "postgres"

// systemUser owns the server processes when the test runs as root, because
// postgres refuses to run as root. Debian's package creates this user.
const systemUser = "postgres"

// readyTimeout bounds the wait for a new server to accept connections.
// Startup after initdb takes well under a second on an idle machine; the
// margin covers a loaded CI runner.
const readyTimeout = 60 * time.Second

// startAttempts is how often Start tries a new port, because another
// process can take the free port between the probe and the server's bind.
const startAttempts = 3

// Options configure a server.
type Options struct {
	// Durable keeps fsync, synchronous_commit and full-page writes on, as a
	// production server has them. Benchmarks set it; other tests leave it
	// off, which makes commits and CREATE DATABASE much faster.
	Durable bool
}

// Server is a running PostgreSQL server owned by a test or a test binary.
type Server struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
	// waitErr is the result of cmd.Wait, set before done is closed.
	waitErr error
	dbSeq   atomic.Int64
	stop    sync.Once
}

// shared is the test binary's server: Main enables it and stops it, and
// NewDatabase starts it on first use. It is package state because a test
// binary has no other place that outlives every test.
var shared struct {
	mu      sync.Mutex
	enabled bool
	srv     *Server
	err     error
}

// Main runs the tests of m and then stops the shared server, if one was
// started. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.enabled = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop shared server: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// NewDatabase creates an empty database on the shared server, starting the
// server on first use, and returns its DSN. The database is dropped in
// t.Cleanup. The test binary's TestMain must call Main.
func NewDatabase(t testing.TB) string {
	t.Helper()

	shared.mu.Lock()
	if !shared.enabled {
		shared.mu.Unlock()
		t.Fatal("pgtest: the shared server needs TestMain to call os.Exit(pgtest.Main(m))")
	}
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = start(Options{})
	}
	srv, err := shared.srv, shared.err
	shared.mu.Unlock()

	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return srv.NewDatabase(t)
}

// Start starts a server of the test's own and stops it in t.Cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	srv, err := start(opts)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("pgtest: stop server: %v", err)
		}
	})
	return srv
}

// NewDatabase creates an empty database, returns its DSN and drops the
// database in t.Cleanup.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()

	name := "test_" + strconv.FormatInt(s.dbSeq.Add(1), 10)
	if err := s.adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE ends sessions a test left open, such as a pool it never
		// closed after a failure.
		if err := s.adminExec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.dsn(name)
}

// Port returns the TCP port the server listens on at 127.0.0.1.
func (s *Server) Port() int { return s.port }

func (s *Server) dsn(database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, database)
}

func (s *Server) adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }() // the Exec error is the one that matters
	_, err = conn.Exec(ctx, sql)
	return err
}

// Stop shuts the server down (PostgreSQL's fast shutdown: open sessions
// are ended) and deletes its directory. Calling it again does nothing.
func (s *Server) Stop() error {
	var err error
	s.stop.Do(func() {
		if sigErr := s.cmd.Process.Signal(syscall.SIGINT); sigErr != nil && !errors.Is(sigErr, os.ErrProcessDone) {
			err = fmt.Errorf("signal postgres: %w", sigErr)
		}
		<-s.done
		var exitErr *exec.ExitError
		if s.waitErr != nil && !errors.As(s.waitErr, &exitErr) {
			err = errors.Join(err, fmt.Errorf("wait for postgres: %w", s.waitErr))
		}
		err = errors.Join(err, os.RemoveAll(s.dir))
	})
	return err
}

// start runs initdb in a new directory and starts postgres on it.
func start(opts Options) (*Server, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}

	// os.MkdirTemp rather than t.TempDir: the server's user must reach the
	// directory, and t.TempDir nests it under a directory only root can
	// enter.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("create server directory: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("chown server directory %s: %w", dir, err)
		}
	}

	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(context.Background(), filepath.Join(bin, "initdb"), "-D", data, "-U", superuser,
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb %s: %w: %s", data, err, out)
	}

	var lastErr error
	for range startAttempts {
		srv, err := launch(bin, dir, cred, opts)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	_ = os.RemoveAll(dir)
	return nil, lastErr
}

// launch starts postgres on the initialised directory at a free port and
// waits until it accepts connections.
func launch(bin, dir string, cred *syscall.Credential, opts Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}

	args := []string{
		"-D", filepath.Join(dir, "data"),
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + dir,
		"-c", "max_connections=200",
	}
	if !opts.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}

	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644) //nolint:gosec // G302: a throwaway test server's log, left readable for debugging
	if err != nil {
		return nil, fmt.Errorf("create server log: %w", err)
	}
	// The child has its own copy of the descriptor, so closing ours loses no output.
	defer func() { _ = logFile.Close() }()

	// The server outlives this call, so Stop ends it rather than a context.
	cmd := exec.CommandContext(context.Background(), filepath.Join(bin, "postgres"), args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}

	srv := &Server{dir: dir, port: port, cmd: cmd, done: make(chan struct{})}
	go func() {
		srv.waitErr = cmd.Wait()
		close(srv.done)
	}()

	if err := srv.waitReady(); err != nil {
		_ = cmd.Process.Kill()
		<-srv.done
		logText, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("start postgres on port %d: %w; server log:\n%s", port, err, logText)
	}
	return srv, nil
}

// waitReady polls until the server accepts a connection, exits or the
// timeout passes. PostgreSQL has no readiness notification that works
// without systemd, so polling is the usual way.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited: %v", s.waitErr) //nolint:errorlint // waitErr is nil after exit status 0, which %w would print as %!w(<nil>)
		case <-ctx.Done():
			return fmt.Errorf("server not ready after %s: %w", readyTimeout, err)
		case <-tick.C:
		}
	}
}

// findBinDir returns the bin directory of the newest installed major
// version.
func findBinDir() (string, error) {
	entries, err := os.ReadDir(installRoot)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("find postgresql binaries: %w", err)
	}

	var versions []int
	for _, e := range entries {
		v, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(installRoot, e.Name(), "bin", "postgres")); err == nil {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return "", fmt.Errorf("postgresql server binaries not found under %s/*/bin: run integration/setup.sh as root to install the postgresql package", installRoot)
	}
	return filepath.Join(installRoot, strconv.Itoa(slices.Max(versions)), "bin"), nil
}

// serverCredential returns the identity to run the server as: the postgres
// system user when the test runs as root, nil (the current user) otherwise.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(systemUser)
	if err != nil {
		return nil, fmt.Errorf("look up user %q to run postgres as, because postgres does not run as root: %w (run integration/setup.sh as root)", systemUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid %q of user %s: %w", u.Uid, systemUser, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid %q of user %s: %w", u.Gid, systemUser, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
