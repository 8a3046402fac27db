package shell

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// OSBusyBox selects the BusyBox ash shell of an embedded Linux device
// (router, camera, DVR), the kind of host Mirai-style bots log into.
const OSBusyBox = "busybox"

// bbVersion is the BusyBox release of every firmware below. One widely
// shipped release keeps the banner, the help text and the applet list
// consistent with each other.
const bbVersion = "v1.31.1"

// firmware is one device build: SoC, kernel and BusyBox binary agree.
type firmware struct {
	kernel kernelBuild
	// built is the build stamp BusyBox prints after its version.
	built string
	// machine is uname -m.
	machine string
	// elf describes the BusyBox binary's ELF header.
	bigEndian  bool
	elfMachine uint16
	elfFlags   uint32
	entry      uint32
	cpuinfo    string
	memMiB     uint64
	// toolchain is the compiler of /proc/version.
	toolchain string
}

// NOTE: the builds are modelled on common SoC families: Qualcomm Atheros
// MIPS 24Kc routers, MediaTek MT7621 routers and HiSilicon ARM cameras.
// Their strings follow those kernels' /proc formats, but no device was
// captured, so build stamps and toolchain strings are estimates.
var firmwares = []firmware{
	{
		kernel:     kernelBuild{"4.14.180", "#0 Thu May 14 15:14:41 2020", "Thu May 14 15:14:41 2020"},
		built:      "2020-05-14 15:14:41 UTC",
		machine:    "mips",
		bigEndian:  true,
		elfMachine: 8,
		elfFlags:   0x70001007,
		entry:      0x00404b60,
		memMiB:     64,
		toolchain:  "gcc version 7.5.0 (OpenWrt GCC 7.5.0 r11063-85e04e9f46)",
		cpuinfo: "system type\t\t: Qualcomm Atheros QCA9533 ver 2 rev 0\n" +
			"machine\t\t\t: TP-Link TL-WR841N/ND v9\n" +
			"processor\t\t: 0\n" +
			"cpu model\t\t: MIPS 24Kc V7.4\n" +
			"BogoMIPS\t\t: 432.53\n" +
			"wait instruction\t: yes\n" +
			"microsecond timers\t: yes\n" +
			"tlb_entries\t\t: 16\n" +
			"extra interrupt vector\t: yes\n" +
			"hardware watchpoint\t: yes, count: 4, address/irw mask: [0x0ffc, 0x0ffc, 0x0ffb, 0x0ffb]\n" +
			"isa\t\t\t: mips1 mips2 mips32r1 mips32r2\n" +
			"ASEs implemented\t: mips16\n" +
			"shadow register sets\t: 1\n" +
			"kscratch registers\t: 0\n" +
			"package\t\t\t: 0\n" +
			"core\t\t\t: 0\n" +
			"VCED exceptions\t\t: not available\n" +
			"VCEI exceptions\t\t: not available\n\n",
	},
	{
		kernel:     kernelBuild{"4.14.171", "#0 SMP Thu Feb 27 21:05:12 2020", "Thu Feb 27 21:05:12 2020"},
		built:      "2020-02-27 21:05:12 UTC",
		machine:    "mips",
		elfMachine: 8,
		elfFlags:   0x70001007,
		entry:      0x00404a10,
		memMiB:     128,
		toolchain:  "gcc version 7.5.0 (OpenWrt GCC 7.5.0 r10947-65030d81f3)",
		cpuinfo:    mt7621CPUInfo(),
	},
	{
		kernel:     kernelBuild{"3.18.20", "#1 Fri Mar 6 17:39:48 CST 2020", "Fri Mar 6 17:39:48 CST 2020"},
		built:      "2020-03-06 17:21:07 CST",
		machine:    "armv7l",
		elfMachine: 40,
		elfFlags:   0x05000200,
		entry:      0x0000d1f8,
		memMiB:     64,
		toolchain:  "gcc version 4.9.4 20150629 (prerelease) (Hisilicon_v500_20170922)",
		cpuinfo: "processor\t: 0\n" +
			"model name\t: ARMv7 Processor rev 5 (v7l)\n" +
			"BogoMIPS\t: 1196.03\n" +
			"Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm \n" +
			"CPU implementer\t: 0x41\n" +
			"CPU architecture: 7\n" +
			"CPU variant\t: 0x0\n" +
			"CPU part\t: 0xc07\n" +
			"CPU revision\t: 5\n\n" +
			"Hardware\t: Generic DT based system\n" +
			"Revision\t: 0000\n" +
			"Serial\t\t: 0000000000000000\n",
	},
}

