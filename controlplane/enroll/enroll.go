// Package enroll serves the EnrollmentService: an agent trades a bootstrap
// token and a certificate signing request for an agent certificate.
package enroll

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/store"
	fleetv1 "github.com/decnet/decnet/gen/decnet/fleet/v1"
	"github.com/decnet/decnet/gen/decnet/fleet/v1/fleetv1connect"
	"github.com/decnet/decnet/pki"
)

// DefaultCertLifetime is the lifetime of an agent certificate when
// Config.CertLifetime is zero. Agents renew over the bridge at about two
// thirds of it; one that stays offline past the expiry must be enrolled
// again.
const DefaultCertLifetime = 24 * time.Hour

// maxRequestBytes bounds an enrollment request, which anyone who reaches
// the endpoint can send. A token is about 110 bytes and a CSR under 1 KiB.
const maxRequestBytes = 64 << 10

// Log field keys.
const (
	fieldAgentID   = "agent_id"
	fieldAgentName = "agent_name"
	fieldSerial    = "serial"
	fieldNotAfter  = "not_after"
	fieldPeer      = "peer"
	fieldCode      = "code"
)

// Client-facing messages. They never echo the token.
const (
	msgTokenInvalid = "bootstrap token invalid, expired or already used"
	msgOtherCA      = "token was created for another CA"
	msgInternal     = "enrollment failed on the server; see the server log"
)

