package shell

import (
	"fmt"
	"strings"
	"time"
)

// unit is one systemd unit of the modelled host. Its main process, when
// it has one, is the process table's row whose command starts with cmd.
type unit struct {
	name, desc, sub, cmd, file string
}

// units are the services behind the process table of procs.go: a
// Debian netinst with the SSH server task.
// NOTE: the Ubuntu persona shows the same set, as its process table
// does; a real noble server also runs networkd, resolved and snapd.
func (sh *Shell) units() []unit {
	iface := sh.host.iface
	return []unit{
		{"cron.service", "Regular background program processing daemon", "running", "/usr/sbin/cron", "/lib/systemd/system/cron.service"},
		{"dbus.service", "D-Bus System Message Bus", "running", "/usr/bin/dbus-daemon", "/lib/systemd/system/dbus.service"},
		{"getty@tty1.service", "Getty on tty1", "running", "/sbin/agetty", "/lib/systemd/system/getty@.service"},
		{"ifup@" + iface + ".service", "ifup for " + iface, "exited", "", "/lib/systemd/system/ifup@.service"},
		{"networking.service", "Raise network interfaces", "exited", "", "/lib/systemd/system/networking.service"},
		{"ssh.service", "OpenBSD Secure Shell server", "running", "sshd: /usr/sbin/sshd", "/lib/systemd/system/ssh.service"},
		{"systemd-journald.service", "Journal Service", "running", "/lib/systemd/systemd-journald", "/lib/systemd/system/systemd-journald.service"},
		{"systemd-logind.service", "User Login Management", "running", "/lib/systemd/systemd-logind", "/lib/systemd/system/systemd-logind.service"},
		{"systemd-timesyncd.service", "Network Time Synchronization", "running", "/lib/systemd/systemd-timesyncd", "/lib/systemd/system/systemd-timesyncd.service"},
		{"systemd-udevd.service", "Rule-based Manager for Device Events and Files", "running", "/lib/systemd/systemd-udevd", "/lib/systemd/system/systemd-udevd.service"},
		{"systemd-user-sessions.service", "Permit User Sessions", "exited", "", "/lib/systemd/system/systemd-user-sessions.service"},
	}
}

func (sh *Shell) findUnit(name string) (unit, bool) {
	if !strings.Contains(name, ".") {
		name += ".service"
	}
	if name == "sshd.service" {
		name = "ssh.service"
	}
	for _, u := range sh.units() {
		if u.name == name {
			return u, true
		}
	}
	return unit{name: name}, false
}

const systemdFeatures = "+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified"

func progSystemctl(sh *Shell, c *call) int {
	var verb string
	var names []string
	for _, a := range c.args {
		switch {
		case a == "--version":
			fprintf(c.out, "systemd %s\n%s\n", sh.versions().systemd, systemdFeatures)
			return 0
		case strings.HasPrefix(a, "-"):
		case verb == "":
			verb = a
		default:
			names = append(names, a)
		}
	}
	switch verb {
	case "", "list-units":
		return sh.listUnits(c)
	case "status":
		return sh.unitStatus(c, names)
	case "is-active":
		status := 0
		for _, n := range names {
			if _, ok := sh.findUnit(n); ok {
				fprintln(c.out, "active")
			} else {
				fprintln(c.out, "inactive")
				status = 3
			}
		}
		return status
	case "is-enabled":
		for _, n := range names {
			u, ok := sh.findUnit(n)
			if !ok {
				fprintf(c.err, "Failed to get unit file state for %s: No such file or directory\n", u.name)
				return 1
			}
			fprintln(c.out, "enabled")
		}
		return 0
	case "start", "stop", "restart", "reload", "enable", "disable", "mask", "unmask", "daemon-reload", "kill":
		return sh.unitChange(c, verb, names)
	}
	fprintf(c.err, "Unknown command verb %s.\n", verb)
	return 1
}

func (sh *Shell) listUnits(c *call) int {
	us := sh.units()
	w := len("UNIT")
	for _, u := range us {
		w = max(w, len(u.name))
	}
	fprintf(c.out, "  %-*s LOAD   ACTIVE SUB     DESCRIPTION\n", w, "UNIT")
	for _, u := range us {
		fprintf(c.out, "  %-*s loaded active %-7s %s\n", w, u.name, u.sub, u.desc)
	}
	fprintf(c.out, "\nLOAD   = Reflects whether the unit definition was properly loaded.\nACTIVE = The high-level unit activation state, i.e. generalization of SUB.\nSUB    = The low-level unit activation state, values depend on unit type.\n%d loaded units listed. Pass --all to see loaded but inactive units, too.\nTo show all installed unit files use 'systemctl list-unit-files'.\n", len(us))
	return 0
}

func (sh *Shell) unitStatus(c *call, names []string) int {
	if len(names) == 0 {
		fprintf(c.out, "\u25cf %s\n    State: running\n    Units: %d loaded (incl. loaded aliases)\n     Jobs: 0 queued\n   Failed: 0 units\n    Since: %s; %s\n  systemd: %s\n",
			sh.host.hostname, len(sh.units()), sh.host.boot.UTC().Format("Mon 2006-01-02 15:04:05 MST"), relativeAgo(sh.now().Sub(sh.host.boot)), strings.Fields(sh.versions().systemd)[0])
		return 0
	}
	status := 0
	for i, n := range names {
		u, ok := sh.findUnit(n)
		if !ok {
			fprintf(c.err, "Unit %s could not be found.\n", u.name)
			status = 4
			continue
		}
		if i > 0 {
			fprintln(c.out)
		}
		sh.printUnit(c, u)
	}
	return status
}

