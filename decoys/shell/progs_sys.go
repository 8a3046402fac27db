package shell

import (
	"fmt"
	"strconv"
	"strings"
)

// sysPrograms returns the emulated programs of the progs_* files. Their
// output comes from the persona and the host model, and none of them
// runs anything or touches the network.
func sysPrograms() map[string]cmdFunc {
	return map[string]cmdFunc{
		"ssh": progSSH, "nc": progNc, "netcat": progNc, "nc.traditional": progNc,
		"python3": progPython, "python3.11": progPython, "python3.12": progPython,
		"perl": progPerl, "sudo": progSudo, "lsb_release": progLsbRelease, "getent": progGetent,
		"locale": progLocale, "timedatectl": progTimedatectl, "journalctl": progJournalctl,
		"mount": progMount, "lsblk": progLsblk, "ss": progSs, "find": progFind,
		"systemctl": progSystemctl, "service": progService,
	}
}

// toolVersions are the versions the persona's packages print. Each must
// agree with the package list dpkg -l shows and with the SSH banner.
type toolVersions struct {
	python      string // "3.11.2"
	pythonBuild string // the "(main, ...) [GCC ...]" part of sys.version
	perl        [3]int // 5, 36, 0
	perlPatches int
	perlYear    string
	openssl     string // OpenSSL_version(OPENSSL_VERSION) of libssl
	sudo        string
	systemd     string // "252 (252.39-1~deb12u2)"
	lsbID       string
	lsbDesc     string
	lsbRelease  string
	lsbCodename string
	sshUsage    string
}

// The Debian values are the bookworm oracle's. NOTE: the Ubuntu build
// date of Python is a plausible value, not one read from a real host.
func (sh *Shell) versions() toolVersions {
	if sh.host.persona.id == OSUbuntu2404 {
		return toolVersions{
			python: "3.12.3", pythonBuild: "(main, Feb  4 2025, 14:48:35) [GCC 13.3.0]",
			perl: [3]int{5, 38, 2}, perlPatches: 51, perlYear: "2023",
			openssl: "OpenSSL 3.0.13 30 Jan 2024", sudo: "1.9.15p5",
			systemd: "255 (255.4-1ubuntu8.6)",
			lsbID:   "Ubuntu", lsbDesc: "Ubuntu 24.04.4 LTS", lsbRelease: "24.04", lsbCodename: "noble",
			sshUsage: sshUsage96,
		}
	}
	return toolVersions{
		python: "3.11.2", pythonBuild: "(main, May 12 2026, 05:17:27) [GCC 12.2.0]",
		perl: [3]int{5, 36, 0}, perlPatches: 60, perlYear: "2022",
		openssl: "OpenSSL 3.0.20 7 Apr 2026", sudo: "1.9.13p3",
		systemd: "252 (252.39-1~deb12u2)",
		lsbID:   "Debian", lsbDesc: "Debian GNU/Linux 12 (bookworm)", lsbRelease: "12", lsbCodename: "bookworm",
		sshUsage: sshUsage92,
	}
}

const sshUsage92 = `usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface]
           [-b bind_address] [-c cipher_spec] [-D [bind_address:]port]
           [-E log_file] [-e escape_char] [-F configfile] [-I pkcs11]
           [-i identity_file] [-J [user@]host[:port]] [-L address]
           [-l login_name] [-m mac_spec] [-O ctl_cmd] [-o option] [-p port]
           [-Q query_option] [-R address] [-S ctl_path] [-W host:port]
           [-w local_tun[:remote_tun]] destination [command [argument ...]]
`

const sshUsage96 = `usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]
           [-c cipher_spec] [-D [bind_address:]port] [-E log_file]
           [-e escape_char] [-F configfile] [-I pkcs11] [-i identity_file]
           [-J destination] [-L address] [-l login_name] [-m mac_spec]
           [-O ctl_cmd] [-o option] [-P tag] [-p port] [-R address]
           [-S ctl_path] [-W host:port] [-w local_tun[:remote_tun]]
           destination [command [argument ...]]
       ssh [-Q query_option]
`

