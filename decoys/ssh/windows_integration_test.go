//go:build integration

package ssh

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// nmap names the Windows persona as the real Win32-OpenSSH, and the
// persona lets no login in whatever the policy.
func TestWindowsPersonaNmap(t *testing.T) {
	requireTools(t, "nmap")
	ts := startService(t, func(s *Service) {
		p, err := lookupPersona("openssh-9.5-windows")
		if err != nil {
			t.Fatal(err)
		}
		s.persona = p
	})
	host, port, _ := net.SplitHostPort(ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nmap", "-Pn", "-n", "-sV", "-p", port, host).CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "OpenSSH for_Windows_9.5 (protocol 2.0)") || strings.Contains(string(out), "tcpwrapped") {
		t.Errorf("nmap reported:\n%s", out)
	}
}
