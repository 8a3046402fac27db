package webhooks

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

func TestScanOfEveryDeckyIsOneIncident(t *testing.T) {
	f := newFixture(t, nil)
	rcv := newReceiver(t)
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL, RateLimit: maxRateLimit})
	w, _ := f.d.worker(sub.ID)

	// One attacker touches 200 deckies; another appears once.
	for i := range 200 {
		f.handle(t, sub.ID, capturedNotice("att-scan", "198.51.100.7", fmt.Sprintf("decky-%03d", i)))
	}
	f.handle(t, sub.ID, capturedNotice("att-other", "203.0.113.50", "decky-000"))
	if got := len(rcv.requests()); got != 2 {
		t.Fatalf("%d deliveries during the quiet period, want 2 (first of each attacker)", got)
	}

	// Nothing more before the window closes.
	f.clock.auto = false
	f.clock.Advance(DefaultQuietPeriod - time.Second)
	f.d.closeGroups(t.Context(), w)
	if got := len(rcv.requests()); got != 2 {
		t.Fatalf("%d deliveries before the window closed", got)
	}

	f.clock.Advance(time.Second)
	f.d.closeGroups(t.Context(), w)
	reqs := rcv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d deliveries after the window, want one follow-up", len(reqs))
	}
	follow := reqs[2]
	if follow.header.Get(SubjectHeader) != SubjectIncident {
		t.Fatalf("follow-up subject %q", follow.header.Get(SubjectHeader))
	}
	var env struct {
		Incident struct {
			AttackerID string         `json:"attacker_id"`
			Count      int            `json:"count"`
			Subjects   map[string]int `json:"subjects"`
			Deckies    []string       `json:"deckies"`
			Addresses  []string       `json:"addresses"`
			Truncated  bool           `json:"truncated"`
		} `json:"incident"`
	}
	if err := json.Unmarshal(follow.body, &env); err != nil {
		t.Fatal(err)
	}
	inc := env.Incident
	if inc.AttackerID != "att-scan" || inc.Count != 199 || inc.Subjects["credential.captured"] != 199 ||
		len(inc.Deckies) != maxIncidentValues || !inc.Truncated || len(inc.Addresses) != 1 || inc.Addresses[0] != "198.51.100.7" {
		t.Fatalf("incident = %+v", inc)
	}
	if got := testutil.ToFloat64(f.d.metrics.grouped); got != 199 {
		t.Fatalf("grouped metric = %v", got)
	}

	// The window is over: the next notice goes out at once and opens a
	// new one.
	f.handle(t, sub.ID, capturedNotice("att-scan", "198.51.100.7", "decky-000"))
	if got := len(rcv.requests()); got != 4 {
		t.Fatalf("%d deliveries, want the new notice at once", got)
	}
	if len(w.groups) != 1 {
		t.Fatalf("%d open groups, want 1", len(w.groups))
	}
}

func TestGroupingIsPerSubscriptionAndCanBeDisabled(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	rcv := newReceiver(t)
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL, RateLimit: maxRateLimit})
	for i := range 5 {
		f.handle(t, sub.ID, capturedNotice("att", "198.51.100.7", fmt.Sprint(i)))
	}
	if got := len(rcv.requests()); got != 5 {
		t.Fatalf("%d deliveries with grouping off, want 5", got)
	}
}

