package shell

import (
	"fmt"
	"strings"
	"time"
)

// process is one row of the emulated process table.
type process struct {
	pid, ppid int
	uid       int
	user      string // as ps prints it: names over 8 characters end in "+"
	start     time.Time
	tty       string
	stat      string
	vsz, rss  int
	cpu       time.Duration
	cmd       string
}

func (p process) comm() string {
	c := strings.Trim(p.cmd, "[]")
	if f := strings.Fields(c); len(f) > 0 {
		c = f[0]
	}
	if i := strings.LastIndexByte(c, '/'); i >= 0 && !strings.HasPrefix(p.cmd, "[") {
		c = c[i+1:]
	}
	return strings.TrimSuffix(c, ":")
}

// shellPID is the pid of the attacker's login shell.
func (sh *Shell) shellPID() int {
	return sh.host.pidBase + 600 + pick(sh.host.seed, "session", 3000) + sh.sessionOffset
}

// processes lists what an idle Debian server runs: kernel threads, the
// systemd services of a netinst with the SSH server task, and the
// attacker's own sshd and bash.
func (sh *Shell) processes() []process {
	h := sh.host
	boot := h.boot
	var out []process
	add := func(pid, ppid, uid int, user, tty, stat string, vsz, rss int, cpuMS int, cmd string, start time.Time) {
		out = append(out, process{pid: pid, ppid: ppid, uid: uid, user: user, start: start, tty: tty, stat: stat, vsz: vsz, rss: rss, cpu: time.Duration(cpuMS) * time.Millisecond, cmd: cmd})
	}
	up := int(h.uptime(sh.now()).Seconds())
	add(1, 0, 0, "root", "?", "Ss", 167748, 12960, up/40, "/sbin/init", boot)
	add(2, 0, 0, "root", "?", "S", 0, 0, 10, "[kthreadd]", boot)
	kthreads := []string{"[rcu_gp]", "[rcu_par_gp]", "[slub_flushwq]", "[netns]", "[kworker/0:0H-events_highpri]", "[mm_percpu_wq]", "[rcu_tasks_kthread]", "[rcu_tasks_rude_kthread]", "[rcu_tasks_trace_kthread]", "[ksoftirqd/0]", "[rcu_preempt]", "[migration/0]", "[cpuhp/0]", "[kdevtmpfs]", "[inet_frag_wq]", "[kauditd]", "[khungtaskd]", "[oom_reaper]", "[writeback]", "[kcompactd0]", "[ksmd]", "[khugepaged]", "[kintegrityd]", "[kblockd]", "[blkcg_punt_bio]", "[md]", "[edac-poller]", "[watchdogd]", "[kswapd0]", "[kthrotld]", "[acpi_thermal_pm]", "[ata_sff]", "[scsi_eh_0]", "[jbd2/" + sh.rootDev() + "-8]", "[ext4-rsv-conver]"}
	for i, k := range kthreads {
		stat := "I<"
		if strings.HasPrefix(k, "[ksoftirqd") || strings.HasPrefix(k, "[migration") || strings.HasPrefix(k, "[cpuhp") || strings.HasPrefix(k, "[k") && !strings.HasPrefix(k, "[kworker") && !strings.HasPrefix(k, "[kblockd") && !strings.HasPrefix(k, "[kintegrityd") && !strings.HasPrefix(k, "[kthrotld") {
			stat = "S"
		}
		if k == "[rcu_preempt]" || k == "[rcu_tasks_kthread]" || k == "[rcu_tasks_rude_kthread]" || k == "[rcu_tasks_trace_kthread]" {
			stat = "I"
		}
		if k == "[ksmd]" {
			stat = "SN"
		}
		if k == "[khugepaged]" {
			stat = "SN"
		}
		add(3+i, 2, 0, "root", "?", stat, 0, 0, i*7%60, k, boot)
	}
	b := h.pidBase
	bs := boot.Add(3 * time.Second)
	add(b+8, 1, 0, "root", "?", "Ss", 48728, 15472, up/300, "/lib/systemd/systemd-journald", bs)
	add(b+31, 1, 0, "root", "?", "Ss", 26328, 6764, up/2000, "/lib/systemd/systemd-udevd", bs)
	add(b+190, 1, 997, "systemd+", "?", "Ssl", 90084, 6736, up/900, "/lib/systemd/systemd-timesyncd", bs.Add(time.Second))
	add(b+231, 1, 0, "root", "?", "Ss", 5872, 3748, 50, "dhclient -4 -v -i -pf /run/dhclient."+h.iface+".pid -lf /var/lib/dhcp/dhclient."+h.iface+".leases -I -df /var/lib/dhcp/dhclient6."+h.iface+".leases "+h.iface, bs.Add(time.Second))
	add(b+302, 1, 0, "root", "?", "Ss", 6612, 2656, up/5000, "/usr/sbin/cron -f", bs.Add(2*time.Second))
	add(b+303, 1, 100, "message+", "?", "Ss", 9124, 4720, up/8000, "/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only", bs.Add(2*time.Second))
	add(b+306, 1, 0, "root", "?", "Ss", 25416, 7828, up/6000, "/lib/systemd/systemd-logind", bs.Add(2*time.Second))
	add(b+339, 1, 0, "root", "tty1", "Ss+", 5880, 1012, 0, "/sbin/agetty -o -p -- \\u --noclear - linux", bs.Add(2*time.Second))
	add(b+341, 1, 0, "root", "?", "Ss", 15424, 9212, up/3000, "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", bs.Add(2*time.Second))

	now := sh.now()
	login := sh.loginTime
	if login.IsZero() {
		login = now
	}
	sp := sh.shellPID()
	tty := "pts/0"
	userName := sh.cfg.User
	if len(userName) > 8 {
		userName = userName[:7] + "+"
	}
	add(sp-2, b+341, 0, "root", "?", "Ss", 17212, 10896, 20, "sshd: "+sh.cfg.User+" [priv]", login)
	if sh.uid != 0 {
		add(sp-1, sp-2, sh.uid, userName, "?", "S", 17472, 6788, 10, "sshd: "+sh.cfg.User+"@"+tty, login)
	} else {
		add(sp-1, sp-2, 0, "root", "?", "S", 17472, 6788, 10, "sshd: root@"+tty, login)
	}
	add(sp, sp-1, sh.uid, userName, tty, "Ss", 7968, 4724, 10, "-bash", login)
	return out
}

// psSelf is the row of the ps that is running now.
func (sh *Shell) psSelf(args string) process {
	userName := sh.cfg.User
	if len(userName) > 8 {
		userName = userName[:7] + "+"
	}
	sh.psCount++
	return process{pid: sh.shellPID() + 3 + sh.psCount*2, ppid: sh.shellPID(), uid: sh.uid, user: userName, start: sh.now(), tty: "pts/0", stat: "R+", vsz: 11084, rss: 4464, cmd: "ps " + args}
}

func cpuTime(d time.Duration) string {
	m := int(d.Minutes())
	return fmt.Sprintf("%d:%02d", m, int(d.Seconds())%60)
}

func startCol(t, now time.Time) string {
	switch {
	case now.Sub(t) < 24*time.Hour && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan02")
	}
	return t.Format("2006")
}
