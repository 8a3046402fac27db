package shell

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Limits on what one command line may build, so that a hostile line
// cannot make the parser allocate without bound.
const (
	maxLineBytes  = 4096
	maxWords      = 512
	maxNesting    = 8
	maxScriptSize = 64 << 10
)

type partKind int

const (
	partLit   partKind = iota
	partParam          // $NAME, ${NAME}, $?
	partCmd            // $(...) and `...`
	partArith          // $((...))
	partTilde          // leading ~ or ~user
)

// wordPart is a piece of a word. Quoted pieces are neither split into
// fields nor globbed.
type wordPart struct {
	kind   partKind
	text   string
	quoted bool
}

type word []wordPart

// literal reports the word's text when it has no expansions.
func (w word) literal() (string, bool) {
	var b strings.Builder
	for _, p := range w {
		if p.kind != partLit {
			return "", false
		}
		b.WriteString(p.text)
	}
	return b.String(), true
}

type redirect struct {
	fd     int    // 0, 1 or 2; -1 means both stdout and stderr (&>)
	op     string // ">", ">>", "<", ">&", "<&"
	target word
}

type simpleCmd struct {
	assigns []string // raw NAME=value pairs, values expanded at run time
	avalues []word
	args    []word
	redirs  []redirect
	// compound is set for for, if, while, until, { } and ( ).
	compound *compound
	// line is the source line the command starts on, for messages.
	line int
}

// compound is a command built from lists: conds[i] guards bodies[i]; a
// final body without a condition is the else branch.
type compound struct {
	kind    string // "for", "if", "while", "until", "group", "subshell"
	varName string
	items   []word
	conds   [][]andOr
	bodies  [][]andOr
}

type pipeline struct {
	negate bool
	cmds   []simpleCmd
}

type andOr struct {
	pipes []pipeline
	ops   []string // "&&" or "||" between pipes
}

// syntaxError is bash's complaint about a line it cannot parse.
type syntaxError struct {
	msg string
	// incomplete is set when more input would complete the line, which
	// an interactive shell answers with the "> " continuation prompt.
	incomplete bool
	// quoteEOF marks an unmatched quote: bash then reports only this
	// line, without the offending text.
	quoteEOF bool
	// token is the unexpected token, for dash's wording.
	token string
	// line is the source line of the unexpected token, 0 if unknown.
	line int
}

func (e *syntaxError) Error() string { return e.msg }

type tokKind int

const (
	tokWord tokKind = iota
	tokOp
	tokEOF
)

type token struct {
	kind tokKind
	op   string
	word word
	ioFD int // for redirection operators: the explicit fd, or -1
	line int // 1-based line of the source the token starts on
}

type lexer struct {
	src   string
	pos   int
	toks  []token
	words int
	// line and lineAt count newlines before pos, incrementally.
	line   int
	lineAt int
}

// lineOf returns the 1-based line of offset pos; offsets only grow.
func (l *lexer) lineOf(pos int) int {
	l.line += strings.Count(l.src[l.lineAt:pos], "\n")
	l.lineAt = pos
	return l.line + 1
}

func isMeta(c byte) bool {
	switch c {
	case ' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')':
		return true
	}
	return false
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	for {
		for l.pos < len(l.src) && (l.src[l.pos] == ' ' || l.src[l.pos] == '\t' || l.src[l.pos] == '\r') {
			l.pos++
		}
		if l.pos >= len(l.src) {
			l.toks = append(l.toks, token{kind: tokEOF, line: l.lineOf(l.pos)})
			return l.toks, nil
		}
		c := l.src[l.pos]
		if c == '#' {
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
			continue
		}
		if c == '\\' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '\n' {
			l.pos += 2
			continue
		}
		if op := l.operator(-1); op != "" {
			continue
		}
		if err := l.word(); err != nil {
			return nil, err
		}
		l.words++
		if l.words > maxWords {
			return nil, &syntaxError{msg: "syntax error: line too complex"}
		}
	}
}

var operators = []string{"&>>", "&>", "&&", "||", ";;", ">>", ">&", "<&", ">|", "<<<", "<<", "|&", "|", "&", ";", "\n", "<", ">", "(", ")"}

// operator consumes an operator at pos, if any; fd is an io number
// already read.
func (l *lexer) operator(fd int) string {
	for _, op := range operators {
		if strings.HasPrefix(l.src[l.pos:], op) {
			line := l.lineOf(l.pos)
			l.pos += len(op)
			l.toks = append(l.toks, token{kind: tokOp, op: op, ioFD: fd, line: line})
			return op
		}
	}
	return ""
}

