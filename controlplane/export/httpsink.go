package export

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/decnet/decnet/internal/netguard"
)

// defaultHTTPTimeout bounds one request to an HTTP collector, body
// included.
const defaultHTTPTimeout = 30 * time.Second

// httpPoster sends one request body to a collector endpoint through the
// guard.
type httpPoster struct {
	client      *http.Client
	endpoint    string
	maxResponse int64
}

// errResponseTooLarge is wrapped when a collector's answer exceeds the
// size the sink reads.
var errResponseTooLarge = errors.New("response too large")

func newHTTPPoster(base, path string, tlsConfig *tls.Config, guard *netguard.Guard, timeout time.Duration, maxResponse int64) (*httpPoster, error) {
	if guard == nil {
		return nil, errNoGuard
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want http or https with a host", base)
	}
	if u.User != nil {
		return nil, fmt.Errorf("url %q: credentials belong in the secret fields, not the url", u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	if timeout <= 0 {
		timeout = defaultHTTPTimeout
	}

	// Collectors answer their own request only; a redirect would
	// resend the credential elsewhere, so none is followed.
	client := guard.HTTPClient(timeout, 0)
	if tlsConfig != nil {
		if tr, ok := client.Transport.(*http.Transport); ok {
			cfg := tlsConfig.Clone()
			if cfg.MinVersion < tls.VersionTLS12 {
				cfg.MinVersion = tls.VersionTLS12
			}
			tr.TLSClientConfig = cfg
		}
	}
	return &httpPoster{client: client, endpoint: u.String(), maxResponse: maxResponse}, nil
}

// post sends body and returns the status, headers and at most
// maxResponse bytes of the answer.
func (p *httpPoster) post(ctx context.Context, header http.Header, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header = header
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("post %s: %w", redactURL(p.endpoint), err)
	}
	// The body is read up to its cap below, so a failed close cannot
	// change the receiver's response.
	defer func() { _ = resp.Body.Close() }()

	data, err := io.ReadAll(io.LimitReader(resp.Body, p.maxResponse+1))
	if err != nil {
		return resp.StatusCode, resp.Header, nil, fmt.Errorf("read response: %w", err)
	}
	if int64(len(data)) > p.maxResponse {
		return resp.StatusCode, resp.Header, nil, fmt.Errorf("read response: %w (over %d bytes)", errResponseTooLarge, p.maxResponse)
	}
	return resp.StatusCode, resp.Header, data, nil
}

// redactURL drops the query, which some collectors accept tokens in.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "invalid url"
	}
	u.RawQuery = ""
	u.User = nil
	return u.String()
}

// retryableStatus reports whether an HTTP status is worth another attempt:
// throttling, and server errors that are usually transient.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
