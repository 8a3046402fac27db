package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
	"github.com/decnet/decnet/internal/netguard"
)

var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a Clock under the test's control. In auto mode After
// fires at once and moves the time forward by its duration, so retries
// and rate limits run without sleeping and every wait is recorded.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	auto   bool
	waits  []time.Duration
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(auto bool) *fakeClock { return &fakeClock{now: testStart, auto: auto} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if c.auto {
		c.waits = append(c.waits, d)
		c.now = c.now.Add(d)
		ch <- c.now
		return ch
	}
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, fakeTimer{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the time forward and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.ch <- c.now
		} else {
			kept = append(kept, t)
		}
	}
	c.timers = kept
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// received is one request a test receiver got.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// receiver is a local HTTP destination that responds from a script: the
// nth request gets responses[n], and the last entry repeats.
type receiver struct {
	srv *httptest.Server

	mu        sync.Mutex
	responses []func(http.ResponseWriter)
	got       []received
	arrivals  chan received
}

func status(code int) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.WriteHeader(code) }
}

func newReceiver(t *testing.T, responses ...func(http.ResponseWriter)) *receiver {
	t.Helper()
	if len(responses) == 0 {
		responses = []func(http.ResponseWriter){status(http.StatusNoContent)}
	}
	r := &receiver{responses: responses, arrivals: make(chan received, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r.mu.Lock()
		n := len(r.got)
		rec := received{header: req.Header.Clone(), body: body, at: time.Now()}
		r.got = append(r.got, rec)
		respond := r.responses[min(n, len(r.responses)-1)]
		r.mu.Unlock()
		respond(w)
		select {
		case r.arrivals <- rec:
		default:
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// next waits for the next request; the bound only stops a broken test.
func (r *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case rec := <-r.arrivals:
		return rec
	case <-time.After(10 * time.Second):
		t.Fatal("no request arrived")
		return received{}
	}
}

var loopbackOnly = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

type fixture struct {
	d     *Dispatcher
	store *MemoryStore
	pub   *topics.Publisher[*apiv1.Notice]
	clock *fakeClock
	key   []byte
}

// newFixture returns a dispatcher whose guard allows loopback, so local
// receivers work, with an auto clock and no jitter unless mutate changes them.
func newFixture(t *testing.T, mutate func(*Config)) *fixture {
	t.Helper()
	f := &fixture{store: NewMemoryStore(), pub: topics.New[*apiv1.Notice](), clock: newFakeClock(true), key: make([]byte, KeySize)}
	for i := range f.key {
		f.key[i] = byte(i + 1)
	}
	cfg := Config{
		Store: f.store, Publisher: f.pub, Key: f.key, Clock: f.clock,
		Guard:     &netguard.Guard{Allow: loopbackOnly},
		AllowHTTP: true,
		Logger:    zerolog.Nop(),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.jitter = func(d time.Duration) time.Duration { return d }
	f.d = d
	return f
}

func (f *fixture) create(t *testing.T, s Spec) (Subscription, auth.Secret) {
	t.Helper()
	if s.Name == "" {
		s.Name = "test"
	}
	if len(s.Subjects) == 0 {
		s.Subjects = []string{">"}
	}
	s.Enabled = true
	sub, secret, err := f.d.Create(t.Context(), s)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return sub, secret
}

// handle runs one notice through the subscription's worker logic on the
// test goroutine.
func (f *fixture) handle(t *testing.T, subID string, n *apiv1.Notice) {
	t.Helper()
	w, ok := f.d.worker(subID)
	if !ok {
		t.Fatalf("no worker for %s", subID)
	}
	f.d.handle(t.Context(), w, item{msg: message{notice: n}})
}

func (f *fixture) deadLetters(t *testing.T, subID string) []DeadLetter {
	t.Helper()
	dls, err := f.store.ListDeadLetters(t.Context(), subID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return dls
}

func (f *fixture) deliveries(t *testing.T, subID string) []Delivery {
	t.Helper()
	ds, err := f.store.ListDeliveries(t.Context(), DeliveryQuery{SubscriptionID: subID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first reads better in assertions.
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	return ds
}

var noticeSeq int

// capturedNotice is a credential.captured notice from addr on decky.
func capturedNotice(attacker, addr, decky string) *apiv1.Notice {
	noticeSeq++
	return &apiv1.Notice{
		Id:         fmt.Sprintf("0190f0a0-0000-7000-8000-%012d", noticeSeq),
		Subject:    "credential.captured",
		Time:       timestamppb.New(testStart),
		AttackerId: attacker,
		Summary:    addr + ` tried "root" by ssh_password on ` + decky + "/ssh",
		Detail: &apiv1.Notice_Event{Event: &apiv1.StoredEvent{
			AttackerId: attacker,
			Event: &eventv1.Event{
				Id: "ev", AgentId: "agent-1", Decky: decky, Service: "ssh", Kind: "auth.attempt",
				Source: &eventv1.Endpoint{Address: addr, Port: 40000},
				Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
					Principal: "root", SecretKind: "plaintext", Mechanism: "ssh_password",
					Secret: []byte("hunter2"), SecretSha256: []byte{0xde, 0xad},
				}},
			},
		}},
	}
}

// seqResolver answers each lookup with the next of its answers, like a
// rebinding DNS server, and records the names asked.
type seqResolver struct {
	mu      sync.Mutex
	answers [][]netip.Addr
	asked   []string
}

func (r *seqResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, host)
	if len(r.answers) == 0 {
		return nil, errors.New("no such host")
	}
	a := r.answers[0]
	if len(r.answers) > 1 {
		r.answers = r.answers[1:]
	}
	return a, nil
}

// recordingDialer connects nowhere: it records the address it was given
// and fails.
type recordingDialer struct {
	mu     sync.Mutex
	dialed []string
}

var errNotConnecting = errors.New("test dialer does not connect")

func (d *recordingDialer) DialContext(_ context.Context, _, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dialed = append(d.dialed, address)
	return nil, errNotConnecting
}

func (d *recordingDialer) addresses() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

func (d *Dispatcher) isRunning() bool { return d.subscribed.Load() }

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	return ctx, cancel
}

// waitFor polls cond; the bound only stops a broken test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
