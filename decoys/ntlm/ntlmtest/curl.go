package ntlmtest

import (
	"os/exec"
	"testing"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// The account every curl login of these tests uses.
const (
	CurlUser     = "alice"
	CurlDomain   = "CORP"
	CurlPassword = "Secr3t!"
)

// CurlMailLogin runs curl's SASL NTLM login to a mail URL (imap:// or
// pop3://) from source, as CurlDomain\CurlUser, and returns curl's
// output. It skips the test when curl is missing. The decoy rejects
// every login, so curl must fail.
func CurlMailLogin(t *testing.T, source, url string) []byte {
	t.Helper()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	cmd := exec.CommandContext(t.Context(), curl, "-sS", "--interface", source, "--login-options", "AUTH=NTLM", //nolint:gosec // G204: curl against the test's own decoy
		"-u", CurlDomain+`\`+CurlUser+":"+CurlPassword, url)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("curl logged in: %s", out)
	}
	return out
}

// CheckCapture checks that ev records curl's login from source as an
// NTLMv2 capture with mechanism, and that its hashcat line verifies
// against CurlPassword.
func CheckCapture(t *testing.T, ev *eventv1.Event, source, mechanism string, curlOutput []byte) {
	t.Helper()
	a := ev.GetAuthAttempt()
	if got := ev.GetSource().GetAddress(); got != source {
		t.Errorf("source %q, want %q (curl: %s)", got, source, curlOutput)
	}
	if a.GetMechanism() != mechanism {
		t.Errorf("mechanism %q, want %q", a.GetMechanism(), mechanism)
	}
	if a.GetSecretKind() != decoys.SecretNTLMv2 {
		t.Errorf("secret kind %q, want %q", a.GetSecretKind(), decoys.SecretNTLMv2)
	}
	if want := CurlDomain + `\` + CurlUser; a.GetPrincipal() != want {
		t.Errorf("principal %q, want %q", a.GetPrincipal(), want)
	}
	user, domain, err := VerifyV2(a.GetSecret(), CurlPassword)
	if err != nil {
		t.Errorf("line %q: %v", a.GetSecret(), err)
	}
	if user != CurlUser || domain != CurlDomain {
		t.Errorf("line names %q in %q, want %q in %q", user, domain, CurlUser, CurlDomain)
	}
}
