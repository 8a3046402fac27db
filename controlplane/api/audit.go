package api

import (
	"context"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// auditWriteTimeout bounds the write of one audit entry after the call.
const auditWriteTimeout = 5 * time.Second

// maxAuditRequestBytes caps the request JSON kept per entry.
const maxAuditRequestBytes = 8 << 10

// auditInterceptor records every call of a procedure that may change
// something (any procedure not declared idempotency_level =
// NO_SIDE_EFFECTS) made with a session, after the call, with its outcome.
// It runs after the auth interceptor, so the session is known.
type auditInterceptor struct{ api *API }

func (i auditInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		resp, err := next(ctx, req)
		if !req.Spec().IsClient && !readOnly(req.Spec()) {
			i.api.audit(ctx, req.Spec().Procedure, req.Peer().Addr, req.Any(), err)
		}
		return resp, err
	}
}

func (i auditInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler passes streams through: the only stream reads.
func (i auditInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// readOnly reports whether the procedure declares it changes nothing.
func readOnly(spec connect.Spec) bool {
	return spec.IdempotencyLevel == connect.IdempotencyNoSideEffects
}

// audit writes one entry. A call without a session (a failed login, a
// call refused as unauthenticated) changed nothing and is not recorded;
// failed logins are in the service log.
func (a *API) audit(ctx context.Context, procedure, source string, msg any, callErr error) {
	sess, ok := auth.SessionFromContext(ctx)
	if !ok {
		return
	}
	id, err := uuid.NewV7()
	if err != nil {
		a.log.Error().Err(err).Msg("audit entry lost: no id")
		return
	}
	outcome := "ok"
	if callErr != nil {
		outcome = connect.CodeOf(callErr).String()
	}
	entry := store.AuditEntry{
		ID:        id.String(),
		Time:      a.now().UTC(),
		Username:  sess.Username,
		Role:      auth.RoleName(sess.Role),
		Procedure: procedure,
		Request:   redactedJSON(msg),
		Outcome:   outcome,
		Source:    source,
	}
	// The caller's context may end with the call; the entry must not.
	writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditWriteTimeout)
	defer cancel()
	if err := a.store.AppendAudit(writeCtx, entry); err != nil {
		a.log.Error().Err(err).Str(fieldProcedure, procedure).Str(fieldUser, sess.Username).Msg("audit entry lost")
	}
}

// redactedJSON returns msg as JSON with every field marked debug_redact
// cleared, at any depth, capped in size.
func redactedJSON(msg any) string {
	m, ok := msg.(proto.Message)
	if !ok {
		return "{}"
	}
	clone := proto.Clone(m)
	redact(clone.ProtoReflect())
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(clone)
	if err != nil {
		return "{}"
	}
	if len(data) > maxAuditRequestBytes {
		return string(data[:maxAuditRequestBytes]) + "…"
	}
	return string(data)
}

func redact(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts.GetDebugRedact() {
			m.Clear(fd)
			return true
		}
		switch {
		case fd.IsList() && fd.Message() != nil:
			list := v.List()
			for i := range list.Len() {
				redact(list.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				redact(mv.Message())
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			redact(v.Message())
		}
		return true
	})
}

type auditService struct{ *API }

var _ apiv1connect.AuditServiceHandler = (*auditService)(nil)

// ListAuditLog returns audit entries newest first.
func (s *auditService) ListAuditLog(ctx context.Context, req *connect.Request[apiv1.ListAuditLogRequest]) (*connect.Response[apiv1.ListAuditLogResponse], error) {
	page, err := s.store.ListAudit(ctx, store.AuditQuery{
		Username:  req.Msg.GetUsername(),
		PageSize:  int(req.Msg.GetPageSize()),
		PageToken: req.Msg.GetPageToken(),
	})
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	out := make([]*apiv1.AuditEntry, 0, len(page.Items))
	for _, e := range page.Items {
		out = append(out, &apiv1.AuditEntry{
			Id: e.ID, Time: timestamppb.New(e.Time), Username: e.Username, Role: auth.ParseRole(e.Role),
			Procedure: e.Procedure, Request: e.Request, Outcome: e.Outcome, Source: e.Source,
		})
	}
	return connect.NewResponse(&apiv1.ListAuditLogResponse{Entries: out, NextPageToken: page.NextPageToken}), nil
}
