//go:build integration

package smtp

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // G501: CRAM-MD5 is HMAC-MD5 by definition
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/quarantine"
)

func swaks(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("swaks")
	if err != nil {
		t.Skip("swaks is not installed")
	}
	return bin
}

// TestSwaksAuth completes AUTH PLAIN, LOGIN and CRAM-MD5 with swaks from
// 127.0.0.3 and checks each recorded attempt exactly. The CRAM-MD5
// secret must let the password be checked offline.
func TestSwaksAuth(t *testing.T) {
	bin := swaks(t)
	ts := startService(t, decoys.Config{}, false)
	cases := []struct {
		mech, user, pass, mechanism, kind string
	}{
		{"PLAIN", "alice", "s3cret plain", decoys.MechanismSASLPlain, decoys.SecretPlaintext},
		{"LOGIN", "bob@example.org", "l0gin-pass", decoys.MechanismSASLLogin, decoys.SecretPlaintext},
		{"CRAM-MD5", "carol", "cram-pass", decoys.MechanismSASLCRAMMD5, decoys.SecretCRAMMD5},
	}
	for i, tc := range cases {
		out, err := exec.Command(bin, "--server", ts.addr, "--local-interface", "127.0.0.3",
			"--auth", tc.mech, "--auth-user", tc.user, "--auth-password", tc.pass,
			"--quit-after", "AUTH", "--hide-all").CombinedOutput()
		if err == nil {
			t.Errorf("%s: swaks reported success: %s", tc.mech, out)
		}
		events := ts.emitter.waitFor(t, decoys.KindAuthAttempt, i+1)
		a := events[i].GetAuthAttempt()
		if a.GetMechanism() != tc.mechanism || a.GetPrincipal() != tc.user || a.GetSecretKind() != tc.kind {
			t.Errorf("%s: attempt %s %q %s", tc.mech, a.GetMechanism(), a.GetPrincipal(), a.GetSecretKind())
		}
		if src := events[i].GetSource().GetAddress(); src != "127.0.0.3" {
			t.Errorf("%s: source %s", tc.mech, src)
		}
		if tc.kind == decoys.SecretPlaintext {
			if string(a.GetSecret()) != tc.pass {
				t.Errorf("%s: secret %q, want %q", tc.mech, a.GetSecret(), tc.pass)
			}
			continue
		}
		challenge, digest, ok := strings.Cut(string(a.GetSecret()), " ")
		if !ok || !regexp.MustCompile(`^<\d{16}\.\d+@mail>$`).MatchString(challenge) {
			t.Fatalf("CRAM-MD5 secret %q", a.GetSecret())
		}
		m := hmac.New(md5.New, []byte(tc.pass))
		m.Write([]byte(challenge))
		if want := hex.EncodeToString(m.Sum(nil)); digest != want {
			t.Errorf("CRAM-MD5 digest %s, want %s", digest, want)
		}
	}
}

