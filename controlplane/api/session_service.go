package api

import (
	"context"
	"errors"
	"fmt"
	"math"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/identity"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

type sessionService struct{ *API }

var _ apiv1connect.SessionServiceHandler = (*sessionService)(nil)

// ListSessionRecordings returns recordings without their content, newest
// first.
func (s *sessionService) ListSessionRecordings(ctx context.Context, req *connect.Request[apiv1.ListSessionRecordingsRequest]) (*connect.Response[apiv1.ListSessionRecordingsResponse], error) {
	procedure := req.Spec().Procedure
	attackerID, err := normalizeUUID(req.Msg.GetAttackerId(), "attacker_id")
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	page, err := s.store.ListRecordings(ctx, store.RecordingQuery{
		AttackerID: attackerID,
		PageSize:   int(req.Msg.GetPageSize()),
		PageToken:  req.Msg.GetPageToken(),
	})
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.ListSessionRecordingsResponse{Recordings: page.Items, NextPageToken: page.NextPageToken}), nil
}

// GetSessionRecording returns one recording and its asciicast content
// for replay.
func (s *sessionService) GetSessionRecording(ctx context.Context, req *connect.Request[apiv1.GetSessionRecordingRequest]) (*connect.Response[apiv1.GetSessionRecordingResponse], error) {
	procedure := req.Spec().Procedure
	if req.Msg.GetSessionId() == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("session_id is required"))
	}
	rec, cast, err := s.store.GetRecording(ctx, req.Msg.GetSessionId())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	resp := &apiv1.GetSessionRecordingResponse{Recording: rec, Cast: cast}
	if k, err := identity.KeystrokesFromCast(cast); err == nil {
		resp.Keystrokes = keystrokesMessage(k)
	}
	return connect.NewResponse(resp), nil
}

func keystrokesMessage(k identity.Keystrokes) *apiv1.Keystrokes {
	return &apiv1.Keystrokes{
		Keys: clampUint32(k.Keys), Pastes: clampUint32(k.Pastes), PasteChars: clampUint32(k.PasteChars),
		ThinkPauses: clampUint32(k.ThinkPauses), Intervals: clampUint32(k.Intervals),
		MeanLogMs: k.MeanLog, StdLogMs: k.StdLog,
		P25Ms: k.P25MS, MedianMs: k.MedianMS, P75Ms: k.P75MS, P90Ms: k.P90MS,
		DigraphSimhash: fmt.Sprintf("%016x", k.DigraphSimHash),
	}
}

func clampUint32(n int) uint32 {
	return uint32(min(max(n, 0), math.MaxUint32)) //nolint:gosec // G115: clamped
}
