package shell

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// programs are the emulated binaries, by file name.
var programs map[string]cmdFunc

func init() {
	programs = map[string]cmdFunc{
		"uname": progUname, "cat": progCat, "nproc": progNproc, "free": progFree, "df": progDf,
		"ps": progPs, "ip": progIP, "id": progID, "w": progW, "who": progWho, "last": progLast,
		"crontab": progCrontab, "ls": progLs, "dir": progLs, "which": progWhich, "hostname": progHostname,
		"apt": progApt, "apt-get": progApt, "dpkg": progDpkg, "uptime": progUptime, "whoami": progWhoami,
		"env": progEnv, "printenv": progEnv, "mkdir": progMkdir, "touch": progTouch, "rm": progRm,
		"rmdir": progRm, "cp": progCp, "mv": progMv, "chmod": progChmod, "chown": progChown,
		"wget": progWget, "curl": progCurl, "sudo": progSudo, "su": progSu, "passwd": progPasswd,
		"head": progHead, "tail": progTail, "grep": progGrep, "egrep": progGrep, "fgrep": progGrep,
		"wc": progWc, "sort": progSort, "uniq": progUniq, "awk": progAwk, "mawk": progAwk, "cut": progCut,
		"sleep": progSleep, "date": progDate, "clear": progClear, "bash": progSh, "sh": progSh, "dash": progSh,
		"true": func(*Shell, *call) int { return 0 }, "false": func(*Shell, *call) int { return 1 },
		"echo": builtinEcho, "pwd": builtinPwd, "kill": builtinKill, "tty": progTty,
		"lscpu": progLscpu, "base64": progBase64, "test": builtinTest, "[": builtinTest,
	}
	for name, f := range sysPrograms() {
		programs[name] = f
	}
}

// quote is gnulib's quote(): curved quotes under a UTF-8 locale, which
// the session's LANG=C.UTF-8 is, and ASCII ones otherwise.
func (sh *Shell) quote(s string) string {
	for _, v := range []string{sh.vars["LC_ALL"], sh.vars["LC_MESSAGES"], sh.vars["LANG"]} {
		if v == "" {
			continue
		}
		if strings.Contains(strings.ToLower(v), "utf-8") || strings.Contains(strings.ToLower(v), "utf8") {
			return "\u2018" + s + "\u2019"
		}
		break
	}
	return "'" + s + "'"
}

// badOption prints coreutils' complaint about an unknown short option.
func badOption(c *call, opt byte, status int) int {
	fprintf(c.err, "%s: invalid option -- '%c'\nTry '%s --help' for more information.\n", c.name, opt, c.name)
	return status
}

// flags splits short options from operands; allowed lists the letters
// the program knows.
func flags(c *call, allowed string) (map[byte]bool, []string, byte) {
	set := map[byte]bool{}
	var operands []string
	done := false
	for _, a := range c.args {
		if done || len(a) < 2 || a[0] != '-' {
			operands = append(operands, a)
			continue
		}
		if a == "--" {
			done = true
			continue
		}
		if strings.HasPrefix(a, "--") {
			set['-'] = true
			continue
		}
		for i := 1; i < len(a); i++ {
			if strings.IndexByte(allowed, a[i]) < 0 {
				return nil, nil, a[i]
			}
			set[a[i]] = true
		}
	}
	return set, operands, 0
}

func progUname(sh *Shell, c *call) int {
	f, ops, bad := flags(c, "asnrvmpio")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	if len(ops) > 0 {
		fprintf(c.err, "uname: extra operand '%s'\nTry 'uname --help' for more information.\n", ops[0])
		return 1
	}
	h := sh.host
	if f['a'] {
		fprintf(c.out, "Linux %s %s %s %s\n", h.hostname, h.kernel.abi, h.persona.unameVersion(h.kernel), h.persona.unameTail)
		return 0
	}
	var parts []string
	if f['s'] || len(f) == 0 {
		parts = append(parts, "Linux")
	}
	if f['n'] {
		parts = append(parts, h.hostname)
	}
	if f['r'] {
		parts = append(parts, h.kernel.abi)
	}
	if f['v'] {
		parts = append(parts, h.persona.unameVersion(h.kernel))
	}
	if f['m'] {
		parts = append(parts, "x86_64")
	}
	if f['p'] && h.persona.id == OSUbuntu2404 {
		parts = append(parts, "x86_64")
	}
	if f['i'] && h.persona.id == OSUbuntu2404 {
		parts = append(parts, "x86_64")
	}
	if f['o'] {
		parts = append(parts, "GNU/Linux")
	}
	fprintln(c.out, strings.Join(parts, " "))
	return 0
}

