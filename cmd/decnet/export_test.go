package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
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

const cliAttackerID = "0195a1b2-0000-7000-8000-0000000000a7"

// fakeIntelExport implements the export and intel services and records
// the requests it receives.
type fakeIntelExport struct {
	apiv1connect.UnimplementedExportServiceHandler
	apiv1connect.UnimplementedIntelServiceHandler

	mu       sync.Mutex
	requests []proto.Message
}

func (f *fakeIntelExport) record(m proto.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, m)
}

func (f *fakeIntelExport) last() proto.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

var checkedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func (f *fakeIntelExport) ListExportOutputs(_ context.Context, req *connect.Request[apiv1.ListExportOutputsRequest]) (*connect.Response[apiv1.ListExportOutputsResponse], error) {
	f.record(req.Msg)
	return connect.NewResponse(&apiv1.ListExportOutputsResponse{Outputs: []*apiv1.ExportOutput{
		{
			Name: "siem", Topics: []string{"event.auth.attempt", "credential.>"}, ApplySuppression: true,
			Destination: &apiv1.ExportOutput_Syslog{Syslog: &apiv1.ExportSyslogOutput{Address: "10.20.0.5:6514", Tls: true, Format: apiv1.ExportOutputFormat_EXPORT_OUTPUT_FORMAT_CEF}},
			Stats: &apiv1.ExportOutputStats{Delivered: 1200, Dropped: 3, Failed: 7, Suppressed: 40, Queued: 12,
				LastError: "write 10.20.0.5:6514: broken pipe", LastErrorAt: timestamppb.New(checkedAt), LastDeliveredAt: timestamppb.New(checkedAt.Add(time.Minute))},
		},
		{
			Name:        "splunk",
			Destination: &apiv1.ExportOutput_Splunk{Splunk: &apiv1.ExportSplunkOutput{Url: "https://splunk.example:8088", TokenSet: true, Index: "honeypot"}},
			Stats:       &apiv1.ExportOutputStats{},
		},
	}}), nil
}

func (f *fakeIntelExport) TestExportOutput(_ context.Context, req *connect.Request[apiv1.TestExportOutputRequest]) (*connect.Response[apiv1.TestExportOutputResponse], error) {
	f.record(req.Msg)
	switch req.Msg.GetName() {
	case "siem":
		return connect.NewResponse(&apiv1.TestExportOutputResponse{Delivered: true}), nil
	case "splunk":
		return connect.NewResponse(&apiv1.TestExportOutputResponse{Error: "hec: status 403 code 4: Invalid token"}), nil
	}
	return nil, connect.NewError(connect.CodeNotFound, errors.New("no export output with this name"))
}

func fakeReports(cached bool) []*apiv1.IntelReport {
	return []*apiv1.IntelReport{
		{
			Address: "198.51.100.7", Verdict: apiv1.IntelVerdict_INTEL_VERDICT_MALICIOUS, Cached: cached, CheckedAt: timestamppb.New(checkedAt),
			Location: &apiv1.IntelLocation{Country: "Netherlands", City: "Amsterdam", Asn: 64500, AsOrg: "Example Hosting"},
			Results: []*apiv1.IntelResult{
				{Provider: "abuseipdb", Verdict: apiv1.IntelVerdict_INTEL_VERDICT_MALICIOUS, Reason: "abuse confidence 100",
					Evidence: map[string]string{"abuse_confidence_score": "100", "total_reports": "812"}, Link: "https://www.abuseipdb.com/check/198.51.100.7"},
				{Provider: "greynoise", Verdict: apiv1.IntelVerdict_INTEL_VERDICT_UNKNOWN, Error: "rate limited"},
			},
		},
		{Address: "10.0.0.9", Verdict: apiv1.IntelVerdict_INTEL_VERDICT_UNKNOWN, Skipped: "non-public address", CheckedAt: timestamppb.New(checkedAt)},
	}
}

func (f *fakeIntelExport) GetAttackerIntel(_ context.Context, req *connect.Request[apiv1.GetAttackerIntelRequest]) (*connect.Response[apiv1.GetAttackerIntelResponse], error) {
	f.record(req.Msg)
	return connect.NewResponse(&apiv1.GetAttackerIntelResponse{Verdict: apiv1.IntelVerdict_INTEL_VERDICT_MALICIOUS, Reports: fakeReports(true)}), nil
}

func (f *fakeIntelExport) RefreshAttackerIntel(_ context.Context, req *connect.Request[apiv1.RefreshAttackerIntelRequest]) (*connect.Response[apiv1.RefreshAttackerIntelResponse], error) {
	f.record(req.Msg)
	return connect.NewResponse(&apiv1.RefreshAttackerIntelResponse{Verdict: apiv1.IntelVerdict_INTEL_VERDICT_MALICIOUS, Reports: fakeReports(false)}), nil
}

