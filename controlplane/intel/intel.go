// Package intel enriches attacker addresses with threat intelligence:
// per-provider verdicts from GreyNoise, AbuseIPDB, ThreatFox and the
// abuse.ch Feodo Tracker and Spamhaus DROP lists, the reverse DNS name,
// an aggregate verdict, and an offline location and autonomous system from MaxMind-format
// databases the operator supplies.
//
// Nothing leaves the machine unless the operator configured a provider,
// every outbound request goes through a netguard.Guard, and addresses in
// private or other special ranges are not looked up by default.
package intel

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Verdict is one provider's, or the aggregate, opinion of an address.
type Verdict string

// Verdicts, strongest first. The aggregate of several verdicts is the
// strongest of them.
const (
	VerdictMalicious  Verdict = "malicious"
	VerdictSuspicious Verdict = "suspicious"
	VerdictBenign     Verdict = "benign"
	VerdictUnknown    Verdict = "unknown"
)

// rank orders verdicts for aggregation. An unrecognised value ranks as
// unknown so that a corrupt cache entry cannot outrank a real verdict.
func (v Verdict) rank() int {
	switch v {
	case VerdictMalicious:
		return 3
	case VerdictSuspicious:
		return 2
	case VerdictBenign:
		return 1
	default:
		return 0
	}
}

// Aggregate returns the strongest verdict of the results that did not
// fail: malicious > suspicious > benign > unknown. No results, or only
// failed ones, give unknown.
func Aggregate(results []Result) Verdict {
	best := VerdictUnknown
	for _, r := range results {
		if r.Error != "" {
			continue
		}
		if r.Verdict.rank() > best.rank() {
			best = r.Verdict
		}
	}
	return best
}

// Result is one provider's verdict on one address.
type Result struct {
	// Provider is the provider's Name.
	Provider string  `json:"provider"`
	Verdict  Verdict `json:"verdict"`
	// Reason is one line on why the provider gave this verdict, such as
	// "abuse confidence score 87".
	Reason string `json:"reason,omitempty"`
	// Evidence holds the provider's facts behind the verdict under short
	// snake_case keys (classification, abuse_confidence_score, malware).
	Evidence map[string]string `json:"evidence,omitempty"`
	// Link points at the provider's page for the address, if it has one.
	Link string `json:"link,omitempty"`
	// Error is a client-safe category ("rate limited", "unauthorized",
	// "unavailable", ...) when the provider request failed. The
	// verdict is then unknown and the aggregate ignores the result.
	Error string `json:"error,omitempty"`
}

// Location is the offline databases' record of an address.
type Location struct {
	CountryCode string `json:"country_code,omitempty"`
	Country     string `json:"country,omitempty"`
	City        string `json:"city,omitempty"`
	// ASN is the autonomous system number, 0 when unknown.
	ASN   uint32 `json:"asn,omitempty"`
	ASOrg string `json:"as_org,omitempty"`
	// Network is the most specific network the databases matched.
	Network string `json:"network,omitempty"`
}

// Report is the enrichment of one address.
type Report struct {
	Addr    netip.Addr `json:"addr"`
	Verdict Verdict    `json:"verdict"`
	// Results has one entry per configured provider, in configuration
	// order.
	Results  []Result  `json:"results,omitempty"`
	Location *Location `json:"location,omitempty"`
	// CheckedAt is when the providers were asked. A cached report keeps
	// the time of the original lookup.
	CheckedAt time.Time `json:"checked_at"`
	// Skipped is the reason no provider was queried, such as "non-public
	// address".
	Skipped string `json:"skipped,omitempty"`
	// Cached is true when the report came from the cache.
	Cached bool `json:"-"`
}

// Sentinel errors. Providers wrap them. The Enricher turns them into the
// Result.Error categories.
var (
	// ErrRateLimited is matched by every *RateLimitError.
	ErrRateLimited = errors.New("provider rate limit reached")
	// ErrUnauthorized means the provider refused the API key (or its
	// absence).
	ErrUnauthorized = errors.New("provider rejected credentials")
	// ErrBadRequest means the provider refused the request itself, such
	// as an address it does not accept.
	ErrBadRequest = errors.New("provider rejected request")
	// ErrUnexpectedResponse means a status or body the provider does not
	// document.
	ErrUnexpectedResponse = errors.New("unexpected provider response")
	// ErrNotLoaded means a list provider has not downloaded its list yet.
	ErrNotLoaded = errors.New("list not loaded yet")
	// ErrPaused means the Enricher skipped a provider that is backing off
	// after a rate limit.
	ErrPaused = errors.New("provider paused after rate limit")
	// ErrInvalidConfig is matched by configuration errors from New and
	// the provider constructors.
	ErrInvalidConfig = errors.New("invalid intel configuration")
)

// RateLimitError is a provider's 429 response.
type RateLimitError struct {
	// RetryAfter is how long the provider asked to wait, zero when it did
	// not say.
	RetryAfter time.Duration
	// Limit and Remaining echo the X-RateLimit headers, -1 when absent.
	Limit, Remaining int64
}

func (e *RateLimitError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("provider rate limit reached, retry after %s", e.RetryAfter)
	}
	return "provider rate limit reached"
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// errorCategory maps a provider error to the client-safe Result.Error
// text. Causes stay in the log. The text never carries a provider's body
// or a URL.
func errorCategory(err error) string {
	switch {
	case errors.Is(err, ErrPaused):
		return "paused after rate limit"
	case errors.Is(err, ErrRateLimited):
		return "rate limited"
	case errors.Is(err, ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, ErrBadRequest):
		return "request refused"
	case errors.Is(err, ErrNotLoaded):
		return "list not loaded"
	case errors.Is(err, ErrUnexpectedResponse):
		return "unexpected response"
	case errors.Is(err, errRefusedDestination):
		return "destination refused"
	default:
		return "unavailable"
	}
}
