package intel

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var ctx = context.Background()

func TestGreyNoise(t *testing.T) {
	tests := []struct {
		name        string
		reply       reply
		wantVerdict Verdict
		wantReason  string
		wantLink    string
		wantEv      map[string]string
		wantErr     error
	}{
		{
			name:        "malicious",
			reply:       reply{status: 200, body: fixture(t, "greynoise_malicious.json")},
			wantVerdict: VerdictMalicious, wantReason: "classified malicious",
			wantLink: "https://viz.greynoise.io/ip/51.91.185.74",
			wantEv:   map[string]string{"noise": "true", "riot": "false", "classification": "malicious", "name": "unknown", "last_seen": "2026-11-30"},
		},
		{
			name:        "riot is benign",
			reply:       reply{status: 200, body: fixture(t, "greynoise_riot.json")},
			wantVerdict: VerdictBenign, wantReason: "known business service (RIOT)",
			wantLink: "https://viz.greynoise.io/riot/8.8.8.8",
			wantEv:   map[string]string{"noise": "false", "riot": "true", "classification": "benign", "name": "Google Public DNS", "last_seen": "2026-11-30"},
		},
		{
			name:        "noise with unknown classification",
			reply:       reply{status: 200, body: fixture(t, "greynoise_unknown_noise.json")},
			wantVerdict: VerdictUnknown, wantReason: "internet scanner, intent unknown",
			wantLink: "https://viz.greynoise.io/ip/45.83.66.10",
			wantEv:   map[string]string{"noise": "true", "riot": "false", "classification": "unknown", "name": "unknown", "last_seen": "2026-11-29"},
		},
		{
			name:        "not observed",
			reply:       reply{status: 404, body: fixture(t, "greynoise_not_observed.json")},
			wantVerdict: VerdictUnknown, wantReason: "not observed by GreyNoise",
		},
		{
			name:    "rate limited",
			reply:   reply{status: 429, body: fixture(t, "greynoise_rate_limit.json")},
			wantErr: ErrRateLimited,
		},
		{
			name:    "unauthorized",
			reply:   reply{status: 401, body: []byte(`{"message":"Authentication required"}`)},
			wantErr: ErrUnauthorized,
		},
		{
			name:    "bad request",
			reply:   reply{status: 400, body: []byte(`{"message":"Request is not a valid routable IPv4 address"}`)},
			wantErr: ErrBadRequest,
		},
		{
			name:    "not json",
			reply:   reply{status: 200, body: []byte(`<html>maintenance</html>`)},
			wantErr: ErrUnexpectedResponse,
		},
		{
			name:    "undocumented status",
			reply:   reply{status: 302, header: map[string]string{"Location": "/elsewhere"}},
			wantErr: ErrUnexpectedResponse,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, tt.reply)
			g, err := NewGreyNoise(GreyNoiseConfig{Key: "gn-test-key", BaseURL: api.srv.URL, HTTP: testHTTP(nil)})
			if err != nil {
				t.Fatalf("NewGreyNoise: %v", err)
			}
			g.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

			res, err := g.Check(ctx, netip.MustParseAddr("51.91.185.74"))

			req, _ := api.last(t)
			if req.Method != http.MethodGet || req.URL.Path != "/v3/community/51.91.185.74" {
				t.Errorf("request = %s %s, want GET /v3/community/51.91.185.74", req.Method, req.URL.Path)
			}
			if got := req.Header.Get("key"); got != "gn-test-key" {
				t.Errorf("key header = %q", got)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Verdict != tt.wantVerdict || res.Reason != tt.wantReason || res.Link != tt.wantLink {
				t.Errorf("got %q %q %q, want %q %q %q", res.Verdict, res.Reason, res.Link, tt.wantVerdict, tt.wantReason, tt.wantLink)
			}
			if tt.wantEv != nil && !reflect.DeepEqual(res.Evidence, tt.wantEv) {
				t.Errorf("evidence = %v, want %v", res.Evidence, tt.wantEv)
			}
		})
	}
}

