package api

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/decnet/decnet/controlplane/livesettings"
	"github.com/decnet/decnet/controlplane/store"
	"github.com/decnet/decnet/controlplane/topics"
	"github.com/decnet/decnet/controlplane/webhooks"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/netguard"
)

// An update changes only the values it names, GetSettings shows them with
// the list of overrides, the overrides survive in the store, and the
// call is audited.
func TestUpdateSettingsChangesOnlyNamedValues(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	client := apiv1connect.NewSettingsServiceClient(f.h1, f.srv.URL)

	resp, err := client.UpdateSettings(ctx, withToken(&apiv1.UpdateSettingsRequest{
		RetentionEvents: durationpb.New(720 * time.Hour),
	}, admin))
	if err != nil {
		t.Fatalf("UpdateSettings: %v", err)
	}
	got := resp.Msg.GetSettings()
	if d := got.GetRetention().GetEvents().AsDuration(); d != 720*time.Hour {
		t.Errorf("retention = %v, want 720h", d)
	}
	if got.GetStreamsPerUser() != DefaultStreamsPerUser {
		t.Errorf("streams per user = %d, want the default %d", got.GetStreamsPerUser(), DefaultStreamsPerUser)
	}
	wantOverridden := []apiv1.RuntimeSetting{apiv1.RuntimeSetting_RUNTIME_SETTING_RETENTION}
	if !slices.Equal(got.GetOverridden(), wantOverridden) {
		t.Errorf("overridden = %v, want %v", got.GetOverridden(), wantOverridden)
	}

	if _, err := client.UpdateSettings(ctx, withToken(&apiv1.UpdateSettingsRequest{
		StreamsPerUser:   proto.Uint32(3),
		WebhookAllowHttp: proto.Bool(true),
	}, admin)); err != nil {
		t.Fatalf("UpdateSettings: %v", err)
	}
	get, err := client.GetSettings(ctx, withToken(&apiv1.GetSettingsRequest{}, admin))
	if err != nil {
		t.Fatal(err)
	}
	got = get.Msg.GetSettings()
	if d := got.GetRetention().GetEvents().AsDuration(); d != 720*time.Hour || got.GetStreamsPerUser() != 3 || !got.GetWebhooks().GetAllowHttp() {
		t.Errorf("after the second update: retention %v, streams %d, allow http %v; want 720h, 3, true",
			d, got.GetStreamsPerUser(), got.GetWebhooks().GetAllowHttp())
	}
	if got.GetAuth().GetRequireAdminTotp() {
		t.Error("require admin TOTP changed although not named")
	}

	// A new reader of the same store sees the overrides, as another
	// replica would at its next reload.
	other, err := livesettings.New(livesettings.Config{Store: f.store, Defaults: livesettings.Values{StreamsPerUser: DefaultStreamsPerUser}})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if v := other.Values(); v.Retention != 720*time.Hour || v.StreamsPerUser != 3 || !v.WebhookAllowHTTP {
		t.Errorf("stored values = %+v, want retention 720h, 3 streams, http allowed", v)
	}

	resp, err = client.UpdateSettings(ctx, withToken(&apiv1.UpdateSettingsRequest{
		RestoreDefaults: []apiv1.RuntimeSetting{apiv1.RuntimeSetting_RUNTIME_SETTING_RETENTION},
	}, admin))
	if err != nil {
		t.Fatalf("restore retention: %v", err)
	}
	got = resp.Msg.GetSettings()
	if d := got.GetRetention().GetEvents().AsDuration(); d != 0 {
		t.Errorf("retention after restore = %v, want the default 0", d)
	}
	wantOverridden = []apiv1.RuntimeSetting{
		apiv1.RuntimeSetting_RUNTIME_SETTING_STREAMS_PER_USER,
		apiv1.RuntimeSetting_RUNTIME_SETTING_WEBHOOK_ALLOW_HTTP,
	}
	if !slices.Equal(got.GetOverridden(), wantOverridden) {
		t.Errorf("overridden after restore = %v, want %v", got.GetOverridden(), wantOverridden)
	}

	page, err := f.store.ListAudit(ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	updates := 0
	for _, e := range page.Items {
		if e.Procedure == apiv1connect.SettingsServiceUpdateSettingsProcedure && e.Username == "admin" && e.Outcome == "ok" {
			updates++
		}
	}
	if updates != 3 {
		t.Errorf("audited updates = %d, want 3", updates)
	}
}

// Out-of-range values are refused with InvalidArgument and change
// nothing, not even the valid values of the same request.
func TestUpdateSettingsRejectsInvalidValues(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	client := apiv1connect.NewSettingsServiceClient(f.h1, f.srv.URL)

	many := make([]string, livesettings.MaxWebhookCIDRs+1)
	for i := range many {
		many[i] = fmt.Sprintf("10.%d.0.0/16", i)
	}
	tests := []struct {
		name string
		req  *apiv1.UpdateSettingsRequest
	}{
		{"retention under an hour", &apiv1.UpdateSettingsRequest{RetentionEvents: durationpb.New(30 * time.Minute)}},
		{"negative retention", &apiv1.UpdateSettingsRequest{RetentionEvents: durationpb.New(-time.Hour)}},
		{"retention over a century", &apiv1.UpdateSettingsRequest{RetentionEvents: durationpb.New(101 * 365 * 24 * time.Hour)}},
		{"zero streams", &apiv1.UpdateSettingsRequest{StreamsPerUser: proto.Uint32(0)}},
		{"too many streams", &apiv1.UpdateSettingsRequest{StreamsPerUser: proto.Uint32(101)}},
		{"huge stream count", &apiv1.UpdateSettingsRequest{StreamsPerUser: proto.Uint32(1 << 31)}},
		{"bad cidr", &apiv1.UpdateSettingsRequest{WebhookAllowedCidrs: &apiv1.CidrList{Cidrs: []string{"10.0.0.0/33"}}}},
		{"address without length", &apiv1.UpdateSettingsRequest{WebhookAllowedCidrs: &apiv1.CidrList{Cidrs: []string{"10.0.0.1"}}}},
		{"every ipv4 address", &apiv1.UpdateSettingsRequest{WebhookAllowedCidrs: &apiv1.CidrList{Cidrs: []string{"0.0.0.0/0"}}}},
		{"every ipv6 address", &apiv1.UpdateSettingsRequest{WebhookAllowedCidrs: &apiv1.CidrList{Cidrs: []string{"::/0"}}}},
		{"too many cidrs", &apiv1.UpdateSettingsRequest{WebhookAllowedCidrs: &apiv1.CidrList{Cidrs: many}}},
		{"set and restore", &apiv1.UpdateSettingsRequest{
			StreamsPerUser:  proto.Uint32(4),
			RestoreDefaults: []apiv1.RuntimeSetting{apiv1.RuntimeSetting_RUNTIME_SETTING_STREAMS_PER_USER},
		}},
		{"restore unspecified", &apiv1.UpdateSettingsRequest{RestoreDefaults: []apiv1.RuntimeSetting{apiv1.RuntimeSetting_RUNTIME_SETTING_UNSPECIFIED}}},
		{"valid value beside an invalid one", &apiv1.UpdateSettingsRequest{
			RequireAdminTotp: proto.Bool(true),
			StreamsPerUser:   proto.Uint32(0),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.UpdateSettings(ctx, withToken(tc.req, admin))
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Errorf("UpdateSettings: %v, want invalid_argument", err)
			}
		})
	}

	get, err := client.GetSettings(ctx, withToken(&apiv1.GetSettingsRequest{}, admin))
	if err != nil {
		t.Fatal(err)
	}
	got := get.Msg.GetSettings()
	if len(got.GetOverridden()) != 0 || got.GetAuth().GetRequireAdminTotp() || got.GetStreamsPerUser() != DefaultStreamsPerUser {
		t.Errorf("settings after refused updates = %v, want the defaults", got)
	}
}

