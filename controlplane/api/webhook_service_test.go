package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/topics"
	"github.com/decnet/decnet/controlplane/webhooks"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/netguard"
)

// An admin creates a webhook to a local receiver, sends the test message
// and finds it in the delivery log; the receiver verifies the signature
// with the secret CreateWebhook returned, and viewers cannot create.
func TestWebhookServiceDelivers(t *testing.T) {
	var (
		mu       sync.Mutex
		received []*http.Request
		bodies   [][]byte
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		received, bodies = append(received, r), append(bodies, body)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	f := newFixture(t, options{})
	dispatcher, err := webhooks.New(webhooks.Config{
		Store:     webhooks.NewDocumentStore(f.store),
		Publisher: topics.New[*apiv1.Notice](),
		Key:       make([]byte, 32),
		Guard:     &netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		AllowHTTP: true,
		Logger:    zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = dispatcher.Run(ctx) }()
	f.api.webhooks = dispatcher

	admin := f.login(t)
	client := apiv1connect.NewWebhookServiceClient(f.h1, f.srv.URL)
	created, err := client.CreateWebhook(ctx, withToken(&apiv1.CreateWebhookRequest{Settings: &apiv1.WebhookSettings{
		Name: "soc", Url: receiver.URL + "/hook/secret-path", Subjects: []string{"credential.>"}, Enabled: true,
	}}, admin))
	if err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	hook := created.Msg.GetWebhook()
	secret := created.Msg.GetSigningSecret()
	if secret == "" || strings.Contains(hook.GetDestination(), "secret-path") || hook.GetBreaker() != apiv1.WebhookBreakerState_WEBHOOK_BREAKER_STATE_CLOSED {
		t.Fatalf("created %v", hook)
	}

	test, err := client.TestWebhook(ctx, withToken(&apiv1.TestWebhookRequest{Id: hook.GetId()}, admin))
	if err != nil {
		t.Fatalf("TestWebhook: %v", err)
	}
	if d := test.Msg.GetDelivery(); d.GetStatusCode() != http.StatusNoContent || d.GetOutcome() != apiv1.WebhookOutcome_WEBHOOK_OUTCOME_DELIVERED || !d.GetTest() {
		t.Errorf("test delivery = %v", d)
	}
	mu.Lock()
	if len(received) != 1 || received[0].URL.Path != "/hook/secret-path" {
		t.Fatalf("receiver got %d requests", len(received))
	}
	if err := webhooks.Verify(received[0].Header.Get("Decnet-Signature"), bodies[0], auth.Secret(secret), time.Now(), time.Minute); err != nil {
		t.Errorf("signature: %v", err)
	}
	mu.Unlock()

	log, err := client.ListWebhookDeliveries(ctx, withToken(&apiv1.ListWebhookDeliveriesRequest{WebhookId: hook.GetId()}, admin))
	if err != nil || len(log.Msg.GetDeliveries()) != 1 {
		t.Errorf("delivery log = %v, %v", log, err)
	}

	// A destination in a refused range is rejected with the reason.
	if _, err := client.CreateWebhook(ctx, withToken(&apiv1.CreateWebhookRequest{Settings: &apiv1.WebhookSettings{
		Name: "meta", Url: "http://169.254.169.254/latest", Enabled: true,
	}}, admin)); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("metadata destination: %v, want invalid_argument", err)
	}
}

// hookReceiver is a local webhook destination that responds with a
// status the test sets and keeps what it receives.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	status int
	got    []hookRequest
	// arrived signals each request.
	arrived chan hookRequest
}

