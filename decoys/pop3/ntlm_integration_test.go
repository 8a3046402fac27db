//go:build integration

package pop3

import (
	"testing"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/ntlm/ntlmtest"
)

// TestCurlNTLM logs in to the Exchange persona with curl's NTLM, which
// sends an NTLMv2 response to the decoy's CHALLENGE. The recorded line
// must verify against the password curl was given.
func TestCurlNTLM(t *testing.T) {
	ts := startService(t, decoys.Config{Persona: PersonaExchange, Decky: "EX01"})
	out := ntlmtest.CurlMailLogin(t, "127.0.0.5", "pop3://"+ts.addr+"/")

	got := ts.rec.waitKind(t, decoys.KindAuthAttempt, 1)
	ntlmtest.CheckCapture(t, got[0], "127.0.0.5", decoys.MechanismSASLNTLM, out)
}