func mt7621CPUInfo() string {
	var b strings.Builder
	b.WriteString("system type\t\t: MediaTek MT7621 ver:1 eco:3\nmachine\t\t\t: Xiaomi Mi Router 3G\n")
	for i := range 4 {
		fmt.Fprintf(&b, "processor\t\t: %d\ncpu model\t\t: MIPS 1004Kc V2.15\nBogoMIPS\t\t: 586.13\n"+
			"wait instruction\t: yes\nmicrosecond timers\t: yes\ntlb_entries\t\t: 32\nextra interrupt vector\t: yes\n"+
			"hardware watchpoint\t: yes, count: 4, address/irw mask: [0x0ffc, 0x0ffc, 0x0ffb, 0x0ffb]\n"+
			"isa\t\t\t: mips1 mips2 mips32r1 mips32r2\nASEs implemented\t: mips16 dsp mt\nshadow register sets\t: 1\n"+
			"kscratch registers\t: 0\npackage\t\t\t: 0\ncore\t\t\t: %d\nVPE\t\t\t: %d\n"+
			"VCED exceptions\t\t: not available\nVCEI exceptions\t\t: not available\n\n", i, i/2, i%2)
	}
	return b.String()
}

func busyboxPersona() *osPersona {
	kernels := make([]kernelBuild, len(firmwares))
	for i, f := range firmwares {
		kernels[i] = f.kernel
	}
	return &osPersona{
		id:      OSBusyBox,
		kernels: kernels,
		procVersion: func(k kernelBuild) string {
			f := firmwareFor(k)
			return "Linux version " + k.abi + " (builder@buildhost) (" + f.toolchain + ") " + k.version + "\n"
		},
		unameVersion: func(k kernelBuild) string { return k.version },
		unameTail:    "GNU/Linux",
		kernelPkg:    func(kernelBuild) []pkg { return nil },
		// ash prints its banner when it starts interactive. BusyBox
		// login prints no last-login line.
		motd: func(_ string, k kernelBuild) string {
			return "\n\nBusyBox " + bbVersion + " (" + firmwareFor(k).built + ") built-in shell (ash)\n" +
				"Enter 'help' for a list of built-in commands.\n\n"
		},
		defaultUser: "admin",
	}
}

// firmwareFor finds the build a kernel belongs to. The host picks its
// kernel from the persona's list, so a match always exists.
func firmwareFor(k kernelBuild) *firmware {
	for i := range firmwares {
		if firmwares[i].kernel.abi == k.abi {
			return &firmwares[i]
		}
	}
	return &firmwares[0]
}

func (sh *Shell) busybox() bool { return sh.cfg.OS == OSBusyBox }

func (sh *Shell) firmware() *firmware { return firmwareFor(sh.host.kernel) }

// bbApplets is the applet list of the firmware's BusyBox build, sorted
// as busybox --list prints it.
var bbApplets = strings.Fields(`[ [[ arping ash awk basename brctl cat chgrp chmod chown chroot clear
cmp cp crond crontab cut date dd devmem df dirname dmesg du echo egrep env
expr false fgrep find free fsync grep gunzip gzip halt head hexdump hostid
hwclock id ifconfig init insmod ip kill killall klogd less ln lock logger
login ls lsmod md5sum mkdir mkfifo mknod mktemp mount mv nc netmsg netstat
nice nslookup passwd pgrep pidof ping ping6 pivot_root poweroff printf ps
pwd readlink reboot reset rm rmdir rmmod route sed seq sh sleep sort
start-stop-daemon strings switch_root sync sysctl syslogd tail tar tee
telnet telnetd test tftp time top touch tr traceroute true udhcpc umount
uname uniq uptime vi watch wc wget which xargs yes zcat`)

