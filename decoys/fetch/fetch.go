// Package fetch downloads the URLs an attacker passes to wget or curl in a
// decoy shell, so the payload can be studied. Every connection goes
// through the private-address guard, and the body goes only into the
// quarantine. Nothing fetched is executed or interpreted.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/decnet/decnet/decoys/quarantine"
	"github.com/decnet/decnet/internal/netguard"
)

// Outcomes, as reported in DownloadRequested.outcome.
const (
	OutcomeFetched  = "fetched"
	OutcomeRefused  = "refused_address"
	OutcomeTooLarge = "too_large"
	OutcomeFailed   = "failed"
	// OutcomeNotFetched is for callers without a fetcher. A nil *Fetcher
	// reports it too.
	OutcomeNotFetched = "not_fetched"
)

// Defaults applied to zero Options fields.
const (
	DefaultMaxBytes = 8 << 20
	DefaultTimeout  = 30 * time.Second
	// DefaultMaxConcurrent bounds the downloads one fetcher runs at once,
	// so a script looping over wget cannot make the agent download
	// without limit. Further requests wait for a slot until Timeout.
	DefaultMaxConcurrent = 4
	// DefaultDedupeWindow is how long a result is reused for the same
	// tool and URL: droppers often run wget, then curl, then wget again.
	DefaultDedupeWindow = time.Minute
)

// maxRedirects is tighter than wget's default of 20 (curl follows none
// without -L). It is enough for a URL shortener and a CDN and few enough
// to bound the work one command causes.
const maxRedirects = 5

// maxURLBytes caps the URL taken from the attacker.
const maxURLBytes = 8 << 10

// maxRecent bounds the dedupe table. When it is full of fresh entries,
// new fetches run without being remembered.
const maxRecent = 256

// Errors carried in Result.Err.
var (
	ErrUnsupportedScheme = errors.New("unsupported URL scheme")
	ErrTooLarge          = errors.New("content exceeds the size limit")
	// ErrBusy means every download slot stayed taken until the fetch's
	// deadline.
	ErrBusy = errors.New("all download slots busy")
)

// StatusError is a response with a status other than 2xx.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("server returned status %d", e.Code) }

