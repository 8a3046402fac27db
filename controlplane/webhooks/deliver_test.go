package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/internal/netguard"
)

func TestDeliverySignedWithHeaders(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	rcv := newReceiver(t)
	sub, secret := f.create(t, Spec{URL: rcv.srv.URL + "/hook"})
	n := capturedNotice("att-1", "198.51.100.7", "web-01")

	f.handle(t, sub.ID, n)

	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	h := reqs[0].header
	for k, want := range map[string]string{
		EventIDHeader:   n.GetId(),
		SubjectHeader:   "credential.captured",
		TimestampHeader: "1772366400",
		"User-Agent":    userAgent,
		"Content-Type":  "application/json; charset=utf-8",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if err := Verify(h.Get(SignatureHeader), reqs[0].body, secret, f.clock.Now(), 5*time.Minute); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if strings.Count(h.Get(SignatureHeader), "v1=") != 1 {
		t.Fatalf("signature %q, want one v1 outside a rotation", h.Get(SignatureHeader))
	}
	if err := Verify(h.Get(SignatureHeader), append(reqs[0].body, ' '), secret, f.clock.Now(), 5*time.Minute); !errors.Is(err, ErrNoSignature) {
		t.Fatalf("tampered body verified: %v", err)
	}
	if bytes.Contains(reqs[0].body, []byte("hunter2")) || bytes.Contains(reqs[0].body, []byte("aHVudGVyMg")) {
		t.Fatal("the raw credential left the control plane")
	}

	ds := f.deliveries(t, sub.ID)
	if len(ds) != 1 || ds[0].Outcome != OutcomeDelivered || ds[0].StatusCode != 204 || ds[0].Attempt != 1 || ds[0].NoticeID != n.GetId() {
		t.Fatalf("audit = %+v", ds)
	}
}

func TestRotationGrace(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	rcv := newReceiver(t)
	sub, oldSecret := f.create(t, Spec{URL: rcv.srv.URL})

	rotated, newSecretValue, err := f.d.Rotate(t.Context(), sub.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if newSecretValue == oldSecret || !strings.HasPrefix(newSecretValue.Reveal(), secretPrefix) {
		t.Fatalf("rotation returned %q", newSecretValue.Reveal())
	}
	if want := f.clock.Now().Add(time.Hour); !rotated.PreviousSecretExpiresAt.Equal(want) {
		t.Fatalf("previous expires %v, want %v", rotated.PreviousSecretExpiresAt, want)
	}

	// During the grace period both secrets verify.
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))
	during := rcv.requests()[0]
	sig := during.header.Get(SignatureHeader)
	if strings.Count(sig, "v1=") != 2 {
		t.Fatalf("signature %q, want two v1 during grace", sig)
	}
	for _, s := range []auth.Secret{oldSecret, newSecretValue} {
		if err := Verify(sig, during.body, s, f.clock.Now(), time.Minute); err != nil {
			t.Errorf("during grace: %v", err)
		}
	}

	// After it only the new one does.
	f.clock.Advance(time.Hour)
	f.handle(t, sub.ID, capturedNotice("b", "198.51.100.8", "d"))
	after := rcv.requests()[1]
	sig = after.header.Get(SignatureHeader)
	if strings.Count(sig, "v1=") != 1 {
		t.Fatalf("signature %q, want one v1 after grace", sig)
	}
	if err := Verify(sig, after.body, newSecretValue, f.clock.Now(), time.Minute); err != nil {
		t.Errorf("new secret after grace: %v", err)
	}
	if err := Verify(sig, after.body, oldSecret, f.clock.Now(), time.Minute); !errors.Is(err, ErrNoSignature) {
		t.Errorf("old secret after grace = %v, want ErrNoSignature", err)
	}
	got, err := f.d.Get(t.Context(), sub.ID)
	if err != nil || !got.PreviousSecretExpiresAt.IsZero() {
		t.Fatalf("after grace previous expiry = %v, %v", got.PreviousSecretExpiresAt, err)
	}
}

func TestVerifyRefusesStaleTimestamp(t *testing.T) {
	body := []byte(`{}`)
	sig := sign(testStart, body, "whsec_x")
	if err := Verify(sig, body, "whsec_x", testStart.Add(6*time.Minute), 5*time.Minute); !errors.Is(err, ErrStaleRequest) {
		t.Fatalf("Verify = %v, want ErrStaleRequest", err)
	}
	if err := Verify("v1=00", body, "whsec_x", testStart, time.Minute); !errors.Is(err, ErrNoSignature) {
		t.Fatalf("Verify without t = %v", err)
	}
}