// Config configures a Service.
type Config struct {
	// CA signs agent certificates and is the root tokens must name.
	CA *pki.CA
	// Tokens consumes bootstrap tokens and records agents.
	Tokens TokenStore
	// BridgeAddresses returns the addresses (host:port, UDP) agents dial
	// for the bridge, in order of preference. It is called per enrollment,
	// so a change needs no restart. Nil means none.
	BridgeAddresses func() []string
	// CertLifetime is the lifetime of issued agent certificates; zero
	// means DefaultCertLifetime.
	CertLifetime time.Duration
	// Now is the clock for token expiry and the enrollment time; nil
	// means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Service implements fleetv1connect.EnrollmentServiceHandler.
type Service struct {
	ca              *pki.CA
	tokens          TokenStore
	bridgeAddresses func() []string
	certLifetime    time.Duration
	now             func() time.Time
	log             zerolog.Logger
}

var _ fleetv1connect.EnrollmentServiceHandler = (*Service)(nil)

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.CA == nil {
		return nil, errors.New("create enrollment service: CA is required")
	}
	if cfg.Tokens == nil {
		return nil, errors.New("create enrollment service: token store is required")
	}
	if cfg.CertLifetime < 0 {
		return nil, fmt.Errorf("create enrollment service: certificate lifetime %s is negative", cfg.CertLifetime)
	}

	s := &Service{
		ca:              cfg.CA,
		tokens:          cfg.Tokens,
		bridgeAddresses: cfg.BridgeAddresses,
		certLifetime:    cfg.CertLifetime,
		now:             cfg.Now,
		log:             cfg.Logger.With().Str("component", "enroll").Logger(),
	}
	if s.bridgeAddresses == nil {
		s.bridgeAddresses = func() []string { return nil }
	}
	if s.certLifetime == 0 {
		s.certLifetime = DefaultCertLifetime
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Handler returns the route pattern and handler to mount on the agent
// endpoint's mux.
func (s *Service) Handler() (string, http.Handler) {
	return fleetv1connect.NewEnrollmentServiceHandler(s, connect.WithReadMaxBytes(maxRequestBytes))
}

// Enroll checks the token, consumes it and signs the request's public key.
// The CSR and the token's CA are checked before the token is consumed, so
// a request that cannot succeed does not use the token up.
func (s *Service) Enroll(ctx context.Context, req *connect.Request[fleetv1.EnrollRequest]) (*connect.Response[fleetv1.EnrollResponse], error) {
	log := s.log.With().Str(fieldPeer, req.Peer().Addr).Logger()

	token, err := pki.ParseBootstrapToken(req.Msg.GetToken())
	if err != nil {
		return nil, reject(log, connect.CodeInvalidArgument, err.Error(), err)
	}
	log = log.With().Str(fieldAgentID, token.AgentID()).Logger()

	csr, err := pki.ParseAgentCSR(req.Msg.GetCsr())
	if err != nil {
		return nil, reject(log, connect.CodeInvalidArgument, err.Error(), err)
	}
	if token.RootFingerprint() != s.ca.RootFingerprint() {
		tokenFP, ownFP := token.RootFingerprint(), s.ca.RootFingerprint()
		msg := fmt.Sprintf("%s: the token names root %s, this server's root is %s",
			msgOtherCA, hex.EncodeToString(tokenFP[:]), hex.EncodeToString(ownFP[:]))
		return nil, reject(log, connect.CodeFailedPrecondition, msg, errors.New(msg))
	}

	now := s.now()
	stored, err := s.tokens.ConsumeToken(ctx, token.Hash(), now)
	switch {
	case errors.Is(err, store.ErrTokenInvalid):
		return nil, reject(log, connect.CodePermissionDenied, msgTokenInvalid, err)
	case err != nil:
		return nil, reject(log, connect.CodeInternal, msgInternal, fmt.Errorf("consume bootstrap token: %w", err))
	}
	if stored.AgentID != token.AgentID() {
		// The secret belongs to another agent than the id encoded next to
		// it: the token was edited. The caller learns no more than for an
		// unknown token.
		cause := fmt.Errorf("token secret belongs to agent %s, not to the agent id in the token", stored.AgentID)
		return nil, reject(log, connect.CodePermissionDenied, msgTokenInvalid, cause)
	}

	name := agentName(stored, csr.Subject.CommonName)
	cert, err := s.ca.SignAgentCSR(req.Msg.GetCsr(), stored.AgentID, name, s.certLifetime)
	if err != nil {
		return nil, reject(log, connect.CodeInternal, msgInternal, err)
	}
	serial := cert.SerialNumber.Text(16)

	// NOTE: the token is used up at this point. If recording the agent
	// fails, the operator must create a new token.
	err = s.tokens.UpsertAgent(ctx, store.Agent{
		ID:                   stored.AgentID,
		Name:                 name,
		EnrolledAt:           now,
		CertificateSerial:    serial,
		CertificateExpiresAt: cert.NotAfter,
		Labels:               nonNil(stored.Labels),
	})
	if err != nil {
		return nil, reject(log, connect.CodeInternal, msgInternal, fmt.Errorf("record enrolled agent: %w", err))
	}

	log.Info().
		Str(fieldAgentName, name).
		Str(fieldSerial, serial).
		Time(fieldNotAfter, cert.NotAfter).
		Msg("agent enrolled")

	return connect.NewResponse(&fleetv1.EnrollResponse{
		AgentId:          stored.AgentID,
		AgentName:        name,
		CertificateChain: chainDER(cert, s.ca.IssuerChain()),
		RootCertificate:  s.ca.Root().Raw,
		BridgeAddresses:  slices.Clone(s.bridgeAddresses()),
	}), nil
}

// nonNil returns labels, or an empty map for none: at enrollment the
// token's labels replace whatever an earlier record of the id held.
func nonNil(labels map[string]string) map[string]string {
	if labels == nil {
		return map[string]string{}
	}
	return labels
}

// chainDER returns the leaf and the intermediates above it, which an
// agent that trusts only the root needs to present and verify the leaf.
func chainDER(leaf *x509.Certificate, issuers []*x509.Certificate) [][]byte {
	out := [][]byte{leaf.Raw}
	for _, c := range issuers {
		out = append(out, c.Raw)
	}
	return out
}

// agentName picks the certificate's common name: the name given when the
// token was created, else the one the agent requested, else the agent id.
func agentName(token store.Token, requested string) string {
	for _, name := range []string{token.AgentName, requested} {
		if pki.CheckAgentName(name) == nil {
			return name
		}
	}
	return token.AgentID
}

// reject logs the internal cause once and returns the error for the
// client, whose message is only public.
func reject(log zerolog.Logger, code connect.Code, public string, cause error) error {
	level := zerolog.WarnLevel
	if code == connect.CodeInternal {
		level = zerolog.ErrorLevel
	}
	log.WithLevel(level).Err(cause).Str(fieldCode, code.String()).Msg("enrollment rejected")
	return connect.NewError(code, errors.New(public))
}
