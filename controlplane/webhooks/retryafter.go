package webhooks

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfterText bounds the header value parsed; an HTTP date is 29
// bytes, and anything much longer is not a valid value.
const maxRetryAfterText = 64

// parseRetryAfter reads a Retry-After value (RFC 9110 section 10.2.3):
// a number of seconds or an HTTP date. It returns false for anything
// else. A date in the past means no wait. The result is at most ceiling,
// so a receiver cannot park a subscription for a year.
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
			// Too large for the ceiling, or for uint64 at all: both
			// are "longer than we wait".
			return ceiling, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > ceiling:
		return ceiling, true
	}
	return d, true
}