// bbUsrSbin are the applets installed in /usr/sbin.
var bbUsrSbin = strings.Fields("arping brctl crond telnetd")

// bbSbin are the applets installed in /sbin. The rest go to /bin or
// /usr/bin, as BusyBox's install layout places them.
var bbSbin = strings.Fields("devmem halt hwclock ifconfig init insmod klogd lsmod mknod pivot_root poweroff reboot rmmod route start-stop-daemon switch_root sysctl syslogd udhcpc")

var bbUsrBin = strings.Fields("[ [[ awk basename clear cmp crontab cut dirname du env expr find free fsync hexdump hostid id killall less logger md5sum mkfifo nc nslookup passwd pgrep printf readlink reset seq sort strings tail tee telnet test tftp time top tr traceroute uniq uptime wc wget which xargs yes")

// ashBuiltins are the builtins of BusyBox ash, in its help order.
var ashBuiltins = strings.Fields(". : [ [[ alias bg break cd chdir command continue echo eval exec exit export false fg getopts hash help history jobs kill let local printf pwd read readonly return set shift source test times trap true type ulimit umask unalias unset wait")

func isApplet(name string) bool {
	for _, a := range bbApplets {
		if a == name {
			return true
		}
	}
	return false
}

// bbBinarySize is the nominal size of the BusyBox binary, as ls shows it.
// Reads produce only its first bbBinaryCap bytes.
const (
	bbBinarySize = 498760
	bbBinaryCap  = 64 << 10
)

// bbBinary returns the start of the firmware's BusyBox executable: an
// ELF32 header for the device's architecture, its program headers, the
// interpreter path and seed-derived bytes. Bots read the header (with dd
// or cat) to choose which build of their malware to fetch.
func (sh *Shell) bbBinary() []byte {
	f := sh.firmware()
	var order interface {
		binary.ByteOrder
		binary.AppendByteOrder
	} = binary.LittleEndian
	data := byte(1)
	if f.bigEndian {
		order, data = binary.BigEndian, 2
	}
	const phnum, shnum = 6, 26
	b := make([]byte, 52, bbBinaryCap)
	copy(b, []byte{0x7f, 'E', 'L', 'F', 1, data, 1, 0})
	order.PutUint16(b[16:], 2) // ET_EXEC
	order.PutUint16(b[18:], f.elfMachine)
	order.PutUint32(b[20:], 1)
	order.PutUint32(b[24:], f.entry)
	order.PutUint32(b[28:], 52)
	order.PutUint32(b[32:], bbBinarySize-shnum*40)
	order.PutUint32(b[36:], f.elfFlags)
	order.PutUint16(b[40:], 52)
	order.PutUint16(b[42:], 32)
	order.PutUint16(b[44:], phnum)
	order.PutUint16(b[46:], 40)
	order.PutUint16(b[48:], shnum)
	order.PutUint16(b[50:], shnum-1)

	base := f.entry &^ 0xffff
	interp := "/lib/ld-uClibc.so.0\x00"
	interpOff := uint32(52 + phnum*32)
	textSize := uint32(bbBinarySize * 9 / 10)
	for _, ph := range [phnum][8]uint32{
		{6, 52, base + 52, base + 52, phnum * 32, phnum * 32, 5, 4},
		{3, interpOff, base + interpOff, base + interpOff, uint32(len(interp)), uint32(len(interp)), 4, 1},
		{1, 0, base, base, textSize, textSize, 5, 0x10000},
		{1, textSize, base + 0x10000 + textSize, base + 0x10000 + textSize, 0x2c40, 0x3a18, 6, 0x10000},
		{2, textSize + 0x180, base + 0x10180 + textSize, base + 0x10180 + textSize, 0xf8, 0xf8, 6, 4},
		{0x6474e551, 0, 0, 0, 0, 0, 7, 4},
	} {
		for _, v := range ph {
			b = order.AppendUint32(b, v)
		}
	}
	b = append(b, interp...)
	for i := 0; len(b) < bbBinaryCap; i++ {
		b = append(b, derive(sh.host.seed, "busybox text "+strconv.Itoa(i))...)
	}
	return b[:bbBinaryCap]
}