func TestRunDeliversPublishedNoticesAndClosesGroups(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = time.Minute })
	f.clock.auto = false
	rcv := newReceiver(t)
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL, Subjects: []string{"credential.captured"}})

	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	waitFor(t, "subscription", func() bool { return f.d.isRunning() })

	if err := f.pub.Publish("credential.captured", capturedNotice("att", "198.51.100.7", "a")); err != nil {
		t.Fatal(err)
	}
	if got := rcv.next(t).header.Get(SubjectHeader); got != "credential.captured" {
		t.Fatalf("first delivery subject %q", got)
	}
	for _, d := range []string{"b", "c", "d"} {
		_ = f.pub.Publish("credential.captured", capturedNotice("att", "198.51.100.7", d))
	}
	waitFor(t, "grouping", func() bool { return testutil.ToFloat64(f.d.metrics.grouped) == 3 })

	f.clock.Advance(time.Minute)
	follow := rcv.next(t)
	if follow.header.Get(SubjectHeader) != SubjectIncident {
		t.Fatalf("follow-up subject %q", follow.header.Get(SubjectHeader))
	}
	var env struct {
		Incident struct {
			Count   int      `json:"count"`
			Deckies []string `json:"deckies"`
		} `json:"incident"`
	}
	if err := json.Unmarshal(follow.body, &env); err != nil || env.Incident.Count != 3 || len(env.Incident.Deckies) != 3 {
		t.Fatalf("incident = %+v, %v", env.Incident, err)
	}
	if s, _ := f.d.Get(t.Context(), sub.ID); s.Breaker != BreakerClosed {
		t.Fatalf("breaker %s", s.Breaker)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestSuppressionRules(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QuietPeriod = -1 })
	rcv := newReceiver(t)
	otherRcv := newReceiver(t)
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL, RateLimit: maxRateLimit})
	other, _ := f.create(t, Spec{URL: otherRcv.srv.URL, RateLimit: maxRateLimit})
	receivers := map[string]*receiver{sub.ID: rcv, other.ID: otherRcv}
	ctx := t.Context()

	rules := []Suppression{
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Reason: "internal scanner"},
		{AgentID: "agent-9"},
		{Decky: "honey-db", SubscriptionID: sub.ID},
		{NotBefore: testStart.Add(time.Hour), NotAfter: testStart.Add(2 * time.Hour), Reason: "maintenance"},
	}
	for _, r := range rules {
		if _, err := f.d.AddSuppression(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	listed, err := f.d.ListSuppressions(ctx)
	if err != nil || len(listed) != 4 || listed[0].ID == "" || listed[0].CreatedAt.IsZero() {
		t.Fatalf("listed = %+v, %v", listed, err)
	}

	agent9 := capturedNotice("a", "203.0.113.9", "web")
	agent9.GetEvent().GetEvent().AgentId = "agent-9"
	cases := []struct {
		name  string
		sub   string
		n     func() message
		delay time.Duration
		sent  bool
	}{
		{"address in prefix", sub.ID, func() message { return message{notice: capturedNotice("a", "198.51.100.77", "web")} }, 0, false},
		{"address outside prefix", sub.ID, func() message { return message{notice: capturedNotice("a", "203.0.113.9", "web")} }, 0, true},
		{"agent", sub.ID, func() message { return message{notice: agent9} }, 0, false},
		{"decky on its subscription", sub.ID, func() message { return message{notice: capturedNotice("a", "203.0.113.9", "honey-db")} }, 0, false},
		{"decky on another subscription", other.ID, func() message { return message{notice: capturedNotice("a", "203.0.113.9", "honey-db")} }, 0, true},
		{"inside the window", sub.ID, func() message { return message{notice: capturedNotice("a", "203.0.113.9", "web")} }, time.Hour, false},
		{"after the window", sub.ID, func() message { return message{notice: capturedNotice("a", "203.0.113.9", "web")} }, time.Hour, true},
		{"reuse has no address", sub.ID, func() message { return message{notice: hugeReuse()} }, 0, true},
	}
	for _, tc := range cases {
		target := receivers[tc.sub]
		before := len(target.requests())
		f.clock.auto = false
		f.clock.Advance(tc.delay)
		f.clock.auto = true
		n := tc.n()
		f.d.intake(n.notice.GetSubject(), n.notice)
		drain(t, f, sub.ID)
		drain(t, f, other.ID)
		if sent := len(target.requests()) > before; sent != tc.sent {
			t.Errorf("%s: sent=%v, want %v", tc.name, sent, tc.sent)
		}
	}

	if err := f.d.DeleteSuppression(ctx, listed[0].ID); err != nil {
		t.Fatal(err)
	}
	before := len(rcv.requests())
	f.d.intake("credential.captured", capturedNotice("a", "198.51.100.77", "web"))
	drain(t, f, sub.ID)
	drain(t, f, other.ID)
	if len(rcv.requests()) != before+1 {
		t.Fatal("a deleted rule still suppresses")
	}

	for _, bad := range []Suppression{
		{},
		{Prefix: netip.MustParsePrefix("198.51.100.1/24")},
		{NotBefore: testStart.Add(time.Hour), NotAfter: testStart},
	} {
		if _, err := f.d.AddSuppression(ctx, bad); err == nil {
			t.Errorf("rule %+v accepted", bad)
		}
	}
}

func TestMemoryStoreBoundsAuditLog(t *testing.T) {
	s := NewMemoryStore()
	for i := range memDeliveriesPerSubscription + 10 {
		_ = s.AddDelivery(t.Context(), Delivery{ID: fmt.Sprintf("%05d", i), SubscriptionID: "s", Time: testStart.Add(time.Duration(i) * time.Second)})
	}
	got, _ := s.ListDeliveries(t.Context(), DeliveryQuery{SubscriptionID: "s", Limit: 5000})
	if len(got) != memDeliveriesPerSubscription || got[0].ID != fmt.Sprintf("%05d", memDeliveriesPerSubscription+9) {
		t.Fatalf("%d entries, newest %s", len(got), got[0].ID)
	}
}

func TestSuppressedNoticesTakeNoQueueSpace(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.QueueSize = 1 })
	rcv := newReceiver(t)
	sub, _ := f.create(t, Spec{URL: rcv.srv.URL})
	if _, err := f.d.AddSuppression(t.Context(), Suppression{Prefix: netip.MustParsePrefix("198.51.100.0/24")}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		f.d.intake("credential.captured", capturedNotice("scanner", "198.51.100.20", "web"))
	}
	w, _ := f.d.worker(sub.ID)
	if len(w.queue) != 0 || len(f.d.deadq) != 0 {
		t.Fatalf("queue %d, overflow %d: suppressed notices were queued", len(w.queue), len(f.d.deadq))
	}
	if got := testutil.ToFloat64(f.d.metrics.suppressed); got != 10 {
		t.Fatalf("suppressed metric = %v", got)
	}
}