func progCat(sh *Shell, c *call) int {
	_, ops, bad := flags(c, "AbeEnstTuv")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	if len(ops) == 0 {
		write(c.out, c.stdin)
		return 0
	}
	status := 0
	for _, a := range ops {
		if a == "-" {
			write(c.out, c.stdin)
			continue
		}
		data, err := sh.readPath(a)
		if err != nil {
			fprintf(c.err, "cat: %s: %s\n", a, err)
			status = 1
			continue
		}
		write(c.out, data)
	}
	return status
}

func progNproc(sh *Shell, c *call) int {
	fprintln(c.out, sh.host.cpus)
	return 0
}

func progFree(sh *Shell, c *call) int {
	f, _, bad := flags(c, "bkmghwtlv")
	if bad != 0 {
		fprintf(c.err, "free: invalid option -- '%c'\n\nUsage:\n free [options]\n\nOptions:\n -b, --bytes         show output in bytes\n", bad)
		return 1
	}
	m := sh.mem()
	used := m.total - m.free - m.buffers - m.cached - m.sreclaim
	cache := m.buffers + m.cached + m.sreclaim
	vals := []uint64{m.total, used, m.free, m.shared, cache, m.avail}
	format := func(kb uint64) string {
		switch {
		case f['h']:
			return humanFree(kb)
		case f['m']:
			return strconv.FormatUint(kb/1024, 10)
		case f['g']:
			return strconv.FormatUint(kb/1024/1024, 10)
		case f['b']:
			return strconv.FormatUint(kb*1024, 10)
		}
		return strconv.FormatUint(kb, 10)
	}
	fprintf(c.out, "%20s %11s %11s %11s %11s %11s\n", "total", "used", "free", "shared", "buff/cache", "available")
	fprintf(c.out, "%-7s %12s %11s %11s %11s %11s %11s\n", "Mem:", format(vals[0]), format(vals[1]), format(vals[2]), format(vals[3]), format(vals[4]), format(vals[5]))
	fprintf(c.out, "%-7s %12s %11s %11s\n", "Swap:", format(0), format(0), format(0))
	return 0
}

