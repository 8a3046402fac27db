package shell

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// initBusyBox adapts a new session to the embedded device: its memory,
// its file system and the environment BusyBox login and ash set.
func (sh *Shell) initBusyBox() {
	f := sh.firmware()
	// The kernel keeps its own image and reserved areas out of MemTotal.
	sh.host.memKiB = f.memMiB*1024 - 4096 - uint64(pick(sh.host.seed, "bb mem", 2048))
	sh.host.cpus = strings.Count(f.cpuinfo, "processor")
	sh.src = script{name: "sh", dash: true, fromC: true}
	sh.fs = sh.buildBusyBoxTree()
	sh.cwd = sh.home
	for _, kv := range [][2]string{
		{"USER", sh.userName()},
		{"HOME", sh.home},
		{"LOGNAME", sh.userName()},
		{"TERM", "vt102"},
		{"PATH", "/bin:/sbin:/usr/bin:/usr/sbin"},
		{"SHELL", "/bin/sh"},
		{"PWD", sh.cwd},
	} {
		sh.setVar(kv[0], kv[1])
		sh.exported[kv[0]] = true
	}
	// ash's own variables, which it does not export.
	sh.setVar("PS1", sh.bbPrompt())
	sh.setVar("PS2", "> ")
}

// buildBusyBoxTree lays out a squashfs root with tmpfs /tmp and /var,
// every command a link to /bin/busybox, and no package manager.
func (sh *Shell) buildBusyBoxTree() *vfs {
	h := sh.host
	built := h.boot.AddDate(0, -2, -pick(h.seed, "bb built", 60))
	v := &vfs{root: newDir("", 0o755, 0, 0, built), now: sh.now}
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "lib", "etc/init.d", "etc/config", "dev/pts", "mnt", "overlay", "proc", "rom", "root", "sys", "www"} {
		v.mkdirAll(d, built)
	}
	for _, d := range []string{"/tmp", "/var"} {
		n := v.mkdirAll(d, h.boot)
		n.mode = fs.ModeDir | fs.ModeSticky | 0o777
	}
	v.mkdirAll("/var/run", h.boot)
	v.mkdirAll("/var/log", h.boot)

	bin := v.put("/bin/busybox", 0o755, 0, 0, built, "")
	bin.data = nil
	bin.size = bbBinarySize
	bin.gen = sh.bbBinary
	for _, a := range bbApplets {
		switch {
		case contains(bbSbin, a):
			v.link("/sbin/"+a, "../bin/busybox", built)
		case contains(bbUsrSbin, a):
			v.link("/usr/sbin/"+a, "../../bin/busybox", built)
		case contains(bbUsrBin, a):
			v.link("/usr/bin/"+a, "../../bin/busybox", built)
		default:
			v.link("/bin/"+a, "busybox", built)
		}
	}
	v.put("/lib/ld-uClibc.so.0", 0o755, 0, 0, built, "").size = 28924

	v.put("/etc/passwd", 0o644, 0, 0, built, "root:x:0:0:root:/root:/bin/sh\ndaemon:*:1:1:daemon:/var:/bin/false\nftp:*:55:55:ftp:/home/ftp:/bin/false\nnetwork:*:101:101:network:/var:/bin/false\nnobody:*:65534:65534:nobody:/var:/bin/false\n")
	v.put("/etc/group", 0o644, 0, 0, built, "root:x:0:\ndaemon:x:1:\nadm:x:4:\nmail:x:8:\ndialout:x:20:\naudio:x:29:\nftp:x:55:\nusers:x:100:\nnetwork:x:101:\nnogroup:x:65534:\n")
	v.put("/etc/shadow", 0o600, 0, 0, h.boot, "root:"+sh.shadowHash("root")+":18383:0:99999:7:::\ndaemon:*:0:0:99999:7:::\nftp:*:0:0:99999:7:::\nnetwork:*:0:0:99999:7:::\nnobody:*:0:0:99999:7:::\n")
	v.put("/etc/hostname", 0o644, 0, 0, built, h.hostname+"\n")
	v.put("/etc/profile", 0o644, 0, 0, built, "[ -f /etc/banner ] && cat /etc/banner\nexport PATH=\"/bin:/sbin:/usr/bin:/usr/sbin\"\nexport HOME=$(grep -e \"^${USER:-root}:\" /etc/passwd | cut -d \":\" -f 6)\nexport HOME=${HOME:-/root}\n")
	v.put("/etc/inittab", 0o644, 0, 0, built, "::sysinit:/etc/init.d/rcS S boot\n::shutdown:/etc/init.d/rcS K shutdown\n::askconsole:/usr/libexec/login.sh\n")
	v.put("/etc/init.d/rcS", 0o755, 0, 0, built, "#!/bin/sh\n\nrun_scripts() {\n\tfor i in /etc/rc.d/$1*; do\n\t\t[ -x $i ] && $i $2 2>&1\n\tdone | $LOGGER\n}\n")
	v.put("/etc/resolv.conf", 0o644, 0, 0, h.boot, "nameserver "+h.gateway.String()+"\n")

	gen := func(p string, f func() string) {
		n := v.put("/proc/"+p, 0o444, 0, 0, h.boot, "")
		n.data = nil
		n.gen = func() []byte { return []byte(f()) }
	}
	fw := sh.firmware()
	gen("version", func() string { return h.persona.procVersion(h.kernel) })
	gen("cpuinfo", func() string { return fw.cpuinfo })
	gen("meminfo", sh.meminfo)
	gen("mounts", sh.bbMounts)
	gen("uptime", func() string {
		up := h.uptime(sh.now()).Seconds()
		return fmt.Sprintf("%.2f %.2f\n", up, up*float64(h.cpus)*0.93)
	})
	gen("cmdline", func() string { return "console=ttyS0,115200 rootfstype=squashfs,jffs2\n" })
	v.link("/proc/self", strconv.Itoa(sh.shellPID()), h.boot)
	for _, d := range []string{"null", "zero", "random", "urandom", "tty", "console"} {
		n := v.put("/dev/"+d, fs.ModeCharDevice|fs.ModeDevice|0o666, 0, 0, h.boot, "")
		n.gen = func() []byte { return nil }
	}
	return v
}

