package export

import (
	"strings"
	"testing"
)

func FuzzParseBulkResponse(f *testing.F) {
	f.Add([]byte(`{"took":30,"errors":true,"items":[{"create":{"_id":"1","status":201}},{"create":{"_id":"2","status":429,"error":{"type":"x","reason":"y"}}}]}`))
	f.Add([]byte(`{"errors":false,"items":[]}`))
	f.Add([]byte(`{"items":[{"a":{},"b":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseBulkResponse(data)
		if err != nil {
			return
		}
		for i, it := range got.Items {
			if it.Status < 100 || it.Status > 599 || it.Action == "" {
				t.Fatalf("item %d accepted with status %d action %q", i, it.Status, it.Action)
			}
		}
	})
}

func FuzzParseHECResponse(f *testing.F) {
	f.Add([]byte(`{"text":"Success","code":0,"ackId":7}`))
	f.Add([]byte(`{"text":"Invalid data format","code":6,"invalid-event-number":3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseHECResponse(data)
	})
}

// cefUnescapeValue reverses cefEscapeValue, for the round-trip check.
func cefUnescapeValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// FuzzCEFEscape feeds attacker-controlled text (a command line, a
// principal) through both escapers: the extension value must round-trip
// and hold no bare '=' or line break, and the header must hold no bare
// '|'.
func FuzzCEFEscape(f *testing.F) {
	for _, s := range []string{"a=b", `\`, "x\ny", "|", `\=`, "\r\n="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := cefEscapeValue(s)
		if strings.ContainsAny(v, "\r\n") {
			t.Fatalf("line break in %q", v)
		}
		if got := cefUnescapeValue(v); got != s {
			t.Fatalf("round trip %q -> %q -> %q", s, v, got)
		}
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' {
				i++
				continue
			}
			if v[i] == '=' {
				t.Fatalf("bare '=' in %q", v)
			}
		}
		h := cefEscapeHeader(s)
		for i := 0; i < len(h); i++ {
			if h[i] == '\\' {
				i++
				continue
			}
			if h[i] == '|' || h[i] == '\n' {
				t.Fatalf("bare %q in header %q", h[i], h)
			}
		}
	})
}

// FuzzSyslogMessage puts attacker-controlled text in a structured-data
// value and checks the header and SD element stay well formed.
func FuzzSyslogMessage(f *testing.F) {
	f.Add("web-01", "ls")
	f.Add(`a"]\`, "x\n]")
	f.Fuzz(func(t *testing.T, decky, line string) {
		se := commandEvent("id", line)
		se.Event.Decky = decky
		msg, err := testFormatter.syslogMessage(SyslogConfig{Format: FormatCEF, Hostname: "h", AppName: "a", Facility: 16, SDID: defaultSDID}, record(se))
		if err != nil {
			t.Fatal(err)
		}
		fields := strings.SplitN(string(msg), " ", 7)
		if len(fields) != 7 || !strings.HasPrefix(fields[6], "[decnet@32473 ") {
			t.Fatalf("header: %q", msg)
		}
		// Walk the SD element: inside quotes, a backslash escapes the
		// next byte; the element must end at an unquoted ']'.
		sd := fields[6]
		inQuote := false
		for i := 1; i < len(sd); i++ {
			switch c := sd[i]; {
			case inQuote && c == '\\':
				i++
			case c == '"':
				inQuote = !inQuote
			case !inQuote && c == ']':
				if !strings.HasPrefix(sd[i+1:], " CEF:0|") {
					t.Fatalf("sd element ends early: %q", sd)
				}
				return
			}
		}
		t.Fatalf("sd element not closed: %q", sd)
	})
}
