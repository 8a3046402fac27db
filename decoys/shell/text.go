package shell

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// input returns the text a filter reads: its file operands, or stdin.
func (sh *Shell) input(c *call, files []string) (string, int) {
	if len(files) == 0 {
		return string(c.stdin), 0
	}
	var b strings.Builder
	status := 0
	for _, f := range files {
		data, err := sh.readPath(f)
		if err != nil {
			fprintf(c.err, "%s: %s: %s\n", c.name, f, err)
			status = 1
			continue
		}
		b.Write(data)
	}
	return b.String(), status
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func headTail(sh *Shell, c *call, tail bool) int {
	n := 10
	var files []string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-n" || a == "-c":
			if i+1 >= len(c.args) {
				fprintf(c.err, "%s: option requires an argument -- 'n'\nTry '%s --help' for more information.\n", c.name, c.name)
				return 1
			}
			i++
			v, err := strconv.Atoi(strings.TrimPrefix(c.args[i], "+"))
			if err != nil {
				fprintf(c.err, "%s: invalid number of lines: '%s'\n", c.name, c.args[i])
				return 1
			}
			n = v
		case strings.HasPrefix(a, "-n"):
			v, err := strconv.Atoi(a[2:])
			if err == nil {
				n = v
			}
		case len(a) > 1 && a[0] == '-' && isDigits(a[1:]):
			n, _ = strconv.Atoi(a[1:])
		case a == "-f" || a == "-F" || a == "-q":
		default:
			files = append(files, a)
		}
	}
	text, status := sh.input(c, files)
	ls := lines(text)
	if n < 0 {
		n = 0
	}
	if tail {
		if len(ls) > n {
			ls = ls[len(ls)-n:]
		}
	} else if len(ls) > n {
		ls = ls[:n]
	}
	for _, l := range ls {
		fprintln(c.out, l)
	}
	return status
}

func progHead(sh *Shell, c *call) int { return headTail(sh, c, false) }
func progTail(sh *Shell, c *call) int { return headTail(sh, c, true) }

func progGrep(sh *Shell, c *call) int {
	var invert, icase, count, onlyName, fixed, number bool
	fixed = c.name == "fgrep"
	extended := c.name == "egrep"
	var pattern *string
	var files []string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if len(a) > 1 && a[0] == '-' && pattern == nil || len(a) > 1 && a[0] == '-' && !strings.HasPrefix(a, "--") && len(files) == 0 && pattern != nil && a != "-" {
			if a == "-e" && i+1 < len(c.args) {
				i++
				p := c.args[i]
				pattern = &p
				continue
			}
			for _, f := range a[1:] {
				switch f {
				case 'v':
					invert = true
				case 'i':
					icase = true
				case 'c':
					count = true
				case 'l':
					onlyName = true
				case 'F':
					fixed = true
				case 'n':
					number = true
				case 'E':
					extended = true
				case 'w', 'q', 's', 'r', 'a', 'H', 'h', 'o', '-':
				default:
					fprintf(c.err, "grep: invalid option -- '%c'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n", f)
					return 2
				}
			}
			continue
		}
		if pattern == nil {
			p := a
			pattern = &p
			continue
		}
		files = append(files, a)
	}
	if pattern == nil {
		fprint(c.err, "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n")
		return 2
	}
	pat := *pattern
	if fixed {
		pat = regexp.QuoteMeta(pat)
	} else if !extended {
		pat = basicToExtended(pat)
	}
	if icase {
		pat = "(?i)" + pat
	}
	// Go's regexp takes only UTF-8, and GNU grep matches bytes; invalid
	// sequences become U+FFFD, which no input line of this tree holds.
	re, err := regexp.Compile(strings.ToValidUTF8(pat, "\uFFFD"))
	if err != nil {
		re = regexp.MustCompile(regexp.QuoteMeta(strings.ToValidUTF8(*pattern, "\uFFFD")))
	}
	matched := false
	status := 0
	run := func(name, text string) {
		n := 0
		for i, l := range lines(text) {
			if re.MatchString(l) != invert {
				n++
				matched = true
				if count || onlyName {
					continue
				}
				prefix := ""
				if len(files) > 1 {
					prefix = name + ":"
				}
				if number {
					prefix += strconv.Itoa(i+1) + ":"
				}
				fprintln(c.out, prefix+l)
			}
		}
		if count {
			if len(files) > 1 {
				fprintf(c.out, "%s:%d\n", name, n)
			} else {
				fprintln(c.out, n)
			}
		}
		if onlyName && n > 0 {
			fprintln(c.out, name)
		}
	}
	if len(files) == 0 {
		run("(standard input)", string(c.stdin))
	}
	for _, f := range files {
		data, err := sh.readPath(f)
		if err != nil {
			fprintf(c.err, "grep: %s: %s\n", f, err)
			status = 2
			continue
		}
		run(f, string(data))
	}
	if status == 2 && !matched {
		return 2
	}
	if !matched {
		return 1
	}
	return 0
}