// Options configure a Fetcher.
type Options struct {
	// Guard checks every destination. Nil means a zero netguard.Guard,
	// which refuses every internal and special address.
	Guard *netguard.Guard
	// Quarantine keeps the bodies. Nil keeps nothing and only hashes.
	Quarantine *quarantine.Store
	// MaxBytes caps one body. Longer bodies are cut there and reported
	// as too_large.
	MaxBytes int64
	// Timeout bounds one fetch, from waiting for a slot to the last byte.
	Timeout time.Duration
	// UserAgents maps a tool name ("wget", "curl") to its User-Agent.
	// Nil means UserAgents("debian12").
	UserAgents map[string]string
	// MaxConcurrent bounds simultaneous downloads.
	MaxConcurrent int
	// DedupeWindow is how long a result is reused. Negative disables it.
	DedupeWindow time.Duration
	// Now is the clock of the dedupe window. Nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Guard == nil {
		o.Guard = &netguard.Guard{}
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgents == nil {
		o.UserAgents = UserAgents("debian12")
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.DedupeWindow == 0 {
		o.DedupeWindow = DefaultDedupeWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// UserAgents returns the User-Agent strings of the wget and curl packaged
// with the given OS persona ("debian12" by default, "ubuntu2404").
func UserAgents(osName string) map[string]string {
	if osName == "ubuntu2404" {
		return map[string]string{"wget": "Wget/1.21.4", "curl": "curl/8.5.0"}
	}
	return map[string]string{"wget": "Wget/1.21.3", "curl": "curl/7.88.1"}
}

// Result describes one fetch.
type Result struct {
	// Outcome is one of the Outcome constants.
	Outcome string
	// SHA256 and Size describe the bytes received and quarantined. That
	// is the whole body when fetched and the first MaxBytes when
	// too_large. A body that failed midway leaves the part that arrived.
	// Both are empty when no body was read.
	SHA256 []byte
	Size   uint64
	// Status is the final HTTP status, 0 when no response arrived.
	Status int
	// Err is the reason the outcome is not fetched. It is for the agent's
	// log, never for the attacker.
	Err error
}

// Fetcher downloads URLs for decoy shells. It is safe for concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client
	slots  chan struct{}

	mu     sync.Mutex
	recent map[string]*flight
}

// flight is one fetch that later requests for the same URL wait for.
type flight struct {
	done chan struct{}
	res  Result
	at   time.Time
}

// New returns a fetcher; zero Options fields take their defaults.
func New(opts Options) *Fetcher {
	opts = opts.withDefaults()
	client := opts.Guard.HTTPClient(opts.Timeout, maxRedirects)
	// Go adds a Referer when it follows a redirect. Neither wget nor curl
	// sends one by default.
	checkRedirect := client.CheckRedirect
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		req.Header.Del("Referer")
		return checkRedirect(req, via)
	}
	return &Fetcher{
		opts:   opts,
		client: client,
		slots:  make(chan struct{}, opts.MaxConcurrent),
		recent: make(map[string]*flight),
	}
}

// Fetch downloads rawURL as tool would. A URL without a scheme is taken as
// http, as wget and curl do. Only http and https are fetched; ftp, tftp
// (as a scheme or as the tool) and others fail with ErrUnsupportedScheme.
func (f *Fetcher) Fetch(ctx context.Context, tool, rawURL string) Result {
	if f == nil {
		return Result{Outcome: OutcomeNotFetched}
	}
	if tool == "tftp" {
		return Result{Outcome: OutcomeFailed, Err: fmt.Errorf("fetch by tftp: %w", ErrUnsupportedScheme)}
	}
	u, err := parseURL(rawURL)
	if err != nil {
		return Result{Outcome: OutcomeFailed, Err: err}
	}
	if err := f.opts.Guard.CheckURL(u); err != nil {
		return Result{Outcome: OutcomeRefused, Err: err}
	}

	key := tool + "\x00" + u.String()
	fl, leader := f.join(key)
	if !leader {
		select {
		case <-fl.done:
			return fl.res.clone()
		case <-ctx.Done():
			return Result{Outcome: OutcomeFailed, Err: fmt.Errorf("wait for fetch: %w", ctx.Err())}
		}
	}
	res := f.fetch(ctx, tool, u)
	f.finish(key, fl, res, ctx.Err() == nil)
	return res.clone()
}

func parseURL(rawURL string) (*url.URL, error) {
	raw := strings.TrimSpace(rawURL)
	if len(raw) > maxURLBytes {
		return nil, fmt.Errorf("parse URL: longer than %d bytes", maxURLBytes)
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("fetch %s URL: %w", u.Scheme, ErrUnsupportedScheme)
	}
	if u.Host == "" {
		return nil, errors.New("parse URL: missing host")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// join returns the flight for key, and whether the caller leads it (runs
// the fetch) rather than waits for it.
func (f *Fetcher) join(key string) (*flight, bool) {
	fresh := &flight{done: make(chan struct{})}
	if f.opts.DedupeWindow < 0 {
		return fresh, true
	}
	f.mu.Lock()
	defer f.mu.Unlock()

	now := f.opts.Now()
	for k, fl := range f.recent {
		if !fl.at.IsZero() && now.Sub(fl.at) >= f.opts.DedupeWindow {
			delete(f.recent, k)
		}
	}
	if fl, ok := f.recent[key]; ok {
		return fl, false
	}
	if len(f.recent) < maxRecent {
		f.recent[key] = fresh
	}
	return fresh, true
}

// finish publishes res to the waiters. A result cut short by the leader's
// own context is not kept for later callers, who may have time to spare.
func (f *Fetcher) finish(key string, fl *flight, res Result, keep bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl.res = res
	fl.at = f.opts.Now()
	close(fl.done)
	if !keep && f.recent[key] == fl {
		delete(f.recent, key)
	}
}

func (r Result) clone() Result {
	r.SHA256 = append([]byte(nil), r.SHA256...)
	return r
}

func (f *Fetcher) fetch(ctx context.Context, tool string, u *url.URL) Result {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()

	if err := f.acquire(ctx); err != nil {
		return Result{Outcome: OutcomeFailed, Err: err}
	}
	defer func() { <-f.slots }()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{Outcome: OutcomeFailed, Err: fmt.Errorf("build request: %w", err)}
	}
	f.setHeaders(req, tool)
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrRefused) {
			return Result{Outcome: OutcomeRefused, Err: err}
		}
		return Result{Outcome: OutcomeFailed, Err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Result{Outcome: OutcomeFailed, Status: resp.StatusCode, Err: &StatusError{Code: resp.StatusCode}}
	}
	return f.keep(resp)
}

// acquire takes a download slot, waiting until ctx ends. A free slot is
// always taken, even when ctx has already ended, so that ErrBusy means the
// slots really were all taken.
func (f *Fetcher) acquire(ctx context.Context) error {
	select {
	case f.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case f.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// setHeaders sets the headers the tool sends by default, so a dropper
// server that serves payloads only to wget or curl serves them here too.
// Go writes Host and User-Agent first and the rest sorted by name, which
// is the order both tools use for these headers.
func (f *Fetcher) setHeaders(req *http.Request, tool string) {
	ua, ok := f.opts.UserAgents[tool]
	if !ok {
		ua = f.opts.UserAgents["wget"]
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "*/*")
	if tool != "curl" {
		req.Header.Set("Accept-Encoding", "identity")
		req.Header.Set("Connection", "Keep-Alive")
	}
}

// keep streams the body into the quarantine, at most MaxBytes of it.
func (f *Fetcher) keep(resp *http.Response) Result {
	file := f.opts.Quarantine.NewFile()
	capped := &capWriter{w: file, room: f.opts.MaxBytes}
	// Reading one byte past the cap distinguishes a body of exactly
	// MaxBytes from a longer one.
	_, err := io.Copy(capped, io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	q := file.Close()

	res := Result{SHA256: q.SHA256, Size: q.Size, Status: resp.StatusCode}
	switch {
	case capped.over || q.Truncated:
		res.Outcome, res.Err = OutcomeTooLarge, ErrTooLarge
	case err != nil:
		res.Outcome, res.Err = OutcomeFailed, fmt.Errorf("read body: %w", err)
	default:
		res.Outcome = OutcomeFetched
	}
	return res
}

// capWriter passes on the first room bytes and notes that more came.
type capWriter struct {
	w    io.Writer
	room int64
	over bool
}

func (c *capWriter) Write(p []byte) (int, error) {
	n := len(p)
	if int64(n) > c.room {
		p = p[:c.room]
		c.over = true
	}
	c.room -= int64(len(p))
	if len(p) > 0 {
		if _, err := c.w.Write(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}
