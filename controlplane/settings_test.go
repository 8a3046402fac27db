package controlplane

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/decnet/decnet/controlplane/api"
	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/auth/oidc"
	"github.com/decnet/decnet/controlplane/export"
	"github.com/decnet/decnet/controlplane/fanout"
	"github.com/decnet/decnet/controlplane/intel"
	"github.com/decnet/decnet/controlplane/livesettings"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// Secret markers: each is set in one secret field of the configuration,
// and none may appear in the GetSettings response.
var secretMarkers = []string{
	"marker-dsn-password",
	"marker-redis-password",
	"marker-oidc-client-secret",
	"marker-greynoise-key",
	"marker-abuseipdb-key",
	"marker-threatfox-key",
	"marker-splunk-token",
	"marker-splunk-url-password",
	"marker-splunk-url-query",
	"marker-elastic-api-key",
	"marker-elastic-password",
}

func settingsTestConfig() Config {
	return Config{
		Version:          "1.2.3-test",
		DataDir:          "/var/lib/decnet-test",
		DatabaseURL:      "postgres://decnet:marker-dsn-password@db.example:5432/decnet",
		RedisURL:         "redis://:marker-redis-password@redis.example:6379/0",
		Retention:        720 * time.Hour,
		RequireAdminTOTP: true,
		OIDC: oidc.Config{
			Issuer:       "https://sso.example/realms/soc",
			ClientID:     "decnet-dashboard",
			ClientSecret: auth.Secret("marker-oidc-client-secret"),
			RedirectURL:  "https://decnet.example/auth/oidc/callback",
		},
		Intel: IntelConfig{
			GreyNoise:       true,
			GreyNoiseKey:    intel.Secret("marker-greynoise-key"),
			AbuseIPDBKey:    intel.Secret("marker-abuseipdb-key"),
			ThreatFoxKey:    intel.Secret("marker-threatfox-key"),
			DROP:            true,
			RDNS:            true,
			RDNSServer:      "127.0.0.53:53",
			GeoIPLocation:   "/srv/geoip/city.mmdb",
			LookupNonPublic: true,
		},
		Export: []export.OutputConfig{
			{Name: "siem", Syslog: &export.SyslogConfig{Address: "10.0.0.5:6514"}},
			{Name: "hec", Topics: []string{"event.>"}, Splunk: &export.SplunkConfig{
				URL:   "https://hec:marker-splunk-url-password@splunk.example:8088/base?token=marker-splunk-url-query",
				Token: auth.Secret("marker-splunk-token"),
			}},
			{Name: "es", Elastic: &export.ElasticConfig{
				URL:      "https://es.example:9200",
				APIKey:   auth.Secret("marker-elastic-api-key"),
				Username: "decnet",
				Password: auth.Secret("marker-elastic-password"),
			}},
			{Name: "file", Lines: &export.LinesConfig{Path: "/var/log/decnet/events.jsonl"}},
		},
		ExportAllow:      []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")},
		WebhookAllow:     []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")},
		WebhookAllowHTTP: true,
		AttackRules:      "/etc/decnet/attack.yaml",
	}
}

