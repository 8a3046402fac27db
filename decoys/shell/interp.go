package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// call is one command invocation.
type call struct {
	ctx      context.Context
	name     string
	args     []string
	stdin    []byte
	hasStdin bool
	out, err io.Writer
}

type cmdFunc func(sh *Shell, c *call) int

// Commands write to a pipe or redirection buffer, which never fails, or
// through capWriter to the session's terminal. A failed terminal write
// means the connection is gone: bash's command would die of SIGPIPE with
// no one left to read its status, and the session ends with the
// connection. The helpers below therefore drop write errors, in one
// place rather than at every print.

func fprintf(w io.Writer, format string, a ...any) { _, _ = fmt.Fprintf(w, format, a...) }

func fprint(w io.Writer, a ...any) { _, _ = fmt.Fprint(w, a...) }

func fprintln(w io.Writer, a ...any) { _, _ = fmt.Fprintln(w, a...) }

func write(w io.Writer, p []byte) { _, _ = w.Write(p) }

// script names the source being run, for the shell's own messages.
type script struct {
	// name is the name the shell gives the source: "bash" or "sh" for
	// a -c string, else the script's path as given.
	name string
	// dash selects Debian's /bin/sh wording ("sh: 1: foo: not found").
	dash bool
	// fromC marks a -c string, which bash names "-c" in syntax errors.
	fromC bool
	// lineBase offsets the lines of a command substitution.
	lineBase int
}

// errPrefix returns the prefix the shell puts on its own error messages:
// "-bash: " at the login prompt, "bash: line 1: " under sshd's
// "bash -c", "x.sh: line 3: " in a bash script, "sh: 1: " under dash.
func (sh *Shell) errPrefix() string {
	switch {
	case sh.busybox() && sh.interactive:
		return "-sh: "
	case sh.busybox():
		return sh.src.name + ": "
	case sh.src.dash:
		return fmt.Sprintf("%s: %d: ", sh.src.name, sh.lineNo)
	case sh.interactive:
		return "-bash: "
	}
	return fmt.Sprintf("%s: line %d: ", sh.src.name, sh.lineNo)
}

func (sh *Shell) runSource(ctx context.Context, src string, stdin []byte, out, errw io.Writer) int {
	list, err := parse(src)
	if err != nil {
		var se *syntaxError
		if !errors.As(err, &se) {
			return 2
		}
		// bash runs each command as soon as it is read, so the lines
		// before a syntax error run first.
		if se.line > 1 && !sh.interactive {
			lines := strings.SplitAfter(src, "\n")
			if prefix := strings.Join(lines[:min(se.line-1, len(lines))], ""); prefix != src {
				if _, perr := parse(prefix); perr == nil {
					sh.runSource(ctx, prefix, stdin, out, errw)
				}
			}
		}
		sh.reportSyntax(se, src, errw)
		sh.status = 2
		return 2
	}
	for _, ao := range list {
		if sh.exited || ctx.Err() != nil {
			break
		}
		sh.status = sh.runAndOr(ctx, ao, stdin, out, errw)
	}
	return sh.status
}

func (sh *Shell) reportSyntax(se *syntaxError, src string, errw io.Writer) {
	if sh.interactive {
		fprintf(errw, "-bash: %s\n", se.msg)
		return
	}
	line := se.line
	switch {
	case se.incomplete && !se.quoteEOF:
		line = strings.Count(src, "\n") + 2
	case se.quoteEOF && strings.HasSuffix(se.msg, "`)'"):
		line = strings.Count(src, "\n") + 2
	case line == 0:
		line = 1
	}
	if sh.src.dash {
		// dash counts the lines it has read, so an end of file is
		// reported on the last line rather than after it.
		if se.incomplete && !se.quoteEOF {
			line = strings.Count(src, "\n") + 1
		}
		msg := "end of file unexpected"
		switch {
		case se.quoteEOF:
			msg = "Unterminated quoted string"
		case se.token != "":
			msg = fmt.Sprintf("%q unexpected", se.token)
		}
		fprintf(errw, "%s: %d: Syntax error: %s\n", sh.src.name, line, msg)
		return
	}
	name := sh.src.name
	if sh.src.fromC {
		name += ": -c"
	}
	fprintf(errw, "%s: line %d: %s\n", name, line, se.msg)
	if !se.incomplete {
		lines := strings.Split(src, "\n")
		text := strings.TrimRight(src, "\n")
		if line-1 < len(lines) && strings.Count(text, "\n") > 0 {
			text = lines[line-1]
		}
		fprintf(errw, "%s: line %d: `%s'\n", name, line, text)
	}
}

