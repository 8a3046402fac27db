package shell

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

var builtins map[string]cmdFunc

func init() {
	// Assigned in init because some builtins refer to the table.
	builtins = map[string]cmdFunc{
		"cd": builtinCd, "pwd": builtinPwd, "echo": builtinEcho, "export": builtinExport,
		"unset": builtinUnset, "exit": builtinExit, "logout": builtinLogout, "history": builtinHistory,
		"type": builtinType, "true": func(*Shell, *call) int { return 0 }, "false": func(*Shell, *call) int { return 1 },
		":": func(*Shell, *call) int { return 0 }, "source": builtinSource, ".": builtinSource,
		"alias": func(*Shell, *call) int { return 0 }, "unalias": func(*Shell, *call) int { return 0 },
		"ulimit": builtinUlimit, "umask": builtinUmask, "set": func(*Shell, *call) int { return 0 },
		"kill": builtinKill, "wait": func(*Shell, *call) int { return 0 }, "jobs": func(*Shell, *call) int { return 0 },
		"hash": func(*Shell, *call) int { return 0 }, "read": builtinRead, "printf": builtinPrintf,
		"command": builtinCommand, "exec": builtinCommand, "nohup": builtinCommand, "enable": func(*Shell, *call) int { return 0 },
		"test": builtinTest, "[": builtinTest,
	}
}

func builtinCd(sh *Shell, c *call) int {
	args := c.args
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) > 1 {
		fprintf(c.err, "%scd: too many arguments\n", sh.errPrefix())
		return 1
	}
	target := sh.vars["HOME"]
	if len(args) == 1 {
		target = args[0]
	}
	if target == "-" {
		if sh.oldpwd == "" {
			fprintf(c.err, "%scd: OLDPWD not set\n", sh.errPrefix())
			return 1
		}
		target = sh.oldpwd
		fprintln(c.out, target)
	}
	if target == "" {
		return 0
	}
	p := abs(sh.cwd, target)
	n, err := sh.fs.lookup(p, true)
	if err == nil && !n.isDir() {
		err = errNotDir
	}
	if err == nil && !canExec(n, sh.uid) {
		err = errPerm
	}
	if err != nil && sh.src.dash {
		fprintf(c.err, "%scd: can't cd to %s\n", sh.errPrefix(), target)
		return 2
	}
	if err != nil {
		fprintf(c.err, "%scd: %s: %s\n", sh.errPrefix(), target, err)
		return 1
	}
	sh.oldpwd = sh.cwd
	sh.cwd = p
	sh.setVar("PWD", p)
	sh.setVar("OLDPWD", sh.oldpwd)
	return 0
}

func builtinPwd(sh *Shell, c *call) int {
	fprintln(c.out, sh.cwd)
	return 0
}

func builtinEcho(_ *Shell, c *call) int {
	newline, escapes := true, false
	args := c.args
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && strings.Trim(args[0][1:], "neE") == "" {
		for _, f := range args[0][1:] {
			switch f {
			case 'n':
				newline = false
			case 'e':
				escapes = true
			case 'E':
				escapes = false
			}
		}
		args = args[1:]
	}
	s := strings.Join(args, " ")
	if escapes {
		var stop bool
		s, stop = unescape(s)
		if stop {
			newline = false
		}
	}
	if newline {
		s += "\n"
	}
	fprint(c.out, s)
	return 0
}

// unescape interprets echo -e sequences. stop reports \c, which ends
// the output there.
func unescape(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case '\\':
			b.WriteByte('\\')
		case 'c':
			return b.String(), true
		case 'x':
			j := i + 1
			for j < len(s) && j < i+3 && strings.IndexByte("0123456789abcdefABCDEF", s[j]) >= 0 {
				j++
			}
			if j == i+1 {
				b.WriteString("\\x")
				continue
			}
			v, _ := strconv.ParseUint(s[i+1:j], 16, 8)
			b.WriteByte(byte(v))
			i = j - 1
		case '0':
			j := i + 1
			for j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint("0"+s[i+1:j], 8, 8)
			b.WriteByte(byte(v))
			i = j - 1
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String(), false
}

func builtinExport(sh *Shell, c *call) int {
	if len(c.args) == 0 || c.args[0] == "-p" {
		names := make([]string, 0, len(sh.exported))
		for n := range sh.exported {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fprintf(c.out, "declare -x %s=%q\n", n, sh.vars[n])
		}
		return 0
	}
	status := 0
	for _, a := range c.args {
		name, val, hasVal := strings.Cut(a, "=")
		if !validName(name) {
			fprintf(c.err, "%sexport: `%s': not a valid identifier\n", sh.errPrefix(), a)
			status = 1
			continue
		}
		if hasVal {
			sh.setVar(name, val)
		} else if _, ok := sh.vars[name]; !ok {
			sh.setVar(name, "")
		}
		sh.exported[name] = true
	}
	return status
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i], i == 0) {
			return false
		}
	}
	return true
}

