package intel

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxEvidenceText caps one evidence value: provider fields are names,
// dates and scores, and a longer value is not worth keeping per address.
const maxEvidenceText = 256

// putShort stores v under k when it is non-empty, cut to
// maxEvidenceText bytes on a rune boundary and stripped of control
// characters, since evidence reaches dashboards and exports.
func putShort(m map[string]string, k, v string) {
	v = clean(v)
	if v != "" {
		m[k] = v
	}
}

func clean(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > maxEvidenceText {
		v = v[:maxEvidenceText]
		for !utf8.ValidString(v) {
			v = v[:len(v)-1]
		}
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, v)
}

// safeLink keeps a provider's link only when it is an https URL: a
// dashboard renders it as a hyperlink, and a javascript: or data: URL
// there would run in the operator's browser.
func safeLink(raw string) string {
	raw = clean(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return u.String()
}