// humanFree formats as procps free -h: binary units with Ki/Mi/Gi and
// one decimal under ten.
func humanFree(kb uint64) string {
	if kb == 0 {
		return "0B"
	}
	v := float64(kb) * 1024
	units := []string{"B", "Ki", "Mi", "Gi", "Ti"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v < 10 {
		return fmt.Sprintf("%.1f%s", v, units[i])
	}
	return fmt.Sprintf("%.0f%s", v, units[i])
}

func progDf(sh *Shell, c *call) int {
	f, _, bad := flags(c, "hTkamiPlx")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	h := sh.host
	type mount struct {
		fs, typ    string
		size, used uint64
		mountedOn  string
	}
	runKB := h.memKiB / 10
	rows := []mount{
		{"udev", "devtmpfs", h.memKiB / 2 / 4 * 4, 0, "/dev"},
		{"tmpfs", "tmpfs", runKB, 500 + uint64(pick(h.seed, "runused", 300)), "/run"},
		{"/dev/" + sh.rootDev(), "ext4", h.diskKiB, h.usedKiB, "/"},
		{"tmpfs", "tmpfs", h.memKiB / 2, 0, "/dev/shm"},
		{"tmpfs", "tmpfs", 5120, 0, "/run/lock"},
		{"tmpfs", "tmpfs", runKB, 0, "/run/user/" + strconv.Itoa(sh.uid)},
	}
	width := 14
	for _, r := range rows {
		if len(r.fs) > width {
			width = len(r.fs)
		}
	}
	if f['h'] {
		fprintf(c.out, "%-*s %5s %5s %5s %4s %s\n", width, "Filesystem", "Size", "Used", "Avail", "Use%", "Mounted on")
	} else {
		fprintf(c.out, "%-*s %9s %9s %9s %4s %s\n", width, "Filesystem", "1K-blocks", "Used", "Available", "Use%", "Mounted on")
	}
	for _, r := range rows {
		// ext4 keeps 5% for root, so Avail is less than Size - Used.
		avail := r.size - r.used
		if r.typ == "ext4" {
			avail -= r.size / 20
		}
		pct := "0%"
		if r.used > 0 {
			pct = strconv.FormatUint((r.used*100+(r.used+avail)-1)/(r.used+avail), 10) + "%"
		}
		if f['h'] {
			fprintf(c.out, "%-*s %5s %5s %5s %4s %s\n", width, r.fs, humanDf(r.size), humanDf(r.used), humanDf(avail), pct, r.mountedOn)
		} else {
			fprintf(c.out, "%-*s %9d %9d %9d %4s %s\n", width, r.fs, r.size, r.used, avail, pct, r.mountedOn)
		}
	}
	return 0
}

// humanDf formats as coreutils df -h: powers of 1024, rounded up, one
// decimal under ten, single-letter units.
func humanDf(kb uint64) string {
	if kb == 0 {
		return "0"
	}
	v := float64(kb)
	units := []string{"K", "M", "G", "T"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v < 10 {
		r := float64(int(v*10+0.999)) / 10
		if r >= 10 {
			return fmt.Sprintf("%.0f%s", r, units[i])
		}
		return fmt.Sprintf("%.1f%s", r, units[i])
	}
	return fmt.Sprintf("%d%s", int(v+0.999), units[i])
}

func progPs(sh *Shell, c *call) int {
	arg := strings.Join(c.args, " ")
	procs := append(sh.processes(), sh.psSelf(arg))
	now := sh.now()
	all := strings.Contains(arg, "a") && strings.Contains(arg, "x") || strings.Contains(arg, "e") || strings.Contains(arg, "A")
	full := strings.Contains(arg, "f")
	bsd := strings.Contains(arg, "u") && !strings.HasPrefix(arg, "-")
	var rows []process
	for _, p := range procs {
		if all || p.tty == "pts/0" {
			rows = append(rows, p)
		}
	}
	memTotal := float64(sh.host.memKiB)
	switch {
	case bsd:
		fprintln(c.out, "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND")
		for _, p := range rows {
			// procps divides cpu time by the process's age; a floor on
			// the age keeps a new process from showing a spike.
			pcpu := p.cpu.Seconds() / max(now.Sub(p.start).Seconds(), 60) * 100
			fprintf(c.out, "%-8s %7d %4.1f %4.1f %6d %5d %-8s %-4s %5s %6s %s\n", p.user, p.pid, pcpu, float64(p.rss)/memTotal*100, p.vsz, p.rss, p.tty, p.stat, startCol(p.start, now), cpuTime(p.cpu), p.cmd)
		}
	case full:
		fprintln(c.out, "UID          PID    PPID  C STIME TTY          TIME CMD")
		for _, p := range rows {
			t := int(p.cpu.Seconds())
			fprintf(c.out, "%-8s %7d %7d  0 %-5s %-8s %02d:%02d:%02d %s\n", p.user, p.pid, p.ppid, startCol(p.start, now), p.tty, t/3600, t/60%60, t%60, p.cmd)
		}
	default:
		fprintln(c.out, "    PID TTY          TIME CMD")
		for _, p := range rows {
			t := int(p.cpu.Seconds())
			fprintf(c.out, "%7d %-8s %02d:%02d:%02d %s\n", p.pid, p.tty, t/3600, t/60%60, t%60, p.comm())
		}
	}
	return 0
}

func progIP(sh *Shell, c *call) int {
	h := sh.host
	obj := ""
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			obj = a
			break
		}
	}
	switch {
	case obj == "":
		fprint(c.err, "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n       ip [ -force ] -batch filename\nwhere  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |\n                   link | macsec | maddress | monitor | mptcp | mroute | mrule |\n                   neighbor | neighbour | netconf | netns | nexthop | ntable |\n                   ntbl | route | rule | sr | tap | tcpmetrics |\n                   token | tunnel | tuntap | vrf | xfrm }\n")
		return 255
	case strings.HasPrefix("address", obj):
		fprintf(c.out, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n    inet6 ::1/128 scope host noprefixroute \n       valid_lft forever preferred_lft forever\n")
		fprintf(c.out, "2: %s: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000\n    link/ether %s brd ff:ff:ff:ff:ff:ff\n", h.iface, h.macString())
		if alt := altName(h.iface); alt != "" {
			fprintf(c.out, "    altname %s\n", alt)
		}
		fprintf(c.out, "    inet %s/%d brd %s scope global dynamic %s\n       valid_lft %dsec preferred_lft %dsec\n", h.addr, h.bits, h.broadcast(), h.iface, 86400-int(sh.now().Unix()%86400)/2, 86400-int(sh.now().Unix()%86400)/2)
		fprintf(c.out, "    inet6 %s/64 scope link \n       valid_lft forever preferred_lft forever\n", h.linkLocal())
	case strings.HasPrefix("route", obj):
		fprintf(c.out, "default via %s dev %s \n%s dev %s proto kernel scope link src %s \n", h.gateway, h.iface, h.network(), h.iface, h.addr)
	case strings.HasPrefix("link", obj):
		fprintf(c.out, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n2: %s: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000\n    link/ether %s brd ff:ff:ff:ff:ff:ff\n", h.iface, h.macString())
	default:
		fprintf(c.err, "Object \"%s\" is unknown, try \"ip help\".\n", obj)
		return 1
	}
	return 0
}

// altName is the path name udev gives an interface named by slot.
func altName(iface string) string {
	if slot, ok := strings.CutPrefix(iface, "ens"); ok {
		return "enp0s" + slot
	}
	return ""
}

func progID(sh *Shell, c *call) int {
	if len(c.args) > 0 && c.args[0] == "-u" {
		fprintln(c.out, sh.uid)
		return 0
	}
	if sh.uid == 0 {
		fprintln(c.out, "uid=0(root) gid=0(root) groups=0(root)")
		return 0
	}
	u := sh.admin
	fprintf(c.out, "uid=1000(%s) gid=1000(%s) groups=1000(%s),24(cdrom),25(floppy),27(sudo),29(audio),30(dip),44(video),46(plugdev),100(users),106(netdev)\n", u, u, u)
	return 0
}

func (sh *Shell) uptimeLine() string {
	now := sh.now()
	up := sh.host.uptime(now)
	days := int(up.Hours()) / 24
	hm := fmt.Sprintf("%2d:%02d", int(up.Hours())%24, int(up.Minutes())%60)
	if int(up.Hours())%24 == 0 {
		hm = fmt.Sprintf("%d min", int(up.Minutes())%60)
	}
	upStr := hm
	if days == 1 {
		upStr = "1 day, " + hm
	} else if days > 1 {
		upStr = fmt.Sprintf("%d days, %s", days, hm)
	}
	l := sh.host.loadAvg(now)
	return fmt.Sprintf(" %s up %s,  1 user,  load average: %.2f, %.2f, %.2f", now.Format("15:04:05"), upStr, l[0], l[1], l[2])
}

func progUptime(sh *Shell, c *call) int {
	if len(c.args) > 0 && c.args[0] == "-p" {
		up := sh.host.uptime(sh.now())
		days := int(up.Hours()) / 24
		var parts []string
		if w := days / 7; w > 0 {
			parts = append(parts, plural(w, "week"))
		}
		if d := days % 7; d > 0 {
			parts = append(parts, plural(d, "day"))
		}
		if hr := int(up.Hours()) % 24; hr > 0 {
			parts = append(parts, plural(hr, "hour"))
		}
		parts = append(parts, plural(int(up.Minutes())%60, "minute"))
		fprintln(c.out, "up "+strings.Join(parts, ", "))
		return 0
	}
	fprintln(c.out, sh.uptimeLine())
	return 0
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func (sh *Shell) sessionFrom() string { return sh.host.adminFrom }

func progW(sh *Shell, c *call) int {
	fprintln(c.out, sh.uptimeLine())
	fprintln(c.out, "USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT")
	fprintf(c.out, "%-8s %-8s %-16s %-7s  0.00s  0.02s  0.00s w\n", truncate(sh.userName(), 8), "pts/0", sh.sessionFrom(), sh.loginTime.Format("15:04"))
	return 0
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func progWho(sh *Shell, c *call) int {
	fprintf(c.out, "%-8s %-12s %s (%s)\n", sh.userName(), "pts/0", sh.loginTime.Format("2006-01-02 15:04"), sh.sessionFrom())
	return 0
}

func progLast(sh *Shell, c *call) int {
	h := sh.host
	now := sh.now()
	fprintf(c.out, "%-8s %-12s %-16s %s   still logged in\n", truncate(sh.userName(), 8), "pts/0", sh.sessionFrom(), sh.loginTime.Format("Mon Jan _2 15:04"))
	fprintf(c.out, "%-8s %-12s %-16s %s   still running\n", "reboot", "system boot", h.kernel.abi, h.boot.Format("Mon Jan _2 15:04"))
	// Earlier admin sessions, before the last boot.
	t := h.boot.Add(-time.Duration(2+pick(h.seed, "lastsess", 20)) * time.Hour)
	for i := 0; i < 3; i++ {
		end := t.Add(time.Duration(5+pick(h.seed, "lastlen"+strconv.Itoa(i), 50)) * time.Minute)
		dur := end.Sub(t)
		fprintf(c.out, "%-8s %-12s %-16s %s - %s  (%02d:%02d)\n", "root", "pts/0", h.adminFrom, t.Format("Mon Jan _2 15:04"), end.Format("15:04"), int(dur.Hours()), int(dur.Minutes())%60)
		t = t.Add(-time.Duration(20+pick(h.seed, "lastgap"+strconv.Itoa(i), 200)) * time.Hour)
	}
	_ = now
	fprintf(c.out, "\nwtmp begins %s\n", h.installed.Format("Mon Jan _2 15:04:05 2006"))
	return 0
}

func progCrontab(sh *Shell, c *call) int {
	if len(c.args) > 0 && c.args[0] == "-l" {
		p := "/var/spool/cron/crontabs/" + sh.userName()
		if data, err := sh.readPath(p); err == nil {
			write(c.out, data)
			return 0
		}
		fprintf(c.err, "no crontab for %s\n", sh.userName())
		return 1
	}
	if len(c.args) > 0 && c.args[0] == "-r" {
		if err := sh.fs.remove("/var/spool/cron/crontabs/"+sh.userName(), 0); err != nil {
			fprintf(c.err, "no crontab for %s\n", sh.userName())
			return 1
		}
		return 0
	}
	data := c.stdin
	if len(c.args) > 0 && c.args[0] != "-" {
		d, err := sh.readPath(c.args[len(c.args)-1])
		if err != nil {
			fprintf(c.err, "%s: %s\n", c.args[len(c.args)-1], err)
			return 1
		}
		data = d
	}
	if err := sh.fs.writeFile("/var/spool/cron/crontabs/"+sh.userName(), data, false, 0); err != nil {
		return 1
	}
	return 0
}

func progWhich(sh *Shell, c *call) int {
	status := 0
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if p, n := sh.lookPath(a); n != nil {
			fprintln(c.out, p)
			continue
		}
		status = 1
	}
	if len(c.args) == 0 {
		return 1
	}
	return status
}

func progHostname(sh *Shell, c *call) int {
	if len(c.args) > 0 {
		switch c.args[0] {
		case "-I", "--all-ip-addresses":
			fprintf(c.out, "%s \n", sh.host.addr)
			return 0
		case "-i", "--ip-address":
			fprintln(c.out, "127.0.1.1")
			return 0
		case "-f", "--fqdn", "-s", "--short":
			fprintln(c.out, sh.host.hostname)
			return 0
		}
		if !strings.HasPrefix(c.args[0], "-") {
			if sh.uid != 0 {
				fprintln(c.err, "hostname: you must be root to change the host name")
				return 1
			}
			return 0
		}
	}
	fprintln(c.out, sh.host.hostname)
	return 0
}

func progWhoami(sh *Shell, c *call) int {
	fprintln(c.out, sh.userName())
	return 0
}

func progTty(sh *Shell, c *call) int {
	if !sh.interactive {
		fprintln(c.out, "not a tty")
		return 1
	}
	fprintln(c.out, "/dev/pts/0")
	return 0
}

func progEnv(sh *Shell, c *call) int {
	if c.name == "env" && len(c.args) > 0 && !strings.Contains(c.args[0], "=") && !strings.HasPrefix(c.args[0], "-") {
		sub := *c
		sub.name, sub.args = c.args[0], c.args[1:]
		return sh.dispatch(&sub, false)
	}
	if c.name == "printenv" && len(c.args) > 0 {
		v, ok := sh.vars[c.args[0]]
		if !ok || !sh.exported[c.args[0]] {
			return 1
		}
		fprintln(c.out, v)
		return 0
	}
	for _, n := range sh.varOrder {
		if sh.exported[n] {
			fprintf(c.out, "%s=%s\n", n, sh.vars[n])
		}
	}
	fprintf(c.out, "_=/usr/bin/%s\n", c.name)
	return 0
}

func progMkdir(sh *Shell, c *call) int {
	f, ops, bad := flags(c, "pvm")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	if len(ops) == 0 {
		fprint(c.err, "mkdir: missing operand\nTry 'mkdir --help' for more information.\n")
		return 1
	}
	status := 0
	for _, a := range ops {
		p := abs(sh.cwd, a)
		if f['p'] {
			cur := ""
			for part := range strings.SplitSeq(strings.Trim(p, "/"), "/") {
				cur += "/" + part
				if n, err := sh.fs.lookup(cur, true); err == nil && n.isDir() {
					continue
				}
				if err := sh.fs.mkdir(cur, sh.uid); err != nil {
					fprintf(c.err, "mkdir: cannot create directory %s: %s\n", sh.quote(a), err)
					status = 1
					break
				}
			}
			continue
		}
		if err := sh.fs.mkdir(p, sh.uid); err != nil {
			fprintf(c.err, "mkdir: cannot create directory %s: %s\n", sh.quote(a), err)
			status = 1
		}
	}
	return status
}

func progTouch(sh *Shell, c *call) int {
	_, ops, bad := flags(c, "acmhd")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	if len(ops) == 0 {
		fprint(c.err, "touch: missing file operand\nTry 'touch --help' for more information.\n")
		return 1
	}
	status := 0
	for _, a := range ops {
		p := abs(sh.cwd, a)
		if n, err := sh.fs.lookup(p, true); err == nil {
			n.mtime = sh.now()
			continue
		}
		if err := sh.fs.writeFile(p, nil, true, sh.uid); err != nil {
			fprintf(c.err, "touch: cannot touch '%s': %s\n", a, err)
			status = 1
		}
	}
	return status
}

func progRm(sh *Shell, c *call) int {
	f, ops, bad := flags(c, "rRfvdi")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	if len(ops) == 0 {
		if f['f'] {
			return 0
		}
		fprintf(c.err, "%s: missing operand\nTry '%s --help' for more information.\n", c.name, c.name)
		return 1
	}
	status := 0
	for _, a := range ops {
		p := abs(sh.cwd, a)
		n, err := sh.fs.lookup(p, false)
		if err != nil {
			if c.name == "rmdir" {
				fprintf(c.err, "rmdir: failed to remove '%s': %s\n", a, err)
				status = 1
			} else if !f['f'] {
				fprintf(c.err, "rm: cannot remove '%s': %s\n", a, err)
				status = 1
			}
			continue
		}
		switch {
		case c.name == "rmdir" && !n.isDir():
			fprintf(c.err, "rmdir: failed to remove '%s': Not a directory\n", a)
			status = 1
			continue
		case c.name == "rmdir" && len(n.children) > 0:
			fprintf(c.err, "rmdir: failed to remove '%s': Directory not empty\n", a)
			status = 1
			continue
		case c.name == "rm" && n.isDir() && !f['r'] && !f['R']:
			fprintf(c.err, "rm: cannot remove '%s': Is a directory\n", a)
			status = 1
			continue
		case p == "/":
			fprint(c.err, "rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n")
			status = 1
			continue
		}
		if err := sh.fs.remove(p, sh.uid); err != nil {
			fprintf(c.err, "%s: cannot remove '%s': %s\n", c.name, a, err)
			status = 1
		}
	}
	return status
}

func progCp(sh *Shell, c *call) int { return copyMove(sh, c, false) }
func progMv(sh *Shell, c *call) int { return copyMove(sh, c, true) }

func copyMove(sh *Shell, c *call, move bool) int {
	f, ops, bad := flags(c, "rRafpvniu")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	if len(ops) < 2 {
		if len(ops) == 0 {
			fprintf(c.err, "%s: missing file operand\nTry '%s --help' for more information.\n", c.name, c.name)
		} else {
			fprintf(c.err, "%s: missing destination file operand after '%s'\nTry '%s --help' for more information.\n", c.name, ops[0], c.name)
		}
		return 1
	}
	dst := abs(sh.cwd, ops[len(ops)-1])
	dn, derr := sh.fs.lookup(dst, true)
	status := 0
	for _, a := range ops[:len(ops)-1] {
		src := abs(sh.cwd, a)
		n, err := sh.fs.lookup(src, !move)
		if err != nil {
			fprintf(c.err, "%s: cannot stat '%s': %s\n", c.name, a, err)
			status = 1
			continue
		}
		if n.isDir() && !move && !f['r'] && !f['R'] && !f['a'] {
			fprintf(c.err, "cp: -r not specified; omitting directory '%s'\n", a)
			status = 1
			continue
		}
		target := dst
		if derr == nil && dn.isDir() {
			target = path.Join(dst, n.name)
		}
		dir, name, err := sh.fs.parentOf(target)
		if err == nil && !canWrite(dir, sh.uid) {
			err = errPerm
		}
		var cp *node
		if err == nil {
			cp, err = sh.fs.copyNode(n, name, sh.uid)
		}
		if err != nil {
			verb := "cannot create regular file"
			if move {
				verb = "cannot move '" + a + "' to"
			}
			fprintf(c.err, "%s: %s '%s': %s\n", c.name, verb, ops[len(ops)-1], err)
			status = 1
			continue
		}
		if move {
			cp.uid, cp.gid, cp.mtime = n.uid, n.gid, n.mtime
			_ = sh.fs.remove(src, 0)
		}
		sh.fs.add(dir, cp)
	}
	return status
}

func progChmod(sh *Shell, c *call) int {
	var ops []string
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") && len(a) > 1 && !strings.ContainsAny(a[1:], "rwxXst") {
			continue
		}
		ops = append(ops, a)
	}
	if len(ops) < 2 {
		if len(ops) == 0 {
			fprint(c.err, "chmod: missing operand\nTry 'chmod --help' for more information.\n")
		} else {
			fprintf(c.err, "chmod: missing operand after '%s'\nTry 'chmod --help' for more information.\n", ops[0])
		}
		return 1
	}
	mode := ops[0]
	status := 0
	for _, a := range ops[1:] {
		n, err := sh.fs.lookup(abs(sh.cwd, a), true)
		if err != nil {
			fprintf(c.err, "chmod: cannot access '%s': %s\n", a, err)
			status = 1
			continue
		}
		if sh.uid != 0 && n.uid != sh.uid {
			fprintf(c.err, "chmod: changing permissions of '%s': Operation not permitted\n", a)
			status = 1
			continue
		}
		if v, err := strconv.ParseUint(mode, 8, 32); err == nil {
			n.mode = n.mode&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | fs.FileMode(v&0o777)
			continue
		}
		if !applySymbolic(n, mode) {
			fprintf(c.err, "chmod: invalid mode: '%s'\nTry 'chmod --help' for more information.\n", mode)
			return 1
		}
	}
	return status
}

// applySymbolic applies modes such as +x, u+rwx, go-w, a=r.
func applySymbolic(n *node, spec string) bool {
	for clause := range strings.SplitSeq(spec, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			return false
		}
		who, op, perms := clause[:i], clause[i], clause[i+1:]
		if who == "" || who == "a" {
			who = "ugo"
		}
		var bits fs.FileMode
		for _, p := range perms {
			var b fs.FileMode
			switch p {
			case 'r':
				b = 4
			case 'w':
				b = 2
			case 'x', 'X':
				b = 1
			case 's', 't':
				continue
			default:
				return false
			}
			for _, w := range who {
				switch w {
				case 'u':
					bits |= b << 6
				case 'g':
					bits |= b << 3
				case 'o':
					bits |= b
				default:
					return false
				}
			}
		}
		switch op {
		case '+':
			n.mode |= bits
		case '-':
			n.mode &^= bits
		default:
			n.mode = n.mode&^fs.ModePerm | bits
		}
	}
	return true
}

