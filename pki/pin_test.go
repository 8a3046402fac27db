package pki

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// startTLSServer serves TLS on 127.0.0.1:0 with config, writes "ok" plus
// the peer's agent id (or "-") after each completed handshake, and returns
// its address.
func startTLSServer(t *testing.T, config *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}

	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				tlsConn := conn.(*tls.Conn)
				if err := tlsConn.Handshake(); err != nil {
					return
				}
				reply := "ok -"
				if peers := tlsConn.ConnectionState().PeerCertificates; len(peers) > 0 {
					id, err := AgentIDFromCertificate(peers[0])
					if err != nil {
						reply = "bad " + err.Error()
					} else {
						reply = "ok " + id
					}
				}
				_, _ = io.WriteString(conn, reply)
			}()
		}
	}()
	return ln.Addr().String()
}

func serverCertificate(t *testing.T, ca *CA) *tls.Certificate {
	t.Helper()
	cert, err := ca.IssueServerCertificate([]string{"cp.decnet.test"}, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		t.Fatalf("IssueServerCertificate: %v", err)
	}
	return &cert
}

func TestFetchPinnedRoot(t *testing.T) {
	ca := newTestCA(t, time.Now)
	other := newTestCA(t, time.Now)
	serverCert := serverCertificate(t, ca)
	addr := startTLSServer(t, ServerTLSConfig(StaticCertificate(serverCert), nil, false, nil))
	leafFingerprint := Fingerprint(serverCert.Leaf)

	t.Run("matching root", func(t *testing.T) {
		root, err := FetchPinnedRoot(context.Background(), addr, "127.0.0.1", ca.RootFingerprint())
		if err != nil {
			t.Fatalf("FetchPinnedRoot: %v", err)
		}
		if !bytes.Equal(root.Raw, ca.Root().Raw) {
			t.Error("returned certificate is not the CA root")
		}
	})

	t.Run("another CA", func(t *testing.T) {
		_, err := FetchPinnedRoot(context.Background(), addr, "127.0.0.1", other.RootFingerprint())
		var mismatch *FingerprintMismatchError
		if !errors.As(err, &mismatch) {
			t.Fatalf("error = %v, want a *FingerprintMismatchError", err)
		}
		if mismatch.Expected != other.RootFingerprint() {
			t.Errorf("Expected = %x, want %x", mismatch.Expected, other.RootFingerprint())
		}
		want := [][32]byte{leafFingerprint, Fingerprint(ca.Intermediate()), ca.RootFingerprint()}
		if len(mismatch.Received) != 3 || mismatch.Received[0] != want[0] || mismatch.Received[1] != want[1] || mismatch.Received[2] != want[2] {
			t.Errorf("Received = %x, want %x", mismatch.Received, want)
		}
		for _, fp := range [][32]byte{other.RootFingerprint(), ca.RootFingerprint()} {
			if hexFP := hex.EncodeToString(fp[:]); !strings.Contains(err.Error(), hexFP) {
				t.Errorf("error %q does not name fingerprint %s", err, hexFP)
			}
		}
	})

	t.Run("pinned leaf", func(t *testing.T) {
		_, err := FetchPinnedRoot(context.Background(), addr, "127.0.0.1", leafFingerprint)
		var mismatch *FingerprintMismatchError
		if !errors.As(err, &mismatch) {
			t.Fatalf("error = %v, want a *FingerprintMismatchError", err)
		}
		if !strings.Contains(mismatch.Reason, "not a CA certificate") {
			t.Errorf("Reason = %q, want it to say the certificate is not a CA", mismatch.Reason)
		}
	})

	t.Run("wrong server name", func(t *testing.T) {
		// The root matches, but the real handshake still checks the name.
		_, err := FetchPinnedRoot(context.Background(), addr, "other.decnet.test", ca.RootFingerprint())
		var hostErr x509.HostnameError
		if !errors.As(err, &hostErr) {
			t.Errorf("error = %v, want an x509.HostnameError", err)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := ln.Addr().String()
		_ = ln.Close()

		_, err = FetchPinnedRoot(context.Background(), closed, "127.0.0.1", ca.RootFingerprint())
		var mismatch *FingerprintMismatchError
		if err == nil || errors.As(err, &mismatch) {
			t.Errorf("error = %v, want a dial error", err)
		}
	})
}

func TestFetchPinnedRootWithoutRootInChain(t *testing.T) {
	ca := newTestCA(t, time.Now)
	full := serverCertificate(t, ca)
	leafOnly := *full
	leafOnly.Certificate = full.Certificate[:1]
	addr := startTLSServer(t, ServerTLSConfig(StaticCertificate(&leafOnly), nil, false, nil))

	_, err := FetchPinnedRoot(context.Background(), addr, "127.0.0.1", ca.RootFingerprint())
	var mismatch *FingerprintMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("error = %v, want a *FingerprintMismatchError", err)
	}
	if len(mismatch.Received) != 1 {
		t.Errorf("Received has %d fingerprints, want 1 (the leaf)", len(mismatch.Received))
	}
}

