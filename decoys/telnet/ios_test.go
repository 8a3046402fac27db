package telnet

import (
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ios"
	"github.com/decnet/decnet/decoys/login"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// TestCiscoIOSLoginPolicy logs into the Cisco persona under "after:2":
// the first password fails as IOS's does, the second opens the user
// EXEC, and enable accepts the granted password only.
func TestCiscoIOSLoginPolicy(t *testing.T) {
	ts := startService(t, PersonaCiscoIOS, map[string]string{OptionRecordingDir: t.TempDir(), login.KeyLogin: "after:2"}, nil)
	host := ts.svc.hostname
	if host != ios.DefaultHostname(testSeed) {
		t.Fatalf("hostname %q, want the IOS default %q", host, ios.DefaultHostname(testSeed))
	}
	c := newPolicyClient(t, dialFrom(t, "127.0.0.3", ts.addr), policyMinimal)
	c.readUntilText("Username: ")
	c.send("admin\r\n")
	c.readUntilText("Password: ")
	c.send("123456\r\n")
	if got := string(c.readUntilText("Username: ")); !strings.HasSuffix(got, "\r\n% Login invalid\r\n\r\nUsername: ") {
		t.Errorf("first try: %q", got)
	}
	c.send("admin\r\n")
	c.readUntilText("Password: ")
	c.send("cisco\r\n")
	if got := string(c.readUntilText(host + ">")); got != "\r\n\r\n"+host+">" {
		t.Errorf("after login: %q", got)
	}

	c.send("sh priv\r\n")
	if got := string(c.readUntilText(host + ">")); got != "sh priv\r\nCurrent privilege level is 1\r\n"+host+">" {
		t.Errorf("show privilege: %q", got)
	}
	c.send("en\r\n")
	c.readUntilText("Password: ")
	c.send("wrong\r\n")
	c.readUntilText("Password: ")
	c.send("cisco\r\n")
	if got := string(c.readUntilText(host + "#")); got != "\r\n"+host+"#" {
		t.Errorf("after enable: %q", got)
	}
	c.send("exit\r\n")
	c.readFor(5 * time.Second)
	if !c.closed {
		t.Error("connection open after exit")
	}

	auths := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 4)
	want := []struct {
		principal, secret string
		outcome           eventv1.AuthOutcome
	}{
		{"admin", "123456", eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED},
		{"admin", "cisco", eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED},
		{"enable", "wrong", eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED},
		{"enable", "cisco", eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED},
	}
	for i, w := range want {
		a := auths[i].GetAuthAttempt()
		if a.GetPrincipal() != w.principal || string(a.GetSecret()) != w.secret || a.GetOutcome() != w.outcome || a.GetMechanism() != decoys.MechanismTelnet {
			t.Errorf("attempt %d: %q %q %v %s, want %+v", i, a.GetPrincipal(), a.GetSecret(), a.GetOutcome(), a.GetMechanism(), w)
		}
	}
	cmds := ts.emitter.waitFor(t, decoys.KindCommand, 3)
	var lines []string
	for _, e := range cmds {
		lines = append(lines, e.GetCommand().GetLine())
	}
	if strings.Join(lines, "|") != "sh priv|en|exit" {
		t.Errorf("commands %q", lines)
	}
	cast := string(ts.emitter.waitFor(t, decoys.KindSessionRecorded, 1)[0].GetSessionRecorded().GetCast())
	for _, w := range []string{"Current privilege level is 1", `"i", "sh priv\r"`, host + "#"} {
		if !strings.Contains(cast, w) {
			t.Errorf("recording lacks %q: %s", w, cast)
		}
	}
	if r := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)[0].GetConnectionClosed().GetReason(); r != reasonShellExit {
		t.Errorf("close reason %q", r)
	}
}

// TestCiscoIOSListPolicy keeps the policy's word in "list" mode: a pair
// it does not list fails, and enable takes the pair enable:<password>.
func TestCiscoIOSListPolicy(t *testing.T) {
	ts := startService(t, PersonaCiscoIOS, map[string]string{login.KeyLogin: "list", login.KeyCredentials: "admin:cisco,enable:class"}, nil)
	host := ts.svc.hostname
	c := newPolicyClient(t, dialFrom(t, "127.0.0.4", ts.addr), policyMinimal)
	c.readUntilText("Username: ")
	c.send("admin\r\nadmin\r\n")
	if got := string(c.readUntilText("Username: ")); !strings.Contains(got, "% Login invalid") {
		t.Errorf("unlisted pair: %q", got)
	}
	c.send("admin\r\n")
	c.readUntilText("Password: ")
	c.send("cisco\r\n")
	c.readUntilText(host + ">")
	c.send("enable\r\n")
	for _, pw := range []string{"cisco", "admin", "secret"} {
		c.readUntilText("Password: ")
		c.send(pw + "\r\n")
	}
	if got := string(c.readUntilText(host + ">")); got != "\r\n% Bad secrets\r\n\r\n"+host+">" {
		t.Errorf("after three wrong secrets: %q", got)
	}
	c.send("enable\r\n")
	c.readUntilText("Password: ")
	c.send("class\r\n")
	c.readUntilText(host + "#")
	c.send("copy http://203.0.113.9/x.bin flash:\r\n\r\n")
	c.send("terminal length 0\r\n")
	c.send("show running-config | include hostname\r\n")
	c.send("logout\r\n")
	c.readFor(5 * time.Second)
	if !c.closed {
		t.Error("connection open after logout")
	}
	dl := ts.emitter.waitFor(t, decoys.KindDownload, 1)[0].GetDownloadRequested()
	if dl.GetUrl() != "http://203.0.113.9/x.bin" || dl.GetTool() != "copy" || dl.GetOutcome() != "not_fetched" {
		t.Errorf("download %v", dl)
	}
	auths := ts.emitter.waitFor(t, decoys.KindAuthAttempt, 6)
	if a := auths[5].GetAuthAttempt(); a.GetPrincipal() != "enable" || a.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED {
		t.Errorf("enable attempt %q %v", a.GetPrincipal(), a.GetOutcome())
	}
}

// TestCiscoIOSIdleSessionEnds leaves the EXEC silent: the decoy's read
// timeout ends the session, as exec-timeout ends an idle vty.
func TestCiscoIOSIdleSessionEnds(t *testing.T) {
	ts := startService(t, PersonaCiscoIOS, map[string]string{login.KeyLogin: "after:1"}, func(s *Service) {
		s.limits.ReadTimeout = 200 * time.Millisecond
	})
	c := newPolicyClient(t, dialFrom(t, "127.0.0.5", ts.addr), policyMinimal)
	c.readUntilText("Username: ")
	c.send("admin\r\nadmin\r\n")
	c.readUntilText(ts.svc.hostname + ">")
	c.readFor(10 * time.Second)
	if !c.closed {
		t.Error("idle session still open")
	}
	if r := ts.emitter.waitFor(t, decoys.KindConnectionClosed, 1)[0].GetConnectionClosed().GetReason(); r != reasonReadTimeout {
		t.Errorf("close reason %q, want %q", r, reasonReadTimeout)
	}
}
