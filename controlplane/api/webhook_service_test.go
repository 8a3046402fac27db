package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"

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
