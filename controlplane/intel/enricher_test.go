package intel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/decnet/decnet/controlplane/cache"
)

// countingTransport fails every request and counts the attempts.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("request not allowed in this test")
}

func TestZeroConfigEnricherMakesNoRequest(t *testing.T) {
	// With no provider there is no guarded client to count on, so the
	// process-wide default transport is swapped for a counting one: a
	// default provider sneaking in through http.DefaultClient would show.
	counter := &countingTransport{}
	saved := http.DefaultTransport
	http.DefaultTransport = counter
	t.Cleanup(func() { http.DefaultTransport = saved })

	e, err := New(Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()

	for _, a := range []string{"51.91.185.74", "2a06:5281::1", "127.0.0.2"} {
		r, err := e.Lookup(ctx, netip.MustParseAddr(a))
		if err != nil {
			t.Fatalf("Lookup(%s): %v", a, err)
		}
		if r.Verdict != VerdictUnknown || len(r.Results) != 0 || r.Location != nil || r.Skipped == "" {
			t.Errorf("Lookup(%s) = %+v, want unknown, skipped, no results", a, r)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if counter.n.Load() != 0 {
		t.Fatalf("zero config sent %d requests", counter.n.Load())
	}
}

// stubProvider returns results from a function and counts calls.
type stubProvider struct {
	name  string
	calls atomic.Int64
	check func(ctx context.Context, addr netip.Addr) (Result, error)
}

func (s *stubProvider) Name() string { return s.name }
func (s *stubProvider) Check(ctx context.Context, addr netip.Addr) (Result, error) {
	s.calls.Add(1)
	return s.check(ctx, addr)
}

func fixed(v Verdict) func(context.Context, netip.Addr) (Result, error) {
	return func(context.Context, netip.Addr) (Result, error) { return Result{Verdict: v, Reason: "stub"}, nil }
}

func TestNonPublicAddresses(t *testing.T) {
	loop := netip.MustParseAddr("127.0.0.2")
	tests := []struct {
		name         string
		nonPublic    bool
		addr         netip.Addr
		wantCalls    int64
		wantVerdict  Verdict
		wantSkipped  string
		wantLocation bool
	}{
		{"loopback skipped by default", false, loop, 0, VerdictUnknown, "non-public address", false},
		{"private skipped by default", false, netip.MustParseAddr("10.1.2.3"), 0, VerdictUnknown, "non-public address", false},
		{"mapped loopback skipped by default", false, netip.MustParseAddr("::ffff:127.0.0.3"), 0, VerdictUnknown, "non-public address", false},
		{"link-local v6 skipped by default", false, netip.MustParseAddr("fe80::1%eth0"), 0, VerdictUnknown, "non-public address", false},
		{"public asked by default", false, netip.MustParseAddr("51.91.185.74"), 1, VerdictMalicious, "", false},
		{"loopback asked when enabled", true, loop, 1, VerdictMalicious, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &stubProvider{name: "stub", check: fixed(VerdictMalicious)}
			e, err := New(Config{Providers: []Provider{p}, GeoIP: testGeoIP(t), LookupNonPublic: tt.nonPublic})
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Lookup(ctx, tt.addr)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if p.calls.Load() != tt.wantCalls || r.Verdict != tt.wantVerdict || r.Skipped != tt.wantSkipped || (r.Location != nil) != tt.wantLocation {
				t.Fatalf("calls %d, report %+v; want calls %d verdict %q skipped %q location %v",
					p.calls.Load(), r, tt.wantCalls, tt.wantVerdict, tt.wantSkipped, tt.wantLocation)
			}
		})
	}
}

func TestAggregate(t *testing.T) {
	tests := []struct {
		name    string
		results []Result
		want    Verdict
	}{
		{"none", nil, VerdictUnknown},
		{"malicious wins", []Result{{Verdict: VerdictBenign}, {Verdict: VerdictMalicious}, {Verdict: VerdictSuspicious}}, VerdictMalicious},
		{"suspicious over benign", []Result{{Verdict: VerdictBenign}, {Verdict: VerdictSuspicious}, {Verdict: VerdictUnknown}}, VerdictSuspicious},
		{"benign over unknown", []Result{{Verdict: VerdictUnknown}, {Verdict: VerdictBenign}}, VerdictBenign},
		{"failed results ignored", []Result{{Verdict: VerdictMalicious, Error: "rate limited"}, {Verdict: VerdictBenign}}, VerdictBenign},
		{"unrecognised verdict ranks as unknown", []Result{{Verdict: "evil"}}, VerdictUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Aggregate(tt.results); got != tt.want {
				t.Fatalf("Aggregate = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLookupAllProviders runs every built-in against fake APIs on
// loopback, for an attacker on 127.0.0.2.
func TestLookupAllProviders(t *testing.T) {
	clock := newFakeClock()
	attacker := netip.MustParseAddr("127.0.0.2")
	gnAPI := newFakeAPI(t, reply{status: 200, body: fixture(t, "greynoise_riot.json")})
	abAPI := newFakeAPI(t, reply{status: 200, body: fixture(t, "abuseipdb_check_suspicious.json")})
	tfAPI := newFakeAPI(t, reply{status: 200, body: fixture(t, "threatfox_no_result.json")})
	feodoAPI := newFakeAPI(t, reply{status: 200, body: []byte(`[{"ip_address":"127.0.0.2","port":443,"status":"online","malware":"Emotet"}]`)})
	dropAPI := newFakeAPI(t, reply{status: 503})

	h := testHTTP(clock.Now)
	gn, err1 := NewGreyNoise(GreyNoiseConfig{Key: "gn", BaseURL: gnAPI.srv.URL, HTTP: h})
	ab, err2 := NewAbuseIPDB(AbuseIPDBConfig{Key: "ab", BaseURL: abAPI.srv.URL, HTTP: h})
	tf, err3 := NewThreatFox(ThreatFoxConfig{Key: "tf", BaseURL: tfAPI.srv.URL, HTTP: h})
	fe, err4 := NewFeodo(FeodoConfig{URL: feodoAPI.srv.URL + "/ipblocklist.json", HTTP: h})
	dr, err5 := NewDROP(DROPConfig{URLs: []string{dropAPI.srv.URL + "/drop_v4.json"}, HTTP: h})
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		t.Fatal(err)
	}
	if err := fe.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dr.Refresh(ctx); err == nil {
		t.Fatal("DROP refresh against 503 succeeded")
	}

	e, err := New(Config{Providers: []Provider{gn, ab, tf, fe, dr}, LookupNonPublic: true, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Lookup(ctx, attacker)
	if err != nil {
		t.Fatal(err)
	}

	got := map[string]string{}
	for _, res := range r.Results {
		got[res.Provider] = string(res.Verdict) + "/" + res.Error
	}
	want := map[string]string{
		"greynoise": "benign/", "abuseipdb": "suspicious/", "threatfox": "unknown/",
		"feodo": "malicious/", "spamhaus_drop": "unknown/list not loaded",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results = %v, want %v", got, want)
	}
	if r.Verdict != VerdictMalicious || !r.CheckedAt.Equal(clock.Now()) || r.Cached {
		t.Errorf("report verdict %q checked %s cached %v", r.Verdict, r.CheckedAt, r.Cached)
	}
	if req, _ := gnAPI.last(t); req.URL.Path != "/v3/community/127.0.0.2" {
		t.Errorf("greynoise asked for %s", req.URL.Path)
	}
}

func TestCacheAndTTL(t *testing.T) {
	clock := newFakeClock()
	mem := cache.NewMemory(cache.MemoryConfig{Now: clock.Now})
	ok := &stubProvider{name: "ok", check: fixed(VerdictSuspicious)}
	e, err := New(Config{Providers: []Provider{ok}, Cache: mem, Now: clock.Now, TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr("51.91.185.74")

	first, err := e.Lookup(ctx, addr)
	if err != nil || first.Cached || first.Verdict != VerdictSuspicious {
		t.Fatalf("first = %+v, %v", first, err)
	}
	clock.Advance(time.Hour)
	second, err := e.Lookup(ctx, addr)
	if err != nil || !second.Cached || second.Verdict != VerdictSuspicious || !second.CheckedAt.Equal(first.CheckedAt) {
		t.Fatalf("second = %+v, %v; want the cached first report", second, err)
	}
	if ok.calls.Load() != 1 {
		t.Fatalf("provider called %d times within TTL, want 1", ok.calls.Load())
	}

	raw, err := mem.Get(ctx, "intel:v1:51.91.185.74")
	if err != nil || !bytes.Contains(raw, []byte(`"verdict":"suspicious"`)) {
		t.Fatalf("cache entry = %s, %v", raw, err)
	}

	if err := e.Forget(ctx, netip.MustParseAddr("::ffff:51.91.185.74")); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if _, err := mem.Get(ctx, "intel:v1:51.91.185.74"); !errors.Is(err, cache.ErrNotFound) {
		t.Fatalf("after Forget: cache Get err = %v, want ErrNotFound", err)
	}
	if _, err := e.Lookup(ctx, addr); err != nil || ok.calls.Load() != 2 {
		t.Fatalf("after Forget: calls %d, err %v; want a fresh lookup", ok.calls.Load(), err)
	}

	clock.Advance(2*time.Hour + time.Second)
	third, err := e.Lookup(ctx, addr)
	if err != nil || third.Cached || ok.calls.Load() != 3 {
		t.Fatalf("after TTL: cached %v, calls %d, err %v; want a fresh lookup", third.Cached, ok.calls.Load(), err)
	}
}

func TestFailedProviderShortensCacheLifetime(t *testing.T) {
	clock := newFakeClock()
	failing := &stubProvider{name: "down", check: func(context.Context, netip.Addr) (Result, error) {
		return Result{}, errors.New("connection refused")
	}}
	e, err := New(Config{Providers: []Provider{failing}, Now: clock.Now, Cache: cache.NewMemory(cache.MemoryConfig{Now: clock.Now}), ErrorTTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr("51.91.185.74")
	r, err := e.Lookup(ctx, addr)
	if err != nil || r.Results[0].Error != "unavailable" || r.Verdict != VerdictUnknown {
		t.Fatalf("report = %+v, %v", r, err)
	}
	clock.Advance(9 * time.Minute)
	if r, _ := e.Lookup(ctx, addr); !r.Cached {
		t.Fatal("report with a failure not cached for ErrorTTL")
	}
	clock.Advance(2 * time.Minute)
	if r, _ := e.Lookup(ctx, addr); r.Cached || failing.calls.Load() != 2 {
		t.Fatalf("cached %v calls %d after ErrorTTL", r.Cached, failing.calls.Load())
	}
}

func TestRateLimitShortRetryAfterIsWaitedOut(t *testing.T) {
	clock := newFakeClock()
	api := newFakeAPI(t,
		reply{status: 429, header: map[string]string{"Retry-After": "2"}, body: fixture(t, "greynoise_rate_limit.json")},
		reply{status: 200, body: fixture(t, "greynoise_malicious.json")},
	)
	gn, err := NewGreyNoise(GreyNoiseConfig{BaseURL: api.srv.URL, HTTP: testHTTP(clock.Now)})
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	var mu sync.Mutex
	e, err := New(Config{
		Providers: []Provider{gn}, Now: clock.Now, LookupNonPublic: true,
		Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			slept = append(slept, d)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Lookup(ctx, netip.MustParseAddr("127.0.0.3"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != VerdictMalicious || r.Results[0].Error != "" {
		t.Fatalf("report = %+v", r)
	}
	if fmt.Sprint(slept) != "[2s]" || api.count() != 2 {
		t.Fatalf("slept %v, %d requests; want [2s] and 2", slept, api.count())
	}
}

func TestRateLimitLongRetryAfterPausesProvider(t *testing.T) {
	clock := newFakeClock()
	api := newFakeAPI(t,
		reply{status: 429, header: map[string]string{"Retry-After": "3600", "X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0"}, body: fixture(t, "abuseipdb_429.json")},
		reply{status: 200, body: fixture(t, "abuseipdb_check.json")},
	)
	ab, err := NewAbuseIPDB(AbuseIPDBConfig{Key: "k", BaseURL: api.srv.URL, HTTP: testHTTP(clock.Now)})
	if err != nil {
		t.Fatal(err)
	}
	sleeps := 0
	e, err := New(Config{
		Providers: []Provider{ab}, Now: clock.Now, LookupNonPublic: true,
		Cache: cache.NewMemory(cache.MemoryConfig{Now: clock.Now}),
		Sleep: func(context.Context, time.Duration) error { sleeps++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}

	r, _ := e.Lookup(ctx, netip.MustParseAddr("127.0.0.2"))
	if r.Results[0].Error != "rate limited" || api.count() != 1 || sleeps != 0 {
		t.Fatalf("first: %+v, %d requests, %d sleeps", r.Results[0], api.count(), sleeps)
	}
	clock.Advance(30 * time.Minute)
	r, _ = e.Lookup(ctx, netip.MustParseAddr("127.0.0.3"))
	if r.Results[0].Error != "paused after rate limit" || api.count() != 1 {
		t.Fatalf("while paused: %+v, %d requests", r.Results[0], api.count())
	}
	clock.Advance(31 * time.Minute)
	r, _ = e.Lookup(ctx, netip.MustParseAddr("127.0.0.4"))
	if r.Results[0].Error != "" || r.Verdict != VerdictMalicious || api.count() != 2 {
		t.Fatalf("after pause: %+v, %d requests", r, api.count())
	}
}

func TestRateLimitWithoutRetryAfterDoublesPause(t *testing.T) {
	st := &providerState{}
	now := newFakeClock().Now()
	var got []time.Duration
	for range 8 {
		got = append(got, st.pause(now, 0))
	}
	want := "[1m0s 2m0s 4m0s 8m0s 16m0s 32m0s 1h0m0s 1h0m0s]"
	if fmt.Sprint(got) != want {
		t.Fatalf("pauses = %v, want %s", got, want)
	}
	st.succeeded()
	if d := st.pause(now, 0); d != time.Minute {
		t.Fatalf("pause after success = %s, want 1m", d)
	}
}

func TestConcurrencyBoundedPerProvider(t *testing.T) {
	const limit, lookups = 2, 6
	var inFlight, peak atomic.Int64
	entered := make(chan struct{}, lookups)
	release := make(chan struct{})
	p := &stubProvider{name: "slow", check: func(ctx context.Context, _ netip.Addr) (Result, error) {
		n := inFlight.Add(1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		inFlight.Add(-1)
		return Result{Verdict: VerdictBenign}, nil
	}}
	e, err := New(Config{Providers: []Provider{p}, MaxConcurrent: limit})
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for i := range lookups {
		wg.Go(func() {
			if _, err := e.Lookup(ctx, netip.AddrFrom4([4]byte{51, 91, 185, byte(i + 1)})); err != nil {
				t.Errorf("Lookup: %v", err)
			}
		})
	}
	for range limit {
		<-entered
	}
	close(release)
	wg.Wait()
	if peak.Load() != limit || p.calls.Load() != lookups {
		t.Fatalf("peak in flight %d, calls %d; want %d and %d", peak.Load(), p.calls.Load(), limit, lookups)
	}
}

func TestLookupCancelled(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	p := &stubProvider{name: "stuck", check: func(context.Context, netip.Addr) (Result, error) {
		<-block
		return Result{}, nil
	}}
	e, err := New(Config{Providers: []Provider{p}})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Lookup(cctx, netip.MustParseAddr("51.91.185.74")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestNewRejectsDuplicateProviders(t *testing.T) {
	a := &stubProvider{name: "same", check: fixed(VerdictBenign)}
	b := &stubProvider{name: "same", check: fixed(VerdictBenign)}
	if _, err := New(Config{Providers: []Provider{a, b}}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
	if _, err := New(Config{Providers: []Provider{nil}}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("nil provider: err = %v, want ErrInvalidConfig", err)
	}
}

func TestRunRefreshesLists(t *testing.T) {
	clock := newFakeClock()
	api := newFakeAPI(t,
		reply{status: 500},
		reply{status: 200, body: fixture(t, "drop.txt")},
	)
	dr, err := NewDROP(DROPConfig{URLs: []string{api.srv.URL + "/drop.txt"}, Refresh: 6 * time.Hour, HTTP: testHTTP(clock.Now)})
	if err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(c context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		n := len(waits)
		mu.Unlock()
		if n == 2 {
			// Second wait: the list is loaded. Stop the loop here.
			cancel()
		}
		return c.Err()
	}
	e, err := New(Config{Providers: []Provider{dr}, Now: clock.Now, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(runCtx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if fmt.Sprint(waits) != "[1m0s 6h0m0s]" || dr.Len() != 3 || api.count() != 2 {
		t.Fatalf("waits %v, entries %d, requests %d; want [1m0s 6h0m0s], 3, 2", waits, dr.Len(), api.count())
	}
}

func TestSecretRedacted(t *testing.T) {
	const key = "sk-live-0123456789abcdef"
	cfg := AbuseIPDBConfig{Key: key, BaseURL: "https://api.example.com"}

	var logBuf bytes.Buffer
	log := zerolog.New(&logBuf)
	log.Info().Interface("config", cfg).Str("key", Secret(key).String()).Msg("configured")
	jsonOut, err := json.Marshal(struct{ Key Secret }{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg),
		fmt.Sprintf("%s", Secret(key)), fmt.Sprintf("%q", Secret(key)), fmt.Sprintf("%x", Secret(key)),
		string(jsonOut), logBuf.String(),
	}
	for _, s := range texts {
		if strings.Contains(s, key) || strings.Contains(s, fmt.Sprintf("%x", key)) {
			t.Errorf("key leaked: %s", s)
		}
		if !strings.Contains(s, "[REDACTED]") {
			t.Errorf("no redaction marker in %s", s)
		}
	}
	if Secret(key).Reveal() != key {
		t.Fatal("Reveal lost the key")
	}
}

// A provider's error text carries no key into the log: keys travel in
// headers only, never in the URL that errors quote.
func TestProviderErrorsDoNotCarryKey(t *testing.T) {
	const key = "abuse-secret-key-xyz"
	api := newFakeAPI(t, reply{status: 200})
	ab, err := NewAbuseIPDB(AbuseIPDBConfig{Key: key, BaseURL: api.srv.URL, HTTP: testHTTP(nil)})
	if err != nil {
		t.Fatal(err)
	}
	api.srv.Close()
	var logBuf bytes.Buffer
	e, err := New(Config{Providers: []Provider{ab}, LookupNonPublic: true, Logger: zerolog.New(&logBuf)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Lookup(ctx, netip.MustParseAddr("127.0.0.2"))
	if err != nil || r.Results[0].Error != "unavailable" {
		t.Fatalf("report %+v, %v", r, err)
	}
	if !strings.Contains(logBuf.String(), "intel provider failed") || strings.Contains(logBuf.String(), key) {
		t.Fatalf("log = %s", logBuf.String())
	}
}
