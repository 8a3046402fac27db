package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

var fakeAPIToken = &apiv1.ApiToken{
	Id: "tok-1", Name: "siem", Username: "ops", Role: apiv1.Role_ROLE_VIEWER, Scopes: []string{"events:read", "attackers:read"},
	CreatedAt: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), ExpiresAt: timestamppb.New(time.Date(2026, 4, 2, 3, 4, 5, 0, time.UTC)),
}

func (f *fakeFleet) CreateApiToken(_ context.Context, req *connect.Request[apiv1.CreateApiTokenRequest]) (*connect.Response[apiv1.CreateApiTokenResponse], error) {
	f.record(req.Header(), req.Msg)
	t := &apiv1.ApiToken{
		Id: "tok-2", Name: req.Msg.GetName(), Username: "ops", Role: req.Msg.GetRole(), Scopes: req.Msg.GetScopes(),
		ExpiresAt: fakeAPIToken.GetExpiresAt(),
	}
	return connect.NewResponse(&apiv1.CreateApiTokenResponse{Token: t, Secret: "decnet_pat_fake"}), nil
}

func (f *fakeFleet) ListApiTokens(_ context.Context, req *connect.Request[apiv1.ListApiTokensRequest]) (*connect.Response[apiv1.ListApiTokensResponse], error) {
	f.record(req.Header(), req.Msg)
	return connect.NewResponse(&apiv1.ListApiTokensResponse{Tokens: []*apiv1.ApiToken{fakeAPIToken}}), nil
}

func (f *fakeFleet) RevokeApiToken(_ context.Context, req *connect.Request[apiv1.RevokeApiTokenRequest]) (*connect.Response[apiv1.RevokeApiTokenResponse], error) {
	f.record(req.Header(), req.Msg)
	return connect.NewResponse(&apiv1.RevokeApiTokenResponse{Token: fakeAPIToken}), nil
}

// TestAPITokensCommands checks what the api-tokens subcommands send and
// print.
func TestAPITokensCommands(t *testing.T) {
	clearClientEnv(t)
	fake, server := startFakeFleet(t)
	t.Setenv("DECNET_SERVER", server)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	ctx := context.Background()

	var stdout, stderr bytes.Buffer
	args := []string{"api-tokens", "create", "--name", "siem", "--role", "viewer", "--ttl", "720h",
		"--scope", "events:read", "--scope", "attackers:read,webhooks:write"}
	if err := run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("api-tokens create: %v (%s)", err, stderr.String())
	}
	req := fake.last().(*apiv1.CreateApiTokenRequest)
	if want := []string{"events:read", "attackers:read", "webhooks:write"}; !slices.Equal(req.GetScopes(), want) {
		t.Errorf("CreateApiToken scopes = %q, want %q", req.GetScopes(), want)
	}
	if req.GetName() != "siem" || req.GetRole() != apiv1.Role_ROLE_VIEWER || req.GetTtl().AsDuration() != 720*time.Hour {
		t.Errorf("CreateApiToken request = %v", req)
	}
	if out := stdout.String(); !strings.Contains(out, "scopes events:read attackers:read webhooks:write") || !strings.HasSuffix(out, "\ndecnet_pat_fake\n") {
		t.Errorf("api-tokens create printed:\n%s", out)
	}

	stdout.Reset()
	if err := run(ctx, []string{"api-tokens", "create", "--name", "all"}, &stdout, &stderr); err != nil {
		t.Fatalf("api-tokens create without scopes: %v", err)
	}
	if req := fake.last().(*apiv1.CreateApiTokenRequest); len(req.GetScopes()) != 0 || req.GetTtl() != nil || req.GetRole() != apiv1.Role_ROLE_UNSPECIFIED {
		t.Errorf("CreateApiToken without flags = %v, want no scopes, ttl or role so the server picks", req)
	}

	stdout.Reset()
	if err := run(ctx, []string{"api-tokens", "list", "--all"}, &stdout, &stderr); err != nil {
		t.Fatalf("api-tokens list: %v", err)
	}
	if !fake.last().(*apiv1.ListApiTokensRequest).GetAllUsers() {
		t.Error("api-tokens list --all did not ask for every user's tokens")
	}
	if out := stdout.String(); !strings.Contains(out, "SCOPES") || !strings.Contains(out, "events:read,attackers:read") {
		t.Errorf("api-tokens list printed:\n%s", out)
	}

	stdout.Reset()
	if err := run(ctx, []string{"api-tokens", "revoke", "tok-1"}, &stdout, &stderr); err != nil {
		t.Fatalf("api-tokens revoke: %v", err)
	}
	if id := fake.last().(*apiv1.RevokeApiTokenRequest).GetId(); id != "tok-1" {
		t.Errorf("RevokeApiToken id = %q, want tok-1", id)
	}

	usage := [][]string{
		{"api-tokens"},
		{"api-tokens", "mint"},
		{"api-tokens", "create"},
		{"api-tokens", "create", "--name", "x", "--role", "root"},
		{"api-tokens", "revoke"},
	}
	for _, args := range usage {
		if err := run(ctx, args, &stdout, &stderr); !errors.Is(err, errUsage) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
	}
}
