package intel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultThreatFoxURL is the ThreatFox API root.
const DefaultThreatFoxURL = "https://threatfox-api.abuse.ch"

// maxThreatFoxIOCs caps how many matching IOCs are summarised. The
// verdict needs one, the evidence a few names.
const maxThreatFoxIOCs = 16

// ThreatFoxConfig configures the ThreatFox client.
type ThreatFoxConfig struct {
	// Key is the abuse.ch Auth-Key. Required.
	Key Secret
	// BaseURL overrides DefaultThreatFoxURL, for tests and proxies.
	BaseURL string
	HTTP    HTTPConfig
}

// ThreatFox searches abuse.ch ThreatFox for IOCs on an address
// (POST /api/v1/ with query search_ioc).
type ThreatFox struct {
	key    Secret
	base   *url.URL
	client *http.Client
	now    func() time.Time
}

var _ Provider = (*ThreatFox)(nil)

// NewThreatFox returns a ThreatFox client.
func NewThreatFox(cfg ThreatFoxConfig) (*ThreatFox, error) {
	if cfg.Key.Empty() {
		return nil, fmt.Errorf("%w: threatfox auth key missing: set an abuse.ch Auth-Key or disable the provider", ErrInvalidConfig)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultThreatFoxURL
	}
	base, err := parseBaseURL(cfg.BaseURL, "threatfox")
	if err != nil {
		return nil, err
	}
	return &ThreatFox{key: cfg.Key, base: base, client: cfg.HTTP.client(), now: cfg.HTTP.now()}, nil
}

// Name returns "threatfox".
func (*ThreatFox) Name() string { return "threatfox" }

// Check searches for addr.
func (p *ThreatFox) Check(ctx context.Context, addr netip.Addr) (Result, error) {
	body, err := json.Marshal(map[string]string{"query": "search_ioc", "search_term": addr.String()})
	if err != nil {
		return Result{}, fmt.Errorf("encode threatfox query: %w", err)
	}
	// The trailing slash is part of the documented endpoint.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base.JoinPath("api", "v1").String()+"/", bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("build threatfox request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Auth-Key", p.key.Reveal())

	a, err := do(p.client, req, maxAnswerBytes)
	if err != nil {
		return Result{}, err
	}
	if err := statusError(a, p.now()); err != nil {
		return Result{}, err
	}
	if a.status != http.StatusOK {
		return Result{}, errStatus(a.status)
	}
	return parseThreatFox(addr, a.body)
}

type threatFoxIOC struct {
	IOC              string `json:"ioc"`
	ThreatType       string `json:"threat_type"`
	IOCType          string `json:"ioc_type"`
	Malware          string `json:"malware"`
	MalwarePrintable string `json:"malware_printable"`
	ConfidenceLevel  int    `json:"confidence_level"`
	FirstSeen        string `json:"first_seen"`
	LastSeen         string `json:"last_seen"`
}

// parseThreatFox maps an IOC match on addr to malicious. Data is an
// array of IOCs for "ok" and a message string otherwise. Only IOCs whose
// host is addr itself count, so a fuzzy match on another address cannot
// taint this one.
func parseThreatFox(addr netip.Addr, body []byte) (Result, error) {
	var a struct {
		QueryStatus string          `json:"query_status"`
		Data        json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return Result{}, fmt.Errorf("%w: threatfox body: %w", ErrUnexpectedResponse, err)
	}
	switch a.QueryStatus {
	case "ok":
	case "no_result":
		return Result{Verdict: VerdictUnknown, Reason: "no IOC on ThreatFox"}, nil
	case "illegal_search_term", "illegal_query", "no_query":
		return Result{}, fmt.Errorf("%w: threatfox query_status %s", ErrBadRequest, a.QueryStatus)
	case "unknown_auth_key", "unauthorized":
		return Result{}, fmt.Errorf("%w: threatfox query_status %s", ErrUnauthorized, a.QueryStatus)
	default:
		return Result{}, fmt.Errorf("%w: threatfox query_status %q", ErrUnexpectedResponse, clean(a.QueryStatus))
	}

	var iocs []threatFoxIOC
	if err := json.Unmarshal(a.Data, &iocs); err != nil {
		return Result{}, fmt.Errorf("%w: threatfox data: %w", ErrUnexpectedResponse, err)
	}
	malware := map[string]bool{}
	threats := map[string]bool{}
	matched, best := 0, 0
	for _, ioc := range iocs {
		if !iocMatches(addr, ioc.IOC) {
			continue
		}
		matched++
		best = max(best, ioc.ConfidenceLevel)
		if len(malware) < maxThreatFoxIOCs {
			if m := clean(ioc.MalwarePrintable); m != "" {
				malware[m] = true
			}
			if t := clean(ioc.ThreatType); t != "" {
				threats[t] = true
			}
		}
	}
	if matched == 0 {
		return Result{Verdict: VerdictUnknown, Reason: "no IOC on ThreatFox for this address"}, nil
	}

	ev := map[string]string{
		"ioc_count":        strconv.Itoa(matched),
		"confidence_level": strconv.Itoa(best),
	}
	putShort(ev, "malware", joinKeys(malware))
	putShort(ev, "threat_type", joinKeys(threats))
	return Result{
		Verdict:  VerdictMalicious,
		Reason:   fmt.Sprintf("%d ThreatFox IOC(s)", matched),
		Evidence: ev,
		Link:     "https://threatfox.abuse.ch/browse.php?search=ioc%3A" + url.QueryEscape(addr.String()),
	}, nil
}

// iocMatches accepts an "ip" or "ip:port" IOC naming addr.
func iocMatches(addr netip.Addr, ioc string) bool {
	host := ioc
	if h, _, err := net.SplitHostPort(ioc); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(host))
	return err == nil && ip.Unmap() == addr.Unmap()
}

func joinKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
