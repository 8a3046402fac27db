//go:build integration

package integration

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decnet/decnet/agent/config"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// wantCredential is one credential the attackers of a test present.
type wantCredential struct {
	source     string
	service    string
	principal  string
	secretKind string
	mechanism  string
	secret     []byte
}

func (w wantCredential) matches(c *apiv1.Credential) bool {
	return c.GetSourceAddress() == w.source &&
		c.GetService() == w.service &&
		c.GetPrincipal() == w.principal &&
		c.GetSecretKind() == w.secretKind &&
		c.GetMechanism() == w.mechanism &&
		hex.EncodeToString(c.GetSecretSha256()) == sha256Hex(w.secret)
}

// TestDevEndToEnd attacks a running `decnet dev` with the real OpenSSH
// client and curl from two loopback sources and finds every attempt
// through the Connect API.
func TestDevEndToEnd(t *testing.T) {
	sshBin := requireTool(t, "ssh")
	sshpass := requireTool(t, "sshpass")
	sshKeygen := requireTool(t, "ssh-keygen")
	curl := requireTool(t, "curl")

	dataDir := t.TempDir()
	dev := startProcess(t, "decnet-dev", binary(t, "decnet"), "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0")
	ep := waitEndpoints(t, dev, dataDir, func(e endpoints.Endpoints) bool {
		_, ssh := e.FindDecoy("ssh")
		_, web := e.FindDecoy("http")
		return e.API != "" && ssh && web
	})
	sshDecoy, _ := ep.FindDecoy("ssh")
	httpDecoy, _ := ep.FindDecoy("http")
	sshHost, sshPort := splitHostPort(t, sshDecoy.Address)

	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatalf("read admin password: %v", err)
	}
	if info, err := os.Stat(filepath.Join(dataDir, "admin-password")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("admin-password mode = %v (%v), want 0600", info.Mode().Perm(), err)
	}

	// SSH attacker on 127.0.0.2: a wrong password, then a public key.
	sshOpts := []string{
		"-p", sshPort,
		"-o", "BindAddress=127.0.0.2",
		"-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null",
		"-o", "ConnectTimeout=10",
		"-o", "LogLevel=ERROR",
	}
	cmd := exec.Command(sshpass, append([]string{"-p", "Winter2026!", sshBin},
		append(sshOpts,
			"-o", "PreferredAuthentications=password",
			"-o", "PubkeyAuthentication=no",
			"-o", "NumberOfPasswordPrompts=1",
			"root@"+sshHost, "true")...)...)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("ssh with a wrong password succeeded: %s", out)
	} else if !strings.Contains(string(out), "Permission denied") {
		t.Fatalf("ssh password attempt: want Permission denied, got %v: %s", err, out)
	}

	keyPath := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command(sshKeygen, "-q", "-t", "ed25519", "-N", "", "-f", keyPath).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	blob, fingerprint := publicKeyBlob(t, keyPath+".pub")
	cmd = exec.Command(sshBin, append(sshOpts,
		"-i", keyPath,
		"-o", "IdentitiesOnly=yes",
		"-o", "BatchMode=yes",
		"-o", "PreferredAuthentications=publickey",
		"deploy@"+sshHost, "true")...)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("ssh with a public key succeeded: %s", out)
	} else if !strings.Contains(string(out), "Permission denied") {
		t.Fatalf("ssh public key attempt: want Permission denied, got %v: %s", err, out)
	}

	// HTTP attacker on 127.0.0.3: the login form, then Basic auth.
	httpBase := "http://" + httpDecoy.Address
	if out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.3", "-o", "/dev/null",
		"--data-urlencode", "username=admin", "--data-urlencode", "password=letmein&123",
		httpBase+"/login").CombinedOutput(); err != nil {
		t.Fatalf("curl form post: %v: %s", err, out)
	}
	if out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.3", "-o", "/dev/null",
		"-u", "operator:hunter2", httpBase+"/admin").CombinedOutput(); err != nil {
		t.Fatalf("curl basic auth: %v: %s", err, out)
	}

	want := []wantCredential{
		{source: "127.0.0.2", service: "ssh", principal: "root", secretKind: "plaintext", mechanism: "ssh_password", secret: []byte("Winter2026!")},
		{source: "127.0.0.2", service: "ssh", principal: "deploy", secretKind: "ssh_publickey", mechanism: "ssh_publickey", secret: blob},
		{source: "127.0.0.3", service: "http", principal: "admin", secretKind: "plaintext", mechanism: "http_form", secret: []byte("letmein&123")},
		{source: "127.0.0.3", service: "http", principal: "operator", secretKind: "plaintext", mechanism: "http_basic", secret: []byte("hunter2")},
	}

	api := newAPIClient(ep.API, nil)
	api.login(t, "admin", strings.TrimSpace(string(password)))
	ctx := context.Background()

	var creds []*apiv1.Credential
	eventually(t, 15*time.Second, func() error {
		creds, err = api.credentials(ctx)
		if err != nil {
			return err
		}
		for _, w := range want {
			if countMatches(creds, w) == 0 {
				return fmt.Errorf("credential %s/%s for %q not found among %d", w.service, w.mechanism, w.principal, len(creds))
			}
		}
		return nil
	})
	for _, w := range want {
		if n := countMatches(creds, w); n != 1 {
			t.Errorf("credential %s/%s for %q stored %d times, want 1", w.service, w.mechanism, w.principal, n)
		}
	}
	for _, c := range creds {
		if c.GetMechanism() == "ssh_publickey" && c.GetKeyFingerprint() != fingerprint {
			t.Errorf("public key fingerprint = %q, want %q", c.GetKeyFingerprint(), fingerprint)
		}
	}

	attackers, err := api.attackers(ctx)
	if err != nil {
		t.Fatalf("list attackers: %v", err)
	}
	bySource := make(map[string][]string)
	for _, a := range attackers {
		for _, addr := range a.GetAddresses() {
			bySource[addr] = append(bySource[addr], a.GetId())
		}
	}
	for _, source := range []string{"127.0.0.2", "127.0.0.3"} {
		if ids := bySource[source]; len(ids) != 1 {
			t.Errorf("attackers with address %s: %v, want exactly one", source, ids)
		}
	}
	if a, b := bySource["127.0.0.2"], bySource["127.0.0.3"]; len(a) == 1 && len(b) == 1 && a[0] == b[0] {
		t.Errorf("sources 127.0.0.2 and 127.0.0.3 share attacker %s", a[0])
	}
	for _, c := range creds {
		if ids := bySource[c.GetSourceAddress()]; len(ids) == 1 && c.GetAttackerId() != ids[0] {
			t.Errorf("credential from %s has attacker %s, want %s", c.GetSourceAddress(), c.GetAttackerId(), ids[0])
		}
	}

	events, err := api.events(ctx)
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	kinds := make(map[string]int)
	for _, e := range events {
		ev := e.GetEvent()
		kinds[ev.GetService()+" "+ev.GetKind()]++
		if ev.GetAgentId() == "" {
			t.Errorf("event %s has no agent id", ev.GetId())
		}
	}
	for _, k := range []string{"ssh connection.opened", "ssh auth.attempt", "ssh connection.closed", "http connection.opened", "http auth.attempt", "http http.request"} {
		if kinds[k] == 0 {
			t.Errorf("no %q event among %v", k, kinds)
		}
	}
	for _, e := range events {
		if a := e.GetEvent().GetAuthAttempt(); a != nil && a.GetOutcome() != eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED {
			t.Errorf("auth attempt %s outcome %v, want rejected", e.GetEvent().GetId(), a.GetOutcome())
		}
	}
}