// TestSwaksTLSAndData sends a message over STARTTLS to a local user and
// checks the mail event and the quarantined copy.
func TestSwaksTLSAndData(t *testing.T) {
	bin := swaks(t)
	store, err := quarantine.Open(t.TempDir(), quarantine.Options{MinFreeBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	ts := startService(t, decoys.Config{Quarantine: store}, false)
	domain := strings.TrimPrefix(ts.svc.Hostname(), "mail.")
	msgFile := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(msgFile, []byte("Subject: swaks test\n\nhello from swaks"), 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(bin, "--server", ts.addr, "--local-interface", "127.0.0.4", "-tls",
		"--ehlo", "client.example", "--from", "sender@client.example", "--to", "admin@"+domain,
		"--data", "@"+msgFile).CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "<~  250 2.0.0 Ok: queued as ") {
		t.Errorf("swaks transcript lacks the queued reply over TLS:\n%s", out)
	}

	ev := ts.emitter.waitFor(t, decoys.KindMailReceived, 1)[0].GetMailReceived()
	want := []byte("Subject: swaks test\r\n\r\nhello from swaks\r\n")
	sum := sha256.Sum256(want)
	if ev.GetHelo() != "client.example" || ev.GetMailFrom() != "sender@client.example" ||
		len(ev.GetRcptTo()) != 1 || ev.GetRcptTo()[0] != "admin@"+domain ||
		ev.GetSize() != uint64(len(want)) || ev.GetTruncated() || ev.GetSubject() != "swaks test" ||
		hex.EncodeToString(ev.GetSha256()) != hex.EncodeToString(sum[:]) {
		t.Errorf("mail event %v, want sha256 %x size %d", ev, sum, len(want))
	}
	stored, err := os.ReadFile(store.Path(sum[:]))
	if err != nil || string(stored) != string(want) {
		t.Errorf("quarantined copy %q (%v)", stored, err)
	}
}

// TestOpenSSLStartTLS completes a STARTTLS handshake with openssl
// s_client and checks the certificate names the decky's mail host.
func TestOpenSSLStartTLS(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	ts := startService(t, decoys.Config{}, false)
	cmd := exec.Command(bin, "s_client", "-starttls", "smtp", "-connect", ts.addr, "-servername", ts.svc.Hostname(), "-ign_eof", "-crlf")
	cmd.Stdin = strings.NewReader("EHLO openssl.example\nQUIT\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("s_client: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"subject=CN = " + ts.svc.Hostname(),
		"issuer=CN = " + ts.svc.Hostname(),
		"250-" + ts.svc.Hostname(),
		"221 2.0.0 Bye",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("s_client output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "250-STARTTLS") {
		t.Errorf("STARTTLS offered again inside TLS:\n%s", text)
	}
}

// TestTLSAgainstPostfix compares the protocol and cipher suite that
// openssl s_client negotiates with the decoy and with the real postfix,
// for each protocol version and for single-suite offers. Suites that
// crypto/tls lacks (finite-field DHE, SHA-384 CBC) and the server's own
// choice among several offered suites are known differences and are not
// compared here.
func TestTLSAgainstPostfix(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	ts := startService(t, decoys.Config{Seed: []byte("oracle seed for the smtp decoy 01")}, false)
	o := startPostfix(t, ts.svc.Hostname())
	negotiated := func(addr string, args ...string) string {
		cmd := exec.Command(bin, append([]string{"s_client", "-starttls", "smtp", "-connect", addr}, args...)...)
		cmd.Stdin = strings.NewReader("QUIT\n")
		out, _ := cmd.CombinedOutput()
		m := regexp.MustCompile(`New, (\S+), Cipher is (\S+)`).FindStringSubmatch(string(out))
		if m == nil || m[2] == "(NONE)" {
			return "no session"
		}
		return m[1] + " " + m[2]
	}
	cases := [][]string{
		{"-tls1", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"},
		{"-tls1_1", "-cipher", "ECDHE-RSA-AES256-SHA:@SECLEVEL=0"},
		{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"},
		{"-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"},
		{"-tls1_2", "-cipher", "AES256-SHA"},
		{"-tls1_2", "-cipher", "AES128-GCM-SHA256"},
		{"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"},
		{"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want := negotiated(o.addr, args...)
			got := negotiated(ts.addr, args...)
			if got != want || want == "no session" {
				t.Errorf("decoy %q, postfix %q", got, want)
			}
		})
	}
}

// TestNmapNTLMInfo runs nmap's smtp-ntlm-info script against the
// Exchange persona, which reads the NTLM CHALLENGE message for the
// server's names and version.
func TestNmapNTLMInfo(t *testing.T) {
	bin, err := exec.LookPath("nmap")
	if err != nil {
		t.Skip("nmap is not installed")
	}
	ts := startService(t, decoys.Config{Persona: PersonaExchange}, false)
	_, port, _ := strings.Cut(ts.addr, ":")
	out, err := exec.Command(bin, "-sV", "-Pn", "-n", "-p", port, "--script", "smtp-ntlm-info", "--script-args", "smtp.domain=client.example", "127.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	target := ts.svc.ntlmTarget
	for _, want := range []string{
		"Target_Name: " + target.NetBIOSDomain,
		"NetBIOS_Computer_Name: " + target.NetBIOSComputer,
		"DNS_Domain_Name: " + target.DNSDomain,
		"DNS_Computer_Name: " + target.DNSComputer,
		"Product_Version: 10.0.17763",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("smtp-ntlm-info output lacks %q:\n%s", want, out)
		}
	}
}
