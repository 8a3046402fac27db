package intel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"
)

// DefaultAbuseIPDBURL is the AbuseIPDB API root.
const DefaultAbuseIPDBURL = "https://api.abuseipdb.com"

// AbuseIPDB score thresholds, on its 0-100 abuse confidence score.
const (
	abuseMaliciousScore  = 75
	abuseSuspiciousScore = 25
	// abuseMaxAgeDays is how far back reports count. 90 is AbuseIPDB's
	// own default and keeps old, reassigned addresses from scoring.
	abuseMaxAgeDays = 90
)

// AbuseIPDBConfig configures the AbuseIPDB v2 client.
type AbuseIPDBConfig struct {
	// Key is sent in the "Key" header. Required.
	Key Secret
	// BaseURL overrides DefaultAbuseIPDBURL, for tests and proxies.
	BaseURL string
	HTTP    HTTPConfig
}

// AbuseIPDB queries the v2 check endpoint for an address's abuse
// confidence score.
type AbuseIPDB struct {
	key    Secret
	base   *url.URL
	client *http.Client
	now    func() time.Time
}

var _ Provider = (*AbuseIPDB)(nil)

// NewAbuseIPDB returns an AbuseIPDB client.
func NewAbuseIPDB(cfg AbuseIPDBConfig) (*AbuseIPDB, error) {
	if cfg.Key.Empty() {
		return nil, fmt.Errorf("%w: abuseipdb api key missing: set one or disable the provider", ErrInvalidConfig)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultAbuseIPDBURL
	}
	base, err := parseBaseURL(cfg.BaseURL, "abuseipdb")
	if err != nil {
		return nil, err
	}
	return &AbuseIPDB{key: cfg.Key, base: base, client: cfg.HTTP.client(), now: cfg.HTTP.now()}, nil
}

// Name returns "abuseipdb".
func (*AbuseIPDB) Name() string { return "abuseipdb" }

// Check calls GET /api/v2/check?ipAddress=&maxAgeInDays=90.
func (p *AbuseIPDB) Check(ctx context.Context, addr netip.Addr) (Result, error) {
	u := p.base.JoinPath("api", "v2", "check")
	u.RawQuery = url.Values{
		"ipAddress":    {addr.String()},
		"maxAgeInDays": {strconv.Itoa(abuseMaxAgeDays)},
	}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{}, fmt.Errorf("build abuseipdb request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Key", p.key.Reveal())

	a, err := do(p.client, req, maxAnswerBytes)
	if err != nil {
		return Result{}, err
	}
	if err := statusError(a, p.now()); err != nil {
		return Result{}, err
	}
	switch a.status {
	case http.StatusOK:
		return parseAbuseIPDB(a.body)
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return Result{}, fmt.Errorf("%w: abuseipdb status %d: %s", ErrBadRequest, a.status, abuseIPDBDetail(a.body))
	}
	return Result{}, errStatus(a.status)
}

type abuseIPDBAnswer struct {
	Data *struct {
		IPAddress            string `json:"ipAddress"`
		IsWhitelisted        *bool  `json:"isWhitelisted"`
		AbuseConfidenceScore *int   `json:"abuseConfidenceScore"`
		CountryCode          string `json:"countryCode"`
		UsageType            string `json:"usageType"`
		ISP                  string `json:"isp"`
		Domain               string `json:"domain"`
		IsTor                bool   `json:"isTor"`
		TotalReports         int64  `json:"totalReports"`
		NumDistinctUsers     int64  `json:"numDistinctUsers"`
		LastReportedAt       string `json:"lastReportedAt"`
	} `json:"data"`
}

// parseAbuseIPDB maps abuseConfidenceScore: 75 and above malicious,
// 25 to 74 suspicious, below 25 benign.
func parseAbuseIPDB(body []byte) (Result, error) {
	var a abuseIPDBAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return Result{}, fmt.Errorf("%w: abuseipdb body: %w", ErrUnexpectedResponse, err)
	}
	if a.Data == nil || a.Data.AbuseConfidenceScore == nil {
		return Result{}, fmt.Errorf("%w: abuseipdb body has no score", ErrUnexpectedResponse)
	}
	d := a.Data
	score := *d.AbuseConfidenceScore
	if score < 0 || score > 100 {
		return Result{}, fmt.Errorf("%w: abuseipdb score %d out of range", ErrUnexpectedResponse, score)
	}

	ev := map[string]string{
		"abuse_confidence_score": strconv.Itoa(score),
		"total_reports":          strconv.FormatInt(d.TotalReports, 10),
		"distinct_reporters":     strconv.FormatInt(d.NumDistinctUsers, 10),
		"is_tor":                 strconv.FormatBool(d.IsTor),
	}
	if d.IsWhitelisted != nil {
		ev["is_whitelisted"] = strconv.FormatBool(*d.IsWhitelisted)
	}
	putShort(ev, "country_code", d.CountryCode)
	putShort(ev, "usage_type", d.UsageType)
	putShort(ev, "isp", d.ISP)
	putShort(ev, "domain", d.Domain)
	putShort(ev, "last_reported_at", d.LastReportedAt)

	r := Result{Evidence: ev, Reason: fmt.Sprintf("abuse confidence score %d from %d reports", score, d.TotalReports)}
	switch {
	case score >= abuseMaliciousScore:
		r.Verdict = VerdictMalicious
	case score >= abuseSuspiciousScore:
		r.Verdict = VerdictSuspicious
	default:
		r.Verdict = VerdictBenign
	}
	if ip, err := netip.ParseAddr(d.IPAddress); err == nil {
		r.Link = "https://www.abuseipdb.com/check/" + ip.String()
	}
	return r, nil
}

// abuseIPDBDetail returns the first error detail of an error body, for
// the log only.
func abuseIPDBDetail(body []byte) string {
	var e struct {
		Errors []struct {
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return "no detail"
	}
	return clean(e.Errors[0].Detail)
}
