package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// clearClientEnv empties every variable that selects a mode or a server,
// and points the client configuration at a file that does not exist.
func clearClientEnv(t *testing.T) {
	t.Helper()
	for _, name := range append([]string{"DECNET_SERVER", "DECNET_TOKEN", "DECNET_CA_FILE", "DECNET_OUTPUT"}, storeSelectorEnv...) {
		t.Setenv(name, "")
	}
	t.Setenv("DECNET_CONFIG", filepath.Join(t.TempDir(), "none.json"))
}

func TestSelectMode(t *testing.T) {
	tests := []struct {
		name    string
		given   []string
		env     map[string]string
		want    fleetMode
		wantErr string
	}{
		{name: "nothing", want: modeAPI},
		{name: "server flag", given: []string{"server"}, want: modeAPI},
		{name: "server env", env: map[string]string{"DECNET_SERVER": "https://cp:8443"}, want: modeAPI},
		{name: "token env only", env: map[string]string{"DECNET_TOKEN": "t"}, want: modeAPI},
		{name: "data-dir flag", given: []string{"data-dir"}, want: modeStore},
		{name: "store flag", given: []string{"store"}, want: modeStore},
		{name: "database-url-file flag", given: []string{"database-url-file"}, want: modeStore},
		{name: "data dir env", env: map[string]string{"DECNET_DATA_DIR": "/d"}, want: modeStore},
		{name: "database url env", env: map[string]string{"DECNET_DATABASE_URL": "postgres://x"}, want: modeStore},
		{name: "store beats saved token", given: []string{"data-dir"}, env: map[string]string{"DECNET_TOKEN": "t"}, want: modeStore},
		{name: "data-dir and server flags", given: []string{"data-dir", "server"}, wantErr: "--data-dir names a store and --server a server"},
		{name: "data dir env and server flag", given: []string{"server"}, env: map[string]string{"DECNET_DATA_DIR": "/d"},
			wantErr: "DECNET_DATA_DIR names a store and --server a server"},
		{name: "store flag and server env", given: []string{"store"}, env: map[string]string{"DECNET_SERVER": "https://cp:8443"},
			wantErr: "--store names a store and DECNET_SERVER a server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			given := make(map[string]bool)
			for _, g := range tt.given {
				given[g] = true
			}
			got, err := selectMode(given, func(name string) string { return tt.env[name] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errUsage) {
					t.Fatalf("selectMode error = %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("selectMode: %v", err)
			}
			if got != tt.want {
				t.Errorf("selectMode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFleetModeErrors(t *testing.T) {
	clearClientEnv(t)
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"agents without control plane", []string{"agents", "list"}, "no control plane selected: pass --server URL or run decnet login"},
		{"tokens without control plane", []string{"tokens", "list"}, "or pass --data-dir DIR"},
		{"server and data dir", []string{"agents", "list", "--server", "http://127.0.0.1:1", "--data-dir", dir}, "give only one"},
		{"ca-dir through the API", []string{"tokens", "create", "--server", "http://127.0.0.1:1", "--name", "s", "--ca-dir", dir},
			"--ca-dir applies only when the command opens the store"},
		{"enroll-url through the API", []string{"tokens", "create", "--server", "http://127.0.0.1:1", "--name", "s", "--enroll-url", "https://cp:8444"},
			"--enroll-url applies only when the command opens the store"},
		{"ca-file with the store", []string{"agents", "list", "--data-dir", dir, "--ca-file", "ca.crt"},
			"--ca-file applies only when the command calls the API"},
		{"show without id", []string{"agents", "show", "--data-dir", dir}, "want exactly one agent id"},
		{"unknown agents subcommand", []string{"agents", "remove"}, `unknown subcommand "remove", want list, show or decommission`},
		{"tokens list with argument", []string{"tokens", "list", "--data-dir", dir, "extra"}, `unexpected argument "extra"`},
		{"bad output with the store", []string{"agents", "list", "--data-dir", dir, "--output", "yaml"}, `invalid --output "yaml"`},
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

// TestAgentsShowStore shows an agent from the store and in JSON.
func TestAgentsShowStore(t *testing.T) {
	clearClientEnv(t)
	dir := seedAgentStore(t)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"agents", "show", cliAgentID, "--data-dir", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("agents show: %v (%s)", err, stderr.String())
	}
	for _, want := range []string{"ID:", cliAgentID, "Name:", "sensor-07", "State:", "active", "Certificate serial:", "0a"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("agents show output lacks %q:\n%s", want, stdout.String())
		}
	}

	stdout.Reset()
	if err := run(context.Background(), []string{"agents", "list", "--data-dir", dir, "--output", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("agents list --output json: %v", err)
	}
	if !strings.Contains(stdout.String(), `"id":"`+cliAgentID+`"`) || !strings.Contains(stdout.String(), `"name":"sensor-07"`) {
		t.Errorf("agents list --output json = %s", stdout.String())
	}
}

// fakeFleet implements the agent, token and webhook services and records
// the requests it receives.
type fakeFleet struct {
	apiv1connect.UnimplementedAgentServiceHandler
	apiv1connect.UnimplementedTokenServiceHandler
	apiv1connect.UnimplementedWebhookServiceHandler
	apiv1connect.UnimplementedApiTokenServiceHandler

	mu       sync.Mutex
	requests []proto.Message
	auth     []string
	webhooks []*apiv1.Webhook
}

func (f *fakeFleet) record(h http.Header, m proto.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, m)
	f.auth = append(f.auth, h.Get("Authorization"))
}

func (f *fakeFleet) last() proto.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

var fakeAgent = &apiv1.Agent{
	Id: cliAgentID, Name: "sensor-07", Connected: true, Status: apiv1.AgentStatus_AGENT_STATUS_ONLINE,
	LastSeen: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
}

func (f *fakeFleet) ListAgents(_ context.Context, req *connect.Request[apiv1.ListAgentsRequest]) (*connect.Response[apiv1.ListAgentsResponse], error) {
	f.record(req.Header(), req.Msg)
	return connect.NewResponse(&apiv1.ListAgentsResponse{Agents: []*apiv1.Agent{fakeAgent}}), nil
}

func (f *fakeFleet) DecommissionAgent(_ context.Context, req *connect.Request[apiv1.DecommissionAgentRequest]) (*connect.Response[apiv1.DecommissionAgentResponse], error) {
	f.record(req.Header(), req.Msg)
	if req.Msg.GetId() != cliAgentID {
		return nil, connect.NewError(connect.CodeNotFound, errors.New("agent not found"))
	}
	a := proto.Clone(fakeAgent).(*apiv1.Agent)
	a.Revoked, a.DecommissionedAt = true, timestamppb.New(time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC))
	return connect.NewResponse(&apiv1.DecommissionAgentResponse{Agent: a}), nil
}

func (f *fakeFleet) CreateToken(_ context.Context, req *connect.Request[apiv1.CreateTokenRequest]) (*connect.Response[apiv1.CreateTokenResponse], error) {
	f.record(req.Header(), req.Msg)
	return connect.NewResponse(&apiv1.CreateTokenResponse{
		Token:          "decnet_bt_fake",
		Info:           &apiv1.TokenInfo{AgentId: "0195a1b2-0000-7000-8000-0000000000d1", AgentName: req.Msg.GetAgentName(), State: apiv1.TokenState_TOKEN_STATE_VALID},
		InstallCommand: "d=$(mktemp -d) && true",
	}), nil
}

func (f *fakeFleet) RevokeToken(_ context.Context, req *connect.Request[apiv1.RevokeTokenRequest]) (*connect.Response[apiv1.RevokeTokenResponse], error) {
	f.record(req.Header(), req.Msg)
	return connect.NewResponse(&apiv1.RevokeTokenResponse{Token: &apiv1.TokenInfo{
		AgentId: req.Msg.GetAgentId(), AgentName: "sensor-07", State: apiv1.TokenState_TOKEN_STATE_USED,
	}}), nil
}

// startFakeFleet serves fakeFleet on loopback and returns it with its URL.
func startFakeFleet(t *testing.T) (*fakeFleet, string) {
	t.Helper()
	f := &fakeFleet{webhooks: []*apiv1.Webhook{{
		Id: "wh-1", Name: "siem", Destination: "https://siem.example", Format: apiv1.WebhookFormat_WEBHOOK_FORMAT_SLACK,
		Subjects: []string{"credential.>"}, Enabled: true, RateLimitPerMinute: 120, HasAuthorization: true,
	}}}
	mux := http.NewServeMux()
	mux.Handle(apiv1connect.NewAgentServiceHandler(f))
	mux.Handle(apiv1connect.NewTokenServiceHandler(f))
	mux.Handle(apiv1connect.NewWebhookServiceHandler(f))
	mux.Handle(apiv1connect.NewApiTokenServiceHandler(f))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// TestFleetThroughAPI checks that agents and tokens subcommands choose
// the API when a server is named, and what they send and print.
func TestFleetThroughAPI(t *testing.T) {
	clearClientEnv(t)
	fake, server := startFakeFleet(t)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	ctx := context.Background()

	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"agents", "list", "--server", server}, &stdout, &stderr); err != nil {
		t.Fatalf("agents list: %v (%s)", err, stderr.String())
	}
	if out := stdout.String(); !strings.Contains(out, cliAgentID) || !strings.Contains(out, "online") || !strings.Contains(out, "2026-01-02T03:04:05Z") {
		t.Errorf("agents list output:\n%s", out)
	}
	if got := fake.auth[len(fake.auth)-1]; got != "Bearer decnet_pat_unit" {
		t.Errorf("Authorization header = %q, want the token from DECNET_TOKEN", got)
	}

	// The server from the environment selects the API as well.
	t.Setenv("DECNET_SERVER", server)
	stdout.Reset()
	if err := run(ctx, []string{"agents", "decommission", cliAgentID}, &stdout, &stderr); err != nil {
		t.Fatalf("agents decommission: %v", err)
	}
	if got := fake.last().(*apiv1.DecommissionAgentRequest).GetId(); got != cliAgentID {
		t.Errorf("DecommissionAgent id = %q", got)
	}
	if want := "Agent " + cliAgentID + " (sensor-07) decommissioned at 2026-01-02T03:05:00Z"; !strings.Contains(stdout.String(), want) {
		t.Errorf("agents decommission printed %q, want %q", stdout.String(), want)
	}
	err := run(ctx, []string{"agents", "decommission", "0195a1b2-0000-7000-8000-0000000000ff"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no agent with id 0195a1b2-0000-7000-8000-0000000000ff") {
		t.Errorf("decommission of an unknown agent: %v", err)
	}

	stdout.Reset()
	stderr.Reset()
	if err := run(ctx, []string{"tokens", "create", "--name", "sensor-09", "--ttl", "2h", "--label", "site=lab,rack=4"}, &stdout, &stderr); err != nil {
		t.Fatalf("tokens create: %v", err)
	}
	req := fake.last().(*apiv1.CreateTokenRequest)
	if req.GetAgentName() != "sensor-09" || req.GetTtl().AsDuration() != 2*time.Hour || req.GetLabels()["site"] != "lab" || req.GetLabels()["rack"] != "4" {
		t.Errorf("CreateToken request = %v", req)
	}
	if stdout.String() != "decnet_bt_fake\n" {
		t.Errorf("tokens create stdout = %q, want the token alone", stdout.String())
	}
	if !strings.Contains(stderr.String(), "d=$(mktemp -d) && true") {
		t.Errorf("tokens create stderr lacks the install command:\n%s", stderr.String())
	}

	stdout.Reset()
	if err := run(ctx, []string{"tokens", "create", "--name", "sensor-10", "--format", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("tokens create --format json: %v", err)
	}
	if !strings.Contains(stdout.String(), `"token":"decnet_bt_fake"`) || !strings.Contains(stdout.String(), `"agent_name":"sensor-10"`) {
		t.Errorf("tokens create --format json = %s", stdout.String())
	}

	stdout.Reset()
	stderr.Reset()
	if err := run(ctx, []string{"tokens", "revoke", "0195a1b2-0000-7000-8000-0000000000d1"}, &stdout, &stderr); err != nil {
		t.Fatalf("tokens revoke: %v", err)
	}
	if got := fake.last().(*apiv1.RevokeTokenRequest).GetAgentId(); got != "0195a1b2-0000-7000-8000-0000000000d1" {
		t.Errorf("RevokeToken agent_id = %q", got)
	}
	if !strings.Contains(stderr.String(), "already used") {
		t.Errorf("revoking a used token printed no hint: %q", stderr.String())
	}
}