func progChown(sh *Shell, c *call) int {
	_, ops, bad := flags(c, "Rhfv")
	if bad != 0 {
		return badOption(c, bad, 1)
	}
	if len(ops) < 2 {
		fprint(c.err, "chown: missing operand\nTry 'chown --help' for more information.\n")
		return 1
	}
	status := 0
	for _, a := range ops[1:] {
		if _, err := sh.fs.lookup(abs(sh.cwd, a), true); err != nil {
			fprintf(c.err, "chown: cannot access '%s': %s\n", a, err)
			status = 1
		} else if sh.uid != 0 {
			fprintf(c.err, "chown: changing ownership of '%s': Operation not permitted\n", a)
			status = 1
		}
	}
	return status
}

func progSu(sh *Shell, c *call) int {
	if sh.uid == 0 {
		return 0
	}
	fprint(c.err, "Password: \nsu: Authentication failure\n")
	return 1
}

func progPasswd(sh *Shell, c *call) int {
	if sh.uid != 0 {
		fprintf(c.out, "Changing password for %s.\nCurrent password: ", sh.admin)
		fprint(c.err, "passwd: Authentication token manipulation error\npasswd: password unchanged\n")
		return 10
	}
	fprint(c.out, "New password: ")
	fprint(c.err, "Password change has been aborted.\npasswd: Authentication token manipulation error\npasswd: password unchanged\n")
	return 10
}

