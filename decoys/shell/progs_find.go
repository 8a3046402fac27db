package shell

import (
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// findTest is one predicate of a find expression.
type findTest func(sh *Shell, n *node, p string, depth int) bool

// findExpr is the parsed expression: predicates joined by AND, which is
// what attackers' one-liners use, and the action to take on a match.
type findExpr struct {
	tests    []findTest
	maxDepth int
	minDepth int
	exec     []string // -exec command with {} placeholders
	del      bool
}

// progFind walks the session's tree. Directories come in name order.
// NOTE: GNU find lists in readdir order, which on ext4 is hash order.
func progFind(sh *Shell, c *call) int {
	var roots []string
	i := 0
	for ; i < len(c.args); i++ {
		a := c.args[i]
		if strings.HasPrefix(a, "-") || a == "!" || a == "(" {
			break
		}
		roots = append(roots, a)
	}
	e, msg := parseFind(c.args[i:])
	if msg != "" {
		fprintf(c.err, "find: %s\n", msg)
		return 1
	}
	if len(roots) == 0 {
		roots = []string{"."}
	}
	status := 0
	for _, r := range roots {
		n, err := sh.fs.lookup(abs(sh.cwd, r), true)
		if err != nil {
			fprintf(c.err, "find: %s: No such file or directory\n", sh.quote(r))
			status = 1
			continue
		}
		if !sh.findWalk(c, e, n, r, 0) {
			status = 1
		}
		if c.ctx.Err() != nil {
			return 130
		}
	}
	return status
}

func parseFind(args []string) (*findExpr, string) {
	e := &findExpr{maxDepth: -1}
	// NOTE: -o and parentheses are not modelled; one-liners seldom
	// need them.
	negate := false
	add := func(t findTest) {
		if negate {
			inner := t
			t = func(sh *Shell, n *node, p string, d int) bool { return !inner(sh, n, p, d) }
			negate = false
		}
		e.tests = append(e.tests, t)
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		need := func() (string, bool) {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		switch a {
		case "-print", "-a", "-and", "-xdev", "-mount", "-ls", "-print0":
			continue
		case "!", "-not":
			negate = !negate
			continue
		case "-delete":
			e.del = true
			continue
		case "-exec", "-execdir", "-ok":
			j := i + 1
			for j < len(args) && args[j] != ";" && args[j] != "+" {
				j++
			}
			if j >= len(args) || j == i+1 {
				return nil, "missing argument to `" + a + "'"
			}
			e.exec = args[i+1 : j]
			i = j
			continue
		}
		var v string
		if findTakesArg(a) {
			var ok bool
			if v, ok = need(); !ok {
				return nil, "missing argument to `" + a + "'"
			}
		}
		switch a {
		case "-name", "-iname":
			fold := a == "-iname"
			pat := v
			add(func(_ *Shell, n *node, p string, _ int) bool {
				name := path.Base(p)
				if fold {
					ok, _ := path.Match(strings.ToLower(pat), strings.ToLower(name))
					return ok
				}
				ok, _ := path.Match(pat, name)
				return ok
			})
		case "-path", "-wholename":
			pat := v
			add(func(_ *Shell, _ *node, p string, _ int) bool { return globMatchAll(pat, p) })
		case "-type":
			t := v
			if t != "f" && t != "d" && t != "l" && t != "c" && t != "b" && t != "p" && t != "s" {
				return nil, "Unknown argument to -type: " + t
			}
			add(func(_ *Shell, n *node, _ string, _ int) bool { return findType(n) == t })
		case "-perm":
			test, ok := findPerm(v)
			if !ok {
				return nil, "invalid mode " + strconv.Quote(v)
			}
			add(test)
		case "-user", "-uid":
			uid, ok := findUID(v)
			if !ok {
				return nil, "\u2018" + v + "\u2019 is not the name of a known user"
			}
			add(func(_ *Shell, n *node, _ string, _ int) bool { return n.uid == uid })
		case "-group", "-gid":
			gid, ok := findUID(v)
			if !ok {
				return nil, "\u2018" + v + "\u2019 is not the name of an existing group"
			}
			add(func(_ *Shell, n *node, _ string, _ int) bool { return n.gid == gid })
		case "-maxdepth", "-mindepth":
			d, err := strconv.Atoi(v)
			if err != nil || d < 0 {
				return nil, "Expected a positive decimal integer argument to " + a + ", but got \u2018" + v + "\u2019"
			}
			if a == "-maxdepth" {
				e.maxDepth = d
			} else {
				e.minDepth = d
			}
		case "-writable", "-readable", "-executable", "-empty":
			kind := a
			add(func(sh *Shell, n *node, _ string, _ int) bool {
				switch kind {
				case "-writable":
					return canWrite(n, sh.uid)
				case "-readable":
					return canRead(n, sh.uid)
				case "-executable":
					return canExec(n, sh.uid)
				}
				if n.isDir() {
					return len(n.children) == 0
				}
				return n.length() == 0
			})
		case "-size", "-mtime", "-newer", "-mmin", "-ctime", "-atime", "-regex", "-fstype", "-links", "-inum":
			// Accepted and not tested: the tree keeps too little
			// history for these to select anything meaningfully.
		default:
			return nil, "unknown predicate `" + a + "'"
		}
	}
	return e, ""
}

func findTakesArg(a string) bool {
	switch a {
	case "-name", "-iname", "-path", "-wholename", "-type", "-perm", "-user", "-uid", "-group", "-gid",
		"-maxdepth", "-mindepth", "-size", "-mtime", "-newer", "-mmin", "-ctime", "-atime", "-regex", "-fstype", "-links", "-inum":
		return true
	}
	return false
}

func globMatchAll(pat, p string) bool {
	// path.Match stops "*" at a slash; find's -path does not, so the
	// pattern is matched against the path with slashes swapped out.
	ok, _ := path.Match(strings.ReplaceAll(pat, "/", "\x00"), strings.ReplaceAll(p, "/", "\x00"))
	return ok
}

func findType(n *node) string {
	switch {
	case n.isDir():
		return "d"
	case n.isLink():
		return "l"
	case n.mode&fs.ModeCharDevice != 0:
		return "c"
	case n.mode&fs.ModeDevice != 0:
		return "b"
	case n.mode&fs.ModeNamedPipe != 0:
		return "p"
	case n.mode&fs.ModeSocket != 0:
		return "s"
	}
	return "f"
}

// unixPerm is a node's mode as the 12 permission bits find tests.
func unixPerm(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// findPerm parses -perm MODE, -MODE (all bits) and /MODE (any bit),
// with octal or the u=s, g=s forms privilege-escalation scripts use.
func findPerm(v string) (findTest, bool) {
	kind := byte(0)
	if v != "" && (v[0] == '-' || v[0] == '/' || v[0] == '+') {
		kind, v = v[0], v[1:]
	}
	var bits uint32
	switch v {
	case "u=s", "u+s":
		bits = 0o4000
	case "g=s", "g+s":
		bits = 0o2000
	case "o+w", "o=w":
		bits = 0o002
	default:
		n, err := strconv.ParseUint(v, 8, 32)
		if err != nil || n > 0o7777 {
			return nil, false
		}
		bits = uint32(n)
	}
	return func(_ *Shell, n *node, _ string, _ int) bool {
		p := unixPerm(n.mode)
		switch kind {
		case '-':
			return p&bits == bits
		case '/', '+':
			return bits == 0 || p&bits != 0
		}
		return p == bits
	}, true
}

// findUID resolves the users and groups the emulated tree uses.
func findUID(v string) (int, bool) {
	if n, err := strconv.Atoi(v); err == nil {
		return n, true
	}
	ids := map[string]int{"root": 0, "daemon": 1, "bin": 2, "sys": 3, "adm": 4, "tty": 5, "disk": 6, "mail": 8, "shadow": 42, "utmp": 43, "staff": 50, "users": 100, "nobody": 65534, "nogroup": 65534}
	n, ok := ids[v]
	return n, ok
}

// findWalk reports whether the walk met no error.
func (sh *Shell) findWalk(c *call, e *findExpr, n *node, p string, depth int) bool {
	if c.ctx.Err() != nil {
		return false
	}
	if depth >= e.minDepth && (e.maxDepth < 0 || depth <= e.maxDepth) && e.match(sh, n, p, depth) {
		sh.findAct(c, e, p)
	}
	if !n.isDir() || (e.maxDepth >= 0 && depth >= e.maxDepth) {
		return true
	}
	if !canRead(n, sh.uid) || !canExec(n, sh.uid) {
		fprintf(c.err, "find: %s: Permission denied\n", sh.quote(p))
		return false
	}
	ok := true
	for _, ch := range n.sortedChildren() {
		if !sh.findWalk(c, e, ch, childPath(p, ch.name), depth+1) {
			ok = false
		}
	}
	return ok
}

// childPath joins as find does: "." gives "./x" and "/tmp/" gives
// "/tmp/x".
func childPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

func (e *findExpr) match(sh *Shell, n *node, p string, depth int) bool {
	for _, t := range e.tests {
		if !t(sh, n, p, depth) {
			return false
		}
	}
	return true
}

// findAct prints the match or runs -exec through the emulated
// dispatcher, so that only emulated programs ever see the path.
func (sh *Shell) findAct(c *call, e *findExpr, p string) {
	switch {
	case e.exec != nil:
		// Each -exec counts as a command against the session's cap.
		sh.work++
		if sh.work > maxCommands {
			return
		}
		args := make([]string, len(e.exec))
		for i, a := range e.exec {
			args[i] = strings.ReplaceAll(a, "{}", p)
		}
		sub := *c
		sub.name, sub.args = args[0], args[1:]
		sh.dispatch(&sub, true)
	case e.del:
		_ = sh.fs.remove(abs(sh.cwd, p), sh.uid)
	default:
		fprintln(c.out, p)
	}
}
