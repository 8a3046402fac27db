package api

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/webhooks"
)

// Log field keys.
const (
	fieldProcedure = "procedure"
	fieldCode      = "code"
	fieldUser      = "username"
	fieldAgentID   = "agent_id"
	fieldRevokedAt = "revoked_at"
	// fieldConfigVersion is a desired configuration version.
	fieldConfigVersion = "config_version"
	// fieldOutput names a SIEM export output.
	fieldOutput = "output"
)

// toConnectError maps an internal error to the Connect code and message
// returned to the client. It is the one place handlers log a failure:
// internal errors at error level with their cause, which is not returned,
// and client errors at debug level.
func (a *API) toConnectError(ctx context.Context, procedure string, err error) error {
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		// Built by a handler for the client already.
		a.log.Debug().Str(fieldProcedure, procedure).Stringer(fieldCode, cerr.Code()).Msg("request rejected")
		return cerr
	}

	code, msg := classify(err)
	if code == connect.CodeInternal {
		a.log.Error().Err(err).Str(fieldProcedure, procedure).Str(fieldUser, username(ctx)).Msg("request failed")
	} else {
		a.log.Debug().Err(err).Str(fieldProcedure, procedure).Stringer(fieldCode, code).Msg("request rejected")
	}
	return connect.NewError(code, errors.New(msg))
}

// classify returns the code and client-safe message for err.
func classify(err error) (connect.Code, string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return connect.CodeNotFound, "not found"
	case errors.Is(err, store.ErrInvalidPageToken):
		return connect.CodeInvalidArgument, "invalid page token: pass next_page_token from a previous response"
	case errors.Is(err, store.ErrExists):
		return connect.CodeAlreadyExists, "already exists"
	case errors.Is(err, auth.ErrInvalidCredentials):
		return connect.CodeUnauthenticated, auth.ErrInvalidCredentials.Error()
	case errors.Is(err, auth.ErrUnauthenticated):
		return connect.CodeUnauthenticated, auth.ErrUnauthenticated.Error()
	case errors.Is(err, auth.ErrWeakPassword), errors.Is(err, auth.ErrInvalidUsername),
		errors.Is(err, auth.ErrInvalidRole), errors.Is(err, auth.ErrDeleteSelf),
		errors.Is(err, auth.ErrTokenRoleTooHigh), errors.Is(err, auth.ErrTokenTTL), errors.Is(err, auth.ErrTokenName),
		errors.Is(err, auth.ErrInvalidScope), errors.Is(err, auth.ErrTokenScopeTooWide):
		return connect.CodeInvalidArgument, err.Error()
	case errors.Is(err, auth.ErrSSOUser),
		errors.Is(err, auth.ErrTOTPRequired), errors.Is(err, auth.ErrTOTPNotPending), errors.Is(err, auth.ErrTOTPNotEnabled),
		errors.Is(err, auth.ErrTOTPWithAPIToken):
		return connect.CodeFailedPrecondition, err.Error()
	case errors.Is(err, auth.ErrTOTPCode):
		return connect.CodeInvalidArgument, err.Error()
	case errors.Is(err, webhooks.ErrInvalid):
		return connect.CodeInvalidArgument, err.Error()
	case errors.Is(err, webhooks.ErrQueueFull):
		return connect.CodeResourceExhausted, "the webhook queue is full; retry later"
	case errors.Is(err, auth.ErrRateLimited):
		return connect.CodeResourceExhausted, "too many login attempts; retry in a minute"
	case errors.Is(err, context.Canceled):
		return connect.CodeCanceled, "request canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return connect.CodeDeadlineExceeded, "deadline exceeded"
	default:
		return connect.CodeInternal, "internal error"
	}
}

// invalidArgument returns the error for a malformed request field.
func invalidArgument(msg string) *connect.Error {
	return connect.NewError(connect.CodeInvalidArgument, errors.New(msg))
}

func username(ctx context.Context) string {
	s, _ := auth.SessionFromContext(ctx)
	return s.Username
}
