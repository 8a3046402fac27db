package shell

import (
	"strconv"
	"strings"
)

// The interpreters never run the attacker's program. They recognise the
// one-liners attackers use to fingerprint a host and print what the real
// interpreter prints. Anything else exits as a program whose effect is
// not visible on the terminal would.

const pythonUsage = "usage: python3 [option] ... [-c cmd | -m mod | file | -] [arg] ...\nTry `python -h' for more information.\n"

// pythonModules are standard library modules attackers import; an
// import of anything else fails as on a host without extra packages.
var pythonModules = map[string]bool{
	"sys": true, "os": true, "socket": true, "subprocess": true, "pty": true, "platform": true, "time": true,
	"base64": true, "json": true, "re": true, "urllib": true, "urllib.request": true, "http": true,
	"http.client": true, "http.server": true, "hashlib": true, "random": true, "string": true, "struct": true,
	"threading": true, "select": true, "signal": true, "shutil": true, "getpass": true, "pwd": true,
	"crypt": true, "binascii": true, "zlib": true, "codecs": true, "io": true, "math": true, "ctypes": true,
	"fcntl": true, "termios": true, "tty": true, "errno": true, "os.path": true, "uuid": true, "ssl": true,
}

func progPython(sh *Shell, c *call) int {
	v := sh.versions()
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-V" || a == "--version":
			fprintf(c.out, "Python %s\n", v.python)
			return 0
		case a == "-c":
			if i+1 >= len(c.args) {
				fprint(c.err, "Argument expected for the -c option\n"+pythonUsage)
				return 2
			}
			return sh.pythonCode(c, c.args[i+1])
		case strings.HasPrefix(a, "-c"):
			return sh.pythonCode(c, a[2:])
		case a == "-m":
			if i+1 >= len(c.args) {
				fprint(c.err, "Argument expected for the -m option\n"+pythonUsage)
				return 2
			}
			if !pythonModules[c.args[i+1]] {
				fprintf(c.err, "/usr/bin/python3: No module named %s\n", c.args[i+1])
				return 1
			}
			return 0
		case a == "-" || !strings.HasPrefix(a, "-"):
			if a != "-" {
				if _, err := sh.readPath(a); err != nil {
					fprintf(c.err, "%s: can't open file '%s': [Errno 2] No such file or directory\n", c.name, abs(sh.cwd, a))
					return 2
				}
			}
			return 0
		case strings.Trim(a, "-BbdEhiIOqsSuvx") != "":
			fprintf(c.err, "Unknown option: -%s\n"+pythonUsage, strings.TrimLeft(a, "-")[:1])
			return 2
		}
	}
	if c.hasStdin {
		return sh.pythonCode(c, string(c.stdin))
	}
	if sh.interactive {
		// The REPL starts on the terminal and ends at the EOF that
		// follows it here.
		fprintf(c.err, "Python %s %s on linux\nType \"help\", \"copyright\", \"credits\" or \"license\" for more information.\n>>> \n", v.python, v.pythonBuild)
	}
	return 0
}

// pythonCode prints the output of the recognised statements of a -c
// program.
func (sh *Shell) pythonCode(c *call, code string) int {
	v := sh.versions()
	for stmt := range strings.FieldsFuncSeq(code, func(r rune) bool { return r == ';' || r == '\n' }) {
		stmt = strings.TrimSpace(stmt)
		if mod, ok := strings.CutPrefix(stmt, "import "); ok {
			for m := range strings.SplitSeq(mod, ",") {
				m, _, _ = strings.Cut(strings.TrimSpace(m), " ")
				if !pythonModules[m] {
					fprintf(c.err, "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nModuleNotFoundError: No module named '%s'\n", m)
					return 1
				}
			}
			continue
		}
		if strings.HasPrefix(stmt, "print ") || strings.HasPrefix(stmt, "print\"") || strings.HasPrefix(stmt, "print'") {
			fprintf(c.err, "  File \"<string>\", line 1\n    %s\n    %s\nSyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?\n", stmt, strings.Repeat("^", len(stmt)))
			return 1
		}
		if strings.Contains(stmt, ".connect(") {
			fprint(c.err, "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nConnectionRefusedError: [Errno 111] Connection refused\n")
			return 1
		}
		arg, ok := strings.CutPrefix(stmt, "print(")
		if !ok || !strings.HasSuffix(arg, ")") {
			continue
		}
		arg = strings.TrimSpace(strings.TrimSuffix(arg, ")"))
		if out, ok := sh.pythonValue(arg, v); ok {
			fprintln(c.out, out)
		}
	}
	return 0
}

