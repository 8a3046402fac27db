package smtp

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// readLine reads one line the way Postfix's smtp_get does: up to limit
// bytes or a line feed, whichever comes first. A line feed and every
// carriage return before it are stripped, so CR LF, bare LF and CR CR LF
// all end a line. A longer line is cut at limit and, when skip is set,
// the rest up to the next line feed is read and dropped. complete reports
// that the line ended with a line feed. An error (end of input or a
// timeout) discards the partial line, as smtpd does.
func readLine(br *bufio.Reader, limit int, skip bool) (line []byte, complete bool, err error) {
	buf := make([]byte, 0, min(limit, 256))
	for len(buf) < limit {
		c, err := br.ReadByte()
		if err != nil {
			return nil, false, err
		}
		buf = append(buf, c)
		if c == '\n' {
			return bytes.TrimRight(buf[:len(buf)-1], "\r"), true, nil
		}
	}
	// At the limit: a CR there is completed by an LF that follows.
	if buf[len(buf)-1] == '\r' {
		next, err := br.ReadByte()
		if err != nil {
			return nil, false, err
		}
		if next == '\n' {
			return bytes.TrimRight(buf, "\r"), true, nil
		}
		_ = br.UnreadByte()
	}
	if skip {
		for {
			c, err := br.ReadByte()
			if err != nil {
				return nil, false, err
			}
			if c == '\n' {
				break
			}
		}
	}
	return buf, false, nil
}

// token is one word of a command line as smtpd_token splits it.
type token struct {
	text string
	// bad marks a quoted or bracketed word without its closing quote.
	bad bool
}

// tokenize splits a command line into words at white space, keeping
// quoted strings and <...> addresses (with nested quotes) whole, and
// ending a word after "TO:" or "FROM:" so that "MAIL FROM:<a@b>" gives
// three words. It follows smtpd_token.c.
func tokenize(line string) []token {
	var out []token
	i := 0
	for {
		var word strings.Builder
		bad := false
	scan:
		for i < len(line) {
			c := line[i]
			i++
			switch {
			case isSpace(c):
				for i < len(line) && isSpace(line[i]) {
					i++
				}
				if word.Len() > 0 {
					break scan
				}
			case c == '<':
				i = quoted(line, i, &word, '<', '>', &bad)
			case c == '"':
				i = quoted(line, i, &word, '"', '"', &bad)
			case c == ':':
				word.WriteByte(c)
				w := word.String()
				if strings.EqualFold(w, "to:"[:min(len(w), 3)]) && len(w) <= 3 ||
					strings.EqualFold(w, "from:"[:min(len(w), 5)]) && len(w) <= 5 {
					break scan
				}
			default:
				if c == '\\' {
					word.WriteByte(c)
					if i >= len(line) {
						break scan
					}
					c = line[i]
					i++
				}
				word.WriteByte(c)
			}
		}
		if word.Len() == 0 {
			return out
		}
		out = append(out, token{text: word.String(), bad: bad})
	}
}