// Export outputs consult the rules that cover every webhook, for events
// as well as notices. A rule scoped to one webhook and a window not yet
// open drop nothing there.
func TestSuppressesOutsideWebhooks(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	sub, _ := f.create(t, Spec{URL: "http://127.0.0.1:1/hook"})
	for _, r := range []Suppression{
		{Prefix: netip.MustParsePrefix("198.51.100.0/24")},
		{SubscriptionID: sub.ID, Decky: "scoped"},
		{Decky: "later", NotBefore: testStart.Add(time.Hour)},
	} {
		if _, err := f.d.AddSuppression(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		n    *apiv1.Notice
		want bool
	}{
		{"address in prefix", capturedNotice("a", "198.51.100.7", "web"), true},
		{"address outside prefix", capturedNotice("a", "203.0.113.9", "web"), false},
		{"rule of one webhook", capturedNotice("a", "203.0.113.9", "scoped"), false},
		{"window not open", capturedNotice("a", "203.0.113.9", "later"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.d.SuppressesNotice(tc.n); got != tc.want {
				t.Errorf("SuppressesNotice = %v, want %v", got, tc.want)
			}
			if got := f.d.SuppressesEvent(tc.n.GetEvent()); got != tc.want {
				t.Errorf("SuppressesEvent = %v, want %v", got, tc.want)
			}
		})
	}

	f.clock.Advance(time.Hour)
	if !f.d.SuppressesEvent(capturedNotice("a", "203.0.113.9", "later").GetEvent()) {
		t.Error("event in the open window not suppressed")
	}
}
