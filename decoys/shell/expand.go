package shell

import (
	"context"
	"io"
	"path"
	"strconv"
	"strings"
)

// maxFields caps the words one expansion may produce.
const maxFields = 4096

// field is a word being built; glob is set when an unquoted glob
// character went into it.
type field struct {
	b    strings.Builder
	set  bool
	glob bool
}

// expand performs tilde, parameter, command and arithmetic expansion,
// field splitting of unquoted results, and pathname expansion.
func (sh *Shell) expand(ctx context.Context, w word, errw io.Writer) []string {
	var fields []*field
	cur := &field{}
	flush := func() {
		if cur.set || cur.b.Len() > 0 {
			fields = append(fields, cur)
		}
		cur = &field{}
	}
	for _, p := range w {
		if p.kind == partLit {
			cur.b.WriteString(p.text)
			cur.set = cur.set || p.quoted
			if !p.quoted && strings.ContainsAny(p.text, "*?[") {
				cur.glob = true
			}
			continue
		}
		val := sh.expandPart(ctx, p, errw)
		if p.quoted || p.kind == partTilde {
			cur.b.WriteString(val)
			cur.set = true
			continue
		}
		// Unquoted results split on IFS whitespace.
		for i, f := range splitFields(val, true) {
			if i > 0 {
				flush()
			}
			cur.b.WriteString(f)
		}
		if strings.HasSuffix(val, " ") || strings.HasSuffix(val, "\n") || strings.HasSuffix(val, "\t") {
			flush()
		}
		if len(fields) > maxFields {
			break
		}
	}
	flush()

	var out []string
	for _, f := range fields {
		s := f.b.String()
		if f.glob {
			if m := sh.glob(s); len(m) > 0 {
				out = append(out, m...)
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// expandNoSplit expands a word where bash does no field splitting: the
// value of an assignment and the target of a redirection.
func (sh *Shell) expandNoSplit(ctx context.Context, w word, errw io.Writer) []string {
	var b strings.Builder
	for _, p := range w {
		if p.kind == partLit {
			b.WriteString(p.text)
			continue
		}
		b.WriteString(sh.expandPart(ctx, p, errw))
	}
	return []string{b.String()}
}

func splitFields(s string, _ bool) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
	if len(f) == 0 {
		return []string{""}
	}
	if s != "" && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n') {
		return append([]string{""}, f...)
	}
	return f
}

func (sh *Shell) expandPart(ctx context.Context, p wordPart, errw io.Writer) string {
	switch p.kind {
	case partTilde:
		if p.text == "" {
			return sh.vars["HOME"]
		}
		for _, a := range sh.accounts() {
			if a.name == p.text {
				return a.home
			}
		}
		return "~" + p.text
	case partParam:
		return sh.param(p.text)
	case partCmd:
		return sh.capture(ctx, p.text, errw)
	case partArith:
		v, ok := sh.arith(p.text)
		if !ok {
			return "0"
		}
		return strconv.FormatInt(v, 10)
	}
	return p.text
}

func (sh *Shell) param(name string) string {
	switch name {
	case "?":
		return strconv.Itoa(sh.status)
	case "$":
		return strconv.Itoa(sh.shellPID())
	case "#":
		return "0"
	case "0":
		if sh.interactive {
			return "-bash"
		}
		return "bash"
	case "-":
		if sh.interactive {
			return "himBHs"
		}
		return "hBc"
	case "!", "@", "*":
		return ""
	case "RANDOM":
		return strconv.Itoa(int(derive(sh.host.seed, "random "+strconv.Itoa(sh.work))[0])<<7 | sh.work%128)
	case "COLUMNS":
		return strconv.Itoa(int(sh.width.Load()))
	case "LINES":
		return strconv.Itoa(int(sh.height.Load()))
	case "HOSTNAME":
		return sh.host.hostname
	case "UID", "EUID":
		return strconv.Itoa(sh.uid)
	case "BASH_VERSION":
		return "5.2.15(1)-release"
	}
	if strings.HasPrefix(name, "#") {
		return strconv.Itoa(len(sh.param(name[1:])))
	}
	if i := strings.Index(name, ":-"); i > 0 {
		if v := sh.vars[name[:i]]; v != "" {
			return v
		}
		return name[i+2:]
	}
	if i := strings.Index(name, ":="); i > 0 {
		if v := sh.vars[name[:i]]; v != "" {
			return v
		}
		sh.setVar(name[:i], name[i+2:])
		return name[i+2:]
	}
	return sh.vars[name]
}

// glob matches a pattern against the emulated tree, one path component
// at a time, and returns the sorted matches (nil when none).
func (sh *Shell) glob(pattern string) []string {
	absolute := strings.HasPrefix(pattern, "/")
	base := sh.cwd
	if absolute {
		base = "/"
	}
	parts := strings.Split(strings.Trim(pattern, "/"), "/")
	type cand struct{ shown, full string }
	cands := []cand{{"", base}}
	if absolute {
		cands = []cand{{"/", "/"}}
	}
	for _, part := range parts {
		var next []cand
		for _, c := range cands {
			n, err := sh.fs.lookup(c.full, true)
			if err != nil || !n.isDir() {
				continue
			}
			if !strings.ContainsAny(part, "*?[") {
				if _, ok := n.children[part]; ok {
					next = append(next, cand{joinShown(c.shown, part), path.Join(c.full, part)})
				}
				continue
			}
			for _, ch := range n.sortedChildren() {
				if strings.HasPrefix(ch.name, ".") && !strings.HasPrefix(part, ".") {
					continue
				}
				if ok, _ := path.Match(part, ch.name); ok {
					next = append(next, cand{joinShown(c.shown, ch.name), path.Join(c.full, ch.name)})
				}
			}
		}
		cands = next
		if len(cands) == 0 || len(cands) > maxFields {
			return nil
		}
	}
	out := make([]string, 0, len(cands))
	for _, c := range cands {
		out = append(out, c.shown)
	}
	return out
}

func joinShown(prefix, name string) string {
	switch prefix {
	case "":
		return name
	case "/":
		return "/" + name
	}
	return prefix + "/" + name
}

// arith evaluates the integer expressions of $((...)): + - * / % and
// parentheses over numbers and variable names.
func (sh *Shell) arith(src string) (int64, bool) {
	a := &arithParser{s: strings.ReplaceAll(src, " ", ""), sh: sh}
	v := a.sum()
	return v, a.ok && a.pos == len(a.s)
}

type arithParser struct {
	s     string
	pos   int
	sh    *Shell
	ok    bool
	depth int
}

func (a *arithParser) sum() int64 {
	if a.depth == 0 {
		a.ok = true
	}
	v := a.product()
	for a.pos < len(a.s) && (a.s[a.pos] == '+' || a.s[a.pos] == '-') {
		op := a.s[a.pos]
		a.pos++
		r := a.product()
		if op == '+' {
			v += r
		} else {
			v -= r
		}
	}
	return v
}

func (a *arithParser) product() int64 {
	v := a.unary()
	for a.pos < len(a.s) && strings.IndexByte("*/%", a.s[a.pos]) >= 0 {
		op := a.s[a.pos]
		a.pos++
		r := a.unary()
		switch {
		case op == '*':
			v *= r
		case r == 0:
			a.ok = false
		case op == '/':
			v /= r
		default:
			v %= r
		}
	}
	return v
}

func (a *arithParser) unary() int64 {
	if a.pos < len(a.s) && a.s[a.pos] == '-' {
		a.pos++
		return -a.unary()
	}
	if a.pos < len(a.s) && a.s[a.pos] == '(' {
		if a.depth > 32 {
			a.ok = false
			return 0
		}
		a.pos++
		a.depth++
		v := a.sum()
		a.depth--
		if a.pos < len(a.s) && a.s[a.pos] == ')' {
			a.pos++
		} else {
			a.ok = false
		}
		return v
	}
	start := a.pos
	for a.pos < len(a.s) && (isNameByte(a.s[a.pos], false) || a.s[a.pos] == '$') {
		a.pos++
	}
	tok := strings.TrimPrefix(a.s[start:a.pos], "$")
	if tok == "" {
		a.ok = false
		return 0
	}
	if n, err := strconv.ParseInt(tok, 0, 64); err == nil {
		return n
	}
	n, _ := strconv.ParseInt(a.sh.param(tok), 10, 64)
	return n
}
