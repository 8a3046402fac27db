//go:build integration

package httpdecoy

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm/ntlmtest"
)

// TestCurlNTLM authenticates to Exchange Web Services with curl --ntlm,
// which runs the handshake on one kept connection, and checks that the
// recorded line verifies against the password curl was given.
func TestCurlNTLM(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	ts := startService(t, decoys.Config{Persona: PersonaIIS, Decky: "EXCH01", Options: map[string]string{"app": AppOWA}})
	out, err := exec.Command(curl, "-sS", "--interface", "127.0.0.6", "--ntlm", "-u", `CORP\alice:Secr3t!`,
		"-o", "/dev/null", "-w", "%{http_code} %{num_connects}", "http://"+ts.addr+"/EWS/Exchange.asmx").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "401 1" {
		t.Fatalf("curl: %v: %q, want 401 over one connection", err, out)
	}

	got := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)
	a := got[0].GetAuthAttempt()
	if len(got) != 1 || got[0].GetSource().GetAddress() != "127.0.0.6" || a.GetMechanism() != decoys.MechanismHTTPNTLM ||
		a.GetSecretKind() != decoys.SecretNTLMv2 || a.GetPrincipal() != `CORP\alice` {
		t.Fatalf("%d attempts, first from %s: %s %s %q", len(got), got[0].GetSource().GetAddress(), a.GetMechanism(), a.GetSecretKind(), a.GetPrincipal())
	}
	if user, domain, err := ntlmtest.VerifyV2(a.GetSecret(), "Secr3t!"); err != nil || user != "alice" || domain != "CORP" {
		t.Errorf("line %q: %q %q %v", a.GetSecret(), user, domain, err)
	}
	requests := ts.rec.waitKind(t, decoys.KindHTTPRequest, 2)
	if len(requests) != 2 || requests[0].GetHttpRequest().GetStatus() != 401 || requests[1].GetHttpRequest().GetStatus() != 401 {
		t.Errorf("%d requests, want the NEGOTIATE and AUTHENTICATE requests, both 401", len(requests))
	}
}
