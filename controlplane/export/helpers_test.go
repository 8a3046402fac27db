package export

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/internal/netguard"
)

// testTime is the time of every test record: 2026-03-01T12:34:56.789Z.
var testTime = time.Date(2026, 3, 1, 12, 34, 56, 789_000_000, time.UTC)

// testFormatter is the formatter every sink test uses.
var testFormatter = formatter{product: "DECNET", version: "1.2.3"}

// loopbackGuard allows the loopback destinations tests listen on.
func loopbackGuard() *netguard.Guard {
	return &netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
}

// authEvent is an SSH password attempt from 127.0.0.2 against decky
// "web-01".
func authEvent(id string) *apiv1.StoredEvent {
	return &apiv1.StoredEvent{
		AttackerId: "0190a8c4-0000-7000-8000-00000000a77c",
		ReceivedAt: timestamppb.New(testTime.Add(time.Second)),
		Event: &eventv1.Event{
			Id:          id,
			Time:        timestamppb.New(testTime),
			AgentId:     "0190a8c4-0000-7000-8000-0000000a6e47",
			Decky:       "web-01",
			Service:     "ssh",
			Kind:        "auth.attempt",
			Source:      &eventv1.Endpoint{Address: "127.0.0.2", Port: 51515},
			Destination: &eventv1.Endpoint{Address: "127.0.0.1", Port: 2222},
			SessionId:   "sess-1",
			Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
				Principal:    "root",
				SecretKind:   "plaintext",
				Mechanism:    "ssh_password",
				Secret:       []byte("hunter2"),
				SecretSha256: []byte{0xf5, 0x2f, 0xbd, 0x32},
				Outcome:      eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
			}},
		},
	}
}

// commandEvent is a shell command whose line needs escaping in every
// format.
func commandEvent(id, line string) *apiv1.StoredEvent {
	se := authEvent(id)
	se.Event.Kind = "command"
	se.Event.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: line, Channel: "shell"}}
	return se
}

func record(se *apiv1.StoredEvent) Record {
	r, ok := EventRecord(se)
	if !ok {
		panic("test event has no kind")
	}
	return r
}

// reuseNotice is a credential.reuse.detected notice.
func reuseNotice(id string) *apiv1.Notice {
	return &apiv1.Notice{
		Id:         id,
		Subject:    "credential.reuse.detected",
		Time:       timestamppb.New(testTime),
		AttackerId: "0190a8c4-0000-7000-8000-00000000a77c",
		Summary:    "root/plaintext tried on 2 targets",
		Detail: &apiv1.Notice_CredentialReuse{CredentialReuse: &apiv1.CredentialReuse{
			SecretSha256: []byte{0xf5, 0x2f},
			SecretKind:   "plaintext",
			Principal:    "root",
			Targets: []*apiv1.CredentialTarget{
				{Decky: "web-01", Service: "ssh"},
				{Decky: "db-01", Service: "http"},
			},
		}},
	}
}

// instantClock fires every timer at once, so batching and backoff run
// without waiting.
type instantClock struct{}

func (instantClock) Now() time.Time { return testTime }
func (instantClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- testTime
	return ch
}

// recordingSink stores what it is sent and answers from a script.
type recordingSink struct {
	mu      sync.Mutex
	batches [][]Record
	// answer decides each call's result; nil accepts everything.
	answer func(call int, batch []Record) ([]Record, error)
	sent   chan struct{}
}

func newRecordingSink() *recordingSink { return &recordingSink{sent: make(chan struct{}, 1024)} }

func (s *recordingSink) Send(_ context.Context, batch []Record) ([]Record, error) {
	s.mu.Lock()
	call := len(s.batches)
	s.batches = append(s.batches, append([]Record(nil), batch...))
	answer := s.answer
	s.mu.Unlock()
	defer func() { s.sent <- struct{}{} }()
	if answer == nil {
		return nil, nil
	}
	return answer(call, batch)
}

func (s *recordingSink) Close() error { return nil }

func (s *recordingSink) calls() [][]Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]Record(nil), s.batches...)
}

// waitBriefly yields while a test polls a counter; the test deadline
// bounds the polling.
func waitBriefly() { time.Sleep(2 * time.Millisecond) }