func TestRetriesWithBackoffThenDeadLetter(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.QuietPeriod = -1
		c.MaxAttempts = 4
		c.BreakerThreshold = 100
	})
	rcv := newReceiver(t, status(500))
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL})
	n := capturedNotice("a", "198.51.100.7", "d")

	f.handle(t, sub.ID, n)

	if got := len(rcv.requests()); got != 4 {
		t.Fatalf("receiver got %d requests, want 4", got)
	}
	// The first token of the bucket is free; then 1 s doubling.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	if got := f.clock.Waits(); !slices.Equal(got, want) {
		t.Fatalf("waits = %v, want %v", got, want)
	}
	ds := f.deliveries(t, sub.ID)
	var outcomes []Outcome
	for _, d := range ds {
		outcomes = append(outcomes, d.Outcome)
		if d.StatusCode != 500 || d.Error != "status 500" {
			t.Errorf("attempt %d: status %d error %q", d.Attempt, d.StatusCode, d.Error)
		}
	}
	if want := []Outcome{OutcomeRetry, OutcomeRetry, OutcomeRetry, OutcomeFailed}; !slices.Equal(outcomes, want) {
		t.Fatalf("outcomes = %v, want %v", outcomes, want)
	}
	dls := f.deadLetters(t, sub.ID)
	if len(dls) != 1 || dls[0].Reason != ReasonAttemptsExhausted || dls[0].Attempts != 4 || dls[0].StatusCode != 500 || dls[0].Notice.GetId() != n.GetId() {
		t.Fatalf("dead letters = %+v", dls)
	}
}

func TestBackoffDoublesToCeilingWithJitter(t *testing.T) {
	f := newFixture(t, nil)
	var got []time.Duration
	for n := 1; n <= 12; n++ {
		got = append(got, f.d.backoff(n))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(got, want) {
		t.Fatalf("backoff = %v, want %v", got, want)
	}
	for range 1000 {
		if j := equalJitter(8 * time.Second); j < 4*time.Second || j > 8*time.Second {
			t.Fatalf("jitter %v outside [4s, 8s]", j)
		}
	}
}

func TestFinalStatusIsNotRetried(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 410, 422} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
			rcv := newReceiver(t, status(code))
			sub, _ := f.create(t, Spec{URL: rcv.srv.URL})
			f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))
			if got := len(rcv.requests()); got != 1 {
				t.Fatalf("got %d requests, want 1", got)
			}
			dls := f.deadLetters(t, sub.ID)
			if len(dls) != 1 || dls[0].Reason != ReasonFinalStatus || dls[0].StatusCode != code {
				t.Fatalf("dead letters = %+v", dls)
			}
		})
	}
}

func TestRequestTimeoutStatusIsRetried(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	rcv := newReceiver(t, status(408), status(200))
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL})
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))
	ds := f.deliveries(t, sub.ID)
	if len(ds) != 2 || ds[0].Outcome != OutcomeRetry || ds[1].Outcome != OutcomeDelivered || len(f.deadLetters(t, sub.ID)) != 0 {
		t.Fatalf("audit = %+v", ds)
	}
}

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	limited := func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "42")
		w.WriteHeader(http.StatusTooManyRequests)
	}
	rcv := newReceiver(t, limited, status(200))
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL})
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))

	if got := f.clock.Waits(); !slices.Equal(got, []time.Duration{42 * time.Second}) {
		t.Fatalf("waits = %v, want [42s]", got)
	}
	reqs := rcv.requests()
	if len(reqs) != 2 || reqs[1].header.Get(TimestampHeader) != "1772366442" {
		t.Fatalf("requests = %d, second stamped %q", len(reqs), reqs[len(reqs)-1].header.Get(TimestampHeader))
	}
	ds := f.deliveries(t, sub.ID)
	if len(ds) != 2 || ds[0].StatusCode != 429 || ds[0].Outcome != OutcomeRetry || ds[1].Outcome != OutcomeDelivered {
		t.Fatalf("audit = %+v", ds)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	target := newReceiver(t)
	redirect := func(w http.ResponseWriter) {
		w.Header().Set("Location", target.srv.URL)
		w.WriteHeader(http.StatusTemporaryRedirect)
	}
	rcv := newReceiver(t, redirect)
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL})
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))

	if len(target.requests()) != 0 {
		t.Fatal("the redirect was followed")
	}
	if len(rcv.requests()) != 1 {
		t.Fatalf("redirecting receiver got %d requests, want 1", len(rcv.requests()))
	}
	dls := f.deadLetters(t, sub.ID)
	if len(dls) != 1 || dls[0].Reason != ReasonFinalStatus || dls[0].StatusCode != 307 || dls[0].Error != "redirect 307 not followed" {
		t.Fatalf("dead letters = %+v", dls)
	}
}

