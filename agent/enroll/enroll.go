// Package enroll turns a bootstrap token into an agent identity: a private
// key generated here, a certificate signed by the control plane's CA, and
// the CA root, all kept in the agent's data directory.
package enroll

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"

	fleetv1 "github.com/decnet/decnet/gen/decnet/fleet/v1"
	"github.com/decnet/decnet/gen/decnet/fleet/v1/fleetv1connect"
	"github.com/decnet/decnet/pki"
)

// DefaultTimeout bounds a whole enrollment when Config.Timeout is zero:
// two TLS handshakes and one RPC.
const DefaultTimeout = 30 * time.Second

// ErrAlreadyEnrolled is returned by Enroll when the data directory already
// holds an agent identity. Enroll never overwrites one, because the old key
// would be lost while the token is used up.
var ErrAlreadyEnrolled = errors.New("agent is already enrolled")

// Log field keys.
const (
	fieldAgentID         = "agent_id"
	fieldAgentName       = "agent_name"
	fieldServer          = "server"
	fieldSerial          = "serial"
	fieldNotAfter        = "not_after"
	fieldRootFingerprint = "root_fingerprint"
)

// Config configures one enrollment.
type Config struct {
	// ServerURL is the control plane's agent endpoint, https://host:port.
	// Port 443 is used when the URL has none.
	ServerURL string
	// Token is the encoded bootstrap token. It is a secret.
	Token string `json:"-"`
	// DataDir receives the identity files; it is created with mode 0700.
	DataDir string
	// Name is the agent name to request. The control plane uses it only
	// when the token was created without a name. Empty means the host
	// name.
	Name string
	// Timeout bounds the whole enrollment; zero means DefaultTimeout.
	Timeout time.Duration
	Logger  zerolog.Logger
}

// Result describes a completed enrollment.
type Result struct {
	AgentID         string
	AgentName       string
	ServerURL       string
	BridgeAddresses []string
	// Serial is the certificate's serial number in hexadecimal.
	Serial   string
	NotAfter time.Time
}

// Enroll generates a key, sends a certificate signing request with the
// token to the control plane over TLS pinned to the token's CA root, checks
// the certificate it returns and writes the identity into cfg.DataDir (see
// LoadIdentity). The private key never leaves this process except into
// DataDir/agent.key.
func Enroll(ctx context.Context, cfg Config) (*Result, error) {
	token, server, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkNotEnrolled(cfg.DataDir); err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	log := cfg.Logger.With().Str(fieldServer, server.base).Str(fieldAgentID, token.AgentID()).Logger()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate agent key: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: requestedName(cfg.Name)},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate signing request: %w", err)
	}

	root, err := pki.FetchPinnedRoot(ctx, server.addr, server.host, token.RootFingerprint())
	if err != nil {
		return nil, err
	}
	fingerprint := token.RootFingerprint()
	log.Debug().Str(fieldRootFingerprint, hex.EncodeToString(fingerprint[:])).Msg("CA root matches the token")

	resp, err := callEnroll(ctx, server, root, cfg.Token, csr)
	if err != nil {
		return nil, err
	}
	chain, err := checkResponse(resp, token, root, key)
	if err != nil {
		return nil, err
	}

	id := identityJSON{
		AgentID:         resp.GetAgentId(),
		AgentName:       resp.GetAgentName(),
		ServerURL:       server.base,
		BridgeAddresses: resp.GetBridgeAddresses(),
	}
	if err := writeIdentity(cfg.DataDir, key, chain, root, id); err != nil {
		return nil, err
	}

	leaf := chain[0]
	result := &Result{
		AgentID:         id.AgentID,
		AgentName:       id.AgentName,
		ServerURL:       id.ServerURL,
		BridgeAddresses: id.BridgeAddresses,
		Serial:          leaf.SerialNumber.Text(16),
		NotAfter:        leaf.NotAfter,
	}
	log.Info().
		Str(fieldAgentName, result.AgentName).
		Str(fieldSerial, result.Serial).
		Time(fieldNotAfter, result.NotAfter).
		Msg("agent enrolled")
	return result, nil
}

// serverAddress is the control plane endpoint taken apart for dialing.
type serverAddress struct {
	base string // URL without trailing slash, the Connect base URL
	addr string // host:port to dial
	host string // name or IP the server certificate must carry
}

