package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testNow is a fixed clock for tests that do not hand certificates to a
// TLS stack (which checks validity against the real clock).
var testNow = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

func fixedClock() time.Time { return testNow }

func newTestCA(t *testing.T, now func() time.Time) *CA {
	t.Helper()
	ca, err := LoadOrCreateCA(filepath.Join(t.TempDir(), "ca"), now)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	return ca
}

func TestLoadOrCreateCACreatesFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca, err := LoadOrCreateCA(dir, fixedClock)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}

	modes := map[string]os.FileMode{
		dir:                                   0o700 | os.ModeDir,
		filepath.Join(dir, CACertificateFile): 0o644,
		filepath.Join(dir, CAKeyFile):         0o600,
		filepath.Join(dir, IntermediateCertificateFile): 0o644,
		filepath.Join(dir, IntermediateKeyFile):         0o600,
	}
	for path, want := range modes {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatalf("stat %s: %v", path, err)
		}
		if info.Mode() != want {
			t.Errorf("mode of %s = %v, want %v", path, info.Mode(), want)
		}
	}

	root := ca.Root()
	if !root.IsCA || !root.BasicConstraintsValid {
		t.Errorf("root IsCA = %v, BasicConstraintsValid = %v, want both true", root.IsCA, root.BasicConstraintsValid)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Errorf("root is not self-signed: %v", err)
	}
	if want := testNow.Add(-clockSkew); !root.NotBefore.Equal(want) {
		t.Errorf("root NotBefore = %v, want %v", root.NotBefore, want)
	}
	if want := testNow.Add(rootLifetime); !root.NotAfter.Equal(want) {
		t.Errorf("root NotAfter = %v, want %v", root.NotAfter, want)
	}
	if _, ok := root.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("root key type = %T, want *ecdsa.PublicKey", root.PublicKey)
	}
	if got, want := ca.RootFingerprint(), Fingerprint(root); got != want {
		t.Errorf("RootFingerprint = %x, want %x", got, want)
	}
	if _, err := root.Verify(x509.VerifyOptions{Roots: ca.RootPool(), CurrentTime: testNow}); err != nil {
		t.Errorf("root does not verify against RootPool: %v", err)
	}
}

func TestLoadOrCreateCALoadsExisting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	first, err := LoadOrCreateCA(dir, fixedClock)
	if err != nil {
		t.Fatalf("first LoadOrCreateCA: %v", err)
	}
	second, err := LoadOrCreateCA(dir, fixedClock)
	if err != nil {
		t.Fatalf("second LoadOrCreateCA: %v", err)
	}
	if first.RootFingerprint() != second.RootFingerprint() {
		t.Errorf("fingerprint changed across loads: %x, then %x", first.RootFingerprint(), second.RootFingerprint())
	}

	// The loaded key must be the one that signed the root.
	cert, err := second.SignAgentCSR(newCSR(t, nil), testAgentID, "sensor-1", time.Hour)
	if err != nil {
		t.Fatalf("SignAgentCSR with loaded CA: %v", err)
	}
	if err := cert.CheckSignatureFrom(first.Intermediate()); err != nil {
		t.Errorf("certificate from loaded CA does not verify against the original intermediate: %v", err)
	}
	if !bytes.Equal(first.Intermediate().Raw, second.Intermediate().Raw) {
		t.Error("intermediate changed across loads")
	}
}