type hookRequest struct {
	signature string
	body      []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	r := &hookReceiver{status: http.StatusNoContent, arrived: make(chan hookRequest, 64)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		got := hookRequest{signature: req.Header.Get("Decnet-Signature"), body: body}
		r.mu.Lock()
		r.got = append(r.got, got)
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
		r.arrived <- got
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) answer(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

// next waits for the next request; the test deadline bounds the wait.
func (r *hookReceiver) next() hookRequest { return <-r.arrived }

// webhookFixture is the API with a running webhook dispatcher on the
// fixture's SQLite store, its notice publisher, and an admin token.
type webhookFixture struct {
	*fixture
	notices *topics.Publisher[*apiv1.Notice]
	client  apiv1connect.WebhookServiceClient
	admin   string
}

func newWebhookFixture(t *testing.T) *webhookFixture {
	t.Helper()
	f := &webhookFixture{fixture: newFixture(t, options{}), notices: topics.New[*apiv1.Notice]()}
	dispatcher, err := webhooks.New(webhooks.Config{
		Store:     webhooks.NewDocumentStore(f.store),
		Publisher: f.notices,
		Key:       make([]byte, 32),
		Guard:     &netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		AllowHTTP: true,
		// One attempt, so a refused notice becomes a dead letter at once.
		MaxAttempts: 1,
		// No grouping: every notice in these tests goes out alone.
		QuietPeriod: -1,
		Logger:      zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = dispatcher.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	f.api.webhooks = dispatcher
	f.client = apiv1connect.NewWebhookServiceClient(f.h1, f.srv.URL)
	f.admin = f.login(t)
	return f
}

func (f *webhookFixture) create(t *testing.T, url string) (*apiv1.Webhook, string) {
	t.Helper()
	resp, err := f.client.CreateWebhook(context.Background(), withToken(&apiv1.CreateWebhookRequest{Settings: &apiv1.WebhookSettings{
		Name: "soc", Url: url, Subjects: []string{"credential.>"}, Enabled: true, RateLimitPerMinute: 6000,
	}}, f.admin))
	if err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	return resp.Msg.GetWebhook(), resp.Msg.GetSigningSecret()
}

// publish sends a credential.captured notice about attacker from addr
// on decky, seen by agent, and returns its id. The dispatcher subscribes
// in Run, so it publishes until a subscriber takes the notice.
func (f *webhookFixture) publish(t *testing.T, attacker, addr, decky, agent string) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	ev := newEvent(addr, "auth.attempt")
	ev.Decky, ev.AgentId = decky, agent
	n := &apiv1.Notice{
		Id: id, Subject: "credential.captured", Time: timestamppb.Now(), AttackerId: attacker, Summary: "root tried on " + decky,
		Detail: &apiv1.Notice_Event{Event: &apiv1.StoredEvent{AttackerId: attacker, Event: ev}},
	}
	for f.notices.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := f.notices.Publish(n.GetSubject(), n); err != nil {
		t.Fatal(err)
	}
	return id
}

// Rules of every kind are created, listed with their values and
// deleted through the API; a prefix with host bits comes back masked,
// and malformed rules are refused. Delivery honours the rules: of four
// notices only the one no rule matches reaches the receiver.
func TestWebhookSuppressionsThroughAPI(t *testing.T) {
	f := newWebhookFixture(t)
	ctx := context.Background()
	rcv := newHookReceiver(t)
	hook, _ := f.create(t, rcv.srv.URL)

	windowStart := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	rules := []*apiv1.WebhookSuppression{
		{Prefix: "127.0.5.9/24", Reason: "vulnerability scanner"},
		{WebhookId: hook.GetId(), AgentId: "0190a8c4-0000-7000-8000-0000000a6e99", Reason: "lab sensor"},
		{Decky: "honeypot-dev", Reason: "staging decky"},
		{NotBefore: timestamppb.New(windowStart), NotAfter: timestamppb.New(windowStart.Add(2 * time.Hour)), Reason: "maintenance"},
	}
	var created []*apiv1.WebhookSuppression
	for _, r := range rules {
		resp, err := f.client.CreateWebhookSuppression(ctx, withToken(&apiv1.CreateWebhookSuppressionRequest{Suppression: r}, f.admin))
		if err != nil {
			t.Fatalf("CreateWebhookSuppression(%v): %v", r, err)
		}
		got := resp.Msg.GetSuppression()
		if got.GetId() == "" || got.GetCreatedAt() == nil || got.GetReason() != r.GetReason() {
			t.Errorf("created %v", got)
		}
		created = append(created, got)
	}
	if created[0].GetPrefix() != "127.0.5.0/24" {
		t.Errorf("prefix %q, want the masked 127.0.5.0/24", created[0].GetPrefix())
	}

	list, err := f.client.ListWebhookSuppressions(ctx, withToken(&apiv1.ListWebhookSuppressionsRequest{}, f.admin))
	if err != nil {
		t.Fatal(err)
	}
	got := list.Msg.GetSuppressions()
	if len(got) != 4 {
		t.Fatalf("listed %d rules, want 4", len(got))
	}
	if got[0].GetPrefix() != "127.0.5.0/24" || got[0].GetWebhookId() != "" || got[0].GetAgentId() != "" {
		t.Errorf("prefix rule %v", got[0])
	}
	if got[1].GetWebhookId() != hook.GetId() || got[1].GetAgentId() != "0190a8c4-0000-7000-8000-0000000a6e99" || got[1].GetPrefix() != "" {
		t.Errorf("agent rule %v", got[1])
	}
	if got[2].GetDecky() != "honeypot-dev" || got[2].GetNotBefore() != nil {
		t.Errorf("decky rule %v", got[2])
	}
	if !got[3].GetNotBefore().AsTime().Equal(windowStart) || !got[3].GetNotAfter().AsTime().Equal(windowStart.Add(2*time.Hour)) || got[3].GetDecky() != "" {
		t.Errorf("window rule %v", got[3])
	}
	for i, r := range got {
		if r.GetId() != created[i].GetId() {
			t.Errorf("rule %d listed as %s, created as %s: want oldest first", i, r.GetId(), created[i].GetId())
		}
	}

	// The notices the prefix, agent and decky rules match are dropped.
	// The window has not opened, so the last notice goes out, and it is
	// the first the receiver gets.
	f.publish(t, "att-scan", "127.0.5.77", "web-01", agentID)
	f.publish(t, "att-lab", "127.0.1.1", "web-01", "0190a8c4-0000-7000-8000-0000000a6e99")
	f.publish(t, "att-dev", "127.0.1.2", "honeypot-dev", agentID)
	want := f.publish(t, "att-real", "127.0.1.3", "web-01", agentID)
	first := rcv.next()
	if !strings.Contains(string(first.body), want) {
		t.Errorf("first delivery %s, want notice %s", first.body, want)
	}

	if _, err := f.client.DeleteWebhookSuppression(ctx, withToken(&apiv1.DeleteWebhookSuppressionRequest{Id: created[2].GetId()}, f.admin)); err != nil {
		t.Fatalf("DeleteWebhookSuppression: %v", err)
	}
	list, err = f.client.ListWebhookSuppressions(ctx, withToken(&apiv1.ListWebhookSuppressionsRequest{}, f.admin))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.Msg.GetSuppressions()); n != 3 {
		t.Errorf("%d rules after delete, want 3", n)
	}
	for _, r := range list.Msg.GetSuppressions() {
		if r.GetId() == created[2].GetId() {
			t.Error("deleted rule still listed")
		}
	}
	// With the decky rule gone, that decky's notices go out again.
	again := f.publish(t, "att-dev2", "127.0.1.4", "honeypot-dev", agentID)
	if next := rcv.next(); !strings.Contains(string(next.body), again) {
		t.Errorf("delivery after delete %s, want notice %s", next.body, again)
	}

	viewer := f.loginNewUser(t, "viewer-v", apiv1.Role_ROLE_VIEWER)
	if resp, err := f.client.ListWebhookSuppressions(ctx, withToken(&apiv1.ListWebhookSuppressionsRequest{}, viewer)); err != nil || len(resp.Msg.GetSuppressions()) != 3 {
		t.Errorf("viewer list: %v", err)
	}
	bad := []struct {
		name string
		rule *apiv1.WebhookSuppression
	}{
		{"not a cidr", &apiv1.WebhookSuppression{Prefix: "scanner"}},
		{"no criterion", &apiv1.WebhookSuppression{Reason: "everything"}},
		{"window backwards", &apiv1.WebhookSuppression{NotBefore: timestamppb.New(windowStart), NotAfter: timestamppb.New(windowStart.Add(-time.Minute))}},
	}
	for _, b := range bad {
		if _, err := f.client.CreateWebhookSuppression(ctx, withToken(&apiv1.CreateWebhookSuppressionRequest{Suppression: b.rule}, f.admin)); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: %v, want invalid_argument", b.name, err)
		}
	}
	if _, err := f.client.CreateWebhookSuppression(ctx, withToken(&apiv1.CreateWebhookSuppressionRequest{Suppression: rules[2]}, viewer)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("viewer create: %v, want permission_denied", err)
	}
}

// A notice the receiver rejects with a final status lands in the dead
// letters with the reason, status and notice. Replayed once the
// receiver works, it is delivered and leaves the dead letters.
func TestWebhookDeadLettersReplayThroughAPI(t *testing.T) {
	f := newWebhookFixture(t)
	ctx := context.Background()
	rcv := newHookReceiver(t)
	rcv.answer(http.StatusBadRequest)
	hook, _ := f.create(t, rcv.srv.URL)

	noticeID := f.publish(t, "att-1", "127.0.1.1", "web-01", agentID)
	rcv.next()

	var dead []*apiv1.WebhookDeadLetter
	// The worker stores the dead letter after the response, and the
	// test deadline bounds the wait.
	for len(dead) == 0 {
		resp, err := f.client.ListWebhookDeadLetters(ctx, withToken(&apiv1.ListWebhookDeadLettersRequest{WebhookId: hook.GetId()}, f.admin))
		if err != nil {
			t.Fatalf("ListWebhookDeadLetters: %v", err)
		}
		dead = resp.Msg.GetDeadLetters()
		time.Sleep(time.Millisecond)
	}
	dl := dead[0]
	if len(dead) != 1 || dl.GetWebhookId() != hook.GetId() || dl.GetNotice().GetId() != noticeID || dl.GetReason() != webhooks.ReasonFinalStatus ||
		dl.GetStatusCode() != http.StatusBadRequest || dl.GetAttempts() != 1 || dl.GetCreatedAt() == nil || dl.GetId() == "" {
		t.Fatalf("dead letters %v", dead)
	}
	// Dead letters hold notices, which analysts may read but viewers not.
	analyst := f.loginNewUser(t, "analyst-a", apiv1.Role_ROLE_ANALYST)
	viewer := f.loginNewUser(t, "viewer-v", apiv1.Role_ROLE_VIEWER)
	if resp, err := f.client.ListWebhookDeadLetters(ctx, withToken(&apiv1.ListWebhookDeadLettersRequest{}, analyst)); err != nil || len(resp.Msg.GetDeadLetters()) != 1 {
		t.Errorf("analyst list: %v", err)
	}
	if _, err := f.client.ListWebhookDeadLetters(ctx, withToken(&apiv1.ListWebhookDeadLettersRequest{}, viewer)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("viewer list: %v, want permission_denied", err)
	}
	if _, err := f.client.ReplayWebhookDeadLetters(ctx, withToken(&apiv1.ReplayWebhookDeadLettersRequest{WebhookId: hook.GetId()}, analyst)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("analyst replay: %v, want permission_denied", err)
	}

	rcv.answer(http.StatusNoContent)
	replay, err := f.client.ReplayWebhookDeadLetters(ctx, withToken(&apiv1.ReplayWebhookDeadLettersRequest{WebhookId: hook.GetId(), DeadLetterId: dl.GetId()}, f.admin))
	if err != nil {
		t.Fatalf("ReplayWebhookDeadLetters: %v", err)
	}
	if replay.Msg.GetQueued() != 1 {
		t.Errorf("queued %d, want 1", replay.Msg.GetQueued())
	}
	if got := rcv.next(); !strings.Contains(string(got.body), noticeID) {
		t.Errorf("replayed body %s, want notice %s", got.body, noticeID)
	}
	left, err := f.client.ListWebhookDeadLetters(ctx, withToken(&apiv1.ListWebhookDeadLettersRequest{WebhookId: hook.GetId()}, f.admin))
	if err != nil || len(left.Msg.GetDeadLetters()) != 0 {
		t.Errorf("dead letters after replay: %v, %v", left.Msg.GetDeadLetters(), err)
	}

	// The delivery log has the refusal and the replayed delivery.
	var log []*apiv1.WebhookDelivery
	for len(log) < 2 {
		resp, err := f.client.ListWebhookDeliveries(ctx, withToken(&apiv1.ListWebhookDeliveriesRequest{WebhookId: hook.GetId(), NoticeId: noticeID}, f.admin))
		if err != nil {
			t.Fatal(err)
		}
		log = resp.Msg.GetDeliveries()
		time.Sleep(time.Millisecond)
	}
	if log[0].GetOutcome() != apiv1.WebhookOutcome_WEBHOOK_OUTCOME_DELIVERED || log[0].GetStatusCode() != http.StatusNoContent ||
		log[1].GetOutcome() != apiv1.WebhookOutcome_WEBHOOK_OUTCOME_FAILED || log[1].GetStatusCode() != http.StatusBadRequest {
		t.Errorf("delivery log newest first: %v", log)
	}

	// Nothing is left to replay, and an unknown webhook is not found.
	if resp, err := f.client.ReplayWebhookDeadLetters(ctx, withToken(&apiv1.ReplayWebhookDeadLettersRequest{WebhookId: hook.GetId()}, f.admin)); err != nil || resp.Msg.GetQueued() != 0 {
		t.Errorf("second replay: %v, %v", resp, err)
	}
	if _, err := f.client.ReplayWebhookDeadLetters(ctx, withToken(&apiv1.ReplayWebhookDeadLettersRequest{WebhookId: uuid.Must(uuid.NewV7()).String()}, f.admin)); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("replay of an unknown webhook: %v, want not_found", err)
	}
}

