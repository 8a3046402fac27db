package cli

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Printable returns s safe to write to a terminal: control characters
// (C0, DEL, C1), zero-width and bidirectional formatting characters and
// the byte order mark become \xNN or \u{NNNN}, and invalid UTF-8 bytes
// \xNN. Attackers choose user names, command lines and URLs; printed raw,
// an escape sequence in them could rewrite what the analyst's terminal
// shows.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if hidden(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x100 && hidden(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u{%04x}`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func hidden(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x200b && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2060 && r <= 0x2069, r == 0xfeff:
		return true
	}
	return false
}
