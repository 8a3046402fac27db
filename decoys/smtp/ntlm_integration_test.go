//go:build integration

package smtp

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm/ntlmtest"
)

// TestClientsNTLM runs AUTH NTLM against the Exchange persona with curl
// and with swaks (through Authen::NTLM), and checks that each recorded
// line verifies against the password the client was given.
func TestClientsNTLM(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExchange}, false)
	var clients int

	if curl, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.7", "--login-options", "AUTH=NTLM",
			"-u", `CORP\alice:Secr3t!`, "--mail-from", "alice@corp.example", "--mail-rcpt", "admin@corp.example",
			"-T", "/dev/null", "smtp://"+ts.addr).CombinedOutput()
		if err == nil {
			t.Errorf("curl logged in: %s", out)
		}
		clients++
		checkNTLMAttempt(t, ts, clients, "127.0.0.7", `CORP\alice`, decoys.SecretNTLMv2, "Secr3t!")
	}

	// Authen::NTLM sends an NTLMv1 response in the domain the
	// CHALLENGE names.
	if bin, err := exec.LookPath("swaks"); err == nil && exec.Command("perl", "-MAuthen::NTLM", "-e", "1").Run() == nil {
		out, err := exec.Command(bin, "--server", ts.addr, "--local-interface", "127.0.0.8", "--auth", "NTLM",
			"--auth-user", "bob", "--auth-password", "hunter2", "--quit-after", "AUTH").CombinedOutput()
		if err == nil {
			t.Errorf("swaks logged in: %s", out)
		}
		clients++
		checkNTLMAttempt(t, ts, clients, "127.0.0.8", ts.svc.ntlmTarget.NetBIOSDomain+`\bob`, decoys.SecretNTLMv1, "hunter2")
	}
	if clients == 0 {
		t.Skip("neither curl nor swaks with Authen::NTLM is installed")
	}
}

// checkNTLMAttempt checks the nth attempt and that its line verifies
// against password.
func checkNTLMAttempt(t *testing.T, ts *testService, n int, src, principal, kind, password string) {
	t.Helper()
	ev := ts.emitter.waitFor(t, decoys.KindAuthAttempt, n)[n-1]
	a := ev.GetAuthAttempt()
	if ev.GetSource().GetAddress() != src || a.GetMechanism() != decoys.MechanismSASLNTLM ||
		a.GetSecretKind() != kind || a.GetPrincipal() != principal {
		t.Fatalf("attempt %s %s %s %q %q", ev.GetSource().GetAddress(), a.GetMechanism(), a.GetSecretKind(), a.GetPrincipal(), a.GetSecret())
	}
	verify := ntlmtest.VerifyV2
	if kind == decoys.SecretNTLMv1 {
		verify = ntlmtest.VerifyV1
	}
	domain, user, _ := strings.Cut(principal, `\`)
	if u, d, err := verify(a.GetSecret(), password); err != nil || u != user || d != domain {
		t.Errorf("line %q: %q %q %v", a.GetSecret(), u, d, err)
	}
}
