package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/internal/netguard"
)

// maxDrain is how much of a response body is read, so the connection
// can be reused; the body itself is never stored.
const maxDrain = 64 << 10

// maxErrorText bounds the error stored per attempt.
const maxErrorText = 512

// result is the outcome of one HTTP attempt.
type result struct {
	ok     bool
	status int
	// final means retrying cannot help (a 4xx other than 408 and 429,
	// a redirect, a refused destination).
	final   bool
	refused bool
	// retryAfter is the receiver's Retry-After, when it sent one.
	retryAfter    time.Duration
	hasRetryAfter bool
	errText       string
	start         time.Time
	duration      time.Duration
}

// attempt POSTs body once.
func (d *Dispatcher) attempt(ctx context.Context, st subState, n *apiv1.Notice, body []byte) result {
	now := d.cfg.Clock.Now()
	r := result{start: now}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.url.String(), bytes.NewReader(body))
	if err != nil {
		r.final, r.errText = true, "build request failed"
		return r
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(EventIDHeader, n.GetId())
	req.Header.Set(SubjectHeader, n.GetSubject())
	req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(SignatureHeader, sign(now, body, st.signingSecrets(now)...))
	if !st.authorization.Empty() {
		req.Header.Set("Authorization", st.authorization.Reveal())
	}

	resp, err := d.client.Do(req)
	r.duration = d.cfg.Clock.Now().Sub(now)
	if err != nil {
		r.errText = errorText(err)
		if errors.Is(err, netguard.ErrRefused) {
			r.final, r.refused = true, true
		}
		return r
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()

	r.status = resp.StatusCode
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		r.ok = true
	case c >= 300 && c < 400:
		r.final = true
		r.errText = fmt.Sprintf("redirect %d not followed", c)
	case c == http.StatusRequestTimeout:
		r.errText = "status 408"
	case c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable:
		r.errText = "status " + strconv.Itoa(c)
		r.retryAfter, r.hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), d.cfg.Clock.Now(), d.cfg.MaxBackoff)
	case c >= 400 && c < 500:
		r.final = true
		r.errText = "status " + strconv.Itoa(c)
	default:
		r.errText = "status " + strconv.Itoa(c)
	}
	return r
}

// errorText describes a transport error without the URL, whose path may
// be a credential: url.Error names it, so only its cause is kept.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return truncate(err.Error(), maxErrorText)
}
