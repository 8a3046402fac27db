package imap

import "strconv"

// The parser follows Dovecot's lib-imap/imap-parser.c: the same token
// rules and the same error texts, which the decoy sends back in its BAD
// replies exactly as Dovecot does.

type argType uint8

const (
	argAtom argType = iota
	argNil
	argString
	argLiteral
	argList
)

type arg struct {
	typ  argType
	val  []byte
	list []arg
}

// str returns the value of an atom, string or literal.
func (a arg) str() string { return string(a.val) }

// isAstring reports whether a is an atom, string or literal (an astring).
func (a arg) isAstring() bool {
	return a.typ == argAtom || a.typ == argString || a.typ == argLiteral
}

// parseError is a syntax error with Dovecot's message; fatal ones
// (literal too large) end the connection.
type parseError struct {
	msg   string
	fatal bool
}

func (e *parseError) Error() string { return e.msg }

func syntaxError(msg string) error { return &parseError{msg: msg} }

var errLiteralTooBig = &parseError{msg: "Literal size too large", fatal: true}

// source feeds the parser. line is the current line without its LF.
// For a literal, cont is called to send the continuation of a
// synchronizing one, then literal reads its n bytes and the line after
// them.
type source struct {
	line    []byte
	pos     int
	used    int // bytes of the command consumed in earlier lines
	maxLine int
	cont    func() error
	literal func(size int64) (data, next []byte, err error)
}

// readAtomWord reads a tag or command name (imap_parser_read_next_atom),
// 1*ATOM-CHAR ended by a space, a CR or the line end. A tag may not
// contain '+' either. ok is false for an empty or invalid word.
func (s *source) readAtomWord(tag bool) (string, bool) {
	start := s.pos
	for i := s.pos; i < len(s.line); i++ {
		switch c := s.line[i]; c {
		case ' ', '\r':
			s.pos = i
			if c == ' ' {
				s.pos++
			}
			return string(s.line[start:i]), i > start
		case '(', ')', '{', '%', '*', '"', '\\', ']':
			return "", false
		case '+':
			if tag {
				return "", false
			}
		default:
			if c < ' ' || c >= 0x80 {
				return "", false
			}
		}
	}
	s.pos = len(s.line)
	return string(s.line[start:]), len(s.line) > start
}

func isAtomSpecialInput(c byte) bool {
	return c == '(' || c == ')' || c == '{' || c == '"' || c <= 32 || c == 0x7f
}

// args parses the rest of the command into arguments.
func (s *source) args() ([]arg, error) {
	var stack [][]arg
	var cur []arg
	for {
		for s.pos < len(s.line) && s.line[s.pos] == ' ' {
			s.pos++
		}
		if s.used+s.pos > s.maxLine {
			return nil, syntaxError("IMAP command line too large")
		}
		if s.pos == len(s.line) || s.line[s.pos] == '\r' {
			if s.pos < len(s.line)-1 {
				return nil, syntaxError("CR sent without LF")
			}
			if len(stack) > 0 {
				return nil, syntaxError("Missing ')'")
			}
			return cur, nil
		}

		c := s.line[s.pos]
		switch c {
		case '"':
			a, err := s.quoted()
			if err != nil {
				return nil, err
			}
			cur = append(cur, a)
		case '{':
			a, err := s.literalArg()
			if err != nil {
				return nil, err
			}
			cur = append(cur, a)
		case '~':
			if s.pos+1 < len(s.line) && s.line[s.pos+1] == '{' {
				return nil, syntaxError("literal8 not allowed here")
			}
			a, err := s.atom(len(stack) > 0)
			if err != nil {
				return nil, err
			}
			cur = append(cur, a)
		case '(':
			s.pos++
			stack = append(stack, cur)
			cur = nil
		case ')':
			if len(stack) == 0 {
				return nil, syntaxError("Unexpected ')'")
			}
			s.pos++
			list := arg{typ: argList, list: cur}
			cur = append(stack[len(stack)-1], list)
			stack = stack[:len(stack)-1]
		default:
			if isAtomSpecialInput(c) || c >= 0x80 {
				return nil, atomCharError(c)
			}
			a, err := s.atom(len(stack) > 0)
			if err != nil {
				return nil, err
			}
			cur = append(cur, a)
		}
	}
}