// sshRelease is SSH_RELEASE as the distribution patches it, derived
// from the openssh-client package so that it matches the server banner
// (which comes from the same source package): "1:9.2p1-2+deb12u10"
// becomes "OpenSSH_9.2p1 Debian-2+deb12u10".
func (sh *Shell) sshRelease() string {
	v := sh.packageVersion("openssh-client")
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	upstream, rev, _ := strings.Cut(v, "-")
	vendor := "Debian"
	if sh.host.persona.id == OSUbuntu2404 {
		vendor = "Ubuntu"
	}
	return "OpenSSH_" + upstream + " " + vendor + "-" + rev
}

// progSSH prints the version or usage, and reports any connection as
// refused: the decoy never opens one.
func progSSH(sh *Shell, c *call) int {
	v := sh.versions()
	port := "22"
	var dest string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-V":
			fprintf(c.err, "%s, %s\n", sh.sshRelease(), v.openssl)
			return 0
		case a == "-p" && i+1 < len(c.args):
			i++
			port = c.args[i]
		case strings.HasPrefix(a, "-p") && len(a) > 2:
			port = a[2:]
		case len(a) == 2 && strings.ContainsRune("BbcDEeFIiJLlmOoQRSWw", rune(a[1])) && a[0] == '-':
			i++
		case strings.HasPrefix(a, "-"):
		default:
			dest = a
		}
		if dest != "" {
			break
		}
	}
	if dest == "" {
		fprint(c.err, v.sshUsage)
		return 255
	}
	if _, host, ok := strings.Cut(dest, "@"); ok {
		dest = host
	}
	fprintf(c.err, "ssh: connect to host %s port %s: Connection refused\n", dest, port)
	return 255
}

const ncUsage = `[v1.10-47]
connect to somewhere:	nc [-options] hostname port[s] [ports] ... 
listen for inbound:	nc -l -p port [-options] [hostname] [port]
options:
	-c shell commands	as '-e'; use /bin/sh to exec [dangerous!!]
	-e filename		program to exec after connect [dangerous!!]
	-b			allow broadcasts
	-g gateway		source-routing hop point[s], up to 8
	-G num			source-routing pointer: 4, 8, 12, ...
	-h			this cruft
	-i secs			delay interval for lines sent, ports scanned
        -k                      set keepalive option on socket
	-l			listen mode, for inbound connects
	-n			numeric-only IP addresses, no DNS
	-o file			hex dump of traffic
	-p port			local port number
	-r			randomize local and remote ports
	-q secs			quit after EOF on stdin and delay of secs
	-s addr			local source address
	-T tos			set Type Of Service
	-t			answer TELNET negotiation
	-u			UDP mode
	-v			verbose [use twice to be more verbose]
	-w secs			timeout for connects and final net reads
	-C			Send CRLF as line-ending
	-z			zero-I/O mode [used for scanning]
port numbers can be individual or ranges: lo-hi [inclusive];
hyphens in port names must be backslash escaped (e.g. 'ba\-c')
`

const ncOpenBSDUsage = `usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]
	  [-m minttl] [-O length] [-P proxy_username] [-p source_port]
	  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]
	  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]
	  [destination] [port]
`

// progNc is netcat-traditional, which the Debian persona's package list
// installs as nc. Connects are refused and listeners see no client; no
// socket is opened.
func progNc(sh *Shell, c *call) int {
	if sh.host.persona.id == OSUbuntu2404 {
		return progNcOpenBSD(c)
	}
	var pos []string
	listen, verbose := false, false
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if !strings.HasPrefix(a, "-") || len(a) < 2 {
			pos = append(pos, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case 'h':
				fprint(c.err, ncUsage)
				return 0
			case 'l':
				listen = true
			case 'v':
				verbose = true
			case 'n', 'u', 'z', 'k', 'r', 't', 'b', 'C':
			case 'c', 'e', 'g', 'G', 'i', 'o', 'p', 'q', 's', 'T', 'w':
				if j == len(a)-1 {
					i++
				}
				j = len(a)
			default:
				fprintf(c.err, "nc: invalid option -- '%c'\n%s", a[j], "nc -h for help\n")
				return 1
			}
		}
	}
	if listen {
		// NOTE: a real listener waits for a client; the emulation
		// behaves as if the attacker interrupted it at once.
		if verbose {
			fprint(c.err, "listening on [any] ...\n")
		}
		return 1
	}
	switch len(pos) {
	case 0:
		// With no arguments nc reads its command line from stdin,
		// which holds nothing here.
		fprint(c.err, "Cmd line: wrong\n")
		return 1
	case 1:
		fprint(c.err, "no port[s] to connect to\n")
		return 1
	}
	host := pos[0]
	if isIPv4(host) {
		fprintf(c.err, "(UNKNOWN) [%s] %s (?) : Connection refused\n", host, pos[1])
	} else {
		fprintf(c.err, "%s: forward host lookup failed: Unknown host\n", host)
	}
	return 1
}

