package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

func (f *fakeFleet) ListWebhooks(_ context.Context, req *connect.Request[apiv1.ListWebhooksRequest]) (*connect.Response[apiv1.ListWebhooksResponse], error) {
	f.record(req.Header(), req.Msg)
	return connect.NewResponse(&apiv1.ListWebhooksResponse{Webhooks: f.webhooks}), nil
}

func (f *fakeFleet) CreateWebhook(_ context.Context, req *connect.Request[apiv1.CreateWebhookRequest]) (*connect.Response[apiv1.CreateWebhookResponse], error) {
	f.record(req.Header(), req.Msg)
	s := req.Msg.GetSettings()
	return connect.NewResponse(&apiv1.CreateWebhookResponse{
		Webhook:       &apiv1.Webhook{Id: "wh-1", Name: s.GetName(), Destination: "https://siem.example", Enabled: s.GetEnabled()},
		SigningSecret: "whsec_fake",
	}), nil
}

func (f *fakeFleet) UpdateWebhook(_ context.Context, req *connect.Request[apiv1.UpdateWebhookRequest]) (*connect.Response[apiv1.UpdateWebhookResponse], error) {
	f.record(req.Header(), req.Msg)
	s := req.Msg.GetSettings()
	return connect.NewResponse(&apiv1.UpdateWebhookResponse{Webhook: &apiv1.Webhook{
		Id: req.Msg.GetId(), Name: s.GetName(), Format: s.GetFormat(), Subjects: s.GetSubjects(), Enabled: s.GetEnabled(),
		RateLimitPerMinute: s.GetRateLimitPerMinute(),
	}}), nil
}

func (f *fakeFleet) TestWebhook(_ context.Context, req *connect.Request[apiv1.TestWebhookRequest]) (*connect.Response[apiv1.TestWebhookResponse], error) {
	f.record(req.Header(), req.Msg)
	return connect.NewResponse(&apiv1.TestWebhookResponse{Delivery: &apiv1.WebhookDelivery{
		WebhookId: req.Msg.GetId(), Subject: "webhook.test", Attempt: 1, Outcome: apiv1.WebhookOutcome_WEBHOOK_OUTCOME_FAILED,
		StatusCode: 503, Error: "server error", Test: true,
	}}), nil
}

