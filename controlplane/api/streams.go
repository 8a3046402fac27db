package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/ticket"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Live stream limits.
const (
	// DefaultStreamsPerUser caps one user's open live streams on a
	// replica, so one account cannot hold the fan-out's buffers hostage.
	DefaultStreamsPerUser = 8
	// streamTicketTTL is how long a stream ticket may wait to be used.
	streamTicketTTL = 30 * time.Second
	// StreamPath serves live events as Server-Sent Events to a ticket.
	StreamPath = "/api/stream/events"
)

var errTooManyStreams = connect.NewError(connect.CodeResourceExhausted,
	errors.New("too many live streams open for this user; close one and retry"))

// streamCounter counts open streams per user.
type streamCounter struct {
	mu sync.Mutex
	// max returns the cap; it is read at every acquire, so a lower cap
	// refuses new streams and leaves open ones alone.
	max   func() int
	count map[string]int
}

// acquire reserves a stream for user and returns its release, or false
// when the user is at the cap.
func (c *streamCounter) acquire(user string) (func(), bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count[user] >= c.max() {
		return nil, false
	}
	c.count[user]++
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.count[user]--; c.count[user] <= 0 {
			delete(c.count, user)
		}
	}, true
}

// IssueStreamTicket returns a single-use ticket for one live stream.
func (s *authService) IssueStreamTicket(ctx context.Context, req *connect.Request[apiv1.IssueStreamTicketRequest]) (*connect.Response[apiv1.IssueStreamTicketResponse], error) {
	sess, _ := auth.SessionFromContext(ctx)
	t, err := s.tickets.Issue(ctx, ticketValue(sess.Username, sess.Role), streamTicketTTL)
	if err != nil {
		return nil, s.toConnectError(ctx, req.Spec().Procedure, err)
	}
	return connect.NewResponse(&apiv1.IssueStreamTicketResponse{Ticket: t, ExpiresAt: timestamppb.New(s.now().Add(streamTicketTTL))}), nil
}

// ticketValue is what a stream ticket stores: the user and the role of
// the session that asked for it. An API token may carry a lower role than
// its user, and the stream must not show it more than the token could
// read.
func ticketValue(username string, role apiv1.Role) string {
	return auth.RoleName(role) + "\x00" + username
}

// parseTicketValue returns the user and session role of a ticket's
// value.
func parseTicketValue(v string) (username string, role apiv1.Role) {
	name, user, ok := strings.Cut(v, "\x00")
	if !ok {
		return v, apiv1.Role_ROLE_UNSPECIFIED
	}
	return user, auth.ParseRole(name)
}

// serveTicketStream serves GET /api/stream/events?ticket=...: the live
// events of the ticket's user, as Server-Sent Events with one JSON event
// per message, filtered by the query parameters kind, service, decky,
// source and attacker, with secrets masked for viewers.
func (a *API) serveTicketStream(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	value, err := a.tickets.Redeem(ctx, q.Get("ticket"))
	if err != nil {
		status := http.StatusUnauthorized
		if !errors.Is(err, ticket.ErrInvalid) {
			status = http.StatusServiceUnavailable
			a.log.Error().Err(err).Msg("redeem stream ticket failed")
		}
		http.Error(w, "invalid or expired ticket: get a new one from AuthService.IssueStreamTicket", status)
		return
	}
	username, sessionRole := parseTicketValue(value)
	u, err := a.store.GetUser(ctx, username)
	if err != nil {
		http.Error(w, "invalid or expired ticket", http.StatusUnauthorized)
		return
	}
	// The lower of the user's current role and the role of the session
	// that asked for the ticket: a demoted user loses rights at once, and
	// a token never reads more than its own role allows.
	role := min(auth.ParseRole(u.Role), sessionRole)
	if !auth.Allows(role, apiv1.Access_ACCESS_VIEWER) {
		http.Error(w, auth.ErrPermissionDenied.Error(), http.StatusForbidden)
		return
	}
	f, err := normalizeFilter(&apiv1.EventFilter{
		Kind: q.Get("kind"), Service: q.Get("service"), Decky: q.Get("decky"),
		SourceAddress: q.Get("source"), AttackerId: q.Get("attacker"),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	release, ok := a.streams.acquire(username)
	if !ok {
		http.Error(w, errTooManyStreams.Message(), http.StatusTooManyRequests)
		return
	}
	defer release()
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	mask := !auth.Allows(role, apiv1.Access_ACCESS_ANALYST)

	events, cancel := a.hub.Subscribe(streamBuffer)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(": stream open\n\n"))
	flusher.Flush()
	marshal := protojson.MarshalOptions{UseProtoNames: true}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				msg, _ := json.Marshal(errStreamDropped.Error())
				_, _ = w.Write(append(append([]byte("event: error\ndata: "), msg...), '\n', '\n'))
				return
			}
			if !matches(f, ev) {
				continue
			}
			data, err := marshal.Marshal(maskEvent(ev, mask))
			if err != nil {
				continue
			}
			if _, err := w.Write(append(append([]byte("data: "), data...), '\n', '\n')); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}
