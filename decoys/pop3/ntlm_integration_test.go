//go:build integration

package pop3

import (
	"os/exec"
	"testing"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm/ntlmtest"
)

// TestCurlNTLM logs in to the Exchange persona with curl's NTLM, which
// sends an NTLMv2 response to the decoy's CHALLENGE. The recorded line
// must verify against the password curl was given.
func TestCurlNTLM(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	ts := startService(t, decoys.Config{Persona: PersonaExchange, Decky: "EX01"})
	out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.5", "--login-options", "AUTH=NTLM",
		"-u", `CORP\alice:Secr3t!`, "pop3://"+ts.addr+"/").CombinedOutput()
	if err == nil {
		t.Errorf("curl logged in: %s", out)
	}

	got := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)
	a := got[0].GetAuthAttempt()
	if got[0].GetSource().GetAddress() != "127.0.0.5" || a.GetMechanism() != decoys.MechanismSASLNTLM ||
		a.GetSecretKind() != decoys.SecretNTLMv2 || a.GetPrincipal() != `CORP\alice` {
		t.Fatalf("attempt %s %s %s %q (curl: %s)", got[0].GetSource().GetAddress(), a.GetMechanism(), a.GetSecretKind(), a.GetPrincipal(), out)
	}
	if user, domain, err := ntlmtest.VerifyV2(a.GetSecret(), "Secr3t!"); err != nil || user != "alice" || domain != "CORP" {
		t.Errorf("line %q: %q %q %v", a.GetSecret(), user, domain, err)
	}
}
