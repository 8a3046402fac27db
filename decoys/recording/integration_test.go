//go:build integration

package recording

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAsciinemaCat prints a recording with the real asciinema 2.x. It
// opens /dev/tty, so it runs under script(1), which gives it a pty.
func TestAsciinemaCat(t *testing.T) {
	asciinema, err := exec.LookPath("asciinema")
	if err != nil {
		t.Skip("asciinema is not installed")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (bsdutils) is not installed")
	}

	r := Start(Options{Dir: t.TempDir()}, 80, 24, "xterm", newClock().now)
	r.Output([]byte("web01 login: "))
	r.Input([]byte("root\r"))
	r.Output([]byte("root\r\nPassword: "))
	r.Resize(132, 43)
	r.Output([]byte("\r\nuid=0(root) caf\xc3"))
	r.Output([]byte("\xa9 \xff<&>\r\n"))
	cast := r.Close().GetCast()

	file := filepath.Join(t.TempDir(), "session.cast")
	if err := os.WriteFile(file, cast, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(script, "-q", "-e", "-c", asciinema+" cat "+file, "/dev/null").CombinedOutput()
	if err != nil {
		t.Fatalf("asciinema cat: %v: %s", err, out)
	}
	// The pty turns each LF into CR LF on its way out.
	got := strings.ReplaceAll(string(out), "\r\r\n", "\r\n")
	want := "web01 login: root\r\nPassword: \r\nuid=0(root) café \uFFFD<&>\r\n"
	t.Logf("printed %q", got)
	if !strings.Contains(got, want) {
		t.Errorf("asciinema cat printed %q, want it to contain %q", got, want)
	}
}