// bbMachine reports whether an executable's ELF header names the
// device's architecture and byte order.
func (sh *Shell) bbMachine(data []byte) bool {
	if len(data) < 20 {
		return false
	}
	f := sh.firmware()
	var m uint16
	if data[5] == 2 {
		m = binary.BigEndian.Uint16(data[18:])
	} else {
		m = binary.LittleEndian.Uint16(data[18:])
	}
	return m == f.elfMachine && (data[5] == 2) == f.bigEndian
}

// bbDispatch runs a command as BusyBox ash does: its builtins first,
// then PATH, where most names lead to the BusyBox binary itself.
func (sh *Shell) bbDispatch(c *call, inPipe bool) int {
	if c.ctx.Err() != nil {
		return 130
	}
	if c.name == "help" {
		return bbHelp(c)
	}
	if c.name == "cd" || c.name == "chdir" {
		if st, failed := sh.bbCdFailure(c); failed {
			return st
		}
		c.name = "cd"
	}
	if b, ok := builtins[c.name]; ok && isAshBuiltin(c.name) {
		if inPipe && (c.name == "exit" || c.name == "cd") {
			savedExit, savedCwd := sh.exited, sh.cwd
			status := b(sh, c)
			sh.exited, sh.cwd = savedExit, savedCwd
			return status
		}
		return b(sh, c)
	}
	p, n := sh.lookPath(c.name)
	if n == nil {
		fprintf(c.err, "%s%s: not found\n", sh.errPrefix(), c.name)
		return 127
	}
	if n.isDir() || !canExec(n, sh.uid) {
		fprintf(c.err, "%s%s: Permission denied\n", sh.errPrefix(), c.name)
		return 126
	}
	if n.name == "busybox" && n.gen != nil {
		return sh.bbApplet(path.Base(p), c)
	}
	if n.data != nil {
		data := n.content()
		// A copy of the BusyBox binary is still BusyBox, which runs the
		// applet its file is named after.
		if len(data) >= 64 && bytes.Equal(data[:64], sh.bbBinary()[:64]) {
			return sh.bbApplet(path.Base(p), c)
		}
		if len(data) >= 4 && string(data[1:4]) == "ELF" {
			// NOTE: a binary built for the device runs quietly, as bots'
			// loaders do once they daemonise. Any other architecture
			// fails the same way every time, and nothing is executed.
			// A download keeps only its magic because its bytes stay
			// in quarantine, so it counts as built for the device.
			if len(data) < 20 || sh.bbMachine(data) {
				return 0
			}
			fprint(c.err, "Illegal instruction\n")
			return 132
		}
		return sh.runScript(c, string(data), script{name: c.name, dash: true})
	}
	return 0
}

func isAshBuiltin(name string) bool {
	for _, b := range ashBuiltins {
		if b == name {
			return true
		}
	}
	return false
}

// bbApplet runs the applet name of the BusyBox binary.
func (sh *Shell) bbApplet(name string, c *call) int {
	c.name = name
	switch name {
	case "busybox":
		return sh.bbMain(c)
	case "sh", "ash":
		return progSh(sh, c)
	case "dd":
		return bbDD(sh, c)
	case "cat":
		return bbCat(sh, c)
	case "uname":
		return bbUname(sh, c)
	case "wget":
		return bbWget(sh, c)
	case "tftp":
		return bbTftp(sh, c)
	case "chmod":
		return bbChmod(sh, c)
	case "echo":
		return builtinEcho(sh, c)
	case "ps":
		return bbPs(sh, c)
	}
	if !isApplet(name) {
		fprintf(c.err, "%s: applet not found\n", name)
		return 127
	}
	// NOTE: applets without their own emulation answer as the Debian
	// tools do (free, uptime, id and others), whose layouts can differ
	// from BusyBox's.
	if f, ok := programs[name]; ok {
		return f(sh, c)
	}
	return 0
}

// bbMain runs the busybox command. Without an applet name it prints the
// help text and the applet list.
func (sh *Shell) bbMain(c *call) int {
	if len(c.args) == 0 || c.args[0] == "--help" {
		fprint(c.out, sh.bbUsage())
		return 0
	}
	if c.args[0] == "--list" {
		for _, a := range bbApplets {
			fprintln(c.out, a)
		}
		return 0
	}
	name := c.args[0]
	c.args = c.args[1:]
	return sh.bbApplet(name, c)
}

