package intel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// DefaultGreyNoiseURL is the GreyNoise API root.
const DefaultGreyNoiseURL = "https://api.greynoise.io"

// GreyNoiseConfig configures the GreyNoise community API client.
type GreyNoiseConfig struct {
	// Key is sent in the "key" header. The community API also works
	// without one, at a lower daily limit.
	Key Secret
	// BaseURL overrides DefaultGreyNoiseURL, for tests and proxies.
	BaseURL string
	HTTP    HTTPConfig
}

// GreyNoise queries the community API (GET /v3/community/{ip}) whether an
// address scans the internet (noise) or belongs to a known business
// service (RIOT), and how GreyNoise classifies it.
type GreyNoise struct {
	key    Secret
	base   *url.URL
	client *http.Client
	now    func() time.Time
}

var _ Provider = (*GreyNoise)(nil)

// NewGreyNoise returns a GreyNoise client.
func NewGreyNoise(cfg GreyNoiseConfig) (*GreyNoise, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultGreyNoiseURL
	}
	base, err := parseBaseURL(cfg.BaseURL, "greynoise")
	if err != nil {
		return nil, err
	}
	return &GreyNoise{key: cfg.Key, base: base, client: cfg.HTTP.client(), now: cfg.HTTP.now()}, nil
}

// Name returns "greynoise".
func (*GreyNoise) Name() string { return "greynoise" }

// Check looks addr up. 404 ("IP not observed") is a valid result, not
// an error: GreyNoise has not seen the address, so the verdict is unknown.
func (g *GreyNoise) Check(ctx context.Context, addr netip.Addr) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base.JoinPath("v3", "community", addr.String()).String(), nil)
	if err != nil {
		return Result{}, fmt.Errorf("build greynoise request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if !g.key.Empty() {
		req.Header.Set("key", g.key.Reveal())
	}
	a, err := do(g.client, req, maxAnswerBytes)
	if err != nil {
		return Result{}, err
	}
	if err := statusError(a, g.now()); err != nil {
		return Result{}, err
	}
	switch a.status {
	case http.StatusOK, http.StatusNotFound:
		return parseGreyNoise(a.status, a.body)
	case http.StatusBadRequest:
		return Result{}, fmt.Errorf("%w: greynoise status 400", ErrBadRequest)
	}
	return Result{}, errStatus(a.status)
}

// greyNoiseAnswer is the community API's body.
type greyNoiseAnswer struct {
	IP             string `json:"ip"`
	Noise          bool   `json:"noise"`
	RIOT           bool   `json:"riot"`
	Classification string `json:"classification"`
	Name           string `json:"name"`
	Link           string `json:"link"`
	LastSeen       string `json:"last_seen"`
	Message        string `json:"message"`
}

// parseGreyNoise maps the community response: classification malicious or
// suspicious as given, benign for a benign classification or a RIOT
// (known business service) address, unknown otherwise, including 404.
func parseGreyNoise(status int, body []byte) (Result, error) {
	var a greyNoiseAnswer
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&a); err != nil {
		return Result{}, fmt.Errorf("%w: greynoise body: %w", ErrUnexpectedResponse, err)
	}
	if status == http.StatusNotFound {
		return Result{Verdict: VerdictUnknown, Reason: "not observed by GreyNoise"}, nil
	}

	ev := map[string]string{
		"noise": fmt.Sprint(a.Noise),
		"riot":  fmt.Sprint(a.RIOT),
	}
	putShort(ev, "classification", a.Classification)
	putShort(ev, "name", a.Name)
	putShort(ev, "last_seen", a.LastSeen)
	r := Result{Verdict: VerdictUnknown, Evidence: ev, Link: safeLink(a.Link)}

	switch {
	case a.Classification == "malicious":
		r.Verdict, r.Reason = VerdictMalicious, "classified malicious"
	case a.Classification == "suspicious":
		r.Verdict, r.Reason = VerdictSuspicious, "classified suspicious"
	case a.RIOT:
		r.Verdict, r.Reason = VerdictBenign, "known business service (RIOT)"
	case a.Classification == "benign":
		r.Verdict, r.Reason = VerdictBenign, "classified benign"
	case a.Noise:
		r.Reason = "internet scanner, intent unknown"
	default:
		r.Reason = "no classification"
	}
	return r, nil
}