func checkConfig(cfg Config) (pki.BootstrapToken, serverAddress, error) {
	token, err := pki.ParseBootstrapToken(cfg.Token)
	if err != nil {
		return pki.BootstrapToken{}, serverAddress{}, fmt.Errorf("read bootstrap token: %w", err)
	}
	server, err := parseServerURL(cfg.ServerURL)
	if err != nil {
		return pki.BootstrapToken{}, serverAddress{}, err
	}
	if cfg.DataDir == "" {
		return pki.BootstrapToken{}, serverAddress{}, errors.New("data directory is required")
	}
	if cfg.Name != "" {
		if err := pki.CheckAgentName(cfg.Name); err != nil {
			return pki.BootstrapToken{}, serverAddress{}, err
		}
	}
	if cfg.Timeout < 0 {
		return pki.BootstrapToken{}, serverAddress{}, fmt.Errorf("timeout %s is negative", cfg.Timeout)
	}
	return token, server, nil
}

func parseServerURL(raw string) (serverAddress, error) {
	if raw == "" {
		return serverAddress{}, errors.New("server URL is required, for example https://decnet.example.com:8443")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return serverAddress{}, fmt.Errorf("parse server URL: %w", err)
	}
	switch {
	case u.Scheme != "https":
		return serverAddress{}, fmt.Errorf("server URL %q must start with https://", raw)
	case u.Hostname() == "":
		return serverAddress{}, fmt.Errorf("server URL %q has no host", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return serverAddress{}, fmt.Errorf("server URL %q must not contain user info, a query or a fragment", raw)
	}

	port := u.Port()
	if port == "" {
		port = "443"
	}
	return serverAddress{
		base: strings.TrimSuffix(u.String(), "/"),
		addr: net.JoinHostPort(u.Hostname(), port),
		host: u.Hostname(),
	}, nil
}

// requestedName returns the name to put in the CSR. An invalid host name
// is left out, so the control plane falls back to the agent id.
func requestedName(name string) string {
	if name != "" {
		return name
	}
	host, err := os.Hostname()
	if err != nil || pki.CheckAgentName(host) != nil {
		return ""
	}
	return host
}

// callEnroll sends the request over a connection that trusts only root.
func callEnroll(ctx context.Context, server serverAddress, root *x509.Certificate, token string, csr []byte) (*fleetv1.EnrollResponse, error) {
	pool := x509.NewCertPool()
	pool.AddCert(root)
	transport := &http.Transport{
		TLSClientConfig:   pki.AgentTLSConfig(nil, pool, server.host, nil),
		ForceAttemptHTTP2: true,
	}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport}

	client := fleetv1connect.NewEnrollmentServiceClient(httpClient, server.base)
	resp, err := client.Enroll(ctx, connect.NewRequest(&fleetv1.EnrollRequest{Token: token, Csr: csr}))
	if err != nil {
		return nil, fmt.Errorf("enroll with %s: %w", server.base, pki.ExplainNameMismatch(err))
	}
	return resp.Msg, nil
}

// checkResponse verifies that the response holds a certificate for this
// agent and key that chains to the pinned root, and returns the chain
// without the root.
func checkResponse(resp *fleetv1.EnrollResponse, token pki.BootstrapToken, root *x509.Certificate, key *ecdsa.PrivateKey) ([]*x509.Certificate, error) {
	if resp.GetAgentId() != token.AgentID() {
		return nil, fmt.Errorf("check enrollment response: agent id %q, want %q from the token", resp.GetAgentId(), token.AgentID())
	}
	if !bytes.Equal(resp.GetRootCertificate(), root.Raw) {
		return nil, errors.New("check enrollment response: root certificate differs from the pinned root")
	}
	if len(resp.GetCertificateChain()) == 0 {
		return nil, errors.New("check enrollment response: certificate chain is empty")
	}
	for _, addr := range resp.GetBridgeAddresses() {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("check enrollment response: bridge address %q: %w", addr, err)
		}
	}

	chain := make([]*x509.Certificate, 0, len(resp.GetCertificateChain()))
	for i, der := range resp.GetCertificateChain() {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("check enrollment response: parse certificate %d: %w", i, err)
		}
		chain = append(chain, cert)
	}
	leaf := chain[0]

	if err := verifyChain(chain, root, time.Time{}); err != nil {
		return nil, fmt.Errorf("check enrollment response: %w", err)
	}
	if !key.PublicKey.Equal(leaf.PublicKey) {
		return nil, errors.New("check enrollment response: certificate is for another public key")
	}
	id, err := pki.AgentIDFromCertificate(leaf)
	if err != nil {
		return nil, fmt.Errorf("check enrollment response: %w", err)
	}
	if id != token.AgentID() {
		return nil, fmt.Errorf("check enrollment response: certificate names agent %s, want %s", id, token.AgentID())
	}
	return chain, nil
}

// verifyChain checks that chain[0] is a client certificate that chains to
// root through the rest of chain, at the given time (zero means now).
func verifyChain(chain []*x509.Certificate, root *x509.Certificate, at time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(root)
	intermediates := x509.NewCertPool()
	for _, cert := range chain[1:] {
		intermediates.AddCert(cert)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("verify agent certificate: %w", err)
	}
	return nil
}