// basicToExtended rewrites a POSIX basic regular expression for Go's
// syntax: in a BRE ( ) | { } + ? are literal unless escaped, and the
// escaped forms are the operators (a GNU extension for \| \+ \?).
func basicToExtended(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		ch := p[i]
		if ch == '\\' && i+1 < len(p) {
			next := p[i+1]
			i++
			if strings.IndexByte("(){}|+?", next) >= 0 {
				b.WriteByte(next)
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(next)
			continue
		}
		if strings.IndexByte("(){}|+?", ch) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func progWc(sh *Shell, c *call) int {
	f, files, bad := flags(c, "lwcm")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	if len(f) == 0 {
		f = map[byte]bool{'l': true, 'w': true, 'c': true}
	}
	count := func(s string) []int {
		var out []int
		if f['l'] {
			out = append(out, strings.Count(s, "\n"))
		}
		if f['w'] {
			out = append(out, len(strings.Fields(s)))
		}
		if f['c'] || f['m'] {
			out = append(out, len(s))
		}
		return out
	}
	format := func(vals []int, name string) string {
		var parts []string
		width := 1
		if len(vals) > 1 || len(files) > 1 {
			width = 7
			if len(files) > 0 {
				width = 1
				for _, v := range vals {
					if l := len(strconv.Itoa(v)); l > width {
						width = l
					}
				}
			}
		}
		for _, v := range vals {
			parts = append(parts, fmt.Sprintf("%*d", width, v))
		}
		s := strings.Join(parts, " ")
		if name != "" {
			s += " " + name
		}
		return s
	}
	if len(files) == 0 {
		fprintln(c.out, format(count(string(c.stdin)), ""))
		return 0
	}
	status := 0
	for _, name := range files {
		data, err := sh.readPath(name)
		if err != nil {
			fprintf(c.err, "wc: %s: %s\n", name, err)
			status = 1
			continue
		}
		fprintln(c.out, format(count(string(data)), name))
	}
	return status
}

func progSort(sh *Shell, c *call) int {
	f, files, bad := flags(c, "rnufkt")
	if bad != 0 {
		return badOption(c, bad, 2)
	}
	text, status := sh.input(c, files)
	ls := lines(text)
	if f['n'] {
		sort.SliceStable(ls, func(i, j int) bool { return leadingNum(ls[i]) < leadingNum(ls[j]) })
	} else {
		sort.Strings(ls)
	}
	if f['r'] {
		for i, j := 0, len(ls)-1; i < j; i, j = i+1, j-1 {
			ls[i], ls[j] = ls[j], ls[i]
		}
	}
	prev := "\x00"
	for _, l := range ls {
		if f['u'] && l == prev {
			continue
		}
		prev = l
		fprintln(c.out, l)
	}
	return status
}

func leadingNum(s string) float64 {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || end == 0 && s[end] == '-') {
		end++
	}
	v, _ := strconv.ParseFloat(s[:end], 64)
	return v
}

func progUniq(sh *Shell, c *call) int {
	f, files, bad := flags(c, "cdu")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	text, status := sh.input(c, files)
	ls := lines(text)
	for i := 0; i < len(ls); {
		j := i
		for j < len(ls) && ls[j] == ls[i] {
			j++
		}
		n := j - i
		switch {
		case f['d'] && n < 2, f['u'] && n > 1:
		case f['c']:
			fprintf(c.out, "%7d %s\n", n, ls[i])
		default:
			fprintln(c.out, ls[i])
		}
		i = j
	}
	return status
}

// progAwk handles the one-liners attackers use: '{print $N}' with an
// optional -F separator and a /regex/ guard. Anything else prints its
// input unchanged.
func progAwk(sh *Shell, c *call) int {
	sep := ""
	var prog string
	var files []string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-F" && i+1 < len(c.args):
			i++
			sep = c.args[i]
		case strings.HasPrefix(a, "-F"):
			sep = a[2:]
		case prog == "":
			prog = a
		default:
			files = append(files, a)
		}
	}
	if prog == "" {
		fprint(c.err, "usage: mawk [-F value] [-v var=value] [--] 'program text' [file ...]\n")
		return 2
	}
	text, status := sh.input(c, files)
	var guard *regexp.Regexp
	body := strings.TrimSpace(prog)
	if strings.HasPrefix(body, "/") {
		if end := strings.Index(body[1:], "/"); end >= 0 {
			guard, _ = regexp.Compile(body[1 : 1+end])
			body = strings.TrimSpace(body[end+2:])
		}
	}
	body = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(body, "{"), "}"))
	var fieldsIdx []string
	if strings.HasPrefix(body, "print") {
		for f := range strings.SplitSeq(strings.TrimSpace(strings.TrimPrefix(body, "print")), ",") {
			fieldsIdx = append(fieldsIdx, strings.TrimSpace(f))
		}
	}
	for i, l := range lines(text) {
		if guard != nil && !guard.MatchString(l) {
			continue
		}
		var fs []string
		if sep == "" {
			fs = strings.Fields(l)
		} else {
			fs = strings.Split(l, sep)
		}
		if len(fieldsIdx) == 0 || len(fieldsIdx) == 1 && fieldsIdx[0] == "" {
			fprintln(c.out, l)
			continue
		}
		var out []string
		for _, f := range fieldsIdx {
			switch {
			case f == "$0":
				out = append(out, l)
			case f == "NF":
				out = append(out, strconv.Itoa(len(fs)))
			case f == "NR":
				out = append(out, strconv.Itoa(i+1))
			case f == "$NF":
				if len(fs) > 0 {
					out = append(out, fs[len(fs)-1])
				} else {
					out = append(out, "")
				}
			case strings.HasPrefix(f, "$"):
				n, _ := strconv.Atoi(f[1:])
				if n >= 1 && n <= len(fs) {
					out = append(out, fs[n-1])
				} else {
					out = append(out, "")
				}
			default:
				out = append(out, strings.Trim(f, `"`))
			}
		}
		fprintln(c.out, strings.Join(out, " "))
	}
	return status
}