func startFakeIntelExport(t *testing.T) *fakeIntelExport {
	t.Helper()
	clearClientEnv(t)
	f := &fakeIntelExport{}
	mux := http.NewServeMux()
	mux.Handle(apiv1connect.NewExportServiceHandler(f))
	mux.Handle(apiv1connect.NewIntelServiceHandler(f))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Setenv("DECNET_SERVER", srv.URL)
	t.Setenv("DECNET_TOKEN", "decnet_pat_unit")
	return f
}

func TestExportCommands(t *testing.T) {
	fake := startFakeIntelExport(t)
	ctx := context.Background()

	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"export", "list"}, &stdout, &stderr); err != nil {
		t.Fatalf("export list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("export list printed:\n%s", stdout.String())
	}
	for _, want := range []string{"siem", "syslog/cef", "10.20.0.5:6514 tls", "event.auth.attempt,credential.>", " on ",
		"1200", "40", "12", "2026-03-01T12:01:00Z", "2026-03-01T12:00:00Z write 10.20.0.5:6514: broken pipe"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("siem row lacks %q: %s", want, lines[1])
		}
	}
	for _, want := range []string{"splunk", "https://splunk.example:8088 (token set)", "(all)", " off "} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("splunk row lacks %q: %s", want, lines[2])
		}
	}

	stdout.Reset()
	if err := run(ctx, []string{"export", "list", "--output", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("export list --output json: %v", err)
	}
	var first struct {
		Name  string `json:"name"`
		Stats struct {
			Delivered string `json:"delivered"`
			LastError string `json:"last_error"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(stdout.String(), "\n", 2)[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Name != "siem" || first.Stats.Delivered != "1200" || first.Stats.LastError != "write 10.20.0.5:6514: broken pipe" {
		t.Errorf("first JSON line %+v", first)
	}

	stdout.Reset()
	if err := run(ctx, []string{"export", "test", "siem"}, &stdout, &stderr); err != nil {
		t.Fatalf("export test siem: %v", err)
	}
	if got := fake.last().(*apiv1.TestExportOutputRequest).GetName(); got != "siem" {
		t.Errorf("TestExportOutput name %q", got)
	}
	if stdout.String() != "Output siem accepted the test record (export.test).\n" {
		t.Errorf("export test printed %q", stdout.String())
	}

	err := run(ctx, []string{"export", "test", "splunk"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "output splunk did not accept the test record: hec: status 403 code 4: Invalid token") {
		t.Errorf("export test of a refusing output: %v", err)
	}
	err = run(ctx, []string{"export", "test", "nope"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `no output named "nope"`) {
		t.Errorf("export test of an unknown output: %v", err)
	}
}

func TestAttackersIntel(t *testing.T) {
	fake := startFakeIntelExport(t)
	ctx := context.Background()

	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"attackers", "intel", cliAttackerID}, &stdout, &stderr); err != nil {
		t.Fatalf("attackers intel: %v", err)
	}
	if got := fake.last().(*apiv1.GetAttackerIntelRequest).GetAttackerId(); got != cliAttackerID {
		t.Errorf("GetAttackerIntel attacker %q", got)
	}
	out := stdout.String()
	for _, want := range []string{
		"Verdict: malicious\n",
		"198.51.100.7: malicious (Amsterdam, Netherlands AS64500 Example Hosting), cached 2026-03-01T12:00:00Z\n",
		"abuseipdb  malicious  abuse confidence 100  abuse_confidence_score=100 total_reports=812  https://www.abuseipdb.com/check/198.51.100.7",
		"greynoise  unknown    error: rate limited",
		"\n10.0.0.9: not looked up (non-public address)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("attackers intel output lacks %q:\n%s", want, out)
		}
	}

	stdout.Reset()
	if err := run(ctx, []string{"attackers", "intel", cliAttackerID, "--refresh", "--output", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("attackers intel --refresh: %v", err)
	}
	if got := fake.last().(*apiv1.RefreshAttackerIntelRequest).GetAttackerId(); got != cliAttackerID {
		t.Errorf("RefreshAttackerIntel attacker %q", got)
	}
	var resp struct {
		Verdict string `json:"verdict"`
		Reports []struct {
			Address string `json:"address"`
			Cached  bool   `json:"cached"`
			Results []struct {
				Provider string `json:"provider"`
			} `json:"results"`
		} `json:"reports"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatalf("decode %q: %v", stdout.String(), err)
	}
	if resp.Verdict != "INTEL_VERDICT_MALICIOUS" || len(resp.Reports) != 2 || resp.Reports[0].Cached || resp.Reports[0].Results[1].Provider != "greynoise" {
		t.Errorf("refresh JSON %+v", resp)
	}
}

func TestExportAndIntelUsageErrors(t *testing.T) {
	startFakeIntelExport(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", []string{"export"}, "want a subcommand, list or test"},
		{"unknown subcommand", []string{"export", "send"}, `unknown subcommand "send"`},
		{"test without name", []string{"export", "test"}, "want exactly one output name"},
		{"list with argument", []string{"export", "list", "siem"}, `unexpected argument "siem"`},
		{"intel without id", []string{"attackers", "intel"}, "want exactly one attacker id"},
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
