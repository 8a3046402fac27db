package shell

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// account is one /etc/passwd entry.
type account struct {
	name  string
	uid   int
	gid   int
	gecos string
	home  string
	shell string
}

var systemAccounts = []account{
	{"root", 0, 0, "root", "/root", "/bin/bash"},
	{"daemon", 1, 1, "daemon", "/usr/sbin", "/usr/sbin/nologin"},
	{"bin", 2, 2, "bin", "/bin", "/usr/sbin/nologin"},
	{"sys", 3, 3, "sys", "/dev", "/usr/sbin/nologin"},
	{"sync", 4, 65534, "sync", "/bin", "/bin/sync"},
	{"games", 5, 60, "games", "/usr/games", "/usr/sbin/nologin"},
	{"man", 6, 12, "man", "/var/cache/man", "/usr/sbin/nologin"},
	{"lp", 7, 7, "lp", "/var/spool/lpd", "/usr/sbin/nologin"},
	{"mail", 8, 8, "mail", "/var/mail", "/usr/sbin/nologin"},
	{"news", 9, 9, "news", "/var/spool/news", "/usr/sbin/nologin"},
	{"uucp", 10, 10, "uucp", "/var/spool/uucp", "/usr/sbin/nologin"},
	{"proxy", 13, 13, "proxy", "/bin", "/usr/sbin/nologin"},
	{"www-data", 33, 33, "www-data", "/var/www", "/usr/sbin/nologin"},
	{"backup", 34, 34, "backup", "/var/backups", "/usr/sbin/nologin"},
	{"list", 38, 38, "Mailing List Manager", "/var/list", "/usr/sbin/nologin"},
	{"irc", 39, 39, "ircd", "/run/ircd", "/usr/sbin/nologin"},
	{"_apt", 42, 65534, "", "/nonexistent", "/usr/sbin/nologin"},
	{"nobody", 65534, 65534, "nobody", "/nonexistent", "/usr/sbin/nologin"},
	{"systemd-network", 998, 998, "systemd Network Management", "/", "/usr/sbin/nologin"},
	{"systemd-timesync", 997, 997, "systemd Time Synchronization", "/", "/usr/sbin/nologin"},
	{"messagebus", 100, 107, "", "/nonexistent", "/usr/sbin/nologin"},
	{"sshd", 101, 65534, "", "/run/sshd", "/usr/sbin/nologin"},
}