// bbUsage is busybox.c's help text for a build without standalone
// shell, with the applet list wrapped as it wraps it.
func (sh *Shell) bbUsage() string {
	var b strings.Builder
	b.WriteString("BusyBox " + bbVersion + " (" + sh.firmware().built + ") multi-call binary.\n" +
		"BusyBox is copyrighted by many authors between 1998-2015.\n" +
		"Licensed under GPLv2. See source distribution for detailed\n" +
		"copyright notices.\n\n" +
		"Usage: busybox [function [arguments]...]\n" +
		"   or: busybox --list\n" +
		"   or: function [arguments]...\n\n" +
		"\tBusyBox is a multi-call binary that combines many common Unix\n" +
		"\tutilities into a single executable.  Most people will create a\n" +
		"\tlink to busybox for each function they wish to use and BusyBox\n" +
		"\twill act like whatever it was invoked as.\n\n" +
		"Currently defined functions:\n")
	b.WriteString(wrapApplets(bbApplets))
	return b.String()
}

// wrapApplets lays out an applet list as busybox.c does for an
// 80-column terminal: tab-indented, comma-separated lines.
func wrapApplets(applets []string) string {
	var b strings.Builder
	// The effective width is one less than the terminal's (checked
	// against Debian's busybox 1.35 output).
	const width = 79
	col := 0
	for _, a := range applets {
		l := len(a) + 2
		if col >= width-l {
			b.WriteString(",\n")
			col = 0
		}
		if col == 0 {
			b.WriteString("\t")
			col = 6
		} else {
			b.WriteString(", ")
		}
		b.WriteString(a)
		col += l
	}
	b.WriteString("\n")
	return b.String()
}

// bbHelp is ash's help builtin.
func bbHelp(c *call) int {
	var b strings.Builder
	b.WriteString("Built-in commands:\n------------------\n")
	col := 0
	for _, name := range ashBuiltins {
		sep := " "
		if col == 0 {
			sep = "\t"
		}
		b.WriteString(sep + name)
		col += 1 + len(name)
		if col > 60 {
			b.WriteString("\n")
			col = 0
		}
	}
	b.WriteString("\n\n")
	fprint(c.out, b.String())
	return 0
}

func bbCat(sh *Shell, c *call) int {
	status := 0
	files := c.args
	if len(files) == 0 {
		write(c.out, c.stdin)
		return 0
	}
	for _, a := range files {
		if a == "-" {
			write(c.out, c.stdin)
			continue
		}
		data, err := sh.readPath(a)
		if err != nil {
			fprintf(c.err, "cat: can't open '%s': %s\n", a, err)
			status = 1
			continue
		}
		write(c.out, data)
	}
	return status
}

func bbUname(sh *Shell, c *call) int {
	h := sh.host
	set := map[byte]bool{}
	for _, a := range c.args {
		if !strings.HasPrefix(a, "-") || len(a) < 2 {
			fprint(c.err, "BusyBox "+bbVersion+" ("+sh.firmware().built+") multi-call binary.\n\nUsage: uname [-amnrspvio]\n")
			return 1
		}
		for i := 1; i < len(a); i++ {
			if !strings.ContainsRune("amnrspvio", rune(a[i])) {
				fprintf(c.err, "uname: invalid option -- '%c'\n", a[i])
				return 1
			}
			set[a[i]] = true
		}
	}
	all := set['a']
	var parts []string
	add := func(flag byte, v string) {
		if all || set[flag] {
			parts = append(parts, v)
		}
	}
	if len(set) == 0 {
		set['s'] = true
	}
	add('s', "Linux")
	add('n', h.hostname)
	add('r', h.kernel.abi)
	add('v', h.kernel.version)
	add('m', sh.firmware().machine)
	if !all {
		add('p', "unknown")
		add('i', "unknown")
	}
	add('o', "GNU/Linux")
	fprintln(c.out, strings.Join(parts, " "))
	return 0
}

