//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decnet/decnet/agent/config"
	"github.com/decnet/decnet/decoys/ntlm/ntlmtest"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/endpoints"
)

// TestDevNTLM runs decnet dev with an Exchange decky (SMTP, IMAP and POP3
// of Exchange 2019, IIS with the OWA application) and logs in to each
// service with curl's NTLM from its own loopback source. Through the API
// each capture is one credential of kind ntlmssp_v2 whose line verifies
// against the password curl was given.
func TestDevNTLM(t *testing.T) {
	curl := requireTool(t, "curl")
	dataDir := t.TempDir()
	writeExchangeDecoys(t, dataDir)
	dev := startProcess(t, "decnet-dev", binary(t, "decnet"), "dev", "--data-dir", dataDir, "--api-listen", "127.0.0.1:0")
	services := []string{"smtp", "imap", "pop3", "http"}
	ep := waitEndpoints(t, dev, dataDir, func(e endpoints.Endpoints) bool {
		for _, s := range services {
			if _, ok := e.FindDecoy(s); !ok {
				return false
			}
		}
		return e.API != ""
	})

	cases := []struct {
		service, source, mechanism string
		args                       []string
	}{
		{"smtp", "127.0.0.30", "sasl_ntlm", []string{"--login-options", "AUTH=NTLM", "--mail-from", "a@corp.example", "--mail-rcpt", "b@corp.example", "-T", "/dev/null"}},
		{"imap", "127.0.0.31", "sasl_ntlm", []string{"--login-options", "AUTH=NTLM"}},
		{"pop3", "127.0.0.32", "sasl_ntlm", []string{"--login-options", "AUTH=NTLM"}},
		{"http", "127.0.0.33", "http_ntlm", []string{"--ntlm", "-o", "/dev/null"}},
	}
	for _, tc := range cases {
		d, _ := ep.FindDecoy(tc.service)
		url := tc.service + "://" + d.Address + "/"
		if tc.service == "http" {
			url += "EWS/Exchange.asmx"
		}
		args := append([]string{"-sS", "--interface", tc.source, "-u", `CORP\alice:Secr3t!` + tc.service}, tc.args...)
		if out, err := exec.Command(curl, append(args, url)...).CombinedOutput(); err == nil && tc.service != "http" {
			t.Errorf("%s: curl logged in: %s", tc.service, out)
		}
	}

	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	api := newAPIClient(ep.API, nil)
	api.login(t, "admin", strings.TrimSpace(string(password)))
	var creds []*apiv1.Credential
	eventually(t, 30*time.Second, func() error {
		creds, err = api.credentials(context.Background())
		if err != nil {
			return err
		}
		if len(creds) < len(cases) {
			return fmt.Errorf("%d credentials, want %d", len(creds), len(cases))
		}
		return nil
	})
	if len(creds) != len(cases) {
		t.Fatalf("%d credentials, want %d", len(creds), len(cases))
	}
	for _, tc := range cases {
		var found []*apiv1.Credential
		for _, c := range creds {
			if c.GetService() == tc.service {
				found = append(found, c)
			}
		}
		if len(found) != 1 {
			t.Errorf("%s: %d credentials, want 1", tc.service, len(found))
			continue
		}
		c := found[0]
		if c.GetSourceAddress() != tc.source || c.GetDecky() != "exch01" || c.GetMechanism() != tc.mechanism ||
			c.GetSecretKind() != "ntlmssp_v2" || c.GetPrincipal() != `CORP\alice` || c.GetSecretMasked() {
			t.Errorf("%s: credential from %s on %s: %s %s %q masked %v", tc.service, c.GetSourceAddress(), c.GetDecky(),
				c.GetMechanism(), c.GetSecretKind(), c.GetPrincipal(), c.GetSecretMasked())
		}
		if user, domain, err := ntlmtest.VerifyV2(c.GetSecret(), "Secr3t!"+tc.service); err != nil || user != "alice" || domain != "CORP" {
			t.Errorf("%s: line %q: %q %q %v", tc.service, c.GetSecret(), user, domain, err)
		}
	}
}

// writeExchangeDecoys writes a decoys.yaml with one Exchange decky.
func writeExchangeDecoys(t *testing.T, dataDir string) {
	t.Helper()
	seed, err := config.NewSeed()
	if err != nil {
		t.Fatal(err)
	}
	decoys := &config.Decoys{Deckies: []config.Decky{{
		Name: "exch01",
		Seed: seed,
		Services: []config.Service{
			{Name: "smtp", Persona: "exchange-2019", Listen: "127.0.0.1:0"},
			{Name: "imap", Persona: "exchange-2019", Listen: "127.0.0.1:0"},
			{Name: "pop3", Persona: "exchange-2019", Listen: "127.0.0.1:0"},
			{Name: "http", Persona: "iis-10.0-windows2019", Listen: "127.0.0.1:0", Options: map[string]string{"app": "owa"}},
		},
	}}}
	data, err := decoys.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "decoys.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}