const groupFile = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
news:x:9:
uucp:x:10:
man:x:12:
proxy:x:13:
kmem:x:15:
dialout:x:20:
fax:x:21:
voice:x:22:
cdrom:x:24:%[1]s
floppy:x:25:%[1]s
tape:x:26:
sudo:x:27:%[1]s
audio:x:29:%[1]s
dip:x:30:%[1]s
www-data:x:33:
backup:x:34:
operator:x:37:
list:x:38:
irc:x:39:
src:x:40:
shadow:x:42:
utmp:x:43:
video:x:44:%[1]s
sasl:x:45:
plugdev:x:46:%[1]s
staff:x:50:
games:x:60:
users:x:100:%[1]s
nogroup:x:65534:
systemd-journal:x:999:
systemd-network:x:998:
systemd-timesync:x:997:
crontab:x:101:
input:x:102:
sgx:x:103:
kvm:x:104:
render:x:105:
netdev:x:106:%[1]s
messagebus:x:107:
ssh:x:108:
%[1]s:x:1000:
`

func (sh *Shell) accounts() []account {
	out := append([]account{}, systemAccounts...)
	return append(out, account{sh.admin, 1000, 1000, sh.admin + ",,,", "/home/" + sh.admin, "/bin/bash"})
}

// buildTree lays out the decky's file system for one session.
func (sh *Shell) buildTree() *vfs {
	h := sh.host
	inst := h.installed
	pkgTime := time.Date(2023, 6, 10, 8, 12, 0, 0, time.UTC)
	v := &vfs{root: newDir("", 0o755, 0, 0, inst), now: sh.now}

	for _, d := range []string{"boot/grub", "dev/pts", "dev/shm", "etc/ssh", "etc/cron.d", "etc/cron.daily", "etc/network", "etc/apt/sources.list.d", "etc/systemd/system", "home", "media", "mnt", "opt", "proc", "run/sshd", "srv", "sys", "usr/local/bin", "usr/local/sbin", "usr/local/lib", "usr/local/share", "usr/share/doc", "usr/lib/x86_64-linux-gnu", "usr/lib64", "usr/games", "usr/include", "usr/src", "var/backups", "var/cache/apt", "var/lib/apt/lists", "var/lib/dpkg", "var/local", "var/mail", "var/opt", "var/spool/cron/crontabs", "var/www/html"} {
		v.mkdirAll(d, inst)
	}
	v.link("/bin", "usr/bin", inst)
	v.link("/sbin", "usr/sbin", inst)
	v.link("/lib", "usr/lib", inst)
	v.link("/lib64", "usr/lib64", inst)
	v.link("/var/run", "/run", inst)
	v.link("/var/lock", "/run/lock", inst)
	v.link("/vmlinuz", "boot/vmlinuz-"+h.kernel.abi, inst)
	v.link("/initrd.img", "boot/initrd.img-"+h.kernel.abi, inst)

	tmp := v.mkdirAll("/tmp", inst)
	tmp.mode = fs.ModeDir | fs.ModeSticky | 0o777
	tmp.mtime = sh.now().Add(-17 * time.Minute)
	vt := v.mkdirAll("/var/tmp", inst)
	vt.mode = fs.ModeDir | fs.ModeSticky | 0o777
	v.mkdirAll("/dev/shm", inst).mode = fs.ModeDir | fs.ModeSticky | 0o777
	v.mkdirAll("/var/spool/cron/crontabs", inst).mode = fs.ModeDir | fs.ModeSticky | 0o730

	sh.buildBins(v, pkgTime)
	sh.buildEtc(v, inst)
	sh.buildHomes(v)
	sh.buildBoot(v)
	sh.buildVar(v)
	sh.buildProc(v)
	for _, d := range []string{"null", "zero", "random", "urandom", "tty", "full"} {
		n := v.put("/dev/"+d, fs.ModeCharDevice|fs.ModeDevice|0o666, 0, 0, h.boot, "")
		n.gen = func() []byte { return nil }
	}
	return v
}

func (sh *Shell) buildBins(v *vfs, t time.Time) {
	sizes := derive(sh.host.seed, "binsizes")
	add := func(dir, list string) {
		i := 0
		for name := range strings.SplitSeq(list, "\n") {
			if name == "" {
				continue
			}
			n := v.put(dir+"/"+name, 0o755, 0, 0, t, "")
			n.data = nil
			n.size = int64(14000 + int(sizes[i%len(sizes)])*700 + len(name)*3113)
			i++
		}
	}
	add("/usr/bin", debian12Bin)
	add("/usr/sbin", debian12Sbin)
	if n, err := v.lookup("/usr/bin/bash", true); err == nil {
		n.size = 1265648
	}
	// Debian keeps su, passwd and friends setuid root.
	for _, p := range []string{"/usr/bin/su", "/usr/bin/passwd", "/usr/bin/sudo", "/usr/bin/mount", "/usr/bin/umount", "/usr/bin/chsh", "/usr/bin/chfn", "/usr/bin/newgrp", "/usr/bin/gpasswd"} {
		if n, err := v.lookup(p, true); err == nil {
			n.mode |= fs.ModeSetuid
		}
	}
}

func (sh *Shell) buildEtc(v *vfs, t time.Time) {
	h := sh.host
	var pw, shadow strings.Builder
	days := int(h.installed.Unix() / 86400)
	for _, a := range sh.accounts() {
		fmt.Fprintf(&pw, "%s:x:%d:%d:%s:%s:%s\n", a.name, a.uid, a.gid, a.gecos, a.home, a.shell)
		hash := "*"
		if a.name == "root" || a.uid == 1000 {
			hash = sh.shadowHash(a.name)
		}
		if a.uid >= 100 && a.uid < 1000 || a.name == "_apt" || a.name == "nobody" {
			hash = "!*"
			if a.name == "_apt" || a.name == "nobody" {
				hash = "*"
			}
		}
		fmt.Fprintf(&shadow, "%s:%s:%d:0:99999:7:::\n", a.name, hash, days)
	}
	v.put("/etc/passwd", 0o644, 0, 0, t, pw.String())
	v.put("/etc/shadow", 0o640, 0, 42, t, shadow.String())
	v.put("/etc/group", 0o644, 0, 0, t, fmt.Sprintf(groupFile, sh.admin))
	v.put("/etc/gshadow", 0o640, 0, 42, t, "root:*::\n")
	v.put("/etc/hostname", 0o644, 0, 0, t, h.hostname+"\n")
	v.put("/etc/hosts", 0o644, 0, 0, t, fmt.Sprintf("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n", h.hostname))
	v.put("/etc/os-release", 0o644, 0, 0, t, h.persona.osRelease)
	v.link("/usr/lib/os-release", "../../etc/os-release", t)
	v.put("/etc/issue", 0o644, 0, 0, t, h.persona.issue)
	v.put("/etc/issue.net", 0o644, 0, 0, t, h.persona.issueNet)
	v.put("/etc/debian_version", 0o644, 0, 0, t, h.persona.debVersion)
	v.put("/etc/shells", 0o644, 0, 0, t, "# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n")
	v.put("/etc/resolv.conf", 0o644, 0, 0, h.boot, fmt.Sprintf("domain localdomain\nsearch localdomain\nnameserver %s\n", h.gateway))
	v.put("/etc/machine-id", 0o444, 0, 0, t, fmt.Sprintf("%x\n", derive(h.seed, "machine-id")[:16]))
	v.put("/etc/timezone", 0o644, 0, 0, t, "Etc/UTC\n")
	v.put("/etc/fstab", 0o644, 0, 0, t, fmt.Sprintf("# /etc/fstab: static file system information.\n#\n# <file system> <mount point>   <type>  <options>       <dump>  <pass>\nUUID=%s /               ext4    errors=remount-ro 0       1\n", sh.rootUUID()))
	v.put("/etc/crontab", 0o644, 0, 0, t, "# /etc/crontab: system-wide crontab\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\n17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }\n47 6\t* * 7\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }\n52 6\t1 * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.monthly; }\n#\n")
	v.put("/etc/network/interfaces", 0o644, 0, 0, t, fmt.Sprintf("# This file describes the network interfaces available on your system\n# and how to activate them. For more information, see interfaces(5).\n\nsource /etc/network/interfaces.d/*\n\n# The loopback network interface\nauto lo\niface lo inet loopback\n\n# The primary network interface\nallow-hotplug %s\niface %s inet dhcp\n", h.iface, h.iface))
	if h.persona.id == OSUbuntu2404 {
		v.put("/etc/apt/sources.list.d/ubuntu.sources", 0o644, 0, 0, t, "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu/\nSuites: noble noble-updates noble-backports\nComponents: main restricted universe multiverse\nSigned-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n\nTypes: deb\nURIs: http://security.ubuntu.com/ubuntu/\nSuites: noble-security\nComponents: main restricted universe multiverse\nSigned-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n")
	} else {
		v.put("/etc/apt/sources.list", 0o644, 0, 0, t, "deb http://deb.debian.org/debian bookworm main non-free-firmware\ndeb http://deb.debian.org/debian bookworm-updates main non-free-firmware\ndeb http://security.debian.org/debian-security bookworm-security main non-free-firmware\n")
		v.put("/etc/motd", 0o644, 0, 0, t, debianFreeSoftware)
	}
	v.put("/etc/ssh/sshd_config", 0o644, 0, 0, t, "Include /etc/ssh/sshd_config.d/*.conf\n\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\nAcceptEnv LANG LC_*\nSubsystem\tsftp\t/usr/lib/openssh/sftp-server\nPermitRootLogin yes\n")
	v.put("/etc/sudoers", 0o440, 0, 0, t, "Defaults\tenv_reset\nDefaults\tmail_badpass\nDefaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\nDefaults\tuse_pty\n\nroot\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n\n@includedir /etc/sudoers.d\n")
	v.put("/etc/profile", 0o644, 0, 0, t, "# /etc/profile: system-wide .profile file for the Bourne shell (sh(1))\n# and Bourne compatible shells (bash(1), ksh(1), ash(1), ...).\n\nif [ \"$(id -u)\" -eq 0 ]; then\n  PATH=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\nelse\n  PATH=\"/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games\"\nfi\nexport PATH\n")
	v.put("/etc/bash.bashrc", 0o644, 0, 0, t, "# System-wide .bashrc file for interactive bash(1) shells.\n")
	v.put("/etc/ld.so.cache", 0o644, 0, 0, t, "")
}

func (sh *Shell) buildHomes(v *vfs) {
	h := sh.host
	skel := time.Date(2023, 4, 23, 21, 23, 0, 0, time.UTC)
	bashrc := "# ~/.bashrc: executed by bash(1) for non-login shells.\n"
	profile := "# ~/.profile: executed by Bourne-compatible login shells.\n"

	root := v.mkdirAll("/root", h.installed)
	root.mode = fs.ModeDir | 0o700
	v.put("/root/.bashrc", 0o644, 0, 0, skel, bashrc)
	v.put("/root/.profile", 0o644, 0, 0, skel, profile)
	v.put("/root/.bash_history", 0o600, 0, 0, h.boot.Add(-26*time.Hour), sh.rootHistory())
	ssh := v.mkdirAll("/root/.ssh", h.installed)
	ssh.mode = fs.ModeDir | 0o700
	v.put("/root/.ssh/authorized_keys", 0o600, 0, 0, h.installed, "")

	home := v.mkdirAll("/home/"+sh.admin, h.installed)
	home.uid, home.gid = 1000, 1000
	for _, f := range []struct{ name, data string }{{".bashrc", bashrc}, {".profile", profile}, {".bash_logout", "# ~/.bash_logout: executed by bash(1) when login shell exits.\n"}} {
		v.put("/home/"+sh.admin+"/"+f.name, 0o644, 1000, 1000, h.installed, f.data)
	}
	v.put("/home/"+sh.admin+"/.bash_history", 0o600, 1000, 1000, h.boot.Add(-3*time.Hour), "sudo -i\nls\nexit\n")
}

func (sh *Shell) rootHistory() string {
	lines := []string{"apt update", "apt upgrade -y", "systemctl status ssh", "df -h", "free -m", "ip a", "journalctl -u ssh --since today", "ls -la /var/log", "reboot"}
	start := pick(sh.host.seed, "history", 4)
	return strings.Join(lines[start:], "\n") + "\n"
}

// shadowHash returns a hash in yescrypt's format, Debian 12's default.
// It derives from the seed and matches no password.
func (sh *Shell) shadowHash(user string) string {
	const b64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	raw := append(derive(sh.host.seed, "shadow salt "+user), derive(sh.host.seed, "shadow hash "+user)...)
	enc := make([]byte, len(raw))
	for i, b := range raw {
		enc[i] = b64[int(b)%64]
	}
	return "$y$j9T$" + string(enc[:22]) + "$" + string(enc[22:64])
}

func (sh *Shell) rootUUID() string {
	b := derive(sh.host.seed, "rootfs uuid")
	return fmt.Sprintf("%x-%x-4%x-a%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])[:36]
}

func (sh *Shell) buildBoot(v *vfs) {
	h := sh.host
	kt, err := time.Parse("2006-01-02", h.kernel.date)
	if err != nil {
		kt = h.installed
	}
	v.put("/boot/vmlinuz-"+h.kernel.abi, 0o644, 0, 0, kt, "").size = 8194976
	v.put("/boot/initrd.img-"+h.kernel.abi, 0o644, 0, 0, h.boot.Add(-2*time.Hour), "").size = 35412931
	v.put("/boot/config-"+h.kernel.abi, 0o644, 0, 0, kt, "").size = 260344
	v.put("/boot/System.map-"+h.kernel.abi, 0o644, 0, 0, kt, "").size = 83
	for _, n := range []string{"/boot/vmlinuz-" + h.kernel.abi, "/boot/initrd.img-" + h.kernel.abi, "/boot/config-" + h.kernel.abi, "/boot/System.map-" + h.kernel.abi} {
		if f, err := v.lookup(n, false); err == nil {
			f.data = nil
		}
	}
}

func (sh *Shell) buildVar(v *vfs) {
	h := sh.host
	log := v.mkdirAll("/var/log", h.boot)
	log.mode = fs.ModeDir | 0o755
	for _, f := range []struct {
		name string
		mode fs.FileMode
		gid  int
		size int64
	}{{"alternatives.log", 0o644, 0, 3471}, {"btmp", 0o660, 43, 0}, {"dpkg.log", 0o644, 0, 248716}, {"faillog", 0o644, 0, 32032}, {"lastlog", 0o664, 43, 292292}, {"wtmp", 0o664, 43, 19584}, {"cloud-init.log", 0o640, 4, 0}} {
		if f.name == "cloud-init.log" {
			continue
		}
		n := v.put("/var/log/"+f.name, f.mode, 0, f.gid, h.boot.Add(time.Duration(pick(h.seed, f.name, 3600))*time.Second), "")
		n.data = nil
		n.size = f.size
	}
	for _, d := range []string{"apt", "installer", "private", "runit"} {
		v.mkdirAll("/var/log/"+d, h.installed)
	}
	j := v.mkdirAll("/var/log/journal", h.installed)
	j.gid = 999
	j.mode = fs.ModeDir | fs.ModeSetgid | 0o755
	v.put("/var/log/apt/history.log", 0o644, 0, 0, h.boot.Add(-26*time.Hour), "")
	v.put("/var/log/apt/term.log", 0o640, 0, 4, h.boot.Add(-26*time.Hour), "")
	v.mkdirAll("/var/mail", h.installed).gid = 8
}

func (sh *Shell) buildProc(v *vfs) {
	h := sh.host
	gen := func(p string, f func() string) {
		n := v.put("/proc/"+p, 0o444, 0, 0, h.boot, "")
		n.data = nil
		n.gen = func() []byte { return []byte(f()) }
	}
	gen("version", func() string { return h.persona.procVersion(h.kernel) })
	gen("cpuinfo", sh.cpuinfo)
	gen("meminfo", sh.meminfo)
	gen("uptime", func() string {
		up := h.uptime(sh.now()).Seconds()
		idle := up * float64(h.cpus) * 0.97
		return fmt.Sprintf("%.2f %.2f\n", up, idle)
	})
	gen("loadavg", func() string {
		l := h.loadAvg(sh.now())
		return fmt.Sprintf("%.2f %.2f %.2f 1/%d %d\n", l[0], l[1], l[2], 120+h.cpus*6, h.pidBase+900)
	})
	gen("cmdline", func() string {
		return "BOOT_IMAGE=/boot/vmlinuz-" + h.kernel.abi + " root=UUID=" + sh.rootUUID() + " ro quiet\n"
	})
	gen("mounts", func() string { return sh.mounts() })
	gen("filesystems", func() string {
		return "nodev\tsysfs\nnodev\ttmpfs\nnodev\tbdev\nnodev\tproc\nnodev\tcgroup\nnodev\tcgroup2\nnodev\tdevtmpfs\nnodev\tdebugfs\nnodev\tsecurityfs\nnodev\tsockfs\nnodev\tpipefs\nnodev\tdevpts\n\text3\n\text2\n\text4\nnodev\tmqueue\nnodev\thugetlbfs\nnodev\tautofs\n"
	})
	v.link("/proc/self", strconv.Itoa(sh.shellPID()), h.boot)
	for _, p := range sh.processes() {
		d := v.mkdirAll("/proc/"+strconv.Itoa(p.pid), p.start)
		d.mode = fs.ModeDir | 0o555
		d.uid = p.uid
		cmd := p.cmd
		n := v.put("/proc/"+strconv.Itoa(p.pid)+"/cmdline", 0o444, p.uid, p.uid, p.start, "")
		n.gen = func() []byte {
			if strings.HasPrefix(cmd, "[") {
				return nil
			}
			return []byte(strings.ReplaceAll(cmd, " ", "\x00") + "\x00")
		}
		c := v.put("/proc/"+strconv.Itoa(p.pid)+"/comm", 0o644, p.uid, p.uid, p.start, "")
		comm := p.comm()
		c.gen = func() []byte { return []byte(comm + "\n") }
	}
}

func (sh *Shell) mounts() string {
	return "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\nudev /dev devtmpfs rw,nosuid,relatime,size=" + strconv.FormatUint(sh.host.memKiB/2/4*4, 10) + "k,nr_inodes=" + strconv.FormatUint(sh.host.memKiB/8, 10) + ",mode=755,inode64 0 0\ndevpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000 0 0\ntmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=" + strconv.FormatUint(sh.host.memKiB/10, 10) + "k,mode=755,inode64 0 0\n/dev/" + sh.rootDev() + " / ext4 rw,relatime,errors=remount-ro 0 0\ntmpfs /dev/shm tmpfs rw,nosuid,nodev,inode64 0 0\ntmpfs /run/lock tmpfs rw,nosuid,nodev,noexec,relatime,size=5120k,inode64 0 0\n"
}

func (sh *Shell) rootDev() string {
	if sh.host.iface == "ens5" {
		return "nvme0n1p1"
	}
	return []string{"vda1", "sda1"}[pick(sh.host.seed, "rootdev", 2)]
}

func (sh *Shell) cpuinfo() string {
	h := sh.host
	c := h.cpu
	var b strings.Builder
	for i := 0; i < h.cpus; i++ {
		fmt.Fprintf(&b, "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %d\nmodel\t\t: %d\nmodel name\t: %s\nstepping\t: %d\nmicrocode\t: 0x1\ncpu MHz\t\t: %s\ncache size\t: %s\nphysical id\t: 0\nsiblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %d\ninitial apicid\t: %d\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\nflags\t\t: %s\nbugs\t\t: %s\nbogomips\t: %s\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 40 bits physical, 48 bits virtual\npower management:\n\n",
			i, c.vendor, c.family, c.model, c.name, c.stepping, c.mhz, c.cache, h.cpus, i, h.cpus, i, i, c.flags, cpuBugs(c), c.bogomips)
	}
	return b.String()
}

func cpuBugs(c cpuModel) string {
	if c.vendor == "AuthenticAMD" {
		return "sysret_ss_attrs null_seg spectre_v1 spectre_v2 spec_store_bypass retbleed smt_rsb srso"
	}
	return "cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass l1tf mds swapgs taa itlb_multihit mmio_stale_data retbleed gds bhi"
}

// memStat is the memory split free, /proc/meminfo and top agree on.
type memStat struct {
	total, free, avail, buffers, cached, shared, sreclaim, used uint64
}

func (sh *Shell) mem() memStat {
	h := sh.host
	m := memStat{total: h.memKiB}
	// The working set drifts a little between calls, as a live host's
	// does, but stays within a band fixed by the seed.
	drift := uint64(sh.now().Unix()/7%97) * 64
	m.used = m.total*uint64(9+pick(h.seed, "memused", 16))/100 + drift
	m.buffers = m.total * 2 / 100
	m.cached = m.total*uint64(18+pick(h.seed, "memcache", 25))/100 - drift
	m.sreclaim = m.total / 60
	m.shared = 1024 + uint64(pick(h.seed, "shmem", 4096))
	m.free = m.total - m.used - m.buffers - m.cached - m.sreclaim
	m.avail = m.free + (m.cached+m.buffers+m.sreclaim)*9/10
	return m
}

func (sh *Shell) meminfo() string {
	m := sh.mem()
	anon := m.used * 7 / 10
	rows := []struct {
		name string
		kb   uint64
	}{
		{"MemTotal", m.total}, {"MemFree", m.free}, {"MemAvailable", m.avail}, {"Buffers", m.buffers},
		{"Cached", m.cached}, {"SwapCached", 0}, {"Active", anon/4 + m.cached/3}, {"Inactive", anon*3/4 + m.cached*2/3},
		{"Active(anon)", anon / 4}, {"Inactive(anon)", anon * 3 / 4}, {"Active(file)", m.cached / 3}, {"Inactive(file)", m.cached * 2 / 3},
		{"Unevictable", 0}, {"Mlocked", 0}, {"SwapTotal", 0}, {"SwapFree", 0}, {"Zswap", 0}, {"Zswapped", 0},
		{"Dirty", 48}, {"Writeback", 0}, {"AnonPages", anon}, {"Mapped", m.cached / 5}, {"Shmem", m.shared},
		{"KReclaimable", m.sreclaim}, {"Slab", m.sreclaim * 3 / 2}, {"SReclaimable", m.sreclaim}, {"SUnreclaim", m.sreclaim / 2},
		{"KernelStack", 2464 + uint64(sh.host.cpus)*160}, {"PageTables", anon / 90}, {"NFS_Unstable", 0}, {"Bounce", 0},
		{"WritebackTmp", 0}, {"CommitLimit", m.total / 2}, {"Committed_AS", m.used * 2}, {"VmallocTotal", 34359738367},
		{"VmallocUsed", 14208 + uint64(sh.host.cpus)*1024}, {"VmallocChunk", 0}, {"Percpu", uint64(sh.host.cpus) * 1168},
		{"HardwareCorrupted", 0}, {"AnonHugePages", 0}, {"ShmemHugePages", 0}, {"ShmemPmdMapped", 0},
		{"FileHugePages", 0}, {"FilePmdMapped", 0},
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-16s%8d kB\n", r.name+":", r.kb)
	}
	b.WriteString("HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\nHugePages_Surp:        0\nHugepagesize:       2048 kB\nHugetlb:               0 kB\n")
	fmt.Fprintf(&b, "%-16s%8d kB\n%-16s%8d kB\n%-16s%8d kB\n", "DirectMap4k:", 124780, "DirectMap2M:", m.total/2048*2048-124780+2048*64, "DirectMap1G:", 0)
	return b.String()
}
