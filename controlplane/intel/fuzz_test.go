package intel

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// checkResult asserts the invariants every parsed Result keeps, whatever
// the provider sent.
func checkResult(t *testing.T, r Result) {
	t.Helper()
	switch r.Verdict {
	case VerdictMalicious, VerdictSuspicious, VerdictBenign, VerdictUnknown:
	default:
		t.Fatalf("verdict %q", r.Verdict)
	}
	for k, v := range r.Evidence {
		if len(v) > maxEvidenceText || !utf8.ValidString(v) || strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
			t.Fatalf("evidence %s = %q not sanitised", k, v)
		}
	}
	if r.Link != "" && !strings.HasPrefix(r.Link, "https://") {
		t.Fatalf("link %q", r.Link)
	}
}

func checkEntries(t *testing.T, items []listEntry) {
	t.Helper()
	for _, it := range items {
		p := it.prefix
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			t.Fatalf("entry prefix %v not canonical", p)
		}
		if (p.Addr().Is4() && p.Bits() < minListBits4) || (p.Addr().Is6() && p.Bits() < minListBits6) {
			t.Fatalf("entry prefix %v too wide", p)
		}
		for _, v := range it.evidence {
			if len(v) > maxEvidenceText {
				t.Fatalf("evidence too long: %d", len(v))
			}
		}
	}
}

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(fixture(f, n))
	}
}

func FuzzParseGreyNoise(f *testing.F) {
	addSeeds(f, "greynoise_malicious.json", "greynoise_riot.json", "greynoise_unknown_noise.json", "greynoise_not_observed.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, status := range []int{http.StatusOK, http.StatusNotFound} {
			if r, err := parseGreyNoise(status, body); err == nil {
				checkResult(t, r)
			}
		}
	})
}

func FuzzParseAbuseIPDB(f *testing.F) {
	addSeeds(f, "abuseipdb_check.json", "abuseipdb_check_suspicious.json", "abuseipdb_check_clean.json", "abuseipdb_422.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		if r, err := parseAbuseIPDB(body); err == nil {
			checkResult(t, r)
		}
		if d := abuseIPDBDetail(body); len(d) > maxEvidenceText {
			t.Fatalf("detail too long: %d", len(d))
		}
	})
}

func FuzzParseThreatFox(f *testing.F) {
	addSeeds(f, "threatfox_ok.json", "threatfox_no_result.json", "threatfox_illegal.json")
	addr := netip.MustParseAddr("139.180.203.104")
	f.Fuzz(func(t *testing.T, body []byte) {
		if r, err := parseThreatFox(addr, body); err == nil {
			checkResult(t, r)
		}
	})
}

func FuzzParseFeodo(f *testing.F) {
	addSeeds(f, "feodo_ipblocklist.json", "feodo_ipblocklist.csv", "feodo_ipblocklist.txt")
	f.Fuzz(func(t *testing.T, body []byte) {
		if items, err := parseFeodo(body); err == nil {
			checkEntries(t, items)
		}
		if items, err := parseFeodoCSV(body); err == nil {
			checkEntries(t, items)
		}
	})
}

func FuzzParseDROP(f *testing.F) {
	addSeeds(f, "drop_v4.json", "drop_v6.json", "drop.txt")
	f.Fuzz(func(t *testing.T, body []byte) {
		if items, err := parseDROP(body); err == nil {
			checkEntries(t, items)
		}
		if items, err := parseDROPText(body); err == nil {
			checkEntries(t, items)
		}
	})
}

func FuzzRateLimitHeaders(f *testing.F) {
	f.Add("29", "1000", "0", "1796127000")
	f.Add("Tue, 01 Dec 2026 12:01:00 GMT", "", "", "")
	f.Add("", "x", "-1", "99999999999999999999")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, retryAfter, limit, remaining, reset string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("X-RateLimit-Limit", limit)
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Reset", reset)
		e := rateLimitError(h, now)
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter || e.Limit < -1 || e.Remaining < -1 {
			t.Fatalf("rate limit %+v out of range", e)
		}
	})
}

// FuzzPTRNames feeds PTR answers, which whoever runs the reverse zone
// writes, through the validation that decides what is shown.
func FuzzPTRNames(f *testing.F) {
	for _, seed := range []string{
		"host.example.com.", "203.0.113.1.", "localhost", "-a.b.c", "a_b.example.", "",
		strings.Repeat("abcdefgh.", 30) + "com.", "xn--bcher-kva.example.", "a.b\x00.c", "A.B.C\n",
	} {
		f.Add(seed, "second.example.org")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		names := ptrNames([]string{a, b, a})
		if len(names) > maxPTRNames {
			t.Fatalf("%d names", len(names))
		}
		for i, n := range names {
			if len(n) > maxHostName || n != strings.ToLower(n) || strings.HasSuffix(n, ".") {
				t.Fatalf("name %q not normalised", n)
			}
			if strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789-.") != "" {
				t.Fatalf("name %q has characters outside letters, digits, hyphens and dots", n)
			}
			if again, ok := hostName(n); !ok || again != n {
				t.Fatalf("hostName(%q) = %q, %v: not idempotent", n, again, ok)
			}
			if _, err := netip.ParseAddr(n); err == nil {
				t.Fatalf("name %q reads as an address", n)
			}
			if i > 0 && names[i-1] >= n {
				t.Fatalf("names %q not sorted and unique", names)
			}
		}
		if other := joinWithin(names, maxEvidenceText); len(other) > maxEvidenceText {
			t.Fatalf("joined names are %d bytes", len(other))
		}
	})
}