func TestLoadOrCreateCARejectsBrokenFiles(t *testing.T) {
	other := filepath.Join(t.TempDir(), "other")
	if _, err := LoadOrCreateCA(other, fixedClock); err != nil {
		t.Fatalf("create other CA: %v", err)
	}
	otherKey, err := os.ReadFile(filepath.Join(other, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		want    string
	}{
		{
			name: "corrupt certificate",
			corrupt: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, CACertificateFile), []byte("not a certificate"))
			},
			want: "no PEM certificate found",
		},
		{
			name: "corrupt key",
			corrupt: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, CAKeyFile), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
			},
			want: "parse private key",
		},
		{
			name: "key of another CA",
			corrupt: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, CAKeyFile), otherKey)
			},
			want: "the key does not match the certificate's public key",
		},
		{
			name: "root key without root certificate",
			corrupt: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, CACertificateFile)); err != nil {
					t.Fatal(err)
				}
			},
			want: "ca.crt is missing",
		},
		{
			name: "intermediate certificate without key",
			corrupt: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, IntermediateKeyFile)); err != nil {
					t.Fatal(err)
				}
			},
			want: "intermediate.key is missing",
		},
		{
			name: "intermediate key of another CA",
			corrupt: func(t *testing.T, dir string) {
				data, err := os.ReadFile(filepath.Join(other, IntermediateKeyFile))
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, IntermediateKeyFile), data)
			},
			want: "the key does not match the certificate's public key",
		},
		{
			name: "intermediate of another CA",
			corrupt: func(t *testing.T, dir string) {
				for _, name := range []string{IntermediateCertificateFile, IntermediateKeyFile} {
					data, err := os.ReadFile(filepath.Join(other, name))
					if err != nil {
						t.Fatal(err)
					}
					writeFile(t, filepath.Join(dir, name), data)
				}
			},
			want: "not signed by the root",
		},
		{
			name: "intermediate missing with root key offline",
			corrupt: func(t *testing.T, dir string) {
				for _, name := range []string{CAKeyFile, IntermediateCertificateFile, IntermediateKeyFile} {
					if err := os.Remove(filepath.Join(dir, name)); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: "root key is not in the CA directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ca")
			if _, err := LoadOrCreateCA(dir, fixedClock); err != nil {
				t.Fatalf("create CA: %v", err)
			}
			tt.corrupt(t, dir)

			_, err := LoadOrCreateCA(dir, fixedClock)
			if err == nil {
				t.Fatal("LoadOrCreateCA succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadOrCreateCARejectsExpiredRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := LoadOrCreateCA(dir, fixedClock); err != nil {
		t.Fatalf("create CA: %v", err)
	}
	later := func() time.Time { return testNow.Add(rootLifetime + time.Hour) }

	_, err := LoadOrCreateCA(dir, later)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("error = %v, want one about the expired root", err)
	}
}

func TestIssueServerCertificate(t *testing.T) {
	ca := newTestCA(t, fixedClock)
	ip := net.ParseIP("127.0.0.1")

	cert, err := ca.IssueServerCertificate([]string{"cp.example.test"}, []net.IP{ip}, 24*time.Hour)
	if err != nil {
		t.Fatalf("IssueServerCertificate: %v", err)
	}

	if len(cert.Certificate) != 3 {
		t.Fatalf("chain length = %d, want 3 (leaf, intermediate, root)", len(cert.Certificate))
	}
	if !bytes.Equal(cert.Certificate[1], ca.Intermediate().Raw) {
		t.Error("second chain element is not the intermediate")
	}
	if !bytes.Equal(cert.Certificate[2], ca.Root().Raw) {
		t.Error("third chain element is not the root")
	}
	leaf := cert.Leaf
	if leaf == nil {
		t.Fatal("Leaf is nil")
	}
	if got := leaf.DNSNames; len(got) != 1 || got[0] != "cp.example.test" {
		t.Errorf("DNSNames = %v, want [cp.example.test]", got)
	}
	if got := leaf.IPAddresses; len(got) != 1 || !got[0].Equal(ip) {
		t.Errorf("IPAddresses = %v, want [127.0.0.1]", got)
	}
	if got := leaf.ExtKeyUsage; len(got) != 1 || got[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("ExtKeyUsage = %v, want [server auth]", got)
	}
	if leaf.IsCA {
		t.Error("server certificate is a CA")
	}
	if want := testNow.Add(24 * time.Hour); !leaf.NotAfter.Equal(want) {
		t.Errorf("NotAfter = %v, want %v", leaf.NotAfter, want)
	}

	// An agent trusts the root alone and gets the intermediate from the
	// chain.
	rootOnly := x509.NewCertPool()
	rootOnly.AddCert(ca.Root())
	intermediates := x509.NewCertPool()
	intermediates.AddCert(ca.Intermediate())
	for _, name := range []string{"cp.example.test", "127.0.0.1"} {
		opts := x509.VerifyOptions{Roots: rootOnly, Intermediates: intermediates, DNSName: name, CurrentTime: testNow}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
}

func TestIssueServerCertificateRejectsBadInput(t *testing.T) {
	ca := newTestCA(t, fixedClock)

	if _, err := ca.IssueServerCertificate(nil, nil, time.Hour); err == nil {
		t.Error("no names: want an error")
	}
	if _, err := ca.IssueServerCertificate([]string{"a.test"}, nil, 0); err == nil {
		t.Error("zero lifetime: want an error")
	}
}

func TestIssuedLifetimeClampedToIntermediate(t *testing.T) {
	ca := newTestCA(t, fixedClock)

	cert, err := ca.SignAgentCSR(newCSR(t, nil), testAgentID, "sensor-1", 2*rootLifetime)
	if err != nil {
		t.Fatalf("SignAgentCSR: %v", err)
	}
	if !cert.NotAfter.Equal(ca.Intermediate().NotAfter) {
		t.Errorf("NotAfter = %v, want the intermediate's %v", cert.NotAfter, ca.Intermediate().NotAfter)
	}
	if !ca.Intermediate().NotAfter.Before(ca.Root().NotAfter) {
		t.Errorf("intermediate NotAfter %v is not before the root's %v", ca.Intermediate().NotAfter, ca.Root().NotAfter)
	}
}

const testAgentID = "0b6f8a52-6c1e-4c4e-9d7e-3f0a1c2b3d4e"

// newCSR returns a DER request signed by a new P-256 key, with template's
// names when template is not nil.
func newCSR(t *testing.T, template *x509.CertificateRequest) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if template == nil {
		template = &x509.CertificateRequest{Subject: pkix.Name{CommonName: "requested"}}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, template, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestSignAgentCSR(t *testing.T) {
	ca := newTestCA(t, fixedClock)
	evil, _ := url.Parse("urn:decnet:agent:11111111-2222-4333-8444-555555555555")
	csr := newCSR(t, &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: "controlplane"},
		DNSNames:    []string{"cp.example.test"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.1")},
		URIs:        []*url.URL{evil},
	})

	cert, err := ca.SignAgentCSR(csr, testAgentID, "sensor-1", time.Hour)
	if err != nil {
		t.Fatalf("SignAgentCSR: %v", err)
	}

	if cert.Subject.CommonName != "sensor-1" {
		t.Errorf("CommonName = %q, want sensor-1", cert.Subject.CommonName)
	}
	if len(cert.DNSNames) != 0 || len(cert.IPAddresses) != 0 || len(cert.EmailAddresses) != 0 {
		t.Errorf("certificate kept requested SANs: DNS %v, IP %v, email %v", cert.DNSNames, cert.IPAddresses, cert.EmailAddresses)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != "urn:decnet:agent:"+testAgentID {
		t.Errorf("URIs = %v, want [urn:decnet:agent:%s]", cert.URIs, testAgentID)
	}
	if got := cert.ExtKeyUsage; len(got) != 1 || got[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("ExtKeyUsage = %v, want [client auth]", got)
	}
	if cert.IsCA {
		t.Error("agent certificate is a CA")
	}
	if want := testNow.Add(-clockSkew); !cert.NotBefore.Equal(want) {
		t.Errorf("NotBefore = %v, want %v", cert.NotBefore, want)
	}
	if want := testNow.Add(time.Hour); !cert.NotAfter.Equal(want) {
		t.Errorf("NotAfter = %v, want %v", cert.NotAfter, want)
	}
	if id, err := AgentIDFromCertificate(cert); err != nil || id != testAgentID {
		t.Errorf("AgentIDFromCertificate = %q, %v; want %q", id, err, testAgentID)
	}

	opts := x509.VerifyOptions{
		Roots:       ca.RootPool(),
		CurrentTime: testNow,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if _, err := cert.Verify(opts); err != nil {
		t.Errorf("verify agent certificate: %v", err)
	}

	again, err := ca.SignAgentCSR(csr, testAgentID, "sensor-1", time.Hour)
	if err != nil {
		t.Fatalf("second SignAgentCSR: %v", err)
	}
	if again.SerialNumber.Cmp(cert.SerialNumber) == 0 {
		t.Errorf("two certificates share serial %s", cert.SerialNumber)
	}
	if cert.SerialNumber.BitLen() > 128 || cert.SerialNumber.Sign() < 0 {
		t.Errorf("serial %s is not a non-negative 128-bit number", cert.SerialNumber)
	}
}

func TestSignAgentCSRRejectsBadInput(t *testing.T) {
	ca := newTestCA(t, fixedClock)
	good := newCSR(t, nil)
	tampered := bytes.Clone(good)
	// The last bytes are the signature value.
	tampered[len(tampered)-3] ^= 0xff

	tests := []struct {
		name     string
		csr      []byte
		agentID  string
		agent    string
		lifetime time.Duration
		want     string
	}{
		{"empty request", nil, testAgentID, "a", time.Hour, "request is empty"},
		{"garbage request", []byte("garbage"), testAgentID, "a", time.Hour, "parse certificate signing request"},
		{"bad signature", tampered, testAgentID, "a", time.Hour, "signature"},
		{"agent id not a UUID", good, "sensor-1", "a", time.Hour, "is not a UUID"},
		{"agent id upper case", good, strings.ToUpper(testAgentID), "a", time.Hour, "canonical form"},
		{"nil agent id", good, "00000000-0000-0000-0000-000000000000", "a", time.Hour, "nil UUID"},
		{"empty name", good, testAgentID, "", time.Hour, "agent name is empty"},
		{"name with newline", good, testAgentID, "a\nb", time.Hour, "control characters"},
		{"name too long", good, testAgentID, strings.Repeat("x", 65), time.Hour, "longer than 64"},
		{"zero lifetime", good, testAgentID, "a", 0, "not positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ca.SignAgentCSR(tt.csr, tt.agentID, tt.agent, tt.lifetime)
			if err == nil {
				t.Fatal("SignAgentCSR succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseAgentCSRRejectsP224(t *testing.T) {
	// TLS 1.3 defines no signature scheme for P-224.
	key, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}

	_, err = ParseAgentCSR(der)
	if err == nil || !strings.Contains(err.Error(), "unsupported ECDSA curve") {
		t.Errorf("error = %v, want one about the unsupported curve", err)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