// bbMounts is /proc/mounts of a squashfs root with an overlay on a
// flash partition, sized from the device's memory.
func (sh *Shell) bbMounts() string {
	tmp := strconv.FormatUint(sh.host.memKiB/2, 10)
	return "/dev/root /rom squashfs ro,relatime 0 0\n" +
		"proc /proc proc rw,nosuid,nodev,noexec,noatime 0 0\n" +
		"sysfs /sys sysfs rw,nosuid,nodev,noexec,noatime 0 0\n" +
		"tmpfs /tmp tmpfs rw,nosuid,nodev,noatime,size=" + tmp + "k 0 0\n" +
		"/dev/mtdblock5 /overlay jffs2 rw,noatime 0 0\n" +
		"overlayfs:/overlay / overlay rw,noatime,lowerdir=/,upperdir=/overlay/upper,workdir=/overlay/work 0 0\n" +
		"tmpfs /dev tmpfs rw,nosuid,relatime,size=512k,mode=755 0 0\n" +
		"devpts /dev/pts devpts rw,nosuid,noexec,relatime,mode=600,ptmxmode=000 0 0\n"
}

// bbPrompt is "# " for root and "$ " otherwise, ash's defaults when the
// firmware's profile sets no PS1 for telnet logins.
func (sh *Shell) bbPrompt() string {
	if sh.uid == 0 {
		return "# "
	}
	return "$ "
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// bbStamp is the header of BusyBox's usage messages.
func (sh *Shell) bbStamp() string {
	return "BusyBox " + bbVersion + " (" + sh.firmware().built + ") multi-call binary.\n"
}