func progCut(sh *Shell, c *call) int {
	delim := "\t"
	var spec string
	chars := false
	var files []string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-d" && i+1 < len(c.args):
			i++
			delim = c.args[i]
		case strings.HasPrefix(a, "-d"):
			delim = a[2:]
		case (a == "-f" || a == "-c") && i+1 < len(c.args):
			chars = a == "-c"
			i++
			spec = c.args[i]
		case strings.HasPrefix(a, "-f") || strings.HasPrefix(a, "-c"):
			chars = a[1] == 'c'
			spec = a[2:]
		default:
			files = append(files, a)
		}
	}
	if spec == "" {
		fprint(c.err, "cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.\n")
		return 1
	}
	text, status := sh.input(c, files)
	want := func(i int) bool {
		for r := range strings.SplitSeq(spec, ",") {
			lo, hi, isRange := strings.Cut(r, "-")
			a, _ := strconv.Atoi(lo)
			b, _ := strconv.Atoi(hi)
			switch {
			case !isRange && a == i:
				return true
			case isRange && (lo == "" || a <= i) && (hi == "" || i <= b):
				return true
			}
		}
		return false
	}
	for _, l := range lines(text) {
		var out []string
		if chars {
			var b strings.Builder
			for i := range len(l) {
				if want(i + 1) {
					b.WriteByte(l[i])
				}
			}
			fprintln(c.out, b.String())
			continue
		}
		if !strings.Contains(l, delim) {
			fprintln(c.out, l)
			continue
		}
		for i, f := range strings.Split(l, delim) {
			if want(i + 1) {
				out = append(out, f)
			}
		}
		fprintln(c.out, strings.Join(out, delim))
	}
	return status
}