// A lower stream cap refuses the next stream over it.
func TestStreamCapFollowsSettings(t *testing.T) {
	f := newFixture(t, options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin := f.login(t)
	if _, err := apiv1connect.NewSettingsServiceClient(f.h1, f.srv.URL).UpdateSettings(ctx,
		withToken(&apiv1.UpdateSettingsRequest{StreamsPerUser: proto.Uint32(1)}, admin)); err != nil {
		t.Fatal(err)
	}

	events := apiv1connect.NewEventServiceClient(f.h2c, f.srv.URL)
	first, err := events.StreamEvents(ctx, withToken(&apiv1.StreamEventsRequest{}, admin))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := events.StreamEvents(ctx, withToken(&apiv1.StreamEventsRequest{}, admin))
	if err == nil {
		second.Receive()
		err = second.Err()
	}
	if connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Errorf("second stream with a cap of 1: %v, want resource_exhausted", err)
	}
}

// Turning the admin TOTP rule on applies at the next login.
func TestAdminTOTPRuleFollowsSettings(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	authClient := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL)
	login := func() *apiv1.LoginResponse {
		t.Helper()
		resp, err := authClient.Login(ctx, connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: f.adminPassword}))
		if err != nil {
			t.Fatal(err)
		}
		f.recordToken(resp.Msg.GetToken())
		return resp.Msg
	}

	before := login()
	if before.GetTotpEnrollmentRequired() {
		t.Fatal("enrollment required before the rule was turned on")
	}
	if _, err := apiv1connect.NewSettingsServiceClient(f.h1, f.srv.URL).UpdateSettings(ctx,
		withToken(&apiv1.UpdateSettingsRequest{RequireAdminTotp: proto.Bool(true)}, before.GetToken())); err != nil {
		t.Fatal(err)
	}
	if !login().GetTotpEnrollmentRequired() {
		t.Error("login after turning the rule on does not require enrollment")
	}
}

