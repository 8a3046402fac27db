package api

import (
	"context"
	"errors"
	"net/netip"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// streamBuffer is how many events a stream may lag behind ingest before the
// fan-out drops it: four bridge batches, a few megabytes at most. A
// dashboard on a busy control plane can stall for a second, and a dropped
// stream makes it reconnect and reload pages, which costs more than
// holding the events.
const streamBuffer = 2048

// errStreamDropped is sent to a stream client that fell behind.
var errStreamDropped = connect.NewError(connect.CodeResourceExhausted,
	errors.New("stream dropped because the client fell behind; reconnect and list events since the last one received"))

type eventService struct{ *API }

var _ apiv1connect.EventServiceHandler = (*eventService)(nil)

// ListEvents returns stored events, newest first.
func (s *eventService) ListEvents(ctx context.Context, req *connect.Request[apiv1.ListEventsRequest]) (*connect.Response[apiv1.ListEventsResponse], error) {
	procedure := req.Spec().Procedure
	f, err := normalizeFilter(req.Msg.GetFilter())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}

	page, err := s.store.ListEvents(ctx, store.EventQuery{
		Filter:    f,
		PageSize:  int(req.Msg.GetPageSize()),
		PageToken: req.Msg.GetPageToken(),
	})
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	mask := masksSecrets(ctx)
	for i, ev := range page.Items {
		page.Items[i] = maskEvent(ev, mask)
	}
	return connect.NewResponse(&apiv1.ListEventsResponse{Events: page.Items, NextPageToken: page.NextPageToken}), nil
}

// StreamEvents sends each event that matches the filter as it is stored,
// until the client goes away or falls too far behind.
func (s *eventService) StreamEvents(ctx context.Context, req *connect.Request[apiv1.StreamEventsRequest], stream *connect.ServerStream[apiv1.StreamEventsResponse]) error {
	mask := masksSecrets(ctx)
	procedure := req.Spec().Procedure
	f, err := normalizeFilter(req.Msg.GetFilter())
	if err != nil {
		return s.toConnectError(ctx, procedure, err)
	}

	sess, _ := auth.SessionFromContext(ctx)
	release, ok := s.streams.acquire(sess.Username)
	if !ok {
		return errTooManyStreams
	}
	defer release()

	events, cancel := s.hub.Subscribe(streamBuffer)
	defer cancel()

	// Send the response headers now: clients wait for them before the
	// call returns, and once it returns the subscription is in place, so
	// no event stored after that is missed.
	if err := stream.Send(nil); err != nil {
		s.log.Debug().Err(err).Str(fieldProcedure, procedure).Msg("stream send failed")
		return nil
	}

	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return s.toConnectError(ctx, procedure, errStreamDropped)
			}
			if !matches(f, ev) {
				continue
			}
			if err := stream.Send(&apiv1.StreamEventsResponse{Event: maskEvent(ev, mask)}); err != nil {
				// The client went away, so no error can reach it.
				s.log.Debug().Err(err).Str(fieldProcedure, procedure).Msg("stream send failed")
				return nil
			}
		}
	}
}

// normalizeFilter checks the filter's ids and addresses and returns a copy
// in the stored forms (lowercase UUIDs, canonical addresses).
func normalizeFilter(f *apiv1.EventFilter) (*apiv1.EventFilter, error) {
	if f == nil {
		return nil, nil
	}
	out := &apiv1.EventFilter{
		Kind:    f.GetKind(),
		Service: f.GetService(),
		Decky:   f.GetDecky(),
		Since:   f.GetSince(),
		Until:   f.GetUntil(),
	}
	var err error
	if out.AgentId, err = normalizeUUID(f.GetAgentId(), "filter.agent_id"); err != nil {
		return nil, err
	}
	if out.AttackerId, err = normalizeUUID(f.GetAttackerId(), "filter.attacker_id"); err != nil {
		return nil, err
	}
	if out.SourceAddress, err = normalizeIP(f.GetSourceAddress(), "filter.source_address"); err != nil {
		return nil, err
	}
	if out.Since != nil && out.Since.CheckValid() != nil {
		return nil, invalidArgument("filter.since is not a valid timestamp")
	}
	if out.Until != nil && out.Until.CheckValid() != nil {
		return nil, invalidArgument("filter.until is not a valid timestamp")
	}
	return out, nil
}

// matches reports whether a stored event passes f; a nil filter and empty
// fields match everything.
func matches(f *apiv1.EventFilter, se *apiv1.StoredEvent) bool {
	if f == nil {
		return true
	}
	ev := se.GetEvent()
	switch {
	case f.GetKind() != "" && f.GetKind() != ev.GetKind():
		return false
	case f.GetService() != "" && f.GetService() != ev.GetService():
		return false
	case f.GetDecky() != "" && f.GetDecky() != ev.GetDecky():
		return false
	case f.GetAgentId() != "" && f.GetAgentId() != ev.GetAgentId():
		return false
	case f.GetAttackerId() != "" && f.GetAttackerId() != se.GetAttackerId():
		return false
	case f.GetSince() != nil && ev.GetTime().AsTime().Before(f.GetSince().AsTime()):
		return false
	case f.GetUntil() != nil && !ev.GetTime().AsTime().Before(f.GetUntil().AsTime()):
		return false
	case f.GetSourceAddress() != "":
		addr, err := netip.ParseAddr(ev.GetSource().GetAddress())
		return err == nil && addr.Unmap().WithZone("").String() == f.GetSourceAddress()
	}
	return true
}

// normalizeUUID returns id in canonical form, "" for "", or an
// InvalidArgument error naming field.
func normalizeUUID(id, field string) (string, error) {
	if id == "" {
		return "", nil
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", invalidArgument(field + " must be a UUID")
	}
	return u.String(), nil
}

// normalizeIP returns addr in canonical form, "" for "", or an
// InvalidArgument error naming field.
func normalizeIP(addr, field string) (string, error) {
	if addr == "" {
		return "", nil
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "", invalidArgument(field + " must be an IP address")
	}
	return ip.Unmap().WithZone("").String(), nil
}

// masksSecrets reports whether the caller's role gets captured secret
// values masked: viewers see everything else.
func masksSecrets(ctx context.Context) bool {
	sess, _ := auth.SessionFromContext(ctx)
	return !auth.Allows(sess.Role, apiv1.Access_ACCESS_ANALYST)
}

// maskEvent returns ev without the secret value of its authentication
// attempt when mask is set. Stored events are shared between streams, so
// a masked event is a copy.
func maskEvent(ev *apiv1.StoredEvent, mask bool) *apiv1.StoredEvent {
	if !mask || len(ev.GetEvent().GetAuthAttempt().GetSecret()) == 0 {
		return ev
	}
	out := proto.Clone(ev).(*apiv1.StoredEvent)
	out.GetEvent().GetAuthAttempt().Secret = nil
	return out
}