func builtinUnset(sh *Shell, c *call) int {
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			sh.unsetVar(a)
		}
	}
	return 0
}

func builtinExit(sh *Shell, c *call) int {
	code := sh.status
	if len(c.args) > 0 {
		n, err := strconv.Atoi(c.args[0])
		if err != nil {
			fprintf(c.err, "%sexit: %s: numeric argument required\n", sh.errPrefix(), c.args[0])
			n = 2
		}
		code = n & 0xff
	}
	if sh.interactive && !sh.busybox() {
		fprintln(c.err, "logout")
	}
	sh.exited, sh.exitCode = true, code
	return code
}

func builtinLogout(sh *Shell, c *call) int {
	if !sh.interactive {
		fprintf(c.err, "%slogout: not login shell: use `exit'\n", sh.errPrefix())
		return 1
	}
	return builtinExit(sh, c)
}

func builtinHistory(sh *Shell, c *call) int {
	if len(c.args) > 0 && c.args[0] == "-c" {
		sh.history = nil
		return 0
	}
	if !sh.interactive {
		return 0
	}
	for i, h := range sh.history {
		fprintf(c.out, "%5d  %s\n", i+1, h)
	}
	return 0
}

func builtinType(sh *Shell, c *call) int {
	status := 0
	for _, a := range c.args {
		if _, ok := builtins[a]; ok {
			fprintf(c.out, "%s is a shell builtin\n", a)
			continue
		}
		if p, n := sh.lookPath(a); n != nil {
			fprintf(c.out, "%s is %s\n", a, p)
			continue
		}
		fprintf(c.err, "%stype: %s: not found\n", sh.errPrefix(), a)
		status = 1
	}
	return status
}

func builtinSource(sh *Shell, c *call) int {
	if len(c.args) == 0 {
		fprintf(c.err, "%s%s: filename argument required\n%s: usage: %s filename [arguments]\n", sh.errPrefix(), c.name, c.name, c.name)
		return 2
	}
	data, err := sh.readPath(c.args[0])
	if err != nil {
		fprintf(c.err, "%s%s: %s\n", sh.errPrefix(), c.args[0], err)
		return 1
	}
	// A sourced file runs in this shell, under its own name.
	sc := sh.src
	sc.name, sc.fromC, sc.lineBase = c.args[0], false, 0
	return sh.runScript(c, string(data), sc)
}

func builtinUlimit(_ *Shell, c *call) int {
	if len(c.args) > 0 && c.args[0] == "-a" {
		fprint(c.out, "real-time non-blocking time  (microseconds, -R) unlimited\ncore file size              (blocks, -c) 0\ndata seg size               (kbytes, -d) unlimited\nscheduling priority                 (-e) 0\nfile size                   (blocks, -f) unlimited\npending signals                     (-i) 15432\nmax locked memory           (kbytes, -l) 501416\nmax memory size             (kbytes, -m) unlimited\nopen files                          (-n) 1024\npipe size                (512 bytes, -p) 8\nPOSIX message queues         (bytes, -q) 819200\nreal-time priority                  (-r) 0\nstack size                  (kbytes, -s) 8192\ncpu time                   (seconds, -t) unlimited\nmax user processes                  (-u) 15432\nvirtual memory              (kbytes, -v) unlimited\nfile locks                          (-x) unlimited\n")
		return 0
	}
	if len(c.args) == 0 {
		fprintln(c.out, "unlimited")
	}
	return 0
}

func builtinUmask(_ *Shell, c *call) int {
	if len(c.args) == 0 {
		fprintln(c.out, "0022")
	}
	return 0
}

func builtinKill(sh *Shell, c *call) int {
	status := 0
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		pid, err := strconv.Atoi(a)
		if err != nil {
			fprintf(c.err, "%skill: %s: arguments must be process or job IDs\n", sh.errPrefix(), a)
			status = 1
			continue
		}
		found := false
		for _, p := range sh.processes() {
			if p.pid == pid {
				found = true
			}
		}
		if !found {
			fprintf(c.err, "%skill: (%d) - No such process\n", sh.errPrefix(), pid)
			status = 1
		} else if sh.uid != 0 {
			fprintf(c.err, "%skill: (%d) - Operation not permitted\n", sh.errPrefix(), pid)
			status = 1
		}
	}
	return status
}

