package api

import (
	"context"
	"errors"
	"net"
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

// ptrResolver answers PTR queries from a map, as a zone's owner would.
type ptrResolver map[string][]string

func (r ptrResolver) LookupAddr(_ context.Context, addr string) ([]string, error) {
	if names, ok := r[addr]; ok {
		return names, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

func (ptrResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, errors.New("forward lookup not expected")
}

// The reverse DNS name reaches the attacker's intel as evidence of the
// rdns provider, validated and without a verdict of its own.
func TestAttackerIntelReverseDNS(t *testing.T) {
	rdns, err := intel.NewRDNS(intel.RDNSConfig{Resolver: ptrResolver{
		"127.0.0.3": {"=HYPERLINK(evil).example.com.", "Scan-3.Example.NET."},
	}})
	if err != nil {
		t.Fatal(err)
	}
	enricher, err := intel.New(intel.Config{Providers: []intel.Provider{rdns}, LookupNonPublic: true, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, options{})
	f.api.intel = enricher
	f.ingest(t, newEvent("127.0.0.3", "connection.opened"))
	viewer := f.loginNewUser(t, "analyst-view", apiv1.Role_ROLE_VIEWER)
	ctx := context.Background()

	attackers, err := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL).ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{}, viewer))
	if err != nil || len(attackers.Msg.GetAttackers()) != 1 {
		t.Fatalf("attackers = %v, %v", attackers, err)
	}
	got, err := apiv1connect.NewIntelServiceClient(f.h1, f.srv.URL).GetAttackerIntel(ctx,
		withToken(&apiv1.GetAttackerIntelRequest{AttackerId: attackers.Msg.GetAttackers()[0].GetId()}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	if got.Msg.GetVerdict() != apiv1.IntelVerdict_INTEL_VERDICT_UNKNOWN || len(got.Msg.GetReports()) != 1 {
		t.Fatalf("intel = %v", got.Msg)
	}
	res := got.Msg.GetReports()[0].GetResults()
	if len(res) != 1 || res[0].GetProvider() != "rdns" || res[0].GetEvidence()["ptr"] != "scan-3.example.net" || len(res[0].GetEvidence()) != 1 {
		t.Fatalf("results = %v", res)
	}
}
