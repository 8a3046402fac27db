package enroll_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/enroll"
)

func TestSaveCertificateReplacesIdentity(t *testing.T) {
	cp := startControlPlane(t)
	dataDir := filepath.Join(t.TempDir(), "agent")
	if _, err := enroll.Enroll(context.Background(), enroll.Config{
		ServerURL: cp.url,
		Token:     cp.newToken(t, testAgentID, "sensor-1"),
		DataDir:   dataDir,
		Logger:    zerolog.Nop(),
	}); err != nil {
		t.Fatalf("Enroll: %v", err)
	}

	// A renewal: a new key and a certificate for the same agent.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := cp.ca.SignAgentCSR(csr, testAgentID, "sensor-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The server sends the intermediate with the leaf.
	renewed := &tls.Certificate{Certificate: [][]byte{leaf.Raw, cp.ca.Intermediate().Raw}, PrivateKey: key, Leaf: leaf}
	if err := enroll.SaveCertificate(dataDir, renewed); err != nil {
		t.Fatalf("SaveCertificate: %v", err)
	}

	id, err := enroll.LoadIdentity(dataDir)
	if err != nil {
		t.Fatalf("LoadIdentity after SaveCertificate: %v", err)
	}
	if id.Certificate.Leaf.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Errorf("loaded serial %s, want the renewed %s", id.Certificate.Leaf.SerialNumber.Text(16), leaf.SerialNumber.Text(16))
	}
	if !key.Equal(id.Certificate.PrivateKey) {
		t.Error("loaded key is not the renewed key")
	}
	info, err := os.Stat(filepath.Join(dataDir, enroll.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode() != 0o600 {
		t.Errorf("mode of %s = %v, want 0600", enroll.KeyFile, info.Mode())
	}
}
