package intel

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/decnet/decnet/internal/netguard"
)

const (
	// defaultHTTPTimeout bounds one provider request, body included. It is
	// an estimate with wide margin for per-address calls and list downloads.
	defaultHTTPTimeout = 20 * time.Second
	// maxRedirects allows a provider's CDN to move a download once or
	// twice. Every hop is checked by the guard.
	maxRedirects = 3
	// maxAnswerBytes caps a per-address response. The documented examples
	// are below 4 KiB, but ThreatFox can list many IOCs for one address.
	maxAnswerBytes = 1 << 20
	// maxListBytes caps a list download. Feodo's JSON and Spamhaus DROP
	// are estimated well below 1 MiB each.
	maxListBytes = 16 << 20
	// maxRetryAfter caps a provider's Retry-After, because AbuseIPDB's
	// daily limit can request a wait of up to a day.
	maxRetryAfter = 24 * time.Hour
	// userAgent names the software. Some providers refuse requests
	// without one.
	userAgent = "decnet-intel/1"
)

// errRefusedDestination marks a request the guard rejected, so the
// Result names the cause rather than "unavailable".
var errRefusedDestination = netguard.ErrRefused

// HTTPConfig is the part of the configuration every HTTP provider shares.
type HTTPConfig struct {
	// Guard checks every connection. Nil means a zero Guard, which
	// refuses loopback, private and other special ranges. Tests set
	// Allow to 127.0.0.0/8.
	Guard *netguard.Guard
	// Timeout bounds one request including its body. Default 20 s.
	Timeout time.Duration
	// Now reads the clock for Retry-After dates. Default time.Now.
	Now func() time.Time
}

func (c HTTPConfig) now() func() time.Time {
	if c.Now == nil {
		return time.Now
	}
	return c.Now
}

func (c HTTPConfig) client() *http.Client {
	g := c.Guard
	if g == nil {
		g = &netguard.Guard{}
	}
	t := c.Timeout
	if t <= 0 {
		t = defaultHTTPTimeout
	}
	return g.HTTPClient(t, maxRedirects)
}

// parseBaseURL accepts an http or https URL without credentials, query
// or fragment: a provider override is an operator's setting, and a key
// in the URL would end up in logs.
func parseBaseURL(raw, what string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s url: %w", ErrInvalidConfig, what, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: %s url: scheme must be http or https", ErrInvalidConfig, what)
	case u.Host == "":
		return nil, fmt.Errorf("%w: %s url: no host", ErrInvalidConfig, what)
	case u.User != nil:
		return nil, fmt.Errorf("%w: %s url: credentials belong in the key setting", ErrInvalidConfig, what)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%w: %s url: no query or fragment allowed", ErrInvalidConfig, what)
	}
	return u, nil
}

// answer is a response body read in full, within a size cap.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends req and reads at most limit bytes of the body. A longer body
// is an error rather than a silently truncated document.
func do(c *http.Client, req *http.Request, limit int64) (answer, error) {
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("request %s: %w", req.URL.Redacted(), err)
	}
	defer func() { _ = resp.Body.Close() }()

	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return answer{}, fmt.Errorf("read %s: %w", req.URL.Redacted(), err)
	}
	if int64(len(body)) > limit {
		return answer{}, fmt.Errorf("%w: body over %d bytes", ErrUnexpectedResponse, limit)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// rateLimitError reads the headers of a 429 answer. Retry-After wins;
// X-RateLimit-Reset (Unix seconds, as AbuseIPDB sends) fills in when it
// is absent.
func rateLimitError(h http.Header, now time.Time) *RateLimitError {
	e := &RateLimitError{Limit: headerInt(h, "X-RateLimit-Limit"), Remaining: headerInt(h, "X-RateLimit-Remaining")}
	if d, ok := parseRetryAfter(h.Get("Retry-After"), now, maxRetryAfter); ok {
		e.RetryAfter = d
		return e
	}
	if reset := headerInt(h, "X-RateLimit-Reset"); reset > 0 {
		d := time.Unix(reset, 0).Sub(now)
		e.RetryAfter = min(max(d, 0), maxRetryAfter)
	}
	return e
}

func headerInt(h http.Header, key string) int64 {
	v := strings.TrimSpace(h.Get(key))
	if v == "" || len(v) > 20 {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// maxRetryAfterText bounds the header value parsed. An HTTP date is 29
// bytes.
const maxRetryAfterText = 64

// parseRetryAfter reads a Retry-After value (RFC 9110 section 10.2.3):
// delay seconds or an HTTP date, capped at ceiling. A date in the past
// means no wait. It returns false for anything else.
func parseRetryAfter(v string, now time.Time, ceiling time.Duration) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxRetryAfterText {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		if strings.Trim(v, "0123456789") != "" {
			return 0, false
		}
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > uint64(ceiling/time.Second) {
			return ceiling, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), ceiling), true
}

// statusError maps the statuses every provider shares. It returns nil
// for statuses the caller handles itself.
func statusError(a answer, now time.Time) error {
	switch {
	case a.status == http.StatusTooManyRequests:
		return rateLimitError(a.header, now)
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return fmt.Errorf("%w: status %d", ErrUnauthorized, a.status)
	case a.status >= 500:
		return fmt.Errorf("provider status %d", a.status)
	}
	return nil
}

// errStatus reports a status the provider does not document.
func errStatus(status int) error {
	return fmt.Errorf("%w: status %d", ErrUnexpectedResponse, status)
}
