package netguard

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// HTTPClient returns a client whose every connection goes through the
// guard: DialContext for each connection, CheckURL for each redirect,
// no proxy (environment proxy settings are ignored, since a proxy would
// dial on the guard's behalf), and certificate verification on.
//
// timeout bounds a whole request including reading the body. At most
// maxRedirects redirects are followed. On the next one the client returns
// the redirect response itself (http.ErrUseLastResponse), so callers see
// the 3xx status rather than an error. Bodies are not decompressed: they
// arrive as the server sent them.
func (g *Guard) HTTPClient(timeout time.Duration, maxRedirects int) *http.Client {
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            g.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: g.checkRedirect(maxRedirects),
	}
}

func (g *Guard) checkRedirect(maxRedirects int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return http.ErrUseLastResponse
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("follow redirect: unsupported scheme %q", req.URL.Scheme)
		}
		return g.CheckURL(req.URL)
	}
}