func (l *lexer) word() error {
	var w word
	start := l.pos
	lit := func(s string, quoted bool) {
		if n := len(w); n > 0 && w[n-1].kind == partLit && w[n-1].quoted == quoted {
			w[n-1].text += s
			return
		}
		w = append(w, wordPart{kind: partLit, text: s, quoted: quoted})
	}
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if isMeta(c) {
			// An all-digit word right before a redirection is its fd.
			if (c == '>' || c == '<') && l.pos > start && len(w) == 1 && !w[0].quoted && isDigits(w[0].text) && len(w[0].text) == 1 {
				fd := int(w[0].text[0] - '0')
				l.operator(fd)
				return nil
			}
			break
		}
		switch {
		case c == '\\':
			if l.pos+1 >= len(l.src) {
				l.pos++
				lit("\\", false)
				continue
			}
			if l.src[l.pos+1] == '\n' {
				l.pos += 2
				continue
			}
			lit(l.src[l.pos+1:l.pos+2], true)
			l.pos += 2
		case c == '\'':
			end := strings.IndexByte(l.src[l.pos+1:], '\'')
			if end < 0 {
				return &syntaxError{msg: "unexpected EOF while looking for matching `''", incomplete: true, quoteEOF: true}
			}
			lit(l.src[l.pos+1:l.pos+1+end], true)
			if end == 0 {
				w = append(w, wordPart{kind: partLit, quoted: true})
			}
			l.pos += end + 2
		case c == '"':
			l.pos++
			parts, err := l.double()
			if err != nil {
				return err
			}
			if len(parts) == 0 {
				w = append(w, wordPart{kind: partLit, quoted: true})
			}
			for _, p := range parts {
				if p.kind == partLit {
					lit(p.text, true)
				} else {
					w = append(w, p)
				}
			}
		case c == '$':
			p, err := l.dollar(false)
			if err != nil {
				return err
			}
			if p.kind == partLit {
				lit(p.text, false)
			} else {
				w = append(w, p)
			}
		case c == '`':
			p, err := l.backtick(false)
			if err != nil {
				return err
			}
			w = append(w, p)
		case c == '~' && l.pos == start:
			end := l.pos + 1
			for end < len(l.src) && !isMeta(l.src[end]) && l.src[end] != '/' && isNameByte(l.src[end], false) {
				end++
			}
			w = append(w, wordPart{kind: partTilde, text: l.src[l.pos+1 : end]})
			l.pos = end
		default:
			end := l.pos + 1
			for end < len(l.src) && !isMeta(l.src[end]) && !strings.ContainsRune("\\'\"$`", rune(l.src[end])) {
				end++
			}
			lit(l.src[l.pos:end], false)
			l.pos = end
		}
	}
	l.toks = append(l.toks, token{kind: tokWord, word: w, line: l.lineOf(start)})
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// double reads the inside of a double-quoted string; pos is past the
// opening quote.
func (l *lexer) double() ([]wordPart, error) {
	var parts []wordPart
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, wordPart{kind: partLit, text: b.String(), quoted: true})
			b.Reset()
		}
	}
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case '"':
			l.pos++
			flush()
			return parts, nil
		case '\\':
			if l.pos+1 < len(l.src) && strings.IndexByte("$`\"\\\n", l.src[l.pos+1]) >= 0 {
				if l.src[l.pos+1] != '\n' {
					b.WriteByte(l.src[l.pos+1])
				}
				l.pos += 2
				continue
			}
			b.WriteByte(c)
			l.pos++
		case '$':
			p, err := l.dollar(true)
			if err != nil {
				return nil, err
			}
			if p.kind == partLit {
				b.WriteString(p.text)
				continue
			}
			flush()
			parts = append(parts, p)
		case '`':
			p, err := l.backtick(true)
			if err != nil {
				return nil, err
			}
			flush()
			parts = append(parts, p)
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return nil, &syntaxError{msg: "unexpected EOF while looking for matching `\"'", incomplete: true, quoteEOF: true}
}