// TestWebhooksCommands checks what the webhooks subcommands send.
func TestWebhooksCommands(t *testing.T) {
	clearClientEnv(t)
	fake, server := startFakeFleet(t)
	t.Setenv("DECNET_SERVER", server)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	ctx := context.Background()
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	authFile := filepath.Join(dir, "authorization")
	if err := os.WriteFile(urlFile, []byte("https://hooks.example/T000/secret-path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(authFile, []byte("Bearer hive-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	args := []string{"webhooks", "create", "--name", "chat", "--url-file", urlFile, "--format", "slack",
		"--subject", "credential.>", "--subject", "identity.>", "--rate-limit", "30", "--authorization-file", authFile, "--paused"}
	if err := run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("webhooks create: %v", err)
	}
	s := fake.last().(*apiv1.CreateWebhookRequest).GetSettings()
	if s.GetName() != "chat" || s.GetUrl() != "https://hooks.example/T000/secret-path" || s.GetFormat() != apiv1.WebhookFormat_WEBHOOK_FORMAT_SLACK ||
		!slices.Equal(s.GetSubjects(), []string{"credential.>", "identity.>"}) || s.GetRateLimitPerMinute() != 30 ||
		s.GetAuthorization() != "Bearer hive-key" || s.GetEnabled() {
		t.Errorf("CreateWebhook settings = %v", s)
	}
	if !strings.Contains(stdout.String(), "Created webhook wh-1 (chat)") || !strings.HasSuffix(stdout.String(), "\nwhsec_fake\n") {
		t.Errorf("webhooks create printed:\n%s", stdout.String())
	}
	if strings.Contains(stderr.String(), "whsec_fake") {
		t.Error("webhooks create wrote the signing secret to standard error")
	}

	// update keeps what is not given and clears the subjects with "".
	stdout.Reset()
	if err := run(ctx, []string{"webhooks", "update", "wh-1", "--subject", "", "--rate-limit", "10"}, &stdout, &stderr); err != nil {
		t.Fatalf("webhooks update: %v", err)
	}
	u := fake.last().(*apiv1.UpdateWebhookRequest)
	if u.GetId() != "wh-1" || u.GetSettings().GetName() != "siem" || u.GetSettings().GetFormat() != apiv1.WebhookFormat_WEBHOOK_FORMAT_SLACK ||
		len(u.GetSettings().GetSubjects()) != 0 || u.GetSettings().GetRateLimitPerMinute() != 10 || !u.GetSettings().GetEnabled() ||
		u.GetSettings().GetUrl() != "" || u.GetSettings().GetAuthorization() != "" {
		t.Errorf("UpdateWebhook request = %v", u)
	}
	if !strings.Contains(stdout.String(), "Subjects:") || !strings.Contains(stdout.String(), "(all)") {
		t.Errorf("webhooks update printed:\n%s", stdout.String())
	}

	stdout.Reset()
	if err := run(ctx, []string{"webhooks", "pause", "wh-1"}, &stdout, &stderr); err != nil {
		t.Fatalf("webhooks pause: %v", err)
	}
	p := fake.last().(*apiv1.UpdateWebhookRequest).GetSettings()
	if p.GetEnabled() || p.GetName() != "siem" || !slices.Equal(p.GetSubjects(), []string{"credential.>"}) || p.GetRateLimitPerMinute() != 120 {
		t.Errorf("pause sent settings %v, want the current ones with enabled false", p)
	}
	if stdout.String() != "Webhook wh-1 (siem) is paused.\n" {
		t.Errorf("webhooks pause printed %q", stdout.String())
	}

	stdout.Reset()
	err := run(ctx, []string{"webhooks", "test", "wh-1"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "not delivered (failed)") {
		t.Errorf("webhooks test of a failing destination: %v", err)
	}
	if !strings.Contains(stdout.String(), "503") || !strings.Contains(stdout.String(), "server error") {
		t.Errorf("webhooks test printed:\n%s", stdout.String())
	}

	err = run(ctx, []string{"webhooks", "show", "wh-404"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no webhook with id wh-404") {
		t.Errorf("webhooks show of an unknown id: %v", err)
	}
}

func TestWebhooksUsageErrors(t *testing.T) {
	clearClientEnv(t)
	_, server := startFakeFleet(t)
	t.Setenv("DECNET_SERVER", server)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", []string{"webhooks"}, "want a subcommand"},
		{"unknown subcommand", []string{"webhooks", "mute"}, `unknown subcommand "mute"`},
		{"create without name", []string{"webhooks", "create", "--url", "https://x.example"}, "--name is required"},
		{"create without url", []string{"webhooks", "create", "--name", "x"}, "--url or --url-file is required"},
		{"url twice", []string{"webhooks", "create", "--name", "x", "--url", "https://x.example", "--url-file", "f"}, "give one"},
		{"both from stdin", []string{"webhooks", "create", "--name", "x", "--url-file", "-", "--authorization-file", "-"}, "cannot both read standard input"},
		{"bad format", []string{"webhooks", "create", "--name", "x", "--url", "https://x.example", "--format", "irc"}, `invalid --format "irc"`},
		{"rate limit too high", []string{"webhooks", "create", "--name", "x", "--url", "https://x.example", "--rate-limit", "6001"}, "want 1 to 6000"},
		{"update without change", []string{"webhooks", "update", "wh-1"}, "nothing to change"},
		{"update without id", []string{"webhooks", "update", "--name", "x"}, "want exactly one webhook id"},
		{"pause two ids", []string{"webhooks", "pause", "wh-1", "wh-2"}, "want exactly one webhook id"},
		{"deliveries two ids", []string{"webhooks", "deliveries", "wh-1", "wh-2"}, "want at most one webhook id"},
		{"negative grace", []string{"webhooks", "rotate-secret", "wh-1", "--grace", "-1h"}, "want 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
			}
			if !errors.Is(err, errUsage) {
				t.Errorf("run(%q) error %v is not a usage error", tt.args, err)
			}
		})
	}
}

func TestSuppressionRuleFromFlags(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := suppressionFlags{webhook: "wh-1", prefix: "198.51.100.0/24", decky: "dev-01", reason: "weekly scan", duration: 2 * time.Hour}
	rule, err := f.rule(now)
	if err != nil {
		t.Fatal(err)
	}
	if rule.GetWebhookId() != "wh-1" || rule.GetPrefix() != "198.51.100.0/24" || rule.GetDecky() != "dev-01" || rule.GetReason() != "weekly scan" {
		t.Errorf("rule = %v", rule)
	}
	if rule.GetNotBefore() != nil {
		t.Errorf("not_before = %v, want unset so the rule applies now", rule.GetNotBefore().AsTime())
	}
	if got := rule.GetNotAfter().AsTime(); !got.Equal(now.Add(2 * time.Hour)) {
		t.Errorf("not_after = %v, want now + 2h", got)
	}

	f = suppressionFlags{from: "2026-03-02T00:00:00Z", duration: time.Hour}
	rule, err = f.rule(now)
	if err != nil {
		t.Fatal(err)
	}
	if got := rule.GetNotAfter().AsTime(); !got.Equal(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("--for counts from --from: not_after = %v", got)
	}

	tests := []struct {
		name    string
		flags   suppressionFlags
		wantErr string
	}{
		{"no criterion", suppressionFlags{reason: "x"}, "needs at least one of --prefix"},
		{"bad prefix", suppressionFlags{prefix: "198.51.100.7"}, "want a CIDR"},
		{"host bits", suppressionFlags{prefix: "198.51.100.7/24"}, "did you mean 198.51.100.0/24"},
		{"bad time", suppressionFlags{from: "tomorrow"}, "want an RFC 3339 time"},
		{"until and for", suppressionFlags{until: "2026-03-02T00:00:00Z", duration: time.Hour}, "give one"},
		{"end before start", suppressionFlags{from: "2026-03-02T00:00:00Z", until: "2026-03-01T00:00:00Z"}, "later than --from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.flags.rule(now)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errUsage) {
				t.Errorf("rule() error = %v, want a usage error containing %q", err, tt.wantErr)
			}
		})
	}
}