// A rotation returns a new secret and keeps the old one signing, as a
// second v1 signature, until the grace period ends. A zero grace ends
// it at once, and a grace over 30 days is rejected.
func TestWebhookSecretRotationThroughAPI(t *testing.T) {
	f := newWebhookFixture(t)
	ctx := context.Background()
	rcv := newHookReceiver(t)
	hook, original := f.create(t, rcv.srv.URL)
	if hook.GetPreviousSecretExpiresAt() != nil {
		t.Errorf("new webhook has a previous secret until %v", hook.GetPreviousSecretExpiresAt().AsTime())
	}

	verify := func(req hookRequest, secret string) error {
		return webhooks.Verify(req.signature, req.body, auth.Secret(secret), time.Now(), time.Minute)
	}
	test := func() hookRequest {
		t.Helper()
		if _, err := f.client.TestWebhook(ctx, withToken(&apiv1.TestWebhookRequest{Id: hook.GetId()}, f.admin)); err != nil {
			t.Fatalf("TestWebhook: %v", err)
		}
		return rcv.next()
	}

	before := time.Now()
	rotated, err := f.client.RotateWebhookSecret(ctx, withToken(&apiv1.RotateWebhookSecretRequest{Id: hook.GetId(), Grace: durationpb.New(time.Hour)}, f.admin))
	if err != nil {
		t.Fatalf("RotateWebhookSecret: %v", err)
	}
	after := time.Now()
	second := rotated.Msg.GetSigningSecret()
	if second == "" || second == original {
		t.Fatalf("rotation returned %q, want a new secret", second)
	}
	until := rotated.Msg.GetWebhook().GetPreviousSecretExpiresAt().AsTime()
	if until.Before(before.Add(time.Hour).Truncate(time.Second)) || until.After(after.Add(time.Hour)) {
		t.Errorf("previous secret expires %v, want an hour after the rotation (%v)", until, before)
	}
	listed, err := f.client.ListWebhooks(ctx, withToken(&apiv1.ListWebhooksRequest{}, f.admin))
	if err != nil || !listed.Msg.GetWebhooks()[0].GetPreviousSecretExpiresAt().AsTime().Equal(until) {
		t.Errorf("listed webhook does not show the grace end %v: %v", until, err)
	}

	req := test()
	if n := strings.Count(req.signature, "v1="); n != 2 {
		t.Errorf("signature header %q has %d v1 values during the grace period, want 2", req.signature, n)
	}
	if err := verify(req, second); err != nil {
		t.Errorf("new secret: %v", err)
	}
	if err := verify(req, original); err != nil {
		t.Errorf("old secret during the grace period: %v", err)
	}

	rotated, err = f.client.RotateWebhookSecret(ctx, withToken(&apiv1.RotateWebhookSecretRequest{Id: hook.GetId(), Grace: durationpb.New(0)}, f.admin))
	if err != nil {
		t.Fatalf("RotateWebhookSecret with zero grace: %v", err)
	}
	third := rotated.Msg.GetSigningSecret()
	if rotated.Msg.GetWebhook().GetPreviousSecretExpiresAt() != nil {
		t.Errorf("zero grace left the previous secret until %v", rotated.Msg.GetWebhook().GetPreviousSecretExpiresAt().AsTime())
	}
	req = test()
	if n := strings.Count(req.signature, "v1="); n != 1 {
		t.Errorf("signature header %q has %d v1 values after a zero grace, want 1", req.signature, n)
	}
	if err := verify(req, third); err != nil {
		t.Errorf("newest secret: %v", err)
	}
	for name, old := range map[string]string{"original": original, "second": second} {
		if err := verify(req, old); !errors.Is(err, webhooks.ErrNoSignature) {
			t.Errorf("%s secret after a zero grace: %v, want ErrNoSignature", name, err)
		}
	}

	if _, err := f.client.RotateWebhookSecret(ctx, withToken(&apiv1.RotateWebhookSecretRequest{Id: hook.GetId(), Grace: durationpb.New(31 * 24 * time.Hour)}, f.admin)); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("31-day grace: %v, want invalid_argument", err)
	}
	viewer := f.loginNewUser(t, "viewer-v", apiv1.Role_ROLE_VIEWER)
	if _, err := f.client.RotateWebhookSecret(ctx, withToken(&apiv1.RotateWebhookSecretRequest{Id: hook.GetId()}, viewer)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("viewer rotation: %v, want permission_denied", err)
	}
}
