package decoys

import (
	"bytes"
	"crypto/sha256"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

type recorder struct {
	mu     sync.Mutex
	events []*eventv1.Event
}

func (r *recorder) Emit(ev *eventv1.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

type fakeConn struct {
	net.Conn
	local, remote net.Addr
}

func (c fakeConn) LocalAddr() net.Addr  { return c.local }
func (c fakeConn) RemoteAddr() net.Addr { return c.remote }

func TestSessionStampsEvents(t *testing.T) {
	conn := fakeConn{
		local:  &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 2222},
		remote: &net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.2"), Port: 50000},
	}
	rec := &recorder{}
	s := NewSession(conn, "web-01", "ssh", rec)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }

	s.Opened()
	secret := []byte("hunter2")
	s.AuthAttempt(&eventv1.AuthAttempt{Principal: "root", SecretKind: SecretPlaintext, Mechanism: MechanismSSHPassword, Secret: secret})
	secret[0] = 'X' // the event must hold its own copy
	s.Closed(now.Add(-1500*time.Millisecond), 10, 20, "client_closed")

	if len(rec.events) != 3 {
		t.Fatalf("emitted %d events, want 3", len(rec.events))
	}
	ids := make(map[string]bool)
	for _, ev := range rec.events {
		id, err := uuid.Parse(ev.GetId())
		if err != nil || id.Version() != 7 {
			t.Errorf("event id %q is not a UUIDv7", ev.GetId())
		}
		ids[ev.GetId()] = true
		if ev.GetSessionId() != s.ID || ev.GetDecky() != "web-01" || ev.GetService() != "ssh" {
			t.Errorf("event %s not stamped with the session: %v", ev.GetKind(), ev)
		}
		if ev.GetSource().GetAddress() != "127.0.0.2" || ev.GetSource().GetPort() != 50000 {
			t.Errorf("source = %v, want 127.0.0.2:50000 with the IPv4-mapped prefix removed", ev.GetSource())
		}
		if ev.GetDestination().GetPort() != 2222 {
			t.Errorf("destination = %v", ev.GetDestination())
		}
		if !ev.GetTime().AsTime().Equal(now) {
			t.Errorf("time = %v, want %v", ev.GetTime().AsTime(), now)
		}
	}
	if len(ids) != 3 {
		t.Error("events share an id")
	}

	auth := rec.events[1].GetAuthAttempt()
	want := sha256.Sum256([]byte("hunter2"))
	if rec.events[1].GetKind() != KindAuthAttempt || string(auth.GetSecret()) != "hunter2" || !bytes.Equal(auth.GetSecretSha256(), want[:]) {
		t.Errorf("auth attempt = %v, want secret hunter2 with its SHA-256", auth)
	}
	closed := rec.events[2].GetConnectionClosed()
	if closed.GetDurationMs() != 1500 || closed.GetBytesReceived() != 10 || closed.GetBytesSent() != 20 || closed.GetReason() != "client_closed" {
		t.Errorf("connection closed = %v", closed)
	}
}
