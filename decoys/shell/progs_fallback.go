package shell

// operandUsage holds what a program that needs operands prints when it
// gets none, with its exit status, as the Debian 12 oracle prints it.
var operandUsage = map[string]struct {
	text   string
	status int
}{
	"basename": {missingOperand("basename"), 1},
	"dirname":  {missingOperand("dirname"), 1},
	"chgrp":    {missingOperand("chgrp"), 1},
	"readlink": {missingOperand("readlink"), 1},
	"realpath": {missingOperand("realpath"), 1},
	"stat":     {missingOperand("stat"), 1},
	"unlink":   {missingOperand("unlink"), 1},
	"link":     {missingOperand("link"), 1},
	"seq":      {missingOperand("seq"), 1},
	"mknod":    {missingOperand("mknod"), 1},
	"mkfifo":   {missingOperand("mkfifo"), 1},
	"join":     {missingOperand("join"), 1},
	"comm":     {missingOperand("comm"), 1},
	"expr":     {missingOperand("expr"), 2},
	"chroot":   {missingOperand("chroot"), 125},
	"ln":       {"ln: missing file operand\nTry 'ln --help' for more information.\n", 1},
	"install":  {"install: missing file operand\nTry 'install --help' for more information.\n", 1},
	"shred":    {"shred: missing file operand\nTry 'shred --help' for more information.\n", 1},
	"truncate": {"truncate: you must specify either \u2018--size\u2019 or \u2018--reference\u2019\nTry 'truncate --help' for more information.\n", 1},
	"tar":      {"tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' or 'tar --usage' for more information.\n", 2},
	"pgrep":    {"pgrep: no matching criteria specified\nTry `pgrep --help' for more information.\n", 2},
	"pkill":    {"pkill: no matching criteria specified\nTry `pkill --help' for more information.\n", 2},
}

func missingOperand(name string) string {
	return name + ": missing operand\nTry '" + name + " --help' for more information.\n"
}

// unemulated runs an installed program the emulation does not model.
// Called without arguments, a program that needs operands prints its
// real usage error and a few others print their fixed fact, because a
// silent success there is a tell no real host shows. With arguments the
// real outcome depends on work the emulation does not do. Most of these
// tools print nothing when they succeed, and an invented error would
// be a stronger tell than silence.
func (sh *Shell) unemulated(c *call) int {
	if len(c.args) > 0 {
		return 0
	}
	if u, ok := operandUsage[c.name]; ok {
		fprint(c.err, u.text)
		return u.status
	}
	switch c.name {
	case "arch":
		fprintln(c.out, "x86_64")
	case "nice":
		fprintln(c.out, "0")
	case "groups":
		if sh.uid == 0 {
			fprintln(c.out, "root")
		} else {
			u := sh.admin
			// These are the groups that id prints.
			fprintln(c.out, u+" cdrom floppy sudo audio dip video plugdev users netdev")
		}
	case "logname":
		// sshd records the login in utmp, so logname finds it.
		fprintln(c.out, sh.cfg.User)
	}
	return 0
}