func countMatches(creds []*apiv1.Credential, w wantCredential) int {
	n := 0
	for _, c := range creds {
		if w.matches(c) {
			n++
		}
	}
	return n
}

func splitHostPort(t *testing.T, addr string) (host, port string) {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		t.Fatalf("address %q has no port", addr)
	}
	return addr[:i], addr[i+1:]
}

// TestDevKeepsDecoyPorts restarts `decnet dev` on one data directory:
// every decoy listens on its previous port again, except one whose port
// another process holds, which moves and is named in the log.
func TestDevKeepsDecoyPorts(t *testing.T) {
	dataDir := t.TempDir()
	defaults, err := config.DevDefault()
	if err != nil {
		t.Fatal(err)
	}
	allDecoys := func(e endpoints.Endpoints) bool { return len(e.Decoys) == len(defaults.Deckies[0].Services) }

	dev := startProcess(t, "decnet-dev-first", binary(t, "decnet"), "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0")
	first := waitEndpoints(t, dev, dataDir, allDecoys)
	dev.stop(syscall.SIGTERM)

	ssh, ok := first.FindDecoy("ssh")
	if !ok {
		t.Fatalf("no ssh decoy in %+v", first)
	}
	holder, err := net.Listen("tcp", ssh.Address)
	if err != nil {
		t.Fatalf("hold the ssh decoy's port %s: %v", ssh.Address, err)
	}
	defer holder.Close()

	dev = startProcess(t, "decnet-dev-second", binary(t, "decnet"), "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0")
	second := waitEndpoints(t, dev, dataDir, allDecoys)
	for _, d := range first.Decoys {
		again, _ := second.FindDecoy(d.Service)
		switch {
		case d.Service == "ssh" && again.Address == d.Address:
			t.Errorf("ssh decoy listens on %s, the port the test holds", again.Address)
		case d.Service != "ssh" && again.Address != d.Address:
			t.Errorf("%s decoy moved from %s to %s on restart", d.Service, d.Address, again.Address)
		}
	}
	if log := dev.log(); !strings.Contains(log, "decoy port of the last run is taken") || !strings.Contains(log, ssh.Address) {
		t.Errorf("log does not say that the ssh decoy's port %s is taken", ssh.Address)
	}
}