func progLs(sh *Shell, c *call) int {
	f, ops, bad := flags(c, "lahAdRF1tSrin")
	if bad != 0 {
		return badOption(c, bad, 2)
	}
	if len(ops) == 0 {
		ops = []string{"."}
	}
	status := 0
	var files []string
	var dirs []string
	for _, a := range ops {
		n, err := sh.fs.lookup(abs(sh.cwd, a), !f['l'] || strings.HasSuffix(a, "/"))
		if err != nil {
			fprintf(c.err, "ls: cannot access '%s': %s\n", a, err)
			status = 2
			continue
		}
		if n.isDir() && !f['d'] {
			dirs = append(dirs, a)
		} else {
			files = append(files, a)
		}
	}
	long := f['l'] || f['n']
	var entries []lsEntry
	for _, a := range files {
		n, _ := sh.fs.lookup(abs(sh.cwd, a), !long)
		entries = append(entries, lsEntry{a, n})
	}
	if len(entries) > 0 {
		sh.lsPrint(c, entries, long, f, false)
	}
	for i, a := range dirs {
		n, _ := sh.fs.lookup(abs(sh.cwd, a), true)
		if len(ops) > 1 {
			if i > 0 || len(entries) > 0 {
				fprintln(c.out)
			}
			fprintf(c.out, "%s:\n", a)
		}
		if !canRead(n, sh.uid) {
			fprintf(c.err, "ls: cannot open directory '%s': Permission denied\n", a)
			status = 2
			continue
		}
		var list []lsEntry
		if f['a'] {
			parent := n.parent
			if parent == nil {
				parent = n
			}
			list = append(list, lsEntry{".", n}, lsEntry{"..", parent})
		}
		for _, ch := range n.sortedChildren() {
			if strings.HasPrefix(ch.name, ".") && !f['a'] && !f['A'] {
				continue
			}
			list = append(list, lsEntry{ch.name, ch})
		}
		sh.lsPrint(c, list, long, f, true)
	}
	return status
}

type lsEntry struct {
	name string
	n    *node
}

func (sh *Shell) owner(uid int) string {
	for _, a := range sh.accounts() {
		if a.uid == uid {
			return a.name
		}
	}
	return strconv.Itoa(uid)
}

func (sh *Shell) group(gid int) string {
	for l := range strings.SplitSeq(fmt.Sprintf(groupFile, sh.admin), "\n") {
		f := strings.Split(l, ":")
		if len(f) > 2 && f[2] == strconv.Itoa(gid) {
			return f[0]
		}
	}
	return strconv.Itoa(gid)
}