func (l *lexer) dollar(quoted bool) (wordPart, error) {
	rest := l.src[l.pos+1:]
	switch {
	case strings.HasPrefix(rest, "(("):
		end := strings.Index(rest[2:], "))")
		if end < 0 {
			return wordPart{}, &syntaxError{msg: "unexpected EOF while looking for matching `)'", incomplete: true, quoteEOF: true}
		}
		l.pos += 1 + 2 + end + 2
		return wordPart{kind: partArith, text: rest[2 : 2+end], quoted: quoted}, nil
	case strings.HasPrefix(rest, "("):
		end, err := matchParen(rest[1:])
		if err != nil {
			return wordPart{}, err
		}
		l.pos += 2 + end + 1
		return wordPart{kind: partCmd, text: rest[1 : 1+end], quoted: quoted}, nil
	case strings.HasPrefix(rest, "{"):
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return wordPart{}, &syntaxError{msg: "unexpected EOF while looking for matching `}'", incomplete: true, quoteEOF: true}
		}
		l.pos += 1 + end + 1
		return wordPart{kind: partParam, text: rest[1:end], quoted: quoted}, nil
	case rest != "" && strings.IndexByte("?$#!@*-0123456789", rest[0]) >= 0:
		l.pos += 2
		return wordPart{kind: partParam, text: rest[:1], quoted: quoted}, nil
	case rest != "" && isNameByte(rest[0], true):
		n := 1
		for n < len(rest) && isNameByte(rest[n], false) {
			n++
		}
		l.pos += 1 + n
		return wordPart{kind: partParam, text: rest[:n], quoted: quoted}, nil
	}
	l.pos++
	return wordPart{kind: partLit, text: "$", quoted: quoted}, nil
}

// matchParen finds the ) that closes a $( whose body starts s,
// skipping quoted text and nested parentheses.
func matchParen(s string) (int, error) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return 0, &syntaxError{msg: "unexpected EOF while looking for matching `''", incomplete: true, quoteEOF: true}
			}
			i += j + 1
		case '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return 0, &syntaxError{msg: "unexpected EOF while looking for matching `\"'", incomplete: true, quoteEOF: true}
			}
			i = j
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return i, nil
			}
			depth--
		}
	}
	return 0, &syntaxError{msg: "unexpected EOF while looking for matching `)'", incomplete: true, quoteEOF: true}
}

func (l *lexer) backtick(quoted bool) (wordPart, error) {
	var b strings.Builder
	for i := l.pos + 1; i < len(l.src); i++ {
		c := l.src[i]
		if c == '\\' && i+1 < len(l.src) && strings.IndexByte("$`\\", l.src[i+1]) >= 0 {
			b.WriteByte(l.src[i+1])
			i++
			continue
		}
		if c == '`' {
			l.pos = i + 1
			return wordPart{kind: partCmd, text: b.String(), quoted: quoted}, nil
		}
		b.WriteByte(c)
	}
	return wordPart{}, &syntaxError{msg: "unexpected EOF while looking for matching ``'", incomplete: true, quoteEOF: true}
}

// parser builds the and-or lists of a line from its tokens.
type parser struct {
	toks  []token
	pos   int
	depth int
	// last is the terminator listUntil consumed.
	last string
}