func bbChmod(sh *Shell, c *call) int {
	var ops []string
	for _, a := range c.args {
		if a == "-R" {
			continue
		}
		ops = append(ops, a)
	}
	if len(ops) < 2 {
		fprint(c.err, "BusyBox "+bbVersion+" ("+sh.firmware().built+") multi-call binary.\n\nUsage: chmod [-Rcvf] MODE[,MODE]... FILE...\n")
		return 1
	}
	status := 0
	for _, a := range ops[1:] {
		n, err := sh.fs.lookup(abs(sh.cwd, a), true)
		if err != nil {
			fprintf(c.err, "chmod: %s: %s\n", a, err)
			status = 1
			continue
		}
		if v, err := strconv.ParseUint(ops[0], 8, 32); err == nil {
			n.mode = n.mode&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | fs.FileMode(v&0o777)
			continue
		}
		if !applySymbolic(n, ops[0]) {
			fprintf(c.err, "chmod: invalid mode '%s'\n", ops[0])
			return 1
		}
	}
	return status
}

// bbPs is BusyBox ps: the device's few daemons and the attacker's
// login shell, in the columns of a build with VSZ and STAT.
func bbPs(sh *Shell, c *call) int {
	h := sh.host
	pid := sh.shellPID()
	var b strings.Builder
	b.WriteString("  PID USER       VSZ STAT COMMAND\n")
	row := func(pid int, vsz int, stat, cmd string) {
		fmt.Fprintf(&b, "%5d %-8.8s %5d %-4s %s\n", pid, "root", vsz, stat, cmd)
	}
	row(1, 1536, "S", "init")
	for i, k := range []string{"[kthreadd]", "[ksoftirqd/0]", "[kworker/0:0H]", "[rcu_sched]", "[watchdog/0]", "[khungtaskd]", "[writeback]", "[kblockd]", "[kswapd0]", "[mtdblock0]", "[mtdblock1]", "[mtdblock2]", "[mtdblock3]", "[mtdblock4]", "[mtdblock5]"} {
		stat := "SW"
		if strings.HasSuffix(k, "H]") {
			stat = "SW<"
		}
		row(2+i, 0, stat, k)
	}
	base := 300 + pick(h.seed, "bb pids", 300)
	row(base, 1232, "S", "/sbin/syslogd -n")
	row(base+3, 1228, "S", "/sbin/klogd -n")
	row(base+41, 1236, "S", "/usr/sbin/crond -c /etc/crontabs")
	row(base+57, 1232, "S", "/usr/sbin/telnetd -F -l /bin/login")
	row(base+88, 1560, "S", "udhcpc -p /var/run/udhcpc.pid -s /etc/udhcpc.script -i eth0")
	row(pid, 1240, "S", "-sh")
	row(pid+1+sh.psCount, 1236, "R", "ps")
	sh.psCount++
	fprint(c.out, b.String())
	return 0
}

// bbCdFailure prints ash's message when cd cannot enter its operand.
// It reports false when the directory exists, leaving the change to cd.
func (sh *Shell) bbCdFailure(c *call) (int, bool) {
	if len(c.args) == 0 || c.args[0] == "-" || strings.HasPrefix(c.args[0], "-") && len(c.args) > 1 {
		return 0, false
	}
	dir := c.args[len(c.args)-1]
	n, err := sh.fs.lookup(abs(sh.cwd, dir), true)
	if err == nil && !n.isDir() {
		err = errNotDir
	}
	if err == nil {
		return 0, false
	}
	// ash names the line of a non-interactive shell, and a -c string's
	// line as 0.
	where := ""
	if !sh.interactive {
		line := sh.lineNo
		if sh.src.fromC {
			line = 0
		}
		where = "line " + strconv.Itoa(line) + ": "
	}
	fprintf(c.err, "%scd: %scan't cd to %s: %s\n", sh.errPrefix(), where, dir, err)
	return 2, true
}

// bbLsWidths widens ls -l columns to BusyBox's fixed minimums: four for
// links, eight for owner and group, nine for the size.
func bbLsWidths(w []int) []int {
	return []int{max(w[0], 4), max(w[1], 8), max(w[2], 8), max(w[3], 9)}
}