func builtinRead(sh *Shell, c *call) int {
	var names []string
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			names = append(names, a)
		}
	}
	if !c.hasStdin || len(c.stdin) == 0 {
		return 1
	}
	line, _, _ := strings.Cut(string(c.stdin), "\n")
	if len(names) == 0 {
		names = []string{"REPLY"}
	}
	f := strings.Fields(line)
	for i, n := range names {
		switch {
		case i == len(names)-1 && i < len(f):
			sh.setVar(n, strings.Join(f[i:], " "))
		case i < len(f):
			sh.setVar(n, f[i])
		default:
			sh.setVar(n, "")
		}
	}
	return 0
}

func builtinPrintf(sh *Shell, c *call) int {
	if len(c.args) == 0 {
		fprintf(c.err, "%sprintf: usage: printf [-v var] format [arguments]\n", sh.errPrefix())
		return 2
	}
	format, _ := unescape(c.args[0])
	args := c.args[1:]
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 >= len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 's', 'd', 'i', 'b', 'c', 'x':
			if len(args) > 0 {
				b.WriteString(args[0])
				args = args[1:]
			}
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	fprint(c.out, b.String())
	return 0
}

// builtinCommand runs its arguments as a command (command, exec, nohup).
func builtinCommand(sh *Shell, c *call) int {
	args := c.args
	if c.name == "command" && len(args) > 0 && args[0] == "-v" {
		status := 1
		for _, a := range args[1:] {
			if _, ok := builtins[a]; ok {
				fprintln(c.out, a)
				status = 0
			} else if p, n := sh.lookPath(a); n != nil {
				fprintln(c.out, p)
				status = 0
			}
		}
		return status
	}
	if len(args) == 0 {
		return 0
	}
	sub := *c
	sub.name, sub.args = args[0], args[1:]
	if c.name == "nohup" {
		fprintln(c.err, "nohup: ignoring input and appending output to 'nohup.out'")
	}
	status := sh.dispatch(&sub, false)
	if c.name == "exec" {
		sh.exited, sh.exitCode = true, status
	}
	return status
}

// sleepFor waits as sleep does, up to maxSleep, or until ctx ends.
func sleepFor(c *call, d time.Duration) int {
	if d > maxSleep {
		d = maxSleep
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return 0
	case <-c.ctx.Done():
		return 130
	}
}

// builtinTest evaluates test and [ expressions: file tests, string and
// integer comparisons, and negation.
func builtinTest(sh *Shell, c *call) int {
	args := c.args
	if c.name == "[" {
		if len(args) == 0 || args[len(args)-1] != "]" {
			fprintf(c.err, "%s[: missing `]'\n", sh.errPrefix())
			return 2
		}
		args = args[:len(args)-1]
	}
	negate := false
	for len(args) > 0 && args[0] == "!" {
		negate = !negate
		args = args[1:]
	}
	result, ok := sh.testExpr(args)
	if !ok {
		fprintf(c.err, "%s%s: too many arguments\n", sh.errPrefix(), c.name)
		return 2
	}
	if result != negate {
		return 0
	}
	return 1
}

func (sh *Shell) testExpr(args []string) (bool, bool) {
	switch len(args) {
	case 0:
		return false, true
	case 1:
		return args[0] != "", true
	case 2:
		op, arg := args[0], args[1]
		if op == "-z" {
			return arg == "", true
		}
		if op == "-n" {
			return arg != "", true
		}
		n, err := sh.fs.lookup(abs(sh.cwd, arg), op != "-L" && op != "-h")
		if err != nil {
			return false, true
		}
		switch op {
		case "-e", "-a":
			return true, true
		case "-f":
			return !n.isDir() && !n.isLink(), true
		case "-d":
			return n.isDir(), true
		case "-L", "-h":
			return n.isLink(), true
		case "-r":
			return canRead(n, sh.uid), true
		case "-w":
			return canWrite(n, sh.uid), true
		case "-x":
			return canExec(n, sh.uid), true
		case "-s":
			return n.length() > 0, true
		}
		return false, true
	case 3:
		a, op, b := args[0], args[1], args[2]
		switch op {
		case "=", "==":
			return a == b, true
		case "!=":
			return a != b, true
		}
		x, errA := strconv.Atoi(a)
		y, errB := strconv.Atoi(b)
		if errA != nil || errB != nil {
			return false, true
		}
		switch op {
		case "-eq":
			return x == y, true
		case "-ne":
			return x != y, true
		case "-lt":
			return x < y, true
		case "-le":
			return x <= y, true
		case "-gt":
			return x > y, true
		case "-ge":
			return x >= y, true
		}
		return false, true
	}
	return false, false
}