func atomCharError(c byte) error {
	if c >= 0x80 {
		return syntaxError("8bit data in atom")
	}
	return syntaxError("Invalid characters in atom")
}

func (s *source) atom(inList bool) (arg, error) {
	start := s.pos
	i := s.pos
	for ; i < len(s.line); i++ {
		c := s.line[i]
		if c == ' ' || c == '\r' {
			break
		}
		if c == ')' {
			if inList {
				break
			}
			return arg{}, syntaxError("Unexpected ')'")
		}
		if isAtomSpecialInput(c) || c >= 0x80 {
			return arg{}, atomCharError(c)
		}
	}
	s.pos = i
	val := s.line[start:i]
	if len(val) == 3 && (val[0]|0x20) == 'n' && (val[1]|0x20) == 'i' && (val[2]|0x20) == 'l' {
		return arg{typ: argNil, val: val}, nil
	}
	return arg{typ: argAtom, val: val}, nil
}

func (s *source) quoted() (arg, error) {
	var out []byte
	for i := s.pos + 1; i < len(s.line); i++ {
		c := s.line[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return arg{typ: argString, val: out}, nil
		case c == 0:
			return arg{}, syntaxError("NULs not allowed in strings")
		case c == '\\' && i+1 < len(s.line):
			i++
			c = s.line[i]
		}
		if c == '\r' {
			return arg{}, syntaxError(`Missing '"'`)
		}
		out = append(out, c)
	}
	return arg{}, syntaxError(`Missing '"'`)
}

func (s *source) literalArg() (arg, error) {
	var size int64
	nonsync := false
	i := s.pos + 1
	for ; ; i++ {
		if i == len(s.line) {
			return arg{}, syntaxError("Invalid literal size")
		}
		c := s.line[i]
		if c == '}' {
			break
		}
		if nonsync {
			return arg{}, syntaxError("Expecting '}' after '+'")
		}
		if c == '+' {
			nonsync = true
			continue
		}
		if c < '0' || c > '9' {
			return arg{}, syntaxError("Invalid literal size")
		}
		if size > (1<<62)/10 {
			return arg{}, errLiteralTooBig
		}
		size = size*10 + int64(c-'0')
	}
	s.pos = i + 1
	used := s.used + s.pos
	if used >= s.maxLine || size > int64(s.maxLine-used) {
		return arg{}, errLiteralTooBig
	}
	// The continuation goes out before the line end is checked, as in
	// Dovecot.
	if !nonsync {
		if err := s.cont(); err != nil {
			return arg{}, err
		}
	}
	if rest := s.line[s.pos:]; len(rest) > 0 && string(rest) != "\r" {
		return arg{}, syntaxError("Missing LF after literal size")
	}
	data, next, err := s.literal(size)
	if err != nil {
		return arg{}, err
	}
	s.used = used + int(size) + 1
	s.line, s.pos = next, 0
	return arg{typ: argLiteral, val: data}, nil
}

// parseSeqSet parses a sequence set ("1,3:5,7:*") against max, the
// largest number "*" stands for. It returns nil for invalid syntax.
func parseSeqSet(s string, max uint32) [][2]uint32 {
	if s == "" {
		return nil
	}
	var out [][2]uint32
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != ',' {
			continue
		}
		part := s[start:i]
		start = i + 1
		lo, hi, isRange := cutByte(part, ':')
		a, ok := seqNumber(lo, max)
		if !ok {
			return nil
		}
		b := a
		if isRange {
			if b, ok = seqNumber(hi, max); !ok {
				return nil
			}
		}
		if a > b {
			a, b = b, a
		}
		out = append(out, [2]uint32{a, b})
	}
	return out
}

func cutByte(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func seqNumber(s string, max uint32) (uint32, bool) {
	if s == "*" {
		return max, true
	}
	if s == "" || s[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

func inSet(set [][2]uint32, n uint32) bool {
	for _, r := range set {
		if n >= r[0] && n <= r[1] {
			return true
		}
	}
	return false
}