func TestBreakerOpensHalfOpensAndCloses(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.QuietPeriod = -1
		c.MaxAttempts = 10
		c.BreakerThreshold = 3
		c.BreakerCooldown = time.Hour
	})
	rcv := newReceiver(t, status(503), status(503), status(503), status(503), status(200))
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL})

	// Three failed attempts open the breaker mid-retry.
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))
	if got := len(rcv.requests()); got != 3 {
		t.Fatalf("got %d requests, want 3", got)
	}
	s, _ := f.d.Get(t.Context(), sub.ID)
	if s.Breaker != BreakerOpen || s.ConsecutiveFailures != 3 {
		t.Fatalf("breaker %s failures %d, want open after 3", s.Breaker, s.ConsecutiveFailures)
	}

	// While open, notices go straight to the dead letters.
	f.handle(t, sub.ID, capturedNotice("b", "198.51.100.8", "d"))
	if got := len(rcv.requests()); got != 3 {
		t.Fatalf("open breaker let a request through (%d)", got)
	}
	dls := f.deadLetters(t, sub.ID)
	if len(dls) != 2 || dls[0].Reason != ReasonCircuitOpen || dls[1].Reason != ReasonCircuitOpen || dls[1].Attempts != 0 {
		t.Fatalf("dead letters = %+v", dls)
	}

	// After the cooldown it is half-open; a failed probe reopens it.
	f.clock.Advance(time.Hour)
	if s, _ := f.d.Get(t.Context(), sub.ID); s.Breaker != BreakerHalfOpen {
		t.Fatalf("breaker %s after cooldown, want half-open", s.Breaker)
	}
	f.handle(t, sub.ID, capturedNotice("c", "198.51.100.9", "d"))
	if got := len(rcv.requests()); got != 4 {
		t.Fatalf("probe: %d requests, want 4 (one probe attempt)", got)
	}
	if s, _ := f.d.Get(t.Context(), sub.ID); s.Breaker != BreakerOpen {
		t.Fatalf("breaker %s after failed probe, want open", s.Breaker)
	}

	// A successful probe closes it.
	f.clock.Advance(time.Hour)
	f.handle(t, sub.ID, capturedNotice("d", "198.51.100.10", "d"))
	if s, _ := f.d.Get(t.Context(), sub.ID); s.Breaker != BreakerClosed || s.ConsecutiveFailures != 0 {
		t.Fatalf("breaker %s failures %d after good probe, want closed", s.Breaker, s.ConsecutiveFailures)
	}
}

func TestReplayDeadLetters(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	rcv := newReceiver(t, status(410), status(410), status(410), status(200))
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL})
	notices := []string{}
	for i := range 3 {
		n := capturedNotice("att", "198.51.100.7", "d")
		notices = append(notices, n.GetId())
		f.handle(t, sub.ID, n)
		_ = i
	}
	dls := f.deadLetters(t, sub.ID)
	if len(dls) != 3 {
		t.Fatalf("%d dead letters, want 3", len(dls))
	}

	// Replay one.
	got, err := f.d.ReplayDeadLetters(t.Context(), sub.ID, dls[1].ID)
	if err != nil || got != 1 {
		t.Fatalf("replay one = %d, %v", got, err)
	}
	drain(t, f, sub.ID)
	last := rcv.requests()[3]
	if last.header.Get(EventIDHeader) != notices[1] {
		t.Fatalf("replayed %s, want %s", last.header.Get(EventIDHeader), notices[1])
	}
	if left := f.deadLetters(t, sub.ID); len(left) != 2 || left[0].ID != dls[0].ID || left[1].ID != dls[2].ID {
		t.Fatalf("left = %+v", left)
	}

	// Replay all.
	got, err = f.d.ReplayDeadLetters(t.Context(), sub.ID, "")
	if err != nil || got != 2 {
		t.Fatalf("replay all = %d, %v", got, err)
	}
	drain(t, f, sub.ID)
	if left := f.deadLetters(t, sub.ID); len(left) != 0 {
		t.Fatalf("left after replay all = %+v", left)
	}
	reqs := rcv.requests()
	if len(reqs) != 6 || reqs[4].header.Get(EventIDHeader) != notices[0] || reqs[5].header.Get(EventIDHeader) != notices[2] {
		t.Fatalf("requests = %d", len(reqs))
	}

	// An unknown dead letter is not found.
	if _, err := f.d.ReplayDeadLetters(t.Context(), sub.ID, "nope"); err == nil {
		t.Fatal("replay of an unknown dead letter succeeded")
	}
}

