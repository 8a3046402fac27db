package pki

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExportRootKeyThenRunWithoutIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	first, err := LoadOrCreateCA(dir, fixedClock)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	if !first.HasRootKey() {
		t.Fatal("HasRootKey = false for a new CA")
	}
	dest := filepath.Join(t.TempDir(), "offline-root.key")
	if err := ExportRootKey(dir, dest); err != nil {
		t.Fatalf("ExportRootKey: %v", err)
	}

	if _, err := os.Stat(filepath.Join(dir, CAKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat ca.key after export: %v, want not exist", err)
	}
	info, err := os.Stat(dest)
	if err != nil {
		t.Fatalf("stat exported key: %v", err)
	}
	if info.Mode() != 0o600 {
		t.Errorf("exported key mode = %v, want 0600", info.Mode())
	}
	if _, err := ReadRootKey(dest, first.Root()); err != nil {
		t.Errorf("exported key does not match the root: %v", err)
	}
	if err := ExportRootKey(dir, filepath.Join(t.TempDir(), "again.key")); !errors.Is(err, ErrRootKeyOffline) {
		t.Errorf("second ExportRootKey error = %v, want ErrRootKeyOffline", err)
	}

	// The server restarts with the intermediate alone and still issues.
	second, err := LoadOrCreateCA(dir, fixedClock)
	if err != nil {
		t.Fatalf("LoadOrCreateCA without the root key: %v", err)
	}
	if second.HasRootKey() {
		t.Error("HasRootKey = true after export")
	}
	if second.RootFingerprint() != first.RootFingerprint() {
		t.Error("root fingerprint changed after export")
	}
	cert, err := second.SignAgentCSR(newCSR(t, nil), testAgentID, "sensor-1", time.Hour)
	if err != nil {
		t.Fatalf("SignAgentCSR without the root key: %v", err)
	}
	verifyAgainstRoot(t, cert, second.Root(), second.IssuerChain(), testNow)

	if _, err := RotateIntermediate(dir, "", time.Hour, fixedClock); !errors.Is(err, ErrRootKeyOffline) {
		t.Errorf("RotateIntermediate without the root key: error = %v, want ErrRootKeyOffline", err)
	}
	if _, err := RotateIntermediate(dir, dest, time.Hour, fixedClock); err != nil {
		t.Errorf("RotateIntermediate with the exported key: %v", err)
	}
}

// verifyAgainstRoot checks that cert is a client certificate that chains
// to root alone through chain.
func verifyAgainstRoot(t *testing.T, cert, root *x509.Certificate, chain []*x509.Certificate, at time.Time) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(root)
	intermediates := x509.NewCertPool()
	for _, c := range chain {
		intermediates.AddCert(c)
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		t.Errorf("certificate does not chain to the root: %v", err)
	}
}

func TestRotateIntermediate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	before, err := LoadOrCreateCA(dir, fixedClock)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	oldCert, err := before.SignAgentCSR(newCSR(t, nil), testAgentID, "sensor-1", time.Hour)
	if err != nil {
		t.Fatalf("SignAgentCSR: %v", err)
	}

	const keep = 48 * time.Hour
	rotated, err := RotateIntermediate(dir, "", keep, fixedClock)
	if err != nil {
		t.Fatalf("RotateIntermediate: %v", err)
	}
	after, err := LoadOrCreateCA(dir, fixedClock)
	if err != nil {
		t.Fatalf("LoadOrCreateCA after rotation: %v", err)
	}
	if !bytes.Equal(after.Intermediate().Raw, rotated.Raw) {
		t.Fatal("loaded intermediate is not the one RotateIntermediate returned")
	}
	if bytes.Equal(after.Intermediate().Raw, before.Intermediate().Raw) {
		t.Fatal("intermediate did not change")
	}
	if after.RootFingerprint() != before.RootFingerprint() {
		t.Fatal("root changed on rotation")
	}

	newCert, err := after.SignAgentCSR(newCSR(t, nil), testAgentID, "sensor-1", time.Hour)
	if err != nil {
		t.Fatalf("SignAgentCSR after rotation: %v", err)
	}
	if err := newCert.CheckSignatureFrom(rotated); err != nil {
		t.Errorf("new certificate is not signed by the new intermediate: %v", err)
	}
	verifyAgainstRoot(t, newCert, after.Root(), after.IssuerChain(), testNow)

	// A leaf of the old intermediate, presented alone, verifies against
	// the pool until the keep time passes.
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"within keep time", testNow.Add(30 * time.Minute), true},
		{"after keep time", testNow.Add(keep + time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, err := LoadOrCreateCA(dir, func() time.Time { return tt.at })
			if err != nil {
				t.Fatalf("LoadOrCreateCA: %v", err)
			}
			// The old leaf expires after an hour; check the pool
			// membership of its issuer, which is what the keep time
			// controls.
			_, err = before.Intermediate().Verify(x509.VerifyOptions{Roots: ca.RootPool(), CurrentTime: tt.at})
			if err != nil {
				t.Fatalf("old intermediate does not verify: %v", err)
			}
			_, err = oldCert.Verify(x509.VerifyOptions{
				Roots:       onlyIntermediates(ca),
				CurrentTime: testNow,
				KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			})
			if got := err == nil; got != tt.want {
				t.Errorf("old leaf accepted = %v (err %v), want %v", got, err, tt.want)
			}
		})
	}
}