func parse(src string) ([]andOr, error) {
	if len(src) > maxScriptSize {
		return nil, &syntaxError{msg: "syntax error: line too long"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	return p.list()
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func unexpected(t token) error {
	err := unexpected1(t)
	var se *syntaxError
	if errors.As(err, &se) {
		se.line = t.line
	}
	return err
}

func unexpected1(t token) error {
	switch t.kind {
	case tokEOF:
		return &syntaxError{msg: "syntax error: unexpected end of file", incomplete: true}
	case tokOp:
		if t.op == "\n" {
			return &syntaxError{msg: "syntax error near unexpected token `newline'", token: "newline"}
		}
		return &syntaxError{msg: fmt.Sprintf("syntax error near unexpected token `%s'", t.op), token: t.op}
	}
	s, _ := t.word.literal()
	return &syntaxError{msg: fmt.Sprintf("syntax error near unexpected token `%s'", s), token: s}
}

func (p *parser) skipNewlines() {
	for p.peek().kind == tokOp && p.peek().op == "\n" {
		p.next()
	}
}

func (p *parser) list() ([]andOr, error) {
	var out []andOr
	for {
		p.skipNewlines()
		t := p.peek()
		if t.kind == tokEOF {
			return out, nil
		}
		ao, err := p.andOr()
		if err != nil {
			return nil, err
		}
		out = append(out, ao)
		t = p.peek()
		switch {
		case t.kind == tokEOF:
			return out, nil
		case t.kind == tokOp && (t.op == ";" || t.op == "&" || t.op == "\n"):
			p.next()
		default:
			return nil, unexpected(t)
		}
	}
}

func (p *parser) andOr() (andOr, error) {
	var ao andOr
	for {
		pl, err := p.pipeline()
		if err != nil {
			return ao, err
		}
		ao.pipes = append(ao.pipes, pl)
		t := p.peek()
		if t.kind != tokOp || t.op != "&&" && t.op != "||" {
			return ao, nil
		}
		p.next()
		ao.ops = append(ao.ops, t.op)
		p.skipNewlines()
	}
}

func (p *parser) pipeline() (pipeline, error) {
	var pl pipeline
	if t := p.peek(); t.kind == tokWord {
		if s, ok := t.word.literal(); ok && s == "!" && len(t.word) == 1 && !t.word[0].quoted {
			p.next()
			pl.negate = true
		}
	}
	for {
		c, err := p.command()
		if err != nil {
			return pl, err
		}
		pl.cmds = append(pl.cmds, c)
		t := p.peek()
		if t.kind != tokOp || t.op != "|" && t.op != "|&" {
			return pl, nil
		}
		p.next()
		if t.op == "|&" {
			pl.cmds[len(pl.cmds)-1].redirs = append(pl.cmds[len(pl.cmds)-1].redirs, redirect{fd: 2, op: ">&", target: word{{kind: partLit, text: "1"}}})
		}
		p.skipNewlines()
	}
}

// reserved returns the reserved word a token is, if it is one.
func reserved(t token) string {
	if t.kind != tokWord || len(t.word) != 1 || t.word[0].quoted || t.word[0].kind != partLit {
		return ""
	}
	switch s := t.word[0].text; s {
	case "for", "in", "do", "done", "if", "then", "elif", "else", "fi", "while", "until", "{", "}":
		return s
	}
	return ""
}

func (p *parser) command() (simpleCmd, error) {
	c, err := p.command1()
	if c.line == 0 {
		c.line = p.peek().line
	}
	return c, err
}

func (p *parser) command1() (simpleCmd, error) {
	c := simpleCmd{line: p.peek().line}
	t := p.peek()
	switch r := reserved(t); r {
	case "for", "if", "while", "until", "{":
		return p.compoundCmd(r)
	case "in", "do", "done", "then", "elif", "else", "fi", "}":
		return c, &syntaxError{msg: fmt.Sprintf("syntax error near unexpected token `%s'", r), token: r}
	}
	if t.kind == tokOp && t.op == "(" {
		p.next()
		body, err := p.listUntil(")")
		if err != nil {
			return c, err
		}
		c.compound = &compound{kind: "subshell", bodies: [][]andOr{body}}
		return p.trailingRedirects(c)
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tokWord:
			p.next()
			if len(c.args) == 0 {
				if name, val, ok := splitAssign(t.word); ok {
					c.assigns = append(c.assigns, name)
					c.avalues = append(c.avalues, val)
					continue
				}
			}
			c.args = append(c.args, t.word)
		case t.kind == tokOp && isRedirOp(t.op):
			p.next()
			target := p.peek()
			if target.kind != tokWord {
				return c, unexpected(target)
			}
			p.next()
			c.redirs = append(c.redirs, makeRedirect(t, target.word))
		default:
			if len(c.args) == 0 && len(c.assigns) == 0 && len(c.redirs) == 0 {
				return c, unexpected(t)
			}
			return c, nil
		}
	}
}

// listUntil parses a list up to one of the given reserved words (or a
// closing parenthesis) and consumes that terminator.
func (p *parser) listUntil(stops ...string) ([]andOr, error) {
	var out []andOr
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, &syntaxError{msg: "syntax error: nesting too deep"}
	}
	for {
		for t := p.peek(); t.kind == tokOp && (t.op == "\n" || t.op == ";"); t = p.peek() {
			p.next()
		}
		t := p.peek()
		if t.kind == tokEOF {
			return nil, &syntaxError{msg: "syntax error: unexpected end of file", incomplete: true}
		}
		r := reserved(t)
		if t.kind == tokOp && t.op == ")" {
			r = ")"
		}
		if slices.Contains(stops, r) {
			if len(out) == 0 {
				return nil, unexpected(t)
			}
			p.next()
			p.last = r
			return out, nil
		}
		ao, err := p.andOr()
		if err != nil {
			return nil, err
		}
		out = append(out, ao)
		t = p.peek()
		if t.kind == tokOp && (t.op == ";" || t.op == "&" || t.op == "\n") {
			p.next()
			continue
		}
		if r := reserved(t); slices.Contains(stops, r) || t.kind == tokOp && t.op == ")" && slices.Contains(stops, ")") {
			continue
		}
		if t.kind == tokEOF {
			return nil, &syntaxError{msg: "syntax error: unexpected end of file", incomplete: true}
		}
		return nil, unexpected(t)
	}
}

func (p *parser) expectWord(w string) error {
	t := p.peek()
	if reserved(t) != w {
		if t.kind == tokEOF {
			return &syntaxError{msg: "syntax error: unexpected end of file", incomplete: true}
		}
		return unexpected(t)
	}
	p.next()
	return nil
}

func (p *parser) compoundCmd(kind string) (simpleCmd, error) {
	c := simpleCmd{line: p.peek().line}
	p.next()
	cp := &compound{kind: kind}
	switch kind {
	case "for":
		name := p.next()
		s, ok := name.word.literal()
		if name.kind != tokWord || !ok || !validName(s) {
			return c, unexpected(name)
		}
		cp.varName = s
		for t := p.peek(); t.kind == tokOp && t.op == "\n"; t = p.peek() {
			p.next()
		}
		if reserved(p.peek()) == "in" {
			p.next()
			for p.peek().kind == tokWord {
				cp.items = append(cp.items, p.next().word)
			}
		}
		if t := p.peek(); t.kind == tokOp && (t.op == ";" || t.op == "\n") {
			p.next()
		}
		for t := p.peek(); t.kind == tokOp && t.op == "\n"; t = p.peek() {
			p.next()
		}
		if err := p.expectWord("do"); err != nil {
			return c, err
		}
		body, err := p.listUntil("done")
		if err != nil {
			return c, err
		}
		cp.bodies = [][]andOr{body}
	case "while", "until":
		cond, err := p.listUntil("do")
		if err != nil {
			return c, err
		}
		body, err := p.listUntil("done")
		if err != nil {
			return c, err
		}
		cp.conds, cp.bodies = [][]andOr{cond}, [][]andOr{body}
	case "if":
		for {
			cond, err := p.listUntil("then")
			if err != nil {
				return c, err
			}
			body, err := p.listUntil("elif", "else", "fi")
			if err != nil {
				return c, err
			}
			cp.conds = append(cp.conds, cond)
			cp.bodies = append(cp.bodies, body)
			if p.last == "fi" {
				break
			}
			if p.last == "else" {
				els, err := p.listUntil("fi")
				if err != nil {
					return c, err
				}
				cp.bodies = append(cp.bodies, els)
				break
			}
		}
	case "{":
		body, err := p.listUntil("}")
		if err != nil {
			return c, err
		}
		cp.kind, cp.bodies = "group", [][]andOr{body}
	}
	c.compound = cp
	return p.trailingRedirects(c)
}

func (p *parser) trailingRedirects(c simpleCmd) (simpleCmd, error) {
	for {
		t := p.peek()
		if t.kind != tokOp || !isRedirOp(t.op) {
			return c, nil
		}
		p.next()
		target := p.peek()
		if target.kind != tokWord {
			return c, unexpected(target)
		}
		p.next()
		c.redirs = append(c.redirs, makeRedirect(t, target.word))
	}
}

func isRedirOp(op string) bool {
	switch op {
	case ">", ">>", "<", ">&", "<&", ">|", "&>", "&>>", "<<", "<<<":
		return true
	}
	return false
}

func makeRedirect(t token, target word) redirect {
	r := redirect{fd: t.ioFD, op: t.op, target: target}
	switch t.op {
	case "&>":
		r.fd, r.op = -1, ">"
	case "&>>":
		r.fd, r.op = -1, ">>"
	case ">|":
		r.op = ">"
	case "<<", "<<<":
		// NOTE: here-documents are not read; the word is taken as the
		// input text, which is what a here-string is.
		r.op = "<<<"
	}
	if r.fd == -1 && t.op != "&>" && t.op != "&>>" {
		r.fd = 1
		if strings.HasPrefix(r.op, "<") {
			r.fd = 0
		}
	}
	return r
}

// splitAssign recognises NAME=value in command prefix position.
func splitAssign(w word) (string, word, bool) {
	if len(w) == 0 || w[0].kind != partLit || w[0].quoted {
		return "", nil, false
	}
	first := w[0].text
	eq := strings.IndexByte(first, '=')
	if eq <= 0 {
		return "", nil, false
	}
	for i := 0; i < eq; i++ {
		if !isNameByte(first[i], i == 0) {
			return "", nil, false
		}
	}
	val := word{}
	if rest := first[eq+1:]; rest != "" {
		val = append(val, wordPart{kind: partLit, text: rest})
	}
	val = append(val, w[1:]...)
	return first[:eq], val, true
}
