package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// fakeSettings serves SettingsService and records the update requests.
type fakeSettings struct {
	apiv1connect.UnimplementedSettingsServiceHandler
	mu      sync.Mutex
	updates []*apiv1.UpdateSettingsRequest
}

func (f *fakeSettings) current() *apiv1.Settings {
	return &apiv1.Settings{
		Version:        "1.2.3",
		Retention:      &apiv1.SettingsRetention{Events: durationpb.New(720 * time.Hour)},
		Auth:           &apiv1.SettingsAuth{RequireAdminTotp: true},
		Webhooks:       &apiv1.SettingsWebhooks{AllowedCidrs: []string{"10.20.0.0/16"}},
		StreamsPerUser: 8,
		Overridden:     []apiv1.RuntimeSetting{apiv1.RuntimeSetting_RUNTIME_SETTING_RETENTION},
	}
}

func (f *fakeSettings) GetSettings(context.Context, *connect.Request[apiv1.GetSettingsRequest]) (*connect.Response[apiv1.GetSettingsResponse], error) {
	return connect.NewResponse(&apiv1.GetSettingsResponse{Settings: f.current()}), nil
}

func (f *fakeSettings) UpdateSettings(_ context.Context, req *connect.Request[apiv1.UpdateSettingsRequest]) (*connect.Response[apiv1.UpdateSettingsResponse], error) {
	f.mu.Lock()
	f.updates = append(f.updates, req.Msg)
	f.mu.Unlock()
	return connect.NewResponse(&apiv1.UpdateSettingsResponse{Settings: f.current()}), nil
}

func startFakeSettings(t *testing.T) *fakeSettings {
	t.Helper()
	clearClientEnv(t)
	f := &fakeSettings{}
	mux := http.NewServeMux()
	mux.Handle(apiv1connect.NewSettingsServiceHandler(f))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Setenv("DECNET_SERVER", srv.URL)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	return f
}

func TestSettingsShow(t *testing.T) {
	startFakeSettings(t)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"settings", "show"}, &stdout, &stderr); err != nil {
		t.Fatalf("settings show: %v", err)
	}
	out := stdout.String()
	for _, want := range []string{"retention            720h0m0s    set by an admin", "require-admin-totp   true        flag",
		"webhook-allow-cidrs  10.20.0.0/16  flag", "streams-per-user     8"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("settings show lacks %q:\n%s", want, out)
		}
	}
}

// Only the flags given reach the request.
func TestSettingsSetSendsGivenFlags(t *testing.T) {
	fake := startFakeSettings(t)
	var stdout, stderr bytes.Buffer
	args := []string{"settings", "set", "--retention", "48h", "--require-admin-totp=false", "--webhook-allow-cidrs", "10.0.0.0/8, 192.168.1.0/24",
		"--restore", "streams-per-user"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("settings set: %v", err)
	}
	if len(fake.updates) != 1 {
		t.Fatalf("updates = %d, want 1", len(fake.updates))
	}
	req := fake.updates[0]
	if d := req.GetRetentionEvents().AsDuration(); d != 48*time.Hour {
		t.Errorf("retention = %v, want 48h", d)
	}
	if req.RequireAdminTotp == nil || req.GetRequireAdminTotp() {
		t.Errorf("require admin totp = %v, want false and present", req.RequireAdminTotp)
	}
	if req.StreamsPerUser != nil || req.WebhookAllowHttp != nil {
		t.Errorf("flags not given were sent: streams %v, allow http %v", req.StreamsPerUser, req.WebhookAllowHttp)
	}
	if got := strings.Join(req.GetWebhookAllowedCidrs().GetCidrs(), " "); got != "10.0.0.0/8 192.168.1.0/24" {
		t.Errorf("cidrs = %q", got)
	}
	if r := req.GetRestoreDefaults(); len(r) != 1 || r[0] != apiv1.RuntimeSetting_RUNTIME_SETTING_STREAMS_PER_USER {
		t.Errorf("restore = %v, want streams per user", r)
	}

	// An empty list is sent as an empty list, which allows no network.
	if err := run(context.Background(), []string{"settings", "set", "--webhook-allow-cidrs", ""}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if l := fake.updates[1].GetWebhookAllowedCidrs(); l == nil || len(l.GetCidrs()) != 0 {
		t.Errorf("empty cidrs = %v, want an empty list", l)
	}
}

func TestSettingsUsageErrors(t *testing.T) {
	startFakeSettings(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", []string{"settings"}, "want a subcommand, show or set"},
		{"unknown subcommand", []string{"settings", "edit"}, `unknown subcommand "edit"`},
		{"nothing to set", []string{"settings", "set"}, "give at least one value"},
		{"unknown restore", []string{"settings", "set", "--restore", "oidc"}, `--restore "oidc"`},
		{"huge stream count", []string{"settings", "set", "--streams-per-user", "5000000000"}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errUsage) {
				t.Fatalf("run(%q) error = %v, want a usage error containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}