// onlyIntermediates returns a pool of the CA's intermediates without the
// root, so a test sees which intermediates a leaf presented alone can
// chain to.
func onlyIntermediates(ca *CA) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.issuer)
	for _, c := range ca.retired {
		pool.AddCert(c)
	}
	return pool
}

func TestLoadIssuesIntermediateForSingleLevelCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	first, err := LoadOrCreateCA(dir, fixedClock)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	// A data directory from before intermediates: the root and its key.
	for _, name := range []string{IntermediateCertificateFile, IntermediateKeyFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}

	second, err := LoadOrCreateCA(dir, fixedClock)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	if second.RootFingerprint() != first.RootFingerprint() {
		t.Error("root changed")
	}
	if err := second.Intermediate().CheckSignatureFrom(second.Root()); err != nil {
		t.Errorf("new intermediate is not signed by the root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, IntermediateKeyFile)); err != nil {
		t.Errorf("intermediate key not written: %v", err)
	}
}

// TestRotationOverTLS runs the handshakes of an agent enrolled before a
// rotation against a server restarted after it: the agent trusts only the
// root and presents only its old leaf.
func TestRotationOverTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	before, err := LoadOrCreateCA(dir, time.Now)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	agentCert := agentCertificate(t, before, testAgentID)
	if _, err := RotateIntermediate(dir, "", time.Hour, time.Now); err != nil {
		t.Fatalf("RotateIntermediate: %v", err)
	}
	after, err := LoadOrCreateCA(dir, time.Now)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}

	addr := startTLSServer(t, ServerTLSConfig(StaticCertificate(serverCertificate(t, after)), after.RootPool(), true, nil))
	rootOnly := x509.NewCertPool()
	rootOnly.AddCert(before.Root())
	got, err := dialAndRead(addr, AgentTLSConfig(StaticClientCertificate(agentCert), rootOnly, "127.0.0.1", nil))
	if err != nil {
		t.Fatalf("dial after rotation: %v", err)
	}
	if want := "ok " + testAgentID; got != want {
		t.Errorf("server replied %q, want %q", got, want)
	}

	// Bootstrap tokens keep pinning the root.
	root, err := FetchPinnedRoot(context.Background(), addr, "127.0.0.1", before.RootFingerprint())
	if err != nil {
		t.Fatalf("FetchPinnedRoot after rotation: %v", err)
	}
	if !bytes.Equal(root.Raw, before.Root().Raw) {
		t.Error("FetchPinnedRoot returned another certificate than the root")
	}
}

func TestNameMismatchNamesBothSides(t *testing.T) {
	ca := newTestCA(t, time.Now)
	// The certificate lacks 127.0.0.1, the address the client dials.
	cert, err := ca.IssueServerCertificate([]string{"cp.decnet.test"}, []net.IP{net.ParseIP("127.0.0.2")}, time.Hour)
	if err != nil {
		t.Fatalf("IssueServerCertificate: %v", err)
	}
	addr := startTLSServer(t, ServerTLSConfig(StaticCertificate(&cert), ca.RootPool(), false, nil))

	_, err = FetchPinnedRoot(context.Background(), addr, "127.0.0.1", ca.RootFingerprint())
	var mismatch *NameMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("error = %v, want a *NameMismatchError", err)
	}
	if mismatch.Dialled != "127.0.0.1" {
		t.Errorf("Dialled = %q, want 127.0.0.1", mismatch.Dialled)
	}
	var hostErr x509.HostnameError
	if !errors.As(err, &hostErr) {
		t.Errorf("error does not wrap x509.HostnameError: %v", err)
	}
	for _, want := range []string{`"127.0.0.1"`, "cp.decnet.test", "127.0.0.2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %s", err, want)
		}
	}

	// A plain handshake error gets the same explanation.
	conn, err := tls.Dial("tcp", addr, AgentTLSConfig(nil, ca.RootPool(), "127.0.0.1", nil))
	if err == nil {
		_ = conn.Close()
		t.Fatal("handshake succeeded with a certificate lacking the dialled address")
	}
	if !errors.As(ExplainNameMismatch(err), &mismatch) {
		t.Errorf("ExplainNameMismatch(%v) is not a *NameMismatchError", err)
	}
	if other := errors.New("other"); ExplainNameMismatch(other) != other { //nolint:errorlint // an unrelated error must come back as the same value
		t.Error("ExplainNameMismatch changed an unrelated error")
	}
}