func (sh *Shell) runAndOr(ctx context.Context, ao andOr, stdin []byte, out, errw io.Writer) int {
	status := sh.runPipeline(ctx, ao.pipes[0], stdin, out, errw)
	for i, op := range ao.ops {
		if sh.exited || ctx.Err() != nil {
			break
		}
		if op == "&&" && status != 0 || op == "||" && status == 0 {
			continue
		}
		status = sh.runPipeline(ctx, ao.pipes[i+1], stdin, out, errw)
	}
	return status
}

func (sh *Shell) runPipeline(ctx context.Context, pl pipeline, stdin []byte, out, errw io.Writer) int {
	input, hasInput := stdin, stdin != nil
	status := 0
	for i, c := range pl.cmds {
		if ctx.Err() != nil {
			return 130
		}
		last := i == len(pl.cmds)-1
		w := out
		var buf *buffer
		if !last {
			buf = &buffer{max: maxPipeBytes}
			w = buf
		}
		status = sh.runSimple(ctx, c, input, hasInput, w, errw, len(pl.cmds) > 1)
		if buf != nil {
			input, hasInput = buf.b, true
		}
	}
	if pl.negate {
		if status == 0 {
			return 1
		}
		return 0
	}
	return status
}

// fileSink collects a redirection's output for the overlay.
type fileSink struct {
	path    string
	appendF bool
	buf     buffer
}

func (sh *Shell) runSimple(ctx context.Context, sc simpleCmd, stdin []byte, hasStdin bool, out, errw io.Writer, inPipe bool) int {
	sh.work++
	if sh.work > maxCommands {
		sh.exited = true
		return 1
	}
	sh.lineNo = sh.src.lineBase + sc.line
	if sc.compound != nil {
		return sh.runCompound(ctx, sc, stdin, hasStdin, out, errw)
	}
	var args []string
	for _, w := range sc.args {
		args = append(args, sh.expand(ctx, w, errw)...)
	}
	// A line of assignments alone exits with the status of its last
	// command substitution, or 0.
	sh.subStatus = 0
	if len(sc.args) == 0 {
		for i, name := range sc.assigns {
			sh.setVar(name, strings.Join(sh.expandNoSplit(ctx, sc.avalues[i], errw), " "))
		}
	}

	fds := [3]io.Writer{nil, out, errw}
	var sinks []*fileSink
	for _, r := range sc.redirs {
		target := strings.Join(sh.expandNoSplit(ctx, r.target, errw), " ")
		if err := sh.applyRedirect(r, target, &fds, &stdin, &hasStdin, &sinks, errw); err != nil {
			return 1
		}
	}

	status := sh.subStatus
	if len(args) > 0 {
		status = sh.dispatch(&call{ctx: ctx, name: args[0], args: args[1:], stdin: stdin, hasStdin: hasStdin, out: fds[1], err: fds[2]}, inPipe)
	}
	for _, s := range sinks {
		if err := sh.fs.writeFile(s.path, s.buf.b, s.appendF, sh.uid); err != nil {
			fprintf(errw, "%s%s: %s\n", sh.errPrefix(), s.path, err)
		}
	}
	return status
}

// maxLoopIterations caps one while or until loop. The session's command
// cap bounds the total as well.
const maxLoopIterations = 1000

func (sh *Shell) runList(ctx context.Context, list []andOr, stdin []byte, out, errw io.Writer) int {
	status := 0
	for _, ao := range list {
		if sh.exited || ctx.Err() != nil || sh.work > maxCommands {
			break
		}
		status = sh.runAndOr(ctx, ao, stdin, out, errw)
		sh.status = status
	}
	return status
}

