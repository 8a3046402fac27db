package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/intel"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
	"github.com/decnet/decnet/internal/netguard"
)

// An attacker's intel comes from the configured provider (a local server
// answering as AbuseIPDB does) and is cached until refreshed.
func TestAttackerIntel(t *testing.T) {
	calls := 0
	abuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Header.Get("Key") != "test-key" || r.URL.Query().Get("ipAddress") != "127.0.0.2" {
			http.Error(w, `{"errors":[{"detail":"bad request"}]}`, http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"ipAddress":"127.0.0.2","isPublic":false,"abuseConfidenceScore":92,"countryCode":"NL","usageType":"Data Center/Web Hosting/Transit","isp":"Example Hosting","domain":"example.net","totalReports":57,"numDistinctUsers":30,"lastReportedAt":"2026-12-01T10:00:00+00:00","isTor":false}}`))
	}))
	defer abuse.Close()

	provider, err := intel.NewAbuseIPDB(intel.AbuseIPDBConfig{
		Key: "test-key", BaseURL: abuse.URL,
		HTTP: intel.HTTPConfig{Guard: &netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	enricher, err := intel.New(intel.Config{Providers: []intel.Provider{provider}, LookupNonPublic: true, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, options{})
	f.api.intel = enricher
	f.ingest(t, newEvent("127.0.0.2", "connection.opened"))
	admin := f.login(t)
	ctx := context.Background()

	attackers, err := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL).ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{}, admin))
	if err != nil || len(attackers.Msg.GetAttackers()) != 1 {
		t.Fatalf("attackers = %v, %v", attackers, err)
	}
	id := attackers.Msg.GetAttackers()[0].GetId()
	client := apiv1connect.NewIntelServiceClient(f.h1, f.srv.URL)
	got, err := client.GetAttackerIntel(ctx, withToken(&apiv1.GetAttackerIntelRequest{AttackerId: id}, admin))
	if err != nil {
		t.Fatal(err)
	}
	if got.Msg.GetVerdict() != apiv1.IntelVerdict_INTEL_VERDICT_MALICIOUS || len(got.Msg.GetReports()) != 1 {
		t.Fatalf("intel = %v", got.Msg)
	}
	res := got.Msg.GetReports()[0].GetResults()
	if len(res) != 1 || res[0].GetProvider() != "abuseipdb" || res[0].GetEvidence()["abuse_confidence_score"] != "92" {
		t.Errorf("results = %v", res)
	}
	if _, err := client.GetAttackerIntel(ctx, withToken(&apiv1.GetAttackerIntelRequest{AttackerId: id}, admin)); err != nil || calls != 1 {
		t.Errorf("second lookup: %v, provider called %d times, want 1 (cached)", err, calls)
	}
	if _, err := client.RefreshAttackerIntel(ctx, withToken(&apiv1.RefreshAttackerIntelRequest{AttackerId: id}, admin)); err != nil || calls != 2 {
		t.Errorf("refresh: %v, provider called %d times, want 2", err, calls)
	}
}