// getSettingsJSON serves an API built with settings and returns the raw
// JSON body of an admin's GetSettings call.
func getSettingsJSON(t *testing.T, settings api.Settings) []byte {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	password, _, err := auth.EnsureAdmin(ctx, st, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The runtime values come from the live settings, as in the server.
	// The authenticator does not require TOTP, so the test admin can
	// read the settings that say admins need it.
	live, err := livesettings.New(livesettings.Config{Defaults: livesettings.Values{
		Retention:        settings.Retention,
		RequireAdminTOTP: settings.RequireAdminTOTP,
		StreamsPerUser:   api.DefaultStreamsPerUser,
		WebhookAllowHTTP: settings.WebhookAllowHTTP,
		WebhookAllow:     settings.WebhookAllow,
	}})
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(auth.Config{Store: st, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Config{Store: st, Hub: fanout.New(), Settings: settings, Live: live, Auth: authn, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)

	login, err := apiv1connect.NewAuthServiceClient(srv.Client(), srv.URL).Login(ctx,
		connect.NewRequest(&apiv1.LoginRequest{Username: "admin", Password: password}))
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+apiv1connect.SettingsServiceGetSettingsProcedure, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+login.Msg.GetToken())
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GetSettings: status %d: %s", resp.StatusCode, body)
	}
	return body
}

func TestGetSettingsReturnsConfiguredValues(t *testing.T) {
	cfg := settingsTestConfig()
	// The GeoIP file does not exist; the provider names do not depend on
	// it.
	providersOnly := cfg.Intel
	providersOnly.GeoIPLocation = ""
	enricher, err := newEnricher(providersOnly, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	addrs := listenAddresses{api: "127.0.0.1:8443", enroll: "127.0.0.1:8444", bridge: "127.0.0.1:8444", metrics: "127.0.0.1:9464"}
	body := getSettingsJSON(t, settingsOf(cfg, addrs, enricher.ProviderNames()))

	var resp apiv1.GetSettingsResponse
	if err := protojson.Unmarshal(body, &resp); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	s := resp.GetSettings()
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", s.GetVersion(), "1.2.3-test"},
		{"storage kind", s.GetStorage().GetKind(), apiv1.StorageKind_STORAGE_KIND_POSTGRES},
		{"data dir", s.GetStorage().GetDataDir(), "/var/lib/decnet-test"},
		{"redis", s.GetStorage().GetRedis(), true},
		{"retention", s.GetRetention().GetEvents().AsDuration(), 720 * time.Hour},
		{"api listen", s.GetListen().GetApi(), "127.0.0.1:8443"},
		{"enroll listen", s.GetListen().GetEnroll(), "127.0.0.1:8444"},
		{"bridge listen", s.GetListen().GetBridge(), "127.0.0.1:8444"},
		{"metrics listen", s.GetListen().GetMetrics(), "127.0.0.1:9464"},
		{"admin totp", s.GetAuth().GetRequireAdminTotp(), true},
		{"oidc issuer", s.GetAuth().GetOidcIssuer(), "https://sso.example/realms/soc"},
		{"oidc client id", s.GetAuth().GetOidcClientId(), "decnet-dashboard"},
		{"oidc redirect", s.GetAuth().GetOidcRedirectUrl(), "https://decnet.example/auth/oidc/callback"},
		{"intel providers", strings.Join(s.GetIntel().GetProviders(), ","), "greynoise,abuseipdb,threatfox,spamhaus_drop,rdns"},
		{"geoip location", s.GetIntel().GetGeoipLocation(), "/srv/geoip/city.mmdb"},
		{"intel non-public", s.GetIntel().GetLookupNonPublic(), true},
		{"export allow", strings.Join(s.GetExport().GetAllowedCidrs(), ","), "10.0.0.0/24"},
		{"webhook allow", strings.Join(s.GetWebhooks().GetAllowedCidrs(), ","), "10.20.0.0/16"},
		{"webhook http", s.GetWebhooks().GetAllowHttp(), true},
		{"streams per user", s.GetStreamsPerUser(), uint32(api.DefaultStreamsPerUser)},
		{"attack rules", s.GetAttackRulesPath(), "/etc/decnet/attack.yaml"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	wantTargets := []string{
		"siem syslog 10.0.0.5:6514 []",
		"hec splunk https://splunk.example:8088/base [event.>]",
		"es elasticsearch https://es.example:9200 []",
		"file lines /var/log/decnet/events.jsonl []",
	}
	var gotTargets []string
	for _, target := range s.GetExport().GetTargets() {
		gotTargets = append(gotTargets, target.GetName()+" "+target.GetKind()+" "+target.GetAddress()+" ["+strings.Join(target.GetTopics(), ",")+"]")
	}
	if !slices.Equal(gotTargets, wantTargets) {
		t.Errorf("export targets = %q, want %q", gotTargets, wantTargets)
	}
}

func TestGetSettingsOmitsSecrets(t *testing.T) {
	cfg := settingsTestConfig()
	body := getSettingsJSON(t, settingsOf(cfg, listenAddresses{}, nil))

	for _, marker := range secretMarkers {
		if strings.Contains(string(body), marker) {
			t.Errorf("response contains secret %q: %s", marker, body)
		}
	}
	// The database host alone is no secret, but finding it would mean
	// the URL was copied whole.
	if strings.Contains(string(body), "db.example") {
		t.Errorf("response contains the database host: %s", body)
	}
}

func TestURLWithoutCredentials(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://splunk.example:8088", "https://splunk.example:8088"},
		{"https://user:pass@es.example:9200/prefix?api_key=k#frag", "https://es.example:9200/prefix"},
		{"://bad", "(invalid URL)"},
	}
	for _, c := range cases {
		if got := urlWithoutCredentials(c.in); got != c.want {
			t.Errorf("urlWithoutCredentials(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
