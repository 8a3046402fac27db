package controlplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/agent/enroll"
	"github.com/decnet/decnet/bridge"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/pki"
)

// idleSource is a bridge.Source without events.
type idleSource struct{}

func (idleSource) Read(ctx context.Context, _, _ int) ([]*eventv1.Event, bridge.Position, error) {
	<-ctx.Done()
	return nil, 0, ctx.Err()
}
func (idleSource) Commit(bridge.Position) error { return nil }
func (idleSource) Rewind() error                { return nil }

// startServer runs a server on dataDir. It returns the server and a stop
// function, which also runs at cleanup, so a test can restart the server.
func startServer(t *testing.T, dataDir string) (*Server, func()) {
	t.Helper()
	s := newTestServer(t, dataDir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return s, stop
}

// TestIntermediateRotationAcrossRestart enrolls an agent under the first
// intermediate, rotates the intermediate, moves the root key offline and
// restarts the server: the agent connects without enrolling again, its
// renewal comes from the new intermediate, and a new agent still enrolls.
func TestIntermediateRotationAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	caDir := filepath.Join(dataDir, "ca")

	first, stopFirst := startServer(t, dataDir)
	firstIntermediate := first.CA().Intermediate()
	agentDir := enrollAgent(t, first, "sensor-1")
	id, err := enroll.LoadIdentity(agentDir)
	if err != nil {
		t.Fatalf("LoadIdentity: %v", err)
	}
	if err := id.Certificate.Leaf.CheckSignatureFrom(firstIntermediate); err != nil {
		t.Fatalf("enrolled certificate is not from the first intermediate: %v", err)
	}
	stopFirst()

	second, err := pki.RotateIntermediate(caDir, "", time.Hour, nil)
	if err != nil {
		t.Fatalf("RotateIntermediate: %v", err)
	}
	if err := pki.ExportRootKey(caDir, filepath.Join(t.TempDir(), "root.key")); err != nil {
		t.Fatalf("ExportRootKey: %v", err)
	}

	restarted, _ := startServer(t, dataDir)
	if restarted.CA().HasRootKey() {
		t.Fatal("restarted server holds the root key")
	}
	if !restarted.CA().Intermediate().Equal(second) {
		t.Fatal("restarted server does not issue with the rotated intermediate")
	}

	// The agent, which trusts only the root, connects with its old
	// certificate and renews.
	holder := bridge.NewClientCertificate(&id.Certificate)
	renewed := make(chan *tls.Certificate, 1)
	client, err := bridge.NewClient(bridge.ClientConfig{
		Addresses: []string{restarted.Endpoints().Bridge},
		TLSConfig: pki.AgentTLSConfig(holder.GetClientCertificate, id.Roots, "", []string{bridge.ALPN}),
		Source:    idleSource{},
		// Every wait is short, so the renewal comes at once.
		Sleep: func(ctx context.Context, _ time.Duration) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
				return nil
			}
		},
		Renewal: &bridge.RenewalConfig{
			Certificate: holder,
			Roots:       id.Roots,
			Persist: func(cert *tls.Certificate) error {
				select {
				case renewed <- cert:
				default:
				}
				return nil
			},
		},
		Logger: zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	clientCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- client.Run(clientCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done //nolint:errcheck // Run's result after cancellation is not what this test checks
	})

	var cert *tls.Certificate
	select {
	case cert = <-renewed:
	case <-time.After(30 * time.Second):
		t.Fatal("no renewal within 30 s")
	}
	if err := cert.Leaf.CheckSignatureFrom(second); err != nil {
		t.Errorf("renewed certificate is not from the new intermediate: %v", err)
	}
	if len(cert.Certificate) < 2 || !bytes.Equal(cert.Certificate[1], second.Raw) {
		t.Error("renewed chain does not carry the new intermediate")
	}

	// A new agent enrolls with the root key offline.
	newDir := enrollAgent(t, restarted, "sensor-2")
	newID, err := enroll.LoadIdentity(newDir)
	if err != nil {
		t.Fatalf("LoadIdentity: %v", err)
	}
	if err := newID.Certificate.Leaf.CheckSignatureFrom(second); err != nil {
		t.Errorf("new agent's certificate is not from the new intermediate: %v", err)
	}
	// The old certificate still verifies against the server's pool.
	if _, err := id.Certificate.Leaf.Verify(x509.VerifyOptions{
		Roots:     restarted.CA().RootPool(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		t.Errorf("certificate from the first intermediate no longer verifies: %v", err)
	}
}

func enrollAgent(t *testing.T, s *Server, name string) string {
	t.Helper()
	issued, err := s.CreateToken(context.Background(), name, time.Minute)
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if _, err := enroll.Enroll(context.Background(), enroll.Config{
		ServerURL: s.Endpoints().Enroll,
		Token:     issued.Token,
		DataDir:   dir,
		Logger:    zerolog.Nop(),
	}); err != nil {
		t.Fatalf("Enroll %s: %v", name, err)
	}
	return dir
}