func progSleep(_ *Shell, c *call) int {
	if len(c.args) == 0 {
		fprint(c.err, "sleep: missing operand\nTry 'sleep --help' for more information.\n")
		return 1
	}
	var total time.Duration
	for _, a := range c.args {
		unit := time.Second
		switch {
		case strings.HasSuffix(a, "m"):
			unit, a = time.Minute, strings.TrimSuffix(a, "m")
		case strings.HasSuffix(a, "h"):
			unit, a = time.Hour, strings.TrimSuffix(a, "h")
		case strings.HasSuffix(a, "s"):
			a = strings.TrimSuffix(a, "s")
		}
		v, err := strconv.ParseFloat(a, 64)
		if err != nil || v < 0 {
			fprintf(c.err, "sleep: invalid time interval '%s'\nTry 'sleep --help' for more information.\n", a)
			return 1
		}
		total += time.Duration(v * float64(unit))
	}
	return sleepFor(c, total)
}

func progDate(sh *Shell, c *call) int {
	now := sh.now().UTC()
	if len(c.args) > 0 && strings.HasPrefix(c.args[0], "+") {
		f := c.args[0][1:]
		r := strings.NewReplacer("%Y", now.Format("2006"), "%m", now.Format("01"), "%d", now.Format("02"), "%H", now.Format("15"), "%M", now.Format("04"), "%S", now.Format("05"), "%s", strconv.FormatInt(now.Unix(), 10), "%F", now.Format("2006-01-02"), "%T", now.Format("15:04:05"))
		fprintln(c.out, r.Replace(f))
		return 0
	}
	fprintln(c.out, now.Format("Mon Jan _2 03:04:05 PM MST 2006"))
	return 0
}

func progClear(_ *Shell, c *call) int {
	fprint(c.out, "\x1b[H\x1b[2J\x1b[3J")
	return 0
}

// progSh runs bash or Debian's /bin/sh (dash) on a -c string, a file,
// or its standard input.
func progSh(sh *Shell, c *call) int {
	dash := c.name != "bash"
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if a == "-c" && i+1 < len(c.args) {
			return sh.runScript(c, c.args[i+1], script{name: c.name, dash: dash, fromC: true})
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		data, err := sh.readPath(a)
		switch {
		case err != nil && dash:
			fprintf(c.err, "%s: 0: cannot open %s: No such file\n", c.name, a)
			return 2
		case err != nil:
			fprintf(c.err, "%s: %s: %s\n", c.name, a, err)
			return 127
		}
		return sh.runScript(c, string(data), script{name: a, dash: dash})
	}
	if c.hasStdin {
		return sh.runScript(c, string(c.stdin), script{name: c.name, dash: dash})
	}
	return 0
}