// progNcOpenBSD is netcat-openbsd, Ubuntu's nc. It has no -e, and
// reports a refused connect only with -v.
// NOTE: the usage text is netcat-openbsd 1.226's as documented, not
// read from a noble host.
func progNcOpenBSD(c *call) int {
	var pos []string
	verbose, listen := false, false
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if !strings.HasPrefix(a, "-") || len(a) < 2 {
			pos = append(pos, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			switch {
			case a[j] == 'v':
				verbose = true
			case a[j] == 'l':
				listen = true
			case strings.IndexByte("46CDdFhkNnrStUuZz", a[j]) >= 0:
			case strings.IndexByte("IiMmOPpqsTVWwXx", a[j]) >= 0:
				if j == len(a)-1 {
					i++
				}
				j = len(a)
			default:
				fprintf(c.err, "nc: invalid option -- '%c'\n%s", a[j], ncOpenBSDUsage)
				return 1
			}
		}
	}
	if listen {
		if verbose && len(pos) > 0 {
			fprintf(c.err, "Listening on 0.0.0.0 %s\n", pos[len(pos)-1])
		}
		return 1
	}
	if len(pos) < 2 {
		fprint(c.err, ncOpenBSDUsage)
		return 1
	}
	if verbose {
		fprintf(c.err, "nc: connect to %s port %s (tcp) failed: Connection refused\n", pos[0], pos[1])
	}
	return 1
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return false
		}
	}
	return true
}

// progSudo emulates sudo for a user whose password the decoy cannot
// know. Version and usage work, and anything that needs authentication
// fails as after an empty password. Root needs no password.
func progSudo(sh *Shell, c *call) int {
	if len(c.args) == 0 {
		fprint(c.err, "usage: sudo -h | -K | -k | -V\nusage: sudo -v [-ABkNnS] [-g group] [-h host] [-p prompt] [-u user]\n")
		return 1
	}
	args := c.args
	list, version, nonInteractive := false, false, false
opts:
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		args = args[1:]
		switch a {
		case "--":
			break opts
		case "-l", "--list", "-ll":
			list = true
		case "-V", "--version":
			version = true
		case "-n", "--non-interactive":
			nonInteractive = true
		case "-u", "-g", "-p", "-h", "-C", "-D", "-r", "-t", "-U", "-T":
			if len(args) > 0 {
				args = args[1:]
			}
		}
	}
	if version {
		v := sh.versions().sudo
		// NOTE: for root sudo -V goes on with its configure options and
		// defaults; the emulation prints the unprivileged form.
		fprintf(c.out, "Sudo version %s\nSudoers policy plugin version %[1]s\nSudoers file grammar version 50\nSudoers I/O plugin version %[1]s\nSudoers audit plugin version %[1]s\n", v)
		return 0
	}
	if sh.uid != 0 {
		if nonInteractive {
			fprint(c.err, "sudo: a password is required\n")
			return 1
		}
		// The prompt reads nothing, so sudo fails as after empty
		// tries.
		fprintf(c.err, "[sudo] password for %s: \nsudo: a password is required\n", sh.admin)
		return 1
	}
	if list {
		h := sh.host.hostname
		fprintf(c.out, "Matching Defaults entries for root on %s:\n    env_reset, mail_badpass, secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin, use_pty\n\nUser root may run the following commands on %s:\n    (ALL : ALL) ALL\n", h, h)
		return 0
	}
	if len(args) == 0 {
		return 0
	}
	sub := *c
	sub.name, sub.args = args[0], args[1:]
	return sh.dispatch(&sub, false)
}

