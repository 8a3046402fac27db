package api

import (
	"context"
	"errors"
	"net"
	"net/url"
	"time"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/download"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/tokens"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// TokenServiceConfig enables the TokenService.
type TokenServiceConfig struct {
	// RootFingerprint is the SHA-256 of the CA root new tokens pin.
	RootFingerprint [32]byte
	// EnrollURL returns the enrollment URL sensors dial, https://host:port,
	// for the install command. Nil, or an empty or wildcard result, leaves
	// the command out.
	EnrollURL func() string
}

type tokenService struct{ *API }

var _ apiv1connect.TokenServiceHandler = (*tokenService)(nil)

// CreateToken stores a new bootstrap token and returns it with the install
// command. Neither is logged.
func (s *tokenService) CreateToken(ctx context.Context, req *connect.Request[apiv1.CreateTokenRequest]) (*connect.Response[apiv1.CreateTokenResponse], error) {
	var ttl time.Duration
	if d := req.Msg.GetTtl(); d != nil {
		if err := d.CheckValid(); err != nil {
			return nil, s.toConnectError(ctx, req.Spec().Procedure, invalidArgument("ttl is not a valid duration"))
		}
		ttl = d.AsDuration()
		if ttl <= 0 {
			return nil, s.toConnectError(ctx, req.Spec().Procedure, invalidArgument("ttl must be positive; leave it unset for the default"))
		}
	}

	issued, err := tokens.Create(ctx, s.store, s.tokens.RootFingerprint, tokens.Request{
		AgentName: req.Msg.GetAgentName(),
		TTL:       ttl,
		Labels:    req.Msg.GetLabels(),
	}, s.now())
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, tokenRequestError(err))
	}
	s.log.Info().Str(fieldAgentID, issued.AgentID).Str(fieldUser, username(ctx)).Msg("bootstrap token created")

	resp := &apiv1.CreateTokenResponse{
		Token: issued.Token,
		Info: tokenInfo(store.Token{
			AgentID:   issued.AgentID,
			AgentName: issued.AgentName,
			Labels:    issued.Labels,
			CreatedAt: issued.CreatedAt,
			ExpiresAt: issued.ExpiresAt,
		}, s.now()),
	}
	if u := s.enrollURL(); u != "" {
		// An unusable URL only leaves the command out: the token is
		// created either way.
		if line, err := download.InstallCommand(u, s.tokens.RootFingerprint, issued.Token); err == nil {
			resp.InstallCommand = line
		}
	}
	return connect.NewResponse(resp), nil
}

// enrollURL returns the configured enrollment URL, or "" when there is
// none or its host is a wildcard address no sensor can dial.
func (s *tokenService) enrollURL() string {
	if s.tokens.EnrollURL == nil {
		return ""
	}
	raw := s.tokens.EnrollURL()
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		return ""
	}
	return raw
}

// ListTokens returns every token without its secret; the store keeps only
// hashes, and tokenInfo copies no hash either.
func (s *tokenService) ListTokens(ctx context.Context, req *connect.Request[apiv1.ListTokensRequest]) (*connect.Response[apiv1.ListTokensResponse], error) {
	list, err := s.store.ListTokens(ctx)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	now := s.now()
	out := make([]*apiv1.TokenInfo, 0, len(list))
	for _, t := range list {
		out = append(out, tokenInfo(t, now))
	}
	return connect.NewResponse(&apiv1.ListTokensResponse{Tokens: out}), nil
}

// RevokeToken revokes the token of an agent id. Revoking again succeeds
// and keeps the first time.
func (s *tokenService) RevokeToken(ctx context.Context, req *connect.Request[apiv1.RevokeTokenRequest]) (*connect.Response[apiv1.RevokeTokenResponse], error) {
	id := req.Msg.GetAgentId()
	if id == "" {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, invalidArgument("agent_id is required"))
	}
	t, err := tokens.Revoke(ctx, s.store, id, s.now())
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, tokenRequestError(err))
	}
	s.log.Info().Str(fieldAgentID, t.AgentID).Str(fieldUser, username(ctx)).Time(fieldRevokedAt, t.RevokedAt).Msg("bootstrap token revoked")
	return connect.NewResponse(&apiv1.RevokeTokenResponse{Token: tokenInfo(t, s.now())}), nil
}

// tokenRequestError turns a request the caller must correct into
// InvalidArgument with its message, which names only what the caller sent.
func tokenRequestError(err error) error {
	if errors.Is(err, tokens.ErrInvalid) {
		return invalidArgument(err.Error())
	}
	return err
}

func tokenInfo(t store.Token, now time.Time) *apiv1.TokenInfo {
	return &apiv1.TokenInfo{
		AgentId:   t.AgentID,
		AgentName: t.AgentName,
		Labels:    t.Labels,
		CreatedAt: timestampOrNil(t.CreatedAt),
		ExpiresAt: timestampOrNil(t.ExpiresAt),
		UsedAt:    timestampOrNil(t.UsedAt),
		RevokedAt: timestampOrNil(t.RevokedAt),
		State:     tokenState(tokens.StateOf(t, now)),
	}
}

func tokenState(s tokens.State) apiv1.TokenState {
	switch s {
	case tokens.StateValid:
		return apiv1.TokenState_TOKEN_STATE_VALID
	case tokens.StateUsed:
		return apiv1.TokenState_TOKEN_STATE_USED
	case tokens.StateExpired:
		return apiv1.TokenState_TOKEN_STATE_EXPIRED
	case tokens.StateRevoked:
		return apiv1.TokenState_TOKEN_STATE_REVOKED
	default:
		return apiv1.TokenState_TOKEN_STATE_UNSPECIFIED
	}
}
