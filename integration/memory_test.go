//go:build integration && bench

package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/decnet/decnet/internal/endpoints"
)

// sshAttempts is how many password attempts TestDevMemory makes.
const sshAttempts = 1000

// TestDevMemory measures the resident memory of `decnet dev` idle and after
// sshAttempts SSH password attempts, and of a bare OpenSSH sshd started in
// the same run as a reference. Run it with make bench.
func TestDevMemory(t *testing.T) {
	dataDir := t.TempDir()
	dev := startProcess(t, "decnet-dev", binary(t, "decnet"), "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0", "--log-level", "warn")
	ep := waitEndpoints(t, dev, dataDir, func(e endpoints.Endpoints) bool {
		_, ok := e.FindDecoy("ssh")
		return ok && e.API != ""
	})
	sshDecoy, _ := ep.FindDecoy("ssh")

	time.Sleep(5 * time.Second)
	idle := readStatusKiB(t, dev.cmd.Process.Pid, "VmRSS")

	// Log in before the attack, so that the password hash's scratch
	// memory shows in its own figure rather than in the attack's.
	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api := newAPIClient(ep.API, nil)
	api.login(t, "admin", strings.TrimSpace(string(password)))
	time.Sleep(2 * time.Second)
	loggedIn := readStatusKiB(t, dev.cmd.Process.Pid, "VmRSS")

	start := time.Now()
	made := attackSSH(t, sshDecoy.Address, sshAttempts)
	elapsed := time.Since(start)

	eventually(t, 120*time.Second, func() error {
		creds, err := api.credentials(context.Background())
		if err != nil {
			return err
		}
		if int64(len(creds)) < made {
			return fmt.Errorf("%d of %d credentials stored", len(creds), made)
		}
		return nil
	})

	after := readStatusKiB(t, dev.cmd.Process.Pid, "VmRSS")
	peak := readStatusKiB(t, dev.cmd.Process.Pid, "VmHWM")
	sshd := sshdReferenceKiB(t)

	t.Logf("decnet dev RSS idle: %.1f MiB", float64(idle)/1024)
	t.Logf("decnet dev RSS after one API login: %.1f MiB", float64(loggedIn)/1024)
	t.Logf("decnet dev RSS after %d SSH password attempts (%s): %.1f MiB, peak %.1f MiB", made, elapsed.Round(time.Second), float64(after)/1024, float64(peak)/1024)
	if sshd > 0 {
		t.Logf("reference: idle OpenSSH sshd listener RSS %.1f MiB; decnet dev idle = %.1fx, after attempts = %.1fx", float64(sshd)/1024, float64(idle)/float64(sshd), float64(after)/float64(sshd))
	}
}

// attackSSH makes n password attempts with x/crypto/ssh from 20 loopback
// sources, six attempts per connection as OpenSSH allows.
func attackSSH(t *testing.T, addr string, n int) int64 {
	t.Helper()
	const sources = 20
	const perSource = 8 // below the decoy's per-source connection limit
	var attempts atomic.Int64
	var wg sync.WaitGroup
	for s := 0; s < sources; s++ {
		for c := 0; c < perSource; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				source := net.IPv4(127, 0, 1, byte(10+s))
				for attempts.Load() < int64(n) {
					sshConnect(addr, source, &attempts, int64(n))
				}
			}()
		}
	}
	wg.Wait()
	return attempts.Load()
}

func sshConnect(addr string, source net.IP, attempts *atomic.Int64, limit int64) {
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: source}, Timeout: 10 * time.Second}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		time.Sleep(100 * time.Millisecond)
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))

	password := func() (string, error) {
		i := attempts.Add(1)
		if i > limit {
			attempts.Add(-1)
			return "", fmt.Errorf("attempt budget spent")
		}
		return "guess-" + strconv.FormatInt(i, 10), nil
	}
	cfg := &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.RetryableAuthMethod(ssh.PasswordCallback(password), 6)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // the decoy's key is what is being measured against, not trusted
	}
	c, _, _, err := ssh.NewClientConn(conn, addr, cfg)
	if err == nil {
		_ = c.Close()
	}
}

func readStatusKiB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			fields := strings.Fields(line)
			v, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s not in /proc/%d/status", field, pid)
	return 0
}

// sshdReferenceKiB starts the real sshd on a loopback port with a
// throwaway host key and returns its listener's RSS, or 0 when sshd is not
// installed.
func sshdReferenceKiB(t *testing.T) int64 {
	t.Helper()
	sshd, err := exec.LookPath("/usr/sbin/sshd")
	if err != nil {
		t.Log("sshd not installed: no reference figure")
		return 0
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	port := freePort(t)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-f", "/dev/null", "-h", key,
		"-o", "ListenAddress=127.0.0.1:"+strconv.Itoa(port), "-o", "PidFile=none")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	time.Sleep(time.Second)
	return readStatusKiB(t, cmd.Process.Pid, "VmRSS")
}