// drain handles the queued items on the test goroutine.
func drain(t *testing.T, f *fixture, subID string) {
	t.Helper()
	w, _ := f.d.worker(subID)
	for {
		select {
		case it := <-w.queue:
			f.d.handle(t.Context(), w, it)
		default:
			return
		}
	}
}

func TestRateLimitSpacesDeliveries(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	rcv := newReceiver(t)
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL, RateLimit: 2})
	for range 4 {
		f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))
	}
	if got := len(rcv.requests()); got != 4 {
		t.Fatalf("got %d requests", got)
	}
	// Two at once from the full bucket, then one every 30 s.
	want := []time.Duration{30 * time.Second, 30 * time.Second}
	if got := f.clock.Waits(); !slices.Equal(got, want) {
		t.Fatalf("waits = %v, want %v", got, want)
	}
}

func TestQueueOverflowGoesToDeadLetters(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QueueSize = 2 })
	rcv := newReceiver(t)
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL, Subjects: []string{"credential.>"}})

	// Without Run no worker drains the queue, so it fills.
	for range 5 {
		f.d.intake("credential.captured", capturedNotice("a", "198.51.100.7", "d"))
	}
	// An unmatched subject is not queued at all.
	other := capturedNotice("a", "198.51.100.7", "d")
	other.Subject = "identity.formed"
	f.d.intake("identity.formed", other)

	w, _ := f.d.worker(sub.ID)
	if len(w.queue) != 2 {
		t.Fatalf("queue holds %d, want 2", len(w.queue))
	}
	if len(f.d.deadq) != 3 {
		t.Fatalf("%d overflow dead letters pending, want 3", len(f.d.deadq))
	}
	for len(f.d.deadq) > 0 {
		f.d.storeDeadLetter(t.Context(), <-f.d.deadq)
	}
	dls := f.deadLetters(t, sub.ID)
	if len(dls) != 3 || dls[0].Reason != ReasonQueueFull {
		t.Fatalf("dead letters = %+v", dls)
	}
	if s, _ := f.d.Get(t.Context(), sub.ID); s.Queued != 2 {
		t.Fatalf("Queued = %d", s.Queued)
	}
}

func TestTestMessageIsSynchronous(t *testing.T) {
	f := newFixture(t, nil)
	rcv := newReceiver(t, status(200), status(403))
	sub, secret := f.create(t, Spec{URL: rcv.srv.URL})

	d, err := f.d.Test(t.Context(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != OutcomeDelivered || d.StatusCode != 200 || !d.Test || d.Subject != SubjectTest {
		t.Fatalf("test delivery = %+v", d)
	}
	req := rcv.requests()[0]
	if req.header.Get(SubjectHeader) != SubjectTest {
		t.Fatalf("subject %q", req.header.Get(SubjectHeader))
	}
	if err := Verify(req.header.Get(SignatureHeader), req.body, secret, f.clock.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}

	d, err = f.d.Test(t.Context(), sub.ID)
	if err != nil || d.Outcome != OutcomeFailed || d.StatusCode != 403 || d.Error != "status 403" {
		t.Fatalf("failing test = %+v, %v", d, err)
	}
	if len(f.deadLetters(t, sub.ID)) != 0 {
		t.Fatal("a failed test went to the dead letters")
	}
	if s, _ := f.d.Get(t.Context(), sub.ID); s.Breaker != BreakerClosed || s.ConsecutiveFailures != 0 {
		t.Fatalf("a test moved the breaker: %+v", s)
	}
}

func TestCreateRefusesDestinations(t *testing.T) {
	cases := []struct {
		name      string
		url       string
		answers   [][]netip.Addr
		allowHTTP bool
		refused   bool // netguard refusal, as opposed to another invalid URL
	}{
		{"loopback literal", "https://127.0.0.1/hook", nil, false, true},
		{"metadata literal", "https://169.254.169.254/latest", nil, false, true},
		{"IPv6 loopback", "https://[::1]/", nil, false, true},
		{"numeric host", "https://2130706433/", nil, false, true},
		{"name resolving to private", "https://internal.test/", [][]netip.Addr{{netip.MustParseAddr("10.1.2.3")}}, false, true},
		{"name with one private address", "https://mixed.test/", [][]netip.Addr{{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("192.168.1.1")}}, false, true},
		{"plain http", "http://hooks.test/", [][]netip.Addr{{netip.MustParseAddr("93.184.215.14")}}, false, false},
		{"other scheme", "ftp://hooks.test/", nil, true, false},
		{"user info", "https://user:pw@hooks.test/", nil, false, false},
		{"no host", "https:///path", nil, false, false},
		{"unresolvable", "https://nxdomain.test/", nil, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dial := &recordingDialer{}
			f := newFixture(t, func(c *Config) {
				c.Guard = &netguard.Guard{Resolver: &seqResolver{answers: tc.answers}, Dialer: dial}
				c.AllowHTTP = tc.allowHTTP
			})
			_, _, err := f.d.Create(t.Context(), Spec{Name: "x", URL: tc.url, Subjects: []string{">"}})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Create = %v, want ErrInvalid", err)
			}
			if errors.Is(err, netguard.ErrRefused) != tc.refused {
				t.Fatalf("Create = %v, refused=%v wanted", err, tc.refused)
			}
			if subs, _ := f.store.ListSubscriptions(t.Context()); len(subs) != 0 {
				t.Fatal("a refused subscription was stored")
			}
			if len(dial.addresses()) != 0 {
				t.Fatal("creation dialled")
			}
		})
	}
}