// quoted copies a quoted word up to its closing character, tracking nested
// quotes inside <...> the way smtp_quoted does, and returns the index
// after it.
func quoted(line string, i int, word *strings.Builder, start, last byte, bad *bool) int {
	stack := []byte{last}
	word.WriteByte(start)
	for i < len(line) {
		c := line[i]
		i++
		word.WriteByte(c)
		switch {
		case c == '\\':
			if i >= len(line) {
				*bad = true
				return i
			}
			word.WriteByte(line[i])
			i++
		case c == stack[len(stack)-1]:
			if len(stack) == 1 {
				return i
			}
			stack = stack[:len(stack)-1]
		case c == '"':
			stack = append(stack, '"')
		case c == '<' && stack[len(stack)-1] == '>':
			stack = append(stack, '>')
		}
	}
	*bad = true
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// extractAddress converts the address word of MAIL, RCPT or VRFY to the
// internal form. It reports false where smtpd replies "Bad ... address
// syntax": several addresses, an unterminated quote, an empty domain, or
// a domain that is neither a host name nor an address literal.
//
// NOTE: an approximation of Postfix's RFC 822 parser (tok822) and of
// trivial-rewrite's checks, compared with postfix 3.7.11 for the
// addresses in TestPostfixOracleAddresses only.
func extractAddress(word string, allowEmpty, smtputf8 bool) (string, bool) {
	text := word
	if len(text) >= 2 && text[0] == '<' && text[len(text)-1] == '>' {
		text = text[1 : len(text)-1]
	}
	if strings.HasPrefix(text, "@") {
		if _, rest, ok := strings.Cut(text, ":"); ok {
			text = rest
		}
	}

	lexemes, ok := lex822(text)
	if !ok {
		return "", false
	}
	var b strings.Builder
	addresses := 0
	inAddr := false
	prevWord := false
	for _, lx := range lexemes {
		switch lx.kind {
		case '<':
			prevWord = false
		case '>', ',', ';':
			// The end of a route address or a list separator ends the
			// address; a word after it starts another.
			inAddr = false
			prevWord = false
		case ':':
			return "", false
		case 'w', 'q':
			if prevWord {
				// Two words side by side without a dot or an at sign
				// read as two addresses.
				return "", false
			}
			if !inAddr {
				addresses++
				inAddr = true
			}
			b.WriteString(lx.text)
			prevWord = true
		default: // '@', '.', and domain literals
			if !inAddr {
				addresses++
				inAddr = true
			}
			b.WriteString(lx.text)
			prevWord = lx.kind == '['
		}
	}
	if addresses > 1 {
		return "", false
	}
	addr := b.String()
	if addr == "" {
		return "", allowEmpty
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, true
	}
	domain := addr[at+1:]
	if !validDomain(domain) {
		return "", false
	}
	if !smtputf8 && !isASCII(domain) {
		return "", false
	}
	return addr, true
}

// lexeme is one RFC 822 token: kind 'w' (atom), 'q' (quoted string, text
// without the quotes), '[' (domain literal, text with brackets) or the
// special character itself.
type lexeme struct {
	kind byte
	text string
}

// lex822 splits text into RFC 822 tokens and drops comments. It fails on
// an unterminated quoted string, comment or domain literal.
func lex822(text string) ([]lexeme, bool) {
	var out []lexeme
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			depth := 0
			for ; i < len(text); i++ {
				if text[i] == '\\' {
					i++
					continue
				}
				if text[i] == '(' {
					depth++
				} else if text[i] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			// tok822 closes a comment left open at the end.
			i++
		case c == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(text) {
				if text[i] == '\\' && i+1 < len(text) {
					b.WriteByte(text[i+1])
					i += 2
					continue
				}
				if text[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(text[i])
				i++
			}
			if !closed {
				return nil, false
			}
			out = append(out, lexeme{kind: 'q', text: b.String()})
		case c == '[':
			// tok822 closes a domain literal left open at the end.
			end := strings.IndexByte(text[i:], ']')
			if end < 0 {
				out = append(out, lexeme{kind: '[', text: text[i:] + "]"})
				i = len(text)
				continue
			}
			out = append(out, lexeme{kind: '[', text: text[i : i+end+1]})
			i += end + 1
		case strings.IndexByte("<>@,;:.", c) >= 0:
			out = append(out, lexeme{kind: c, text: string(c)})
			i++
		case c == ')' || c == ']':
			return nil, false
		default:
			start := i
			for i < len(text) && strings.IndexByte(" \t()<>@,;:.\"[]", text[i]) < 0 {
				if text[i] == '\\' && i+1 < len(text) {
					i++
				}
				i++
			}
			out = append(out, lexeme{kind: 'w', text: strings.ReplaceAll(text[start:i], "\\", "")})
		}
	}
	return out, true
}

// validDomain accepts what trivial-rewrite resolves without error: a host
// name of letters, digits, hyphens and underscores in dot-separated
// labels that neither start nor end with a hyphen (a trailing dot
// allowed), or an address literal in brackets. A dotted quad without
// brackets is refused.
func validDomain(domain string) bool {
	if domain == "" {
		return false
	}
	if domain[0] == '[' {
		inner := strings.TrimSuffix(domain[1:], "]")
		if strings.HasPrefix(strings.ToLower(inner), "ipv6:") {
			a, err := netip.ParseAddr(inner[5:])
			return err == nil && a.Is6()
		}
		a, err := netip.ParseAddr(inner)
		return err == nil && a.Is4()
	}
	name := strings.TrimSuffix(domain, ".")
	if name == "" || len(name) > 255 {
		return false
	}
	allNumeric := true
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			switch {
			case r >= '0' && r <= '9':
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_', r >= utf8.RuneSelf:
				allNumeric = false
			default:
				return false
			}
		}
	}
	// valid_hostname refuses a name of digits and dots only.
	return !allNumeric
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// xtextValid reports whether s is RFC 3461 xtext ("+" followed by two
// upper-case hex digits encodes a byte) decoding to printable ASCII.
func xtextValid(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '+' {
			if i+2 >= len(s) {
				return false
			}
			v, ok := hexByte(s[i+1], s[i+2])
			if !ok || v < 0x20 || v > 0x7e {
				return false
			}
			i += 2
			continue
		}
		if c < 0x21 || c > 0x7e || c == '=' {
			return false
		}
	}
	return true
}

func hexByte(a, b byte) (byte, bool) {
	h := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		}
		return 0, false
	}
	x, ok1 := h(a)
	y, ok2 := h(b)
	return x<<4 | y, ok1 && ok2
}

// isHeaderName reports a word that starts like a message header
// ("Subject:", "From:x"). Postfix treats such a command as an attack and
// closes the session.
func isHeaderName(w string) bool {
	i := 0
	for i < len(w) && w[i] > ' ' && w[i] < 0x7f && w[i] != ':' {
		i++
	}
	return i > 0 && i < len(w) && w[i] == ':'
}