// http:// webhook URLs and private destinations are accepted only once
// the settings allow them.
func TestWebhookPolicyFollowsSettings(t *testing.T) {
	f := newFixture(t, options{})
	dispatcher, err := webhooks.New(webhooks.Config{
		Store:         webhooks.NewDocumentStore(f.store),
		Publisher:     topics.New[*apiv1.Notice](),
		Key:           make([]byte, 32),
		Guard:         &netguard.Guard{AllowFunc: f.api.live.WebhookAllow},
		AllowHTTPFunc: f.api.live.WebhookAllowHTTP,
		Logger:        zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.api.webhooks = dispatcher
	ctx := context.Background()
	admin := f.login(t)
	hooks := apiv1connect.NewWebhookServiceClient(f.h1, f.srv.URL)
	settings := apiv1connect.NewSettingsServiceClient(f.h1, f.srv.URL)
	create := func() error {
		_, err := hooks.CreateWebhook(ctx, withToken(&apiv1.CreateWebhookRequest{Settings: &apiv1.WebhookSettings{
			Name: "soc", Url: "http://127.0.0.1:9/hook", Subjects: []string{"credential.>"},
		}}, admin))
		return err
	}

	if err := create(); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("http webhook before allow_http: %v, want invalid_argument", err)
	}
	if _, err := settings.UpdateSettings(ctx, withToken(&apiv1.UpdateSettingsRequest{WebhookAllowHttp: proto.Bool(true)}, admin)); err != nil {
		t.Fatal(err)
	}
	// Loopback is still refused by the guard.
	if err := create(); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("loopback webhook before allowing it: %v, want invalid_argument", err)
	}
	if _, err := settings.UpdateSettings(ctx, withToken(&apiv1.UpdateSettingsRequest{
		WebhookAllowedCidrs: &apiv1.CidrList{Cidrs: []string{"127.0.0.0/8"}},
	}, admin)); err != nil {
		t.Fatal(err)
	}
	if err := create(); err != nil {
		t.Errorf("http loopback webhook once allowed: %v", err)
	}
}