func TestGreyNoiseWithoutKeySendsNoKeyHeader(t *testing.T) {
	api := newFakeAPI(t, reply{status: 404, body: fixture(t, "greynoise_not_observed.json")})
	g, err := NewGreyNoise(GreyNoiseConfig{BaseURL: api.srv.URL, HTTP: testHTTP(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Check(ctx, netip.MustParseAddr("1.2.3.4")); err != nil {
		t.Fatalf("Check: %v", err)
	}
	req, _ := api.last(t)
	if _, ok := req.Header["Key"]; ok {
		t.Errorf("key header sent without a key: %q", req.Header.Get("key"))
	}
}

func TestAbuseIPDB(t *testing.T) {
	clock := newFakeClock()
	tests := []struct {
		name        string
		reply       reply
		wantVerdict Verdict
		wantEv      map[string]string
		wantErr     error
		wantRetry   time.Duration
		wantLimit   int64
	}{
		{
			name:        "score 100 is malicious",
			reply:       reply{status: 200, body: fixture(t, "abuseipdb_check.json")},
			wantVerdict: VerdictMalicious,
			wantEv: map[string]string{
				"abuse_confidence_score": "100", "total_reports": "1", "distinct_reporters": "1",
				"is_tor": "false", "is_whitelisted": "false", "country_code": "CN",
				"usage_type": "Data Center/Web Hosting/Transit", "isp": "Tencent Cloud Computing (Beijing) Co. Ltd",
				"domain": "tencent.com", "last_reported_at": "2018-12-20T20:55:14+00:00",
			},
		},
		{
			name:        "score 25 is suspicious",
			reply:       reply{status: 200, body: fixture(t, "abuseipdb_check_suspicious.json")},
			wantVerdict: VerdictSuspicious,
		},
		{
			name:        "score 0 is benign",
			reply:       reply{status: 200, body: fixture(t, "abuseipdb_check_clean.json")},
			wantVerdict: VerdictBenign,
		},
		{
			name: "429 with Retry-After",
			reply: reply{status: 429, body: fixture(t, "abuseipdb_429.json"), header: map[string]string{
				"Retry-After": "29", "X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0",
				"X-RateLimit-Reset": "1796127029",
			}},
			wantErr: ErrRateLimited, wantRetry: 29 * time.Second, wantLimit: 1000,
		},
		{
			name: "429 with reset only",
			reply: reply{status: 429, body: fixture(t, "abuseipdb_429.json"), header: map[string]string{
				"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0",
				"X-RateLimit-Reset": "1796127000", // clock + 10 minutes
			}},
			wantErr: ErrRateLimited, wantRetry: 10 * time.Minute, wantLimit: 1000,
		},
		{
			name:    "401",
			reply:   reply{status: 401, body: fixture(t, "abuseipdb_401.json")},
			wantErr: ErrUnauthorized,
		},
		{
			name:    "422",
			reply:   reply{status: 422, body: fixture(t, "abuseipdb_422.json")},
			wantErr: ErrBadRequest,
		},
		{
			name:    "score out of range",
			reply:   reply{status: 200, body: []byte(`{"data":{"abuseConfidenceScore":101}}`)},
			wantErr: ErrUnexpectedResponse,
		},
		{
			name:    "no data",
			reply:   reply{status: 200, body: []byte(`{"errors":[]}`)},
			wantErr: ErrUnexpectedResponse,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, tt.reply)
			p, err := NewAbuseIPDB(AbuseIPDBConfig{Key: "abuse-test-key", BaseURL: api.srv.URL, HTTP: testHTTP(clock.Now)})
			if err != nil {
				t.Fatalf("NewAbuseIPDB: %v", err)
			}

			res, err := p.Check(ctx, netip.MustParseAddr("118.25.6.39"))

			req, _ := api.last(t)
			q := req.URL.Query()
			if req.URL.Path != "/api/v2/check" || q.Get("ipAddress") != "118.25.6.39" || q.Get("maxAgeInDays") != "90" {
				t.Errorf("request = %s, want /api/v2/check?ipAddress=118.25.6.39&maxAgeInDays=90", req.URL)
			}
			if req.Header.Get("Key") != "abuse-test-key" || req.Header.Get("Accept") != "application/json" {
				t.Errorf("headers Key=%q Accept=%q", req.Header.Get("Key"), req.Header.Get("Accept"))
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var rl *RateLimitError
				if errors.As(err, &rl) && (rl.RetryAfter != tt.wantRetry || rl.Limit != tt.wantLimit || rl.Remaining != 0) {
					t.Errorf("rate limit = %+v, want retry %s limit %d remaining 0", rl, tt.wantRetry, tt.wantLimit)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Verdict != tt.wantVerdict {
				t.Errorf("verdict = %q, want %q", res.Verdict, tt.wantVerdict)
			}
			if tt.wantEv != nil && !reflect.DeepEqual(res.Evidence, tt.wantEv) {
				t.Errorf("evidence = %v, want %v", res.Evidence, tt.wantEv)
			}
		})
	}
}

func TestAbuseIPDBThresholds(t *testing.T) {
	for score, want := range map[int]Verdict{0: VerdictBenign, 24: VerdictBenign, 25: VerdictSuspicious, 74: VerdictSuspicious, 75: VerdictMalicious, 100: VerdictMalicious} {
		body, _ := json.Marshal(map[string]any{"data": map[string]any{"ipAddress": "1.2.3.4", "abuseConfidenceScore": score}})
		res, err := parseAbuseIPDB(body)
		if err != nil || res.Verdict != want {
			t.Errorf("score %d: %q, %v; want %q", score, res.Verdict, err, want)
		}
	}
}

func TestThreatFox(t *testing.T) {
	tests := []struct {
		name        string
		addr        string
		reply       reply
		wantVerdict Verdict
		wantEv      map[string]string
		wantErr     error
	}{
		{
			name:        "ip:port IOC on the address",
			addr:        "139.180.203.104",
			reply:       reply{status: 200, body: fixture(t, "threatfox_ok.json")},
			wantVerdict: VerdictMalicious,
			wantEv:      map[string]string{"ioc_count": "1", "confidence_level": "75", "malware": "Cobalt Strike", "threat_type": "botnet_cc"},
		},
		{
			name:        "IOCs on other addresses only",
			addr:        "139.180.203.1",
			reply:       reply{status: 200, body: fixture(t, "threatfox_ok.json")},
			wantVerdict: VerdictUnknown,
		},
		{
			name:        "no result",
			addr:        "1.2.3.4",
			reply:       reply{status: 200, body: fixture(t, "threatfox_no_result.json")},
			wantVerdict: VerdictUnknown,
		},
		{
			name:    "illegal search term",
			addr:    "1.2.3.4",
			reply:   reply{status: 200, body: fixture(t, "threatfox_illegal.json")},
			wantErr: ErrBadRequest,
		},
		{
			name:    "unauthorized",
			addr:    "1.2.3.4",
			reply:   reply{status: 401, body: []byte(`{"query_status":"unknown_auth_key"}`)},
			wantErr: ErrUnauthorized,
		},
		{
			name:    "rate limited",
			addr:    "1.2.3.4",
			reply:   reply{status: 429, header: map[string]string{"Retry-After": "60"}},
			wantErr: ErrRateLimited,
		},
		{
			name:    "undocumented status",
			addr:    "1.2.3.4",
			reply:   reply{status: 200, body: []byte(`{"query_status":"server_busy"}`)},
			wantErr: ErrUnexpectedResponse,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t, tt.reply)
			p, err := NewThreatFox(ThreatFoxConfig{Key: "tf-test-key", BaseURL: api.srv.URL, HTTP: testHTTP(nil)})
			if err != nil {
				t.Fatalf("NewThreatFox: %v", err)
			}

			res, err := p.Check(ctx, netip.MustParseAddr(tt.addr))

			req, body := api.last(t)
			if req.Method != http.MethodPost || req.URL.Path != "/api/v1/" || req.Header.Get("Auth-Key") != "tf-test-key" {
				t.Errorf("request = %s %s Auth-Key=%q", req.Method, req.URL.Path, req.Header.Get("Auth-Key"))
			}
			var q map[string]string
			if err := json.Unmarshal(body, &q); err != nil || q["query"] != "search_ioc" || q["search_term"] != tt.addr {
				t.Errorf("query body = %s (%v)", body, err)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Verdict != tt.wantVerdict {
				t.Errorf("verdict = %q, want %q", res.Verdict, tt.wantVerdict)
			}
			if tt.wantEv != nil && !reflect.DeepEqual(res.Evidence, tt.wantEv) {
				t.Errorf("evidence = %v, want %v", res.Evidence, tt.wantEv)
			}
		})
	}
}

func TestLists(t *testing.T) {
	tests := []struct {
		name     string
		make     func(urls []string) (*List, error)
		fixtures []string
		wantLen  int
		listed   map[string]map[string]string
		unlisted []string
	}{
		{
			name:     "feodo json",
			make:     func(u []string) (*List, error) { return NewFeodo(FeodoConfig{URL: u[0], HTTP: testHTTP(nil)}) },
			fixtures: []string{"feodo_ipblocklist.json"},
			wantLen:  2,
			listed: map[string]map[string]string{"51.161.81.190": {
				"malware": "Pikabot", "status": "online", "port": "13721", "first_seen": "2026-05-08 15:31:41",
				"last_online": "2026-12-01", "listed_network": "51.161.81.190/32", "list_loaded_at": "2026-12-01T12:00:00Z",
			}},
			unlisted: []string{"51.161.81.191", "2001:db8::1"},
		},
		{
			name:     "feodo csv",
			make:     func(u []string) (*List, error) { return NewFeodo(FeodoConfig{URL: u[0], HTTP: testHTTP(nil)}) },
			fixtures: []string{"feodo_ipblocklist.csv"},
			wantLen:  2,
			listed: map[string]map[string]string{"162.243.103.246": {
				"malware": "QakBot", "status": "offline", "port": "8080", "first_seen": "2026-03-01 10:00:00",
				"last_online": "2026-11-20", "listed_network": "162.243.103.246/32", "list_loaded_at": "2026-12-01T12:00:00Z",
			}},
			unlisted: []string{"162.243.103.247"},
		},
		{
			name:     "feodo text",
			make:     func(u []string) (*List, error) { return NewFeodo(FeodoConfig{URL: u[0], HTTP: testHTTP(nil)}) },
			fixtures: []string{"feodo_ipblocklist.txt"},
			wantLen:  2,
			listed: map[string]map[string]string{"::ffff:51.161.81.190": {
				"listed_network": "51.161.81.190/32", "list_loaded_at": "2026-12-01T12:00:00Z",
			}},
		},
		{
			name:     "drop json v4 and v6",
			make:     func(u []string) (*List, error) { return NewDROP(DROPConfig{URLs: u, HTTP: testHTTP(nil)}) },
			fixtures: []string{"drop_v4.json", "drop_v6.json"},
			wantLen:  4,
			listed: map[string]map[string]string{
				"1.10.17.200":  {"sblid": "SBL256894", "rir": "apnic", "listed_network": "1.10.16.0/20", "list_loaded_at": "2026-12-01T12:00:00Z"},
				"2a06:5281::1": {"sblid": "SBL582937", "rir": "ripencc", "listed_network": "2a06:5280::/29", "list_loaded_at": "2026-12-01T12:00:00Z"},
			},
			unlisted: []string{"1.10.32.1", "2a06:5290::1"},
		},
		{
			name:     "drop text",
			make:     func(u []string) (*List, error) { return NewDROP(DROPConfig{URLs: u, HTTP: testHTTP(nil)}) },
			fixtures: []string{"drop.txt"},
			wantLen:  3,
			listed: map[string]map[string]string{
				"2.56.195.255": {"sblid": "SBL459831", "listed_network": "2.56.192.0/22", "list_loaded_at": "2026-12-01T12:00:00Z"},
			},
			unlisted: []string{"2.56.196.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var urls []string
			for _, f := range tt.fixtures {
				api := newFakeAPI(t, reply{status: 200, body: fixture(t, f), header: map[string]string{"Content-Type": "text/plain"}})
				urls = append(urls, api.srv.URL+"/downloads/"+f)
			}
			l, err := tt.make(urls)
			if err != nil {
				t.Fatalf("new list: %v", err)
			}
			l.now = newFakeClock().Now

			if _, err := l.Check(ctx, netip.MustParseAddr("1.10.17.200")); !errors.Is(err, ErrNotLoaded) {
				t.Fatalf("Check before Refresh: err = %v, want ErrNotLoaded", err)
			}
			if err := l.Refresh(ctx); err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if l.Len() != tt.wantLen {
				t.Errorf("Len = %d, want %d", l.Len(), tt.wantLen)
			}
			for addr, ev := range tt.listed {
				res, err := l.Check(ctx, netip.MustParseAddr(addr))
				if err != nil || res.Verdict != VerdictMalicious || !reflect.DeepEqual(res.Evidence, ev) {
					t.Errorf("Check(%s) = %+v, %v; want malicious with %v", addr, res, err, ev)
				}
			}
			for _, addr := range tt.unlisted {
				res, err := l.Check(ctx, netip.MustParseAddr(addr))
				if err != nil || res.Verdict != VerdictUnknown || res.Reason != "not listed" {
					t.Errorf("Check(%s) = %+v, %v; want unknown", addr, res, err)
				}
			}
		})
	}
}

func TestListRefreshFailureKeepsOldContents(t *testing.T) {
	api := newFakeAPI(t,
		reply{status: 200, body: fixture(t, "feodo_ipblocklist.json")},
		reply{status: 503, body: []byte("busy")},
		reply{status: 200, body: []byte(`[{"ip_address": "51.161.81.190"`)},
	)
	l, err := NewFeodo(FeodoConfig{URL: api.srv.URL + "/downloads/ipblocklist.json", HTTP: testHTTP(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Refresh(ctx); err != nil {
		t.Fatalf("first Refresh: %v", err)
	}
	if err := l.Refresh(ctx); err == nil {
		t.Fatal("Refresh on 503 succeeded")
	}
	if err := l.Refresh(ctx); !errors.Is(err, ErrUnexpectedResponse) {
		t.Fatalf("Refresh on truncated JSON: err = %v, want ErrUnexpectedResponse", err)
	}
	if l.Len() != 2 {
		t.Errorf("Len after failed refreshes = %d, want 2", l.Len())
	}
}

func TestListRejectsOverwideEntries(t *testing.T) {
	items, err := parseDROPText([]byte("0.0.0.0/0 ; SBL1\n10.0.0.0/7 ; SBL2\n::/0 ; SBL3\n::ffff:0:0/95 ; SBL4\n::ffff:1.2.3.0/120 ; SBL5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].prefix != netip.MustParsePrefix("1.2.3.0/24") {
		t.Fatalf("items = %+v, want only 1.2.3.0/24", items)
	}
}

func TestProviderConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		make func() error
	}{
		{"abuseipdb without key", func() error { _, err := NewAbuseIPDB(AbuseIPDBConfig{}); return err }},
		{"threatfox without key", func() error { _, err := NewThreatFox(ThreatFoxConfig{}); return err }},
		{"ftp scheme", func() error { _, err := NewGreyNoise(GreyNoiseConfig{BaseURL: "ftp://example.com"}); return err }},
		{"credentials in url", func() error {
			_, err := NewGreyNoise(GreyNoiseConfig{BaseURL: "https://user:pw@example.com"})
			return err
		}},
		{"query in base url", func() error {
			_, err := NewAbuseIPDB(AbuseIPDBConfig{Key: "k", BaseURL: "https://example.com/?key=x"})
			return err
		}},
		{"no host", func() error { _, err := NewFeodo(FeodoConfig{URL: "https:///x.json"}); return err }},
		{"drop bad url", func() error { _, err := NewDROP(DROPConfig{URLs: []string{"file:///etc/passwd"}}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.make(); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// A provider without an Allow list may not reach loopback: a provider URL
// pointed at the control plane's own network is refused before connect.
func TestGuardRefusesInternalProviderURL(t *testing.T) {
	api := newFakeAPI(t, reply{status: 200, body: fixture(t, "greynoise_malicious.json")})
	g, err := NewGreyNoise(GreyNoiseConfig{BaseURL: api.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Check(ctx, netip.MustParseAddr("51.91.185.74"))
	if err == nil || errorCategory(err) != "destination refused" {
		t.Fatalf("err = %v (category %q), want destination refused", err, errorCategory(err))
	}
	if api.count() != 0 {
		t.Fatalf("%d requests reached the server", api.count())
	}
}

func TestOversizeAnswerRefused(t *testing.T) {
	big := make([]byte, maxAnswerBytes+10)
	for i := range big {
		big[i] = ' '
	}
	api := newFakeAPI(t, reply{status: 200, body: big})
	g, err := NewGreyNoise(GreyNoiseConfig{BaseURL: api.srv.URL, HTTP: testHTTP(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Check(ctx, netip.MustParseAddr("51.91.185.74")); !errors.Is(err, ErrUnexpectedResponse) {
		t.Fatalf("err = %v, want ErrUnexpectedResponse", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"29", 29 * time.Second, true},
		{" 0 ", 0, true},
		{"999999999999999999999", maxRetryAfter, true},
		{"Tue, 01 Dec 2026 12:01:00 GMT", time.Minute, true},
		{"Tue, 01 Dec 2026 11:00:00 GMT", 0, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now, maxRetryAfter)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestEvidenceSanitised(t *testing.T) {
	body := []byte(`{"ip":"1.2.3.4","noise":true,"riot":false,"classification":"malicious","name":"evil\u0000\u001b[31mname","link":"javascript:alert(1)","last_seen":"2026-11-30"}`)
	res, err := parseGreyNoise(200, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Evidence["name"] != "evil[31mname" || res.Link != "" {
		t.Fatalf("name = %q, link = %q", res.Evidence["name"], res.Link)
	}
}
