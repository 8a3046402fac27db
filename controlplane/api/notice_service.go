package api

import (
	"context"
	"errors"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/decnet/decnet/controlplane/auth"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// noticeBuffer is how many notices may wait for one slow client before
// its stream ends.
const noticeBuffer = 256

type noticeService struct{ *API }

var _ apiv1connect.NoticeServiceHandler = (*noticeService)(nil)

// StreamNotices sends the notices matching the request's pattern.
func (s *noticeService) StreamNotices(ctx context.Context, req *connect.Request[apiv1.StreamNoticesRequest], stream *connect.ServerStream[apiv1.StreamNoticesResponse]) error {
	procedure := req.Spec().Procedure
	if s.notices == nil {
		return connect.NewError(connect.CodeUnimplemented, errors.New("this server publishes no notices"))
	}
	pattern := req.Msg.GetPattern()
	if pattern == "" {
		pattern = ">"
	}
	mask := masksSecrets(ctx)

	sess, _ := auth.SessionFromContext(ctx)
	release, ok := s.streams.acquire(sess.Username)
	if !ok {
		return errTooManyStreams
	}
	defer release()

	// The publisher calls the handler on its own goroutine and must not
	// wait, so a full buffer closes the stream instead.
	// Several components publish, each on its own goroutine.
	queue := make(chan *apiv1.Notice, noticeBuffer)
	overflow := make(chan struct{})
	var closeOverflow sync.Once
	unsubscribe, err := s.notices.Subscribe(pattern, func(_ string, n *apiv1.Notice) {
		select {
		case queue <- n:
		default:
			closeOverflow.Do(func() { close(overflow) })
		}
	})
	if err != nil {
		return invalidArgument("pattern: " + err.Error())
	}
	defer unsubscribe()

	if err := stream.Send(nil); err != nil {
		s.log.Debug().Err(err).Str(fieldProcedure, procedure).Msg("stream send failed")
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-overflow:
			return s.toConnectError(ctx, procedure, errStreamDropped)
		case n := <-queue:
			if err := stream.Send(&apiv1.StreamNoticesResponse{Notice: maskNotice(n, mask)}); err != nil {
				s.log.Debug().Err(err).Str(fieldProcedure, procedure).Msg("stream send failed")
				return nil
			}
		}
	}
}

// maskNotice returns n with the secret of an event it carries masked when
// mask is set, copying rather than changing the published notice.
func maskNotice(n *apiv1.Notice, mask bool) *apiv1.Notice {
	if !mask || n.GetEvent() == nil {
		return n
	}
	out := proto.Clone(n).(*apiv1.Notice)
	out.Detail = &apiv1.Notice_Event{Event: maskEvent(n.GetEvent(), mask)}
	return out
}