func TestSendTimeRebindingIsRefused(t *testing.T) {
	public := netip.MustParseAddr("93.184.215.14")
	res := &seqResolver{answers: [][]netip.Addr{{public}, {netip.MustParseAddr("127.0.0.1")}}}
	dial := &recordingDialer{}
	f := newFixture(t, func(c *Config) {
		c.QuietPeriod = -1
		c.Guard = &netguard.Guard{Resolver: res, Dialer: dial}
	})
	sub, _ := f.create(t, Spec{URL: "https://rebind.test:8443/hook"})
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))

	if got := dial.addresses(); len(got) != 0 {
		t.Fatalf("dialled %q after the name rebound to loopback", got)
	}
	if !slices.Equal(res.asked, []string{"rebind.test", "rebind.test"}) {
		t.Fatalf("resolved %q, want once at creation and once at send", res.asked)
	}
	dls := f.deadLetters(t, sub.ID)
	if len(dls) != 1 || dls[0].Reason != ReasonRefused || !strings.Contains(dls[0].Error, "loopback") {
		t.Fatalf("dead letters = %+v", dls)
	}
	if strings.Contains(dls[0].Error, "/hook") {
		t.Fatalf("error text %q names the URL path", dls[0].Error)
	}
}

func TestSendDialsThePinnedAddress(t *testing.T) {
	public := netip.MustParseAddr("93.184.215.14")
	res := &seqResolver{answers: [][]netip.Addr{{public}}}
	dial := &recordingDialer{}
	f := newFixture(t, func(c *Config) {
		c.QuietPeriod = -1
		c.MaxAttempts = 1
		c.Guard = &netguard.Guard{Resolver: res, Dialer: dial}
	})
	sub, _ := f.create(t, Spec{URL: "https://hooks.test:8443/T000/B000/tokenpart"})
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))

	if got := dial.addresses(); !slices.Equal(got, []string{"93.184.215.14:8443"}) {
		t.Fatalf("dialled %q, want the checked literal", got)
	}
	dls := f.deadLetters(t, sub.ID)
	if len(dls) != 1 || dls[0].Reason != ReasonAttemptsExhausted || strings.Contains(dls[0].Error, "tokenpart") {
		t.Fatalf("dead letters = %+v", dls)
	}
	if s, _ := f.d.Get(t.Context(), sub.ID); s.Destination != "https://hooks.test:8443" {
		t.Fatalf("destination shown as %q", s.Destination)
	}
}