func progLsbRelease(sh *Shell, c *call) int {
	v := sh.versions()
	// The lsb-release of both releases is the minimal one, which no
	// longer prints "No LSB modules are available.".
	short := false
	var show []string
	for _, a := range c.args {
		switch a {
		case "-s", "--short":
			short = true
		case "-a", "--all":
			show = append(show, "i", "d", "r", "c")
		case "-i", "--id":
			show = append(show, "i")
		case "-d", "--description":
			show = append(show, "d")
		case "-r", "--release":
			show = append(show, "r")
		case "-c", "--codename":
			show = append(show, "c")
		case "-is", "-si":
			short = true
			show = append(show, "i")
		case "-rs", "-sr":
			short = true
			show = append(show, "r")
		case "-cs", "-sc":
			short = true
			show = append(show, "c")
		case "-ds", "-sd":
			short = true
			show = append(show, "d")
		}
	}
	rows := map[string][2]string{
		"i": {"Distributor ID", v.lsbID}, "d": {"Description", v.lsbDesc},
		"r": {"Release", v.lsbRelease}, "c": {"Codename", v.lsbCodename},
	}
	seen := map[string]bool{}
	for _, k := range []string{"i", "d", "r", "c"} {
		for _, s := range show {
			if s == k && !seen[k] {
				seen[k] = true
				if short {
					fprintln(c.out, rows[k][1])
				} else {
					fprintf(c.out, "%s:\t%s\n", rows[k][0], rows[k][1])
				}
			}
		}
	}
	return 0
}

// progGetent reads the emulated files behind the passwd, group, shadow
// and hosts databases.
func progGetent(sh *Shell, c *call) int {
	const try = "Try `getent --help' or `getent --usage' for more information.\n"
	if len(c.args) == 0 {
		// The hint goes to stdout, as glibc's argp prints it.
		fprint(c.err, "getent: wrong number of arguments\n")
		fprint(c.out, try)
		return 1
	}
	files := map[string]string{"passwd": "/etc/passwd", "group": "/etc/group", "shadow": "/etc/shadow", "gshadow": "/etc/gshadow", "hosts": "/etc/hosts"}
	db := c.args[0]
	file, ok := files[db]
	if !ok {
		fprintf(c.err, "Unknown database: %s\n", db)
		fprint(c.out, try)
		return 1
	}
	data, err := sh.readPath(file)
	if err != nil {
		// An unreadable shadow file enumerates as empty.
		return 2
	}

	keys := c.args[1:]
	var lines []string
	for l := range strings.SplitSeq(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}

	if len(keys) == 0 {
		if db == "hosts" {
			for _, l := range lines {
				f := strings.Fields(l)
				if len(f) >= 2 {
					fprintf(c.out, "%-15s %s\n", f[0], strings.Join(f[1:], " "))
				}
			}
			return 0
		}
		for _, l := range lines {
			fprintln(c.out, l)
		}
		return 0
	}

	status := 0
	for _, k := range keys {
		if !getentKey(c, db, lines, k) {
			status = 2
		}
	}
	return status
}

func getentKey(c *call, db string, lines []string, key string) bool {
	for _, l := range lines {
		if db == "hosts" {
			f := strings.Fields(l)
			for _, name := range f[1:] {
				if name == key || f[0] == key {
					fprintf(c.out, "%-15s %s\n", f[0], strings.Join(f[1:], " "))
					return true
				}
			}
			continue
		}
		f := strings.Split(l, ":")
		if f[0] == key || (len(f) > 2 && (db == "passwd" || db == "group") && f[2] == key) {
			fprintln(c.out, l)
			return true
		}
	}
	return false
}

var localeCategories = []string{"LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY", "LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION"}

func progLocale(sh *Shell, c *call) int {
	if len(c.args) > 0 && (c.args[0] == "-a" || c.args[0] == "--all-locales") {
		fprint(c.out, "C\nC.utf8\nPOSIX\n")
		return 0
	}
	lang := sh.exportedVar("LANG")
	all := sh.exportedVar("LC_ALL")
	fprintf(c.out, "LANG=%s\nLANGUAGE=%s\n", lang, sh.exportedVar("LANGUAGE"))
	for _, cat := range localeCategories {
		v := sh.exportedVar(cat)
		switch {
		case all != "":
			fprintf(c.out, "%s=\"%s\"\n", cat, all)
		case v != "":
			fprintf(c.out, "%s=%s\n", cat, v)
		case lang != "":
			fprintf(c.out, "%s=\"%s\"\n", cat, lang)
		default:
			fprintf(c.out, "%s=\"POSIX\"\n", cat)
		}
	}
	fprintf(c.out, "LC_ALL=%s\n", all)
	return 0
}

func (sh *Shell) exportedVar(name string) string {
	if !sh.exported[name] {
		return ""
	}
	return sh.vars[name]
}