// pythonValue evaluates the expressions a version check prints.
func (sh *Shell) pythonValue(expr string, v toolVersions) (string, bool) {
	if s, ok := quoted(expr); ok {
		return strings.ReplaceAll(s, `\n`, "\n"), true
	}
	if n, ok := sumInts(expr); ok {
		return strconv.Itoa(n), true
	}
	_, minor, _ := strings.Cut(v.python, ".")
	mi, mc, _ := strings.Cut(minor, ".")
	switch strings.ReplaceAll(expr, " ", "") {
	case "sys.version":
		return v.python + " " + v.pythonBuild, true
	case "sys.version_info":
		return "sys.version_info(major=3, minor=" + mi + ", micro=" + mc + ", releaselevel='final', serial=0)", true
	case "sys.platform":
		return "linux", true
	case "sys.executable":
		return "/usr/bin/python3", true
	case "platform.python_version()":
		return v.python, true
	case "platform.system()":
		return "Linux", true
	case "platform.release()":
		return sh.host.kernel.abi, true
	case "platform.node()", "socket.gethostname()":
		return sh.host.hostname, true
	case "os.getcwd()":
		return sh.cwd, true
	case "os.getuid()", "os.geteuid()":
		return strconv.Itoa(sh.uid), true
	case "os.name":
		return "posix", true
	}
	return "", false
}

func quoted(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] && !strings.ContainsRune(s[1:len(s)-1], rune(s[0])) {
		return s[1 : len(s)-1], true
	}
	return "", false
}

// sumInts evaluates a sum or product of small integers, as "print(1+1)"
// checks need.
func sumInts(s string) (int, bool) {
	total := 0
	for term := range strings.SplitSeq(strings.ReplaceAll(s, " ", ""), "+") {
		prod := 1
		for f := range strings.SplitSeq(term, "*") {
			n, err := strconv.Atoi(f)
			if err != nil || n > 1<<20 || n < -(1<<20) {
				return 0, false
			}
			prod *= n
		}
		total += prod
	}
	return total, true
}

func progPerl(sh *Shell, c *call) int {
	v := sh.versions()
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-v":
			fprintf(c.out, "\nThis is perl %d, version %d, subversion %d (v%d.%d.%d) built for x86_64-linux-gnu-thread-multi\n(with %d registered patches, see perl -V for more detail)\n\nCopyright 1987-%s, Larry Wall\n\nPerl may be copied only under the terms of either the Artistic License or the\nGNU General Public License, which may be found in the Perl 5 source kit.\n\nComplete documentation for Perl, including FAQ lists, should be found on\nthis system using \"man perl\" or \"perldoc perl\".  If you have access to the\nInternet, point your browser at https://www.perl.org/, the Perl Home Page.\n\n",
				v.perl[0], v.perl[1], v.perl[2], v.perl[0], v.perl[1], v.perl[2], v.perlPatches, v.perlYear)
			return 0
		case a == "-e" || a == "-E":
			if i+1 >= len(c.args) {
				fprint(c.err, "No code specified for -e.\n")
				return 29
			}
			return perlCode(c, c.args[i+1])
		case a == "-" || !strings.HasPrefix(a, "-"):
			if a != "-" {
				if _, err := sh.readPath(a); err != nil {
					fprintf(c.err, "Can't open perl script \"%s\": No such file or directory\n", a)
					return 2
				}
			}
			return 0
		case strings.Trim(a, "-wWnpalsTtcdU") != "" && !strings.HasPrefix(a, "-M") && !strings.HasPrefix(a, "-I"):
			fprintf(c.err, "Unrecognized switch: %s  (-h will show valid options).\n", a)
			return 29
		}
	}
	return 0
}

// perlCode prints what print statements of literals print; socket code
// fails its connect quietly, as a reverse shell's if() does.
func perlCode(c *call, code string) int {
	for stmt := range strings.SplitSeq(code, ";") {
		stmt = strings.TrimSpace(stmt)
		arg, ok := strings.CutPrefix(stmt, "print")
		if !ok {
			continue
		}
		arg = strings.TrimSpace(strings.Trim(strings.TrimSpace(arg), "()"))
		if s, ok := quoted(arg); ok {
			if arg[0] == '"' {
				s = strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(s)
			}
			fprint(c.out, s)
		} else if n, ok := sumInts(arg); ok {
			fprint(c.out, n)
		}
	}
	return 0
}
