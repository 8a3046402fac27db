package webhooks

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ceiling := 5 * time.Minute
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"42", 42 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"300", 5 * time.Minute, true},
		{"301", ceiling, true},
		{"99999999999999999999999", ceiling, true},
		{"Sun, 01 Mar 2026 12:01:30 GMT", 90 * time.Second, true},
		{"Sunday, 01-Mar-26 12:00:10 GMT", 10 * time.Second, true},
		{"Sun Mar  1 12:00:20 2026", 20 * time.Second, true},
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},
		{"Mon, 01 Mar 2027 12:00:00 GMT", ceiling, true},
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"10s", 0, false},
		{"0x10", 0, false},
		{"soon", 0, false},
		{"1 2", 0, false},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.in, now, ceiling)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
