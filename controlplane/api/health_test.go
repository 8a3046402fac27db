package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// getHealthz returns the status and body of GET /healthz.
func (f *fixture) getHealthz(t *testing.T) (int, string) {
	t.Helper()
	resp, err := f.h1.Get(f.srv.URL + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// checkHealth calls grpc.health.v1.Health/Check without a session over
// the Connect and the gRPC protocol, and fails unless both agree.
func (f *fixture) checkHealth(t *testing.T, service string) (grpchealth.Status, error) {
	t.Helper()
	var (
		statuses []grpchealth.Status
		codes    []connect.Code
	)
	for _, opts := range [][]connect.ClientOption{nil, {connect.WithGRPC()}} {
		res, err := grpchealth.NewClient(f.h2c, f.srv.URL, opts...).Check(context.Background(), &grpchealth.CheckRequest{Service: service})
		if err != nil {
			statuses, codes = append(statuses, grpchealth.StatusUnknown), append(codes, connect.CodeOf(err))
			continue
		}
		statuses, codes = append(statuses, res.Status), append(codes, 0)
	}
	if statuses[0] != statuses[1] || codes[0] != codes[1] {
		t.Fatalf("Connect and gRPC disagree on %q: %v/%v and %v/%v", service, statuses[0], codes[0], statuses[1], codes[1])
	}
	if codes[0] != 0 {
		return statuses[0], connect.NewError(codes[0], errors.New("health check failed"))
	}
	return statuses[0], nil
}

// /healthz and Health/Check report the same readiness: the store answers
// and the check beyond it (Redis for replicas) passes. Both need no
// session, and a change of state is logged once, not at every probe.
func TestHealthFollowsReadiness(t *testing.T) {
	var redisDown atomic.Bool
	f := newFixture(t, options{ready: func(context.Context) error {
		if redisDown.Load() {
			return errors.New("dial tcp 127.0.0.1:6379: connection refused")
		}
		return nil
	}})

	wantReady := func(t *testing.T, ready bool) {
		t.Helper()
		wantStatus, wantCode, wantBody := grpchealth.StatusServing, http.StatusOK, "ok\n"
		if !ready {
			wantStatus, wantCode, wantBody = grpchealth.StatusNotServing, http.StatusServiceUnavailable, "not ready\n"
		}
		if code, body := f.getHealthz(t); code != wantCode || body != wantBody {
			t.Errorf("/healthz = %d %q, want %d %q", code, body, wantCode, wantBody)
		}
		for _, service := range []string{"", apiv1connect.EventServiceName, apiv1connect.AuthServiceName} {
			status, err := f.checkHealth(t, service)
			if err != nil || status != wantStatus {
				t.Errorf("Check(%q) = %v, %v; want %v", service, status, err, wantStatus)
			}
		}
	}

	wantReady(t, true)
	if _, err := f.checkHealth(t, "decnet.api.v1.NoSuchService"); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("Check of an unknown service: %v, want not_found", err)
	}

	redisDown.Store(true)
	wantReady(t, false)
	wantReady(t, false)
	if n := strings.Count(f.logs.String(), `"message":"not ready"`); n != 1 {
		t.Errorf("%d \"not ready\" log entries over two rounds of probes, want 1", n)
	}
	if !strings.Contains(f.logs.String(), "connection refused") {
		t.Errorf("the log does not say why: %s", f.logs.String())
	}

	redisDown.Store(false)
	wantReady(t, true)
	if n := strings.Count(f.logs.String(), `"message":"ready again"`); n != 1 {
		t.Errorf("%d \"ready again\" log entries, want 1", n)
	}

	// A store that no longer answers makes the process unready on its own.
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	wantReady(t, false)
}
