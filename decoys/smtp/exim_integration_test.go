//go:build integration

package smtp

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
)

// TestEximHostChecking compares the Exim persona with a real Exim run in
// host-checking mode (exim4 -bh), which plays an SMTP session from a
// given address through Debian's configuration without delivering. Exim
// conflicts with postfix, so CI runs this only on a host where
// exim4-daemon-light replaced postfix; elsewhere it skips. Host names and
// dates are masked.
//
// NOTE: never run here (postfix installed); the Exim persona's texts are
// from Exim's source and published transcripts.
func TestEximHostChecking(t *testing.T) {
	bin, err := exec.LookPath("exim4")
	if err != nil {
		t.Skip("exim4 is not installed (it conflicts with postfix)")
	}
	if v, _ := exec.Command(bin, "-bV").Output(); !strings.Contains(string(v), "Exim version 4.96") {
		t.Skipf("exim4 -bV: %.60s, the persona is 4.96", v)
	}
	ts := startService(t, decoys.Config{Persona: PersonaExim}, false)
	script := []string{"EHLO client.example", "NOOP", "RSET", "FOO", "MAIL FROM:<a@b.example>", "RCPT TO:<x@elsewhere.example>", "VRFY root", "QUIT"}

	cmd := exec.Command(bin, "-bh", "127.0.0.3")
	cmd.Stdin = strings.NewReader(strings.Join(script, "\r\n") + "\r\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("exim4 -bh: %v", err)
	}
	var want []string
	for _, l := range strings.SplitAfter(string(out), "\n") {
		if len(l) >= 4 && l[0] >= '2' && l[0] <= '5' {
			want = append(want, l)
		}
	}

	c := dialFrom(t, "127.0.0.3", ts.addr)
	got := strings.SplitAfter(c.readReply(5*time.Second), "\n")
	got = got[:len(got)-1]
	for _, s := range script {
		r := c.exchange(s + "\r\n")
		parts := strings.SplitAfter(r, "\n")
		got = append(got, parts[:len(parts)-1]...)
	}

	mask := regexp.MustCompile(`^(\d{3}[- ])\S+( ESMTP Exim 4\.96) .*|^(\d{3}[- ])\S+( Hello \S+ \[)[^\]]*\]|^(221 )\S+( closing connection)`)
	norm := func(l string) string {
		l = strings.ReplaceAll(strings.TrimRight(l, "\r\n"), "\r", "")
		return mask.ReplaceAllString(l, "$1$3$5HOST$2$4$6")
	}
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = norm(want[i])
		}
		if i < len(got) {
			g = norm(got[i])
		}
		if w != g {
			t.Errorf("line %d: decoy %q, exim %q", i, g, w)
		}
	}
}