func TestSecretsSealedAtRest(t *testing.T) {
	f := newFixture(t, nil)
	rcv := newReceiver(t)
	sub, secret := f.create(t, Spec{URL: rcv.srv.URL + "/T0/B0/urltoken", Authorization: "Bearer thehive-key"})
	rec, err := f.store.GetSubscription(t.Context(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(rec)
	for _, plain := range []string{secret.Reveal(), "thehive-key", "urltoken"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Fatalf("stored record contains %q", plain)
		}
	}
	// A sealed value is bound to its record and field.
	if _, err := f.d.sealer.open(rec.ID, fieldAuthorization, rec.SealedSecret); err == nil {
		t.Fatal("a secret opened as another field")
	}
	if _, err := f.d.sealer.open("other-id", fieldSecret, rec.SealedSecret); err == nil {
		t.Fatal("a secret opened under another record")
	}
	// Another key cannot open it.
	other, _ := newSealer(bytes.Repeat([]byte{9}, KeySize))
	if _, err := other.open(rec.ID, fieldSecret, rec.SealedSecret); err == nil {
		t.Fatal("another key opened the secret")
	}
	if _, err := New(Config{Store: f.store, Publisher: f.pub, Key: []byte("short")}); err == nil {
		t.Fatal("a short key was accepted")
	}
	// The Authorization value is sent.
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))
	if got := rcv.requests()[0].header.Get("Authorization"); got != "Bearer thehive-key" {
		t.Fatalf("Authorization = %q", got)
	}
	// The API view carries none of it.
	view, _ := json.Marshal(sub)
	for _, plain := range []string{secret.Reveal(), "thehive-key", "urltoken"} {
		if bytes.Contains(view, []byte(plain)) {
			t.Fatalf("subscription view contains %q", plain)
		}
	}
}

func TestUpdateKeepsURLAndSecret(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	rcv := newReceiver(t)
	sub, secret := f.create(t, Spec{URL: rcv.srv.URL})
	up, err := f.d.Update(t.Context(), sub.ID, Spec{Name: "renamed", Subjects: []string{"credential.reuse.>"}, Enabled: true, Format: FormatSlack})
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "renamed" || up.Format != FormatSlack || !slices.Equal(up.Subjects, []string{"credential.reuse.>"}) || up.Destination != sub.Destination {
		t.Fatalf("updated = %+v", up)
	}
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))
	req := rcv.requests()[0]
	if err := Verify(req.header.Get(SignatureHeader), req.body, secret, f.clock.Now(), time.Minute); err != nil {
		t.Fatalf("secret changed by update: %v", err)
	}
	if _, err := f.d.Update(t.Context(), sub.ID, Spec{Name: "x", Subjects: []string{"a..b"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad pattern = %v", err)
	}
	if err := f.d.Delete(t.Context(), sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.d.worker(sub.ID); ok {
		t.Fatal("worker kept after delete")
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, func(c *Config) {
		c.QuietPeriod = -1
		c.MaxAttempts = 1
		c.Logger = zerolog.New(&logs).Level(zerolog.DebugLevel)
	})
	rcv := newReceiver(t, status(500))
	sub, secret := f.create(t, Spec{URL: rcv.srv.URL + "/T0/B0/urltoken", Authorization: "Bearer thehive-key"})
	_, rotated, err := f.d.Rotate(t.Context(), sub.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.handle(t, sub.ID, capturedNotice("a", "198.51.100.7", "d"))

	out := logs.String()
	for _, want := range []string{`"message":"webhook created"`, `"message":"webhook secret rotated"`, `"message":"webhook delivery failed"`, sub.ID} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	for _, plain := range []string{secret.Reveal(), rotated.Reveal(), "thehive-key", "urltoken", "hunter2"} {
		if strings.Contains(out, plain) {
			t.Errorf("logs contain %q", plain)
		}
	}
}

func TestWazuhRateLimitFollowsTheAPI(t *testing.T) {
	f := newFixture(t, nil)
	rcv := newReceiver(t)
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL + "/events", Format: FormatWazuh})
	if sub.Format != FormatWazuh || sub.RateLimit != WazuhRateLimit {
		t.Fatalf("created = %+v, want format wazuh at %d a minute", sub, WazuhRateLimit)
	}
	_, _, err := f.d.Create(t.Context(), Spec{Name: "fast", URL: rcv.srv.URL, Format: FormatWazuh, Subjects: []string{">"}, RateLimit: WazuhRateLimit + 1})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Create over the Wazuh limit = %v, want ErrInvalid", err)
	}
	_, err = f.d.Update(t.Context(), sub.ID, Spec{Name: "x", Format: FormatWazuh, Subjects: []string{">"}, RateLimit: 60})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Update over the Wazuh limit = %v, want ErrInvalid", err)
	}
	up, err := f.d.Update(t.Context(), sub.ID, Spec{Name: "x", Format: FormatGeneric, Subjects: []string{">"}, RateLimit: 60})
	if err != nil || up.RateLimit != 60 {
		t.Fatalf("generic update = %+v, %v", up, err)
	}
}