func (sh *Shell) runCompound(ctx context.Context, sc simpleCmd, stdin []byte, hasStdin bool, out, errw io.Writer) int {
	fds := [3]io.Writer{nil, out, errw}
	var sinks []*fileSink
	for _, r := range sc.redirs {
		target := strings.Join(sh.expandNoSplit(ctx, r.target, errw), " ")
		if err := sh.applyRedirect(r, target, &fds, &stdin, &hasStdin, &sinks, errw); err != nil {
			return 1
		}
	}
	if !hasStdin {
		stdin = nil
	}
	out, errw = fds[1], fds[2]
	cp := sc.compound
	status := 0
	switch cp.kind {
	case "for":
		var items []string
		for _, w := range cp.items {
			items = append(items, sh.expand(ctx, w, errw)...)
		}
		for _, it := range items {
			if sh.exited || ctx.Err() != nil || sh.work > maxCommands {
				break
			}
			sh.setVar(cp.varName, it)
			status = sh.runList(ctx, cp.bodies[0], stdin, out, errw)
		}
	case "while", "until":
		for i := 0; i < maxLoopIterations; i++ {
			if sh.exited || ctx.Err() != nil || sh.work > maxCommands {
				break
			}
			ok := sh.runList(ctx, cp.conds[0], stdin, out, errw) == 0
			if ok != (cp.kind == "while") {
				break
			}
			status = sh.runList(ctx, cp.bodies[0], stdin, out, errw)
		}
	case "if":
		for i, cond := range cp.conds {
			if sh.runList(ctx, cond, stdin, out, errw) == 0 {
				status = sh.runList(ctx, cp.bodies[i], stdin, out, errw)
				break
			}
			if i == len(cp.conds)-1 && len(cp.bodies) > len(cp.conds) {
				status = sh.runList(ctx, cp.bodies[len(cp.bodies)-1], stdin, out, errw)
			}
		}
	case "subshell":
		savedExit, savedCwd := sh.exited, sh.cwd
		status = sh.runList(ctx, cp.bodies[0], stdin, out, errw)
		sh.exited, sh.cwd = savedExit, savedCwd
	default:
		status = sh.runList(ctx, cp.bodies[0], stdin, out, errw)
	}
	for _, s := range sinks {
		if err := sh.fs.writeFile(s.path, s.buf.b, s.appendF, sh.uid); err != nil {
			fprintf(errw, "%s%s: %s\n", sh.errPrefix(), s.path, err)
		}
	}
	return status
}

func (sh *Shell) applyRedirect(r redirect, target string, fds *[3]io.Writer, stdin *[]byte, hasStdin *bool, sinks *[]*fileSink, errw io.Writer) error {
	switch r.op {
	case "<<<":
		*stdin, *hasStdin = []byte(target+"\n"), true
		return nil
	case ">&", "<&":
		if target == "-" {
			return nil
		}
		if n, err := strconv.Atoi(target); err == nil && r.fd >= 0 && r.fd <= 2 {
			if n < 1 || n > 2 {
				fprintf(errw, "%s%d: Bad file descriptor\n", sh.errPrefix(), n)
				return errBadFD
			}
			fds[r.fd] = fds[n]
			return nil
		}
		// ">&file" is "&>file".
		r.fd, r.op = -1, ">"
	case "<":
		data, err := sh.readPath(target)
		if err != nil {
			fprintf(errw, "%s%s: %s\n", sh.errPrefix(), target, err)
			return err
		}
		*stdin, *hasStdin = data, true
		return nil
	}

	var w io.Writer
	switch p := abs(sh.cwd, target); {
	case target == "":
		fprintf(errw, "%s: No such file or directory\n", strings.TrimSuffix(sh.errPrefix(), " "))
		return errNotExist
	case p == "/dev/null" || p == "/dev/zero" || p == "/dev/full" || p == "/dev/tty":
		w = io.Discard
	case p == "/dev/stdout":
		w = fds[1]
	case p == "/dev/stderr":
		w = fds[2]
	default:
		if err := sh.checkWritable(p); err != nil {
			fprintf(errw, "%s%s: %s\n", sh.errPrefix(), target, err)
			return err
		}
		s := &fileSink{path: p, appendF: r.op == ">>", buf: buffer{max: maxOverlayBytes}}
		if err := sh.fs.writeFile(p, nil, s.appendF, sh.uid); err != nil {
			fprintf(errw, "%s%s: %s\n", sh.errPrefix(), target, err)
			return err
		}
		*sinks = append(*sinks, s)
		w = &s.buf
	}
	if r.fd == -1 {
		fds[1], fds[2] = w, w
	} else if r.fd >= 1 && r.fd <= 2 {
		fds[r.fd] = w
	}
	return nil
}

// checkWritable reports why a redirection could not open p for writing,
// or nil.
func (sh *Shell) checkWritable(p string) error {
	if n, err := sh.fs.lookup(p, true); err == nil {
		if n.isDir() {
			return errIsDir
		}
		if !canWrite(n, sh.uid) {
			return errPerm
		}
		return nil
	}
	dir, _, err := sh.fs.parentOf(p)
	if err != nil {
		return err
	}
	if !canWrite(dir, sh.uid) {
		return errPerm
	}
	return nil
}

func (sh *Shell) readPath(target string) ([]byte, error) {
	n, err := sh.fs.lookup(abs(sh.cwd, target), true)
	if err != nil {
		return nil, err
	}
	if n.isDir() {
		return nil, errIsDir
	}
	if !canRead(n, sh.uid) {
		return nil, errPerm
	}
	return n.content(), nil
}