func (sh *Shell) printUnit(c *call, u unit) {
	since := sh.host.boot.Add(5 * time.Second)
	var main *process
	for _, p := range sh.processes() {
		if u.cmd != "" && strings.HasPrefix(p.cmd, u.cmd) {
			main = &p
			since = p.start
			break
		}
	}
	active := "active (running)"
	if u.sub == "exited" {
		active = "active (exited)"
	}
	fprintf(c.out, "\u25cf %s - %s\n     Loaded: loaded (%s; enabled; preset: enabled)\n     Active: %s since %s; %s\n",
		u.name, u.desc, u.file, active, since.UTC().Format("Mon 2006-01-02 15:04:05 MST"), relativeAgo(sh.now().Sub(since)))
	if main == nil {
		return
	}
	// TasksMax follows kernel.threads-max, which scales with memory.
	fprintf(c.out, "   Main PID: %d (%s)\n      Tasks: 1 (limit: %d)\n     Memory: %.1fM\n     CGroup: /system.slice/%s\n             \u2514\u2500%d %s\n",
		main.pid, main.comm(), sh.host.memKiB/1024*115/100, float64(main.rss)/1024, u.name, main.pid, quoteCmd(main.cmd))
}

// quoteCmd quotes a command line whose argv[0] contains spaces, as
// systemd's CGroup tree shows it.
func quoteCmd(cmd string) string {
	if strings.HasPrefix(cmd, "sshd: ") {
		return "\"" + cmd + "\""
	}
	return cmd
}

// relativeAgo is systemd's format_timestamp_relative.
func relativeAgo(d time.Duration) string {
	const day = 24 * time.Hour
	const month = 2629800 * time.Second
	plural := func(n int64, unit string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= month:
		return plural(int64(d/month), "month") + " " + plural(int64(d%month/day), "day") + " ago"
	case d >= 7*day:
		return plural(int64(d/(7*day)), "week") + " " + plural(int64(d%(7*day)/day), "day") + " ago"
	case d >= 2*day:
		return plural(int64(d/day), "day") + " ago"
	case d >= 25*time.Hour:
		return fmt.Sprintf("1 day %dh ago", int64((d-day)/time.Hour))
	case d >= 6*time.Hour:
		return fmt.Sprintf("%dh ago", int64(d/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dmin ago", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
	case d >= 5*time.Minute:
		return fmt.Sprintf("%dmin ago", int64(d/time.Minute))
	case d >= time.Minute:
		return fmt.Sprintf("%dmin %ds ago", int64(d/time.Minute), int64(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%ds ago", int64(d/time.Second))
}

// unitChange refuses an unprivileged user as systemd does on a host
// without polkit, and lets root's changes succeed without effect.
// NOTE: the units keep their state; a stopped ssh.service still shows
// as running.
func (sh *Shell) unitChange(c *call, verb string, names []string) int {
	if verb == "daemon-reload" {
		if sh.uid != 0 {
			fprint(c.err, "Failed to reload daemon: Interactive authentication required.\n")
			return 1
		}
		return 0
	}
	if len(names) == 0 {
		fprintf(c.err, "Too few arguments.\n")
		return 1
	}
	for _, n := range names {
		u, ok := sh.findUnit(n)
		if sh.uid != 0 {
			fprintf(c.err, "Failed to %s %s: Interactive authentication required.\nSee system logs and 'systemctl status %[2]s' for details.\n", verb, u.name)
			return 4
		}
		if !ok {
			fprintf(c.err, "Failed to %s %s: Unit %[2]s not found.\n", verb, u.name)
			return 5
		}
	}
	return 0
}

// initScripts are /etc/init.d of a Debian netinst with their status as
// service --status-all shows it.
var initScripts = []struct {
	name    string
	running bool
}{
	{"console-setup.sh", false}, {"cron", true}, {"dbus", true}, {"hwclock.sh", false},
	{"keyboard-setup.sh", false}, {"kmod", false}, {"networking", true}, {"procps", false},
	{"ssh", true}, {"sudo", false}, {"udev", true},
}

func progService(sh *Shell, c *call) int {
	if len(c.args) == 0 {
		fprint(c.err, "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n")
		return 1
	}
	switch c.args[0] {
	case "--status-all":
		for _, s := range initScripts {
			mark := "-"
			if s.running {
				mark = "+"
			}
			fprintf(c.out, " [ %s ]  %s\n", mark, s.name)
		}
		return 0
	case "--version":
		fprint(c.out, "service ver. 1.65.2\n")
		return 0
	}
	u, ok := sh.findUnit(c.args[0])
	if !ok {
		fprintf(c.err, "%s: unrecognized service\n", c.args[0])
		return 1
	}
	verb := "status"
	if len(c.args) > 1 {
		verb = c.args[1]
	}
	if verb == "status" {
		sh.printUnit(c, u)
		return 0
	}
	return sh.unitChange(c, verb, []string{u.name})
}
