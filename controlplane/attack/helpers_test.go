package attack

import (
	"crypto/sha256"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

func base(kind, service string) *eventv1.Event {
	return &eventv1.Event{
		Id: "0190a8c4-0000-7000-8000-000000000001", Decky: "web-01", Service: service, Kind: kind,
		Source:      &eventv1.Endpoint{Address: "127.0.0.2", Port: 51515},
		Destination: &eventv1.Endpoint{Address: "127.0.0.1", Port: 2222},
		SessionId:   "sess-1",
	}
}

func cmd(line string) *eventv1.Event {
	ev := base("command", "ssh")
	ev.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: line, Channel: "shell"}}
	return ev
}

func auth(principal, password string, outcome eventv1.AuthOutcome) *eventv1.Event {
	ev := base("auth.attempt", "ssh")
	sum := sha256.Sum256([]byte(password))
	ev.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
		Principal: principal, SecretKind: "plaintext", Mechanism: "ssh_password",
		Secret: []byte(password), SecretSha256: sum[:], Outcome: outcome,
	}}
	return ev
}

func httpReq(method, target, ua string) *eventv1.Event {
	ev := base("http.request", "http")
	ev.Payload = &eventv1.Event_HttpRequest{HttpRequest: &eventv1.HTTPRequest{
		Method: method, Target: target, Protocol: "HTTP/1.1", UserAgent: ua, Status: 404,
	}}
	return ev
}

func download(url string) *eventv1.Event {
	ev := base("download.requested", "ssh")
	ev.Payload = &eventv1.Event_DownloadRequested{DownloadRequested: &eventv1.DownloadRequested{
		Url: url, Tool: "wget", Outcome: "not_fetched",
	}}
	return ev
}

func captured(name, channel, url string) *eventv1.Event {
	ev := base("file.captured", "ftp")
	sum := sha256.Sum256([]byte(name))
	ev.Payload = &eventv1.Event_FileCaptured{FileCaptured: &eventv1.FileCaptured{
		Sha256: sum[:], Size: 1234, Name: name, Channel: channel, Url: url, Stored: true,
	}}
	return ev
}

func requested(name string) *eventv1.Event {
	ev := base("file.requested", "tftp")
	ev.Payload = &eventv1.Event_FileRequested{FileRequested: &eventv1.FileRequested{
		Name: name, Channel: "tftp_read", Mode: "octet",
	}}
	return ev
}

func forward(typ string) *eventv1.Event {
	ev := base("forward.requested", "ssh")
	ev.Payload = &eventv1.Event_ForwardRequested{ForwardRequested: &eventv1.ForwardRequested{
		Type: typ, Host: "203.0.113.9", Port: 25,
	}}
	return ev
}

func opened(session, decky, service string) *eventv1.Event {
	ev := base("connection.opened", service)
	ev.SessionId, ev.Decky = session, decky
	ev.Payload = &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}}
	return ev
}

func closed(session, decky, service string) *eventv1.Event {
	ev := base("connection.closed", service)
	ev.SessionId, ev.Decky = session, decky
	ev.Payload = &eventv1.Event_ConnectionClosed{ConnectionClosed: &eventv1.ConnectionClosed{Reason: "client_closed"}}
	return ev
}

// fakeClock is a settable clock for the Tagger.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func ruleIDs(tags []Tag) map[string]bool {
	m := make(map[string]bool, len(tags))
	for _, t := range tags {
		m[t.RuleID] = true
	}
	return m
}