// dispatch runs a builtin, an emulated program, or reports the command
// missing.
func (sh *Shell) dispatch(c *call, inPipe bool) int {
	if sh.busybox() {
		return sh.bbDispatch(c, inPipe)
	}
	if c.ctx.Err() != nil {
		return 130
	}
	if b, ok := builtins[c.name]; ok {
		if inPipe && (c.name == "exit" || c.name == "cd" || c.name == "logout") {
			// A pipeline runs its commands in subshells, so these do
			// not change the login shell.
			savedExit, savedCwd := sh.exited, sh.cwd
			status := b(sh, c)
			sh.exited, sh.cwd = savedExit, savedCwd
			return status
		}
		return b(sh, c)
	}
	p, n := sh.lookPath(c.name)
	if n == nil {
		return sh.notFound(c)
	}
	if n.isDir() {
		fprintf(c.err, "%s%s: Is a directory\n", sh.errPrefix(), c.name)
		return 126
	}
	if !canExec(n, sh.uid) {
		fprintf(c.err, "%s%s: Permission denied\n", sh.errPrefix(), c.name)
		return 126
	}
	base := path.Base(p)
	if f, ok := programs[base]; ok && n.data == nil {
		c.name = base
		return f(sh, c)
	}
	if n.data != nil {
		return sh.runFile(c, n)
	}
	return sh.unemulated(c)
}

// runFile runs a file the attacker placed. A script is interpreted, and
// anything else behaves as a binary that ran and exited.
func (sh *Shell) runFile(c *call, n *node) int {
	data := n.content()
	if len(data) >= 4 && string(data[1:4]) == "ELF" {
		return 0
	}
	// A script without a #! line is run by bash itself.
	first, _, _ := strings.Cut(string(data), "\n")
	dash := strings.HasPrefix(first, "#!") && strings.Contains(first, "/sh") && !strings.Contains(first, "bash")
	return sh.runScript(c, string(data), script{name: c.name, dash: dash})
}

// runScript runs src as a new shell would, named as src names it.
func (sh *Shell) runScript(c *call, src string, sc script) int {
	if sh.depth >= maxNesting {
		return 1
	}
	sh.depth++
	defer func() { sh.depth-- }()
	if len(src) > maxScriptSize {
		src = src[:maxScriptSize]
	}
	savedInteractive, savedSrc, savedLine := sh.interactive, sh.src, sh.lineNo
	sh.interactive, sh.src = false, sc
	defer func() { sh.interactive, sh.src, sh.lineNo = savedInteractive, savedSrc, savedLine }()
	return sh.runSource(c.ctx, src, c.stdin, c.out, c.err)
}

// lookPath finds a command as bash does: a name with a slash is a path,
// others are searched in PATH.
func (sh *Shell) lookPath(name string) (string, *node) {
	if name == "" {
		return "", nil
	}
	if strings.Contains(name, "/") {
		p := abs(sh.cwd, name)
		n, err := sh.fs.lookup(p, true)
		if err != nil {
			return "", nil
		}
		return p, n
	}
	for dir := range strings.SplitSeq(sh.vars["PATH"], ":") {
		if dir == "" {
			continue
		}
		p := path.Join(dir, name)
		n, err := sh.fs.lookup(p, true)
		if err == nil && !n.isDir() && canExec(n, sh.uid) {
			return p, n
		}
	}
	return "", nil
}

func (sh *Shell) notFound(c *call) int {
	if c.name == "tftp" {
		sh.reportTftp(c)
	}
	if strings.Contains(c.name, "/") {
		fprintf(c.err, "%s%s: No such file or directory\n", sh.errPrefix(), c.name)
		return 127
	}
	if sh.interactive && sh.host.persona.notFoundBare {
		fprintf(c.err, "%s: command not found\n", c.name)
		return 127
	}
	if sh.src.dash {
		fprintf(c.err, "%s%s: not found\n", sh.errPrefix(), c.name)
		return 127
	}
	fprintf(c.err, "%s%s: command not found\n", sh.errPrefix(), c.name)
	return 127
}

// capture runs src for command substitution and returns its output
// without trailing newlines.
func (sh *Shell) capture(ctx context.Context, src string, errw io.Writer) string {
	if sh.depth >= maxNesting {
		return ""
	}
	sh.depth++
	defer func() { sh.depth-- }()
	buf := &buffer{max: maxPipeBytes}
	savedExit, savedCwd := sh.exited, sh.cwd
	savedSrc, savedLine := sh.src, sh.lineNo
	sh.src.lineBase = sh.lineNo - 1
	sh.subStatus = sh.runSource(ctx, src, nil, buf, errw)
	sh.exited, sh.cwd, sh.src, sh.lineNo = savedExit, savedCwd, savedSrc, savedLine
	return strings.TrimRight(string(buf.b), "\n")
}