// agentCertificate enrolls a fresh key with ca and returns the TLS
// certificate.
func agentCertificate(t *testing.T, ca *CA, agentID string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.SignAgentCSR(csr, agentID, "sensor-1", time.Hour)
	if err != nil {
		t.Fatalf("SignAgentCSR: %v", err)
	}
	return &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

func TestMutualTLS(t *testing.T) {
	ca := newTestCA(t, time.Now)
	other := newTestCA(t, time.Now)
	serverCert := serverCertificate(t, ca)
	addr := startTLSServer(t, ServerTLSConfig(StaticCertificate(serverCert), ca.RootPool(), true, nil))
	optionalAddr := startTLSServer(t, ServerTLSConfig(StaticCertificate(serverCert), ca.RootPool(), false, nil))

	tests := []struct {
		name      string
		addr      string
		cert      *tls.Certificate
		roots     *x509.CertPool
		wantReply string
	}{
		{"agent certificate", addr, agentCertificate(t, ca, testAgentID), ca.RootPool(), "ok " + testAgentID},
		{"no client certificate", addr, nil, ca.RootPool(), ""},
		{"certificate of another CA", addr, agentCertificate(t, other, testAgentID), ca.RootPool(), ""},
		{"server certificate as client", addr, serverCert, ca.RootPool(), ""},
		{"server of another CA", addr, agentCertificate(t, ca, testAgentID), other.RootPool(), ""},
		{"nil roots trust nothing", addr, agentCertificate(t, ca, testAgentID), nil, ""},
		{"optional certificate absent", optionalAddr, nil, ca.RootPool(), "ok -"},
		{"optional certificate present", optionalAddr, agentCertificate(t, ca, testAgentID), ca.RootPool(), "ok " + testAgentID},
		{"optional certificate of another CA", optionalAddr, agentCertificate(t, other, testAgentID), ca.RootPool(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var getCert func(*tls.CertificateRequestInfo) (*tls.Certificate, error)
			if tt.cert != nil {
				getCert = StaticClientCertificate(tt.cert)
			}
			config := AgentTLSConfig(getCert, tt.roots, "127.0.0.1", nil)
			if config.MinVersion != tls.VersionTLS13 {
				t.Errorf("MinVersion = %x, want TLS 1.3", config.MinVersion)
			}

			reply, err := dialAndRead(tt.addr, config)
			if tt.wantReply == "" {
				if err == nil {
					t.Fatalf("connection succeeded with reply %q, want it rejected", reply)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if reply != tt.wantReply {
				t.Errorf("reply = %q, want %q", reply, tt.wantReply)
			}
		})
	}
}

// dialAndRead connects and reads the server's reply. In TLS 1.3 the server
// checks the client certificate after the client's handshake finishes, so
// a rejection shows up on the first read.
func dialAndRead(addr string, config *tls.Config) (string, error) {
	conn, err := tls.Dial("tcp", addr, config)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	reply, err := io.ReadAll(conn)
	if err != nil {
		return "", err
	}
	if len(reply) == 0 {
		return "", io.ErrUnexpectedEOF
	}
	return string(reply), nil
}

func TestServerTLSConfigTLS13(t *testing.T) {
	config := ServerTLSConfig(nil, nil, true, []string{"h2"})
	if config.MinVersion != tls.VersionTLS13 {
		t.Errorf("MinVersion = %x, want TLS 1.3", config.MinVersion)
	}
	if config.ClientCAs == nil {
		t.Error("ClientCAs is nil, which would trust the system roots")
	}
	if config.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("ClientAuth = %v, want RequireAndVerifyClientCert", config.ClientAuth)
	}
}