func (sh *Shell) lsPrint(c *call, list []lsEntry, long bool, f map[byte]bool, total bool) {
	if f['t'] {
		sort.SliceStable(list, func(i, j int) bool { return list[i].n.mtime.After(list[j].n.mtime) })
	}
	if f['r'] {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	if !long {
		var names []string
		for _, e := range list {
			names = append(names, e.name)
		}
		// ls lays out columns only when its output is the terminal.
		_, tty := c.out.(*capWriter)
		if f['1'] || !sh.interactive || !tty {
			for _, n := range names {
				fprintln(c.out, n)
			}
			return
		}
		sh.columns(c, names)
		return
	}
	var rows [][]string
	var blocks int64
	w := make([]int, 4)
	for _, e := range list {
		n := e.n
		size := n.length()
		blocks += (size + 4095) / 4096 * 4
		owner, group := sh.owner(n.uid), sh.group(n.gid)
		if f['n'] {
			owner, group = strconv.Itoa(n.uid), strconv.Itoa(n.gid)
		}
		links := 1
		if n.isDir() {
			links = 2
			for _, ch := range n.children {
				if ch.isDir() {
					links++
				}
			}
		}
		sizeStr := strconv.FormatInt(size, 10)
		if f['h'] {
			sizeStr = humanLs(size)
		}
		if n.mode&fs.ModeCharDevice != 0 {
			sizeStr = "1, 3"
		}
		name := e.name
		if n.isLink() {
			name += " -> " + n.target
		}
		row := []string{modeString(n.mode), strconv.Itoa(links), owner, group, sizeStr, lsTime(n.mtime, sh.now()), name}
		for i, v := range []string{row[1], row[2], row[3], row[4]} {
			if len(v) > w[i] {
				w[i] = len(v)
			}
		}
		rows = append(rows, row)
	}
	if total {
		if f['h'] {
			fprintf(c.out, "total %s\n", humanLs(blocks*1024))
		} else {
			fprintf(c.out, "total %d\n", blocks)
		}
	}
	if sh.busybox() {
		w = bbLsWidths(w)
	}
	for _, r := range rows {
		fprintf(c.out, "%s %*s %-*s %-*s %*s %s %s\n", r[0], w[0], r[1], w[1], r[2], w[2], r[3], w[3], r[4], r[5], r[6])
	}
}

func humanLs(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10)
	}
	return humanDf(uint64((n + 1023) / 1024))
}

// columns lays names out down then across, as ls does on a terminal:
// the fewest rows whose columns, each as wide as its longest name plus
// two spaces, fit the terminal width.
func (sh *Shell) columns(c *call, names []string) {
	if len(names) == 0 {
		return
	}
	width := int(sh.width.Load())
	var widths []int
	rows := len(names)
	for r := 1; r <= len(names); r++ {
		cols := (len(names) + r - 1) / r
		ws := make([]int, cols)
		total := 0
		for col := range cols {
			for i := col * r; i < min((col+1)*r, len(names)); i++ {
				ws[col] = max(ws[col], len(names[i]))
			}
			if col < cols-1 {
				ws[col] += 2
			}
			total += ws[col]
		}
		if total <= width || r == len(names) {
			rows, widths = r, ws
			break
		}
	}
	for r := range rows {
		var b strings.Builder
		for col := range widths {
			i := col*rows + r
			if i >= len(names) {
				break
			}
			b.WriteString(names[i])
			if col < len(widths)-1 && i+rows < len(names) {
				pos := b.Len() - len(names[i])
				padTo(&b, pos+len(names[i]), pos+widths[col])
			}
		}
		fprintln(c.out, b.String())
	}
}

// padTo pads from column from to column to as GNU ls does: with tabs
// at its default tab size of 8 where a tab fits, then spaces.
func padTo(b *strings.Builder, from, to int) {
	const tabSize = 8
	for from < to {
		if to/tabSize > (from+1)/tabSize {
			b.WriteByte('\t')
			from += tabSize - from%tabSize
			continue
		}
		b.WriteByte(' ')
		from++
	}
}

func modeString(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	if m&fs.ModeSetuid != 0 {
		b[3] = map[bool]byte{true: 's', false: 'S'}[m&0o100 != 0]
	}
	if m&fs.ModeSetgid != 0 {
		b[6] = map[bool]byte{true: 's', false: 'S'}[m&0o010 != 0]
	}
	if m&fs.ModeSticky != 0 {
		b[9] = map[bool]byte{true: 't', false: 'T'}[m&0o001 != 0]
	}
	return string(b)
}

// lsTime shows the time for files of the last six months and the year
// for older ones, as ls does.
func lsTime(t, now time.Time) string {
	if now.Sub(t) > 182*24*time.Hour || t.After(now.Add(time.Hour)) {
		return t.Format("Jan _2  2006")
	}
	return t.Format("Jan _2 15:04")
}
