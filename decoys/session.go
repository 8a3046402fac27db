package decoys

import (
	"crypto/sha256"
	"net"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Log field keys shared by the decoys.
const (
	FieldSource  = "source"
	FieldSession = "session_id"
	FieldService = "service"
	FieldDecky   = "decky"
)

// Session stamps the events of one attacker connection with the same
// session id, decky, service and endpoints. Now is the clock; tests replace
// it.
type Session struct {
	ID          string
	Decky       string
	Service     string
	Source      *eventv1.Endpoint
	Destination *eventv1.Endpoint
	Emitter     Emitter
	Now         func() time.Time
}

// NewSession starts the record of one connection. It does not emit
// anything; call Opened for that.
func NewSession(conn net.Conn, decky, service string, emitter Emitter) *Session {
	return &Session{
		ID:          NewEventID(),
		Decky:       decky,
		Service:     service,
		Source:      endpointOf(conn.RemoteAddr()),
		Destination: endpointOf(conn.LocalAddr()),
		Emitter:     emitter,
		Now:         time.Now,
	}
}

// NewEventID returns a UUIDv7, which sorts by creation time.
func NewEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system random source fails, and
		// nothing in the agent can work then.
		panic("read random source: " + err.Error())
	}
	return id.String()
}

// Event returns a new event of this session with a fresh id and time and
// no payload.
func (s *Session) Event(kind string) *eventv1.Event {
	return &eventv1.Event{
		Id:          NewEventID(),
		Time:        timestamppb.New(s.Now()),
		Decky:       s.Decky,
		Service:     s.Service,
		Kind:        kind,
		Source:      s.Source,
		Destination: s.Destination,
		SessionId:   s.ID,
	}
}

// Opened emits connection.opened.
func (s *Session) Opened() {
	ev := s.Event(KindConnectionOpened)
	ev.Payload = &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}}
	s.Emitter.Emit(ev)
}

// Closed emits connection.closed with the connection's duration since
// started.
func (s *Session) Closed(started time.Time, received, sent uint64, reason string) {
	ev := s.Event(KindConnectionClosed)
	ev.Payload = &eventv1.Event_ConnectionClosed{ConnectionClosed: &eventv1.ConnectionClosed{
		DurationMs:    uint64(s.Now().Sub(started).Milliseconds()),
		BytesReceived: received,
		BytesSent:     sent,
		Reason:        reason,
	}}
	s.Emitter.Emit(ev)
}

// AuthAttempt emits auth.attempt. It computes the secret's SHA-256 and
// copies the secret, so the caller may reuse its buffer.
func (s *Session) AuthAttempt(a *eventv1.AuthAttempt) {
	sum := sha256.Sum256(a.Secret)
	a.Secret = append([]byte(nil), a.Secret...)
	a.SecretSha256 = sum[:]
	ev := s.Event(KindAuthAttempt)
	ev.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: a}
	s.Emitter.Emit(ev)
}

// Command emits command.
func (s *Session) Command(line, channel string) {
	ev := s.Event(KindCommand)
	ev.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: line, Channel: channel}}
	s.Emitter.Emit(ev)
}

// HTTPRequest emits http.request.
func (s *Session) HTTPRequest(r *eventv1.HTTPRequest) {
	ev := s.Event(KindHTTPRequest)
	ev.Payload = &eventv1.Event_HttpRequest{HttpRequest: r}
	s.Emitter.Emit(ev)
}

// FileCaptured emits file.captured.
func (s *Session) FileCaptured(f *eventv1.FileCaptured) {
	ev := s.Event(KindFileCaptured)
	ev.Payload = &eventv1.Event_FileCaptured{FileCaptured: f}
	s.Emitter.Emit(ev)
}

// FileRequested emits file.requested.
func (s *Session) FileRequested(f *eventv1.FileRequested) {
	ev := s.Event(KindFileRequested)
	ev.Payload = &eventv1.Event_FileRequested{FileRequested: f}
	s.Emitter.Emit(ev)
}

// Download emits download.requested.
func (s *Session) Download(d *eventv1.DownloadRequested) {
	ev := s.Event(KindDownload)
	ev.Payload = &eventv1.Event_DownloadRequested{DownloadRequested: d}
	s.Emitter.Emit(ev)
}

// Recorded emits session.recorded.
func (s *Session) Recorded(r *eventv1.SessionRecorded) {
	ev := s.Event(KindSessionRecorded)
	ev.Payload = &eventv1.Event_SessionRecorded{SessionRecorded: r}
	s.Emitter.Emit(ev)
}

// Forward emits forward.requested.
func (s *Session) Forward(f *eventv1.ForwardRequested) {
	ev := s.Event(KindForward)
	ev.Payload = &eventv1.Event_ForwardRequested{ForwardRequested: f}
	s.Emitter.Emit(ev)
}

// Fingerprinted emits client.fingerprinted.
func (s *Session) Fingerprinted(f *eventv1.ClientFingerprint) {
	ev := s.Event(KindClientFingerprinted)
	ev.Payload = &eventv1.Event_ClientFingerprinted{ClientFingerprinted: f}
	s.Emitter.Emit(ev)
}

// Mail emits mail.received.
func (s *Session) Mail(m *eventv1.MailReceived) {
	ev := s.Event(KindMailReceived)
	ev.Payload = &eventv1.Event_MailReceived{MailReceived: m}
	s.Emitter.Emit(ev)
}

func endpointOf(addr net.Addr) *eventv1.Endpoint {
	if addr == nil {
		return &eventv1.Endpoint{}
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return &eventv1.Endpoint{Address: addr.String()}
	}
	return &eventv1.Endpoint{Address: ap.Addr().Unmap().WithZone("").String(), Port: uint32(ap.Port())}
}