func progTimedatectl(sh *Shell, c *call) int {
	if len(c.args) > 0 && c.args[0] != "status" {
		if sh.uid != 0 && c.args[0] != "show" && c.args[0] != "list-timezones" && c.args[0] != "timesync-status" {
			fprint(c.err, "Failed to "+strings.TrimPrefix(c.args[0], "set-")+": Access denied\n")
			return 1
		}
		if c.args[0] == "list-timezones" {
			fprint(c.out, "Etc/UTC\nUTC\n")
		}
		return 0
	}
	now := sh.now().UTC()
	fprintf(c.out, "               Local time: %s UTC\n           Universal time: %[1]s UTC\n                 RTC time: %[1]s\n                Time zone: Etc/UTC (UTC, +0000)\nSystem clock synchronized: yes\n              NTP service: active\n          RTC in local TZ: no\n", now.Format("Mon 2006-01-02 15:04:05"))
	return 0
}

// progJournalctl shows an empty journal, as a host with a volatile
// journal shortly after rotation does.
// NOTE: a live host would have entries; the emulation keeps none.
func progJournalctl(sh *Shell, c *call) int {
	if sh.uid != 0 {
		fprint(c.out, "Hint: You are currently not seeing messages from other users and the system.\n      Users in groups 'adm', 'systemd-journal' can see all messages.\n      Pass -q to turn off this notice.\n")
	}
	fprint(c.out, "-- No entries --\n")
	return 0
}

func progMount(sh *Shell, c *call) int {
	var pos []string
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") {
			pos = append(pos, a)
		}
	}
	if len(pos) == 0 {
		for l := range strings.SplitSeq(strings.TrimSuffix(sh.mounts(), "\n"), "\n") {
			f := strings.Fields(l)
			if len(f) >= 4 {
				fprintf(c.out, "%s on %s type %s (%s)\n", f[0], f[1], f[2], f[3])
			}
		}
		return 0
	}
	target := pos[len(pos)-1]
	if sh.uid != 0 {
		fprintf(c.err, "mount: %s: must be superuser to use mount.\n", target)
		return 1
	}
	if len(pos) == 1 {
		fprintf(c.err, "mount: %s: can't find in /etc/fstab.\n", target)
		return 1
	}
	if _, err := sh.fs.lookup(abs(sh.cwd, pos[0]), true); err != nil {
		fprintf(c.err, "mount: %s: special device %s does not exist.\n", target, pos[0])
		return 32
	}
	fprintf(c.err, "mount: %s: permission denied.\n", target)
	return 32
}

func progLsblk(sh *Shell, c *call) int {
	part := sh.rootDev()
	disk := strings.TrimRight(part, "0123456789")
	disk = strings.TrimSuffix(disk, "p")
	major, pmin := 254, 1
	switch {
	case strings.HasPrefix(disk, "sd"):
		major = 8
	case strings.HasPrefix(disk, "nvme"):
		major, pmin = 259, 1
	}
	// The model keeps the file system size; the disk is that over the
	// 96 % the file system gets.
	size := humanLsblk(sh.host.diskKiB * 100 / 96 * 1024)
	fprint(c.out, "NAME    MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS\n")
	fprintf(c.out, "%-7s %3d:0    0 %4s  0 disk \n", disk, major, size)
	fprintf(c.out, "%-7s %3d:%d    0 %4s  0 part /\n", "\u2514\u2500"+part, major, pmin, size)
	return 0
}

// humanLsblk is util-linux's size_to_human_string: binary units, one
// decimal unless it is zero.
func humanLsblk(b uint64) string {
	v := float64(b)
	units := []string{"B", "K", "M", "G", "T"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + units[i]
}

// progSs lists the sockets of the modelled services: sshd on port 22.
// TODO: the decky's other decoys are not known to the shell; their
// ports belong here once the session config carries them.
func progSs(sh *Shell, c *call) int {
	procs := false
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsRune(a, 'p') {
			procs = true
		}
	}
	pid := sh.host.pidBase + 341
	users := func(fd int) string {
		if !procs || sh.uid != 0 {
			return ""
		}
		return fmt.Sprintf("users:((\"sshd\",pid=%d,fd=%d))", pid, fd)
	}
	fprint(c.out, "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n")
	fprintf(c.out, "LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    %s\n", users(3))
	fprintf(c.out, "LISTEN 0      128             [::]:22           [::]:*    %s\n", users(4))
	return 0
}
