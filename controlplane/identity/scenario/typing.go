package scenario

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// template is one command shape; each %s takes a random argument and
// each %d a random number, so two scripts rarely share a command line.
type template string

func (t template) render(r *rand.Rand) string {
	var b strings.Builder
	s := string(t)
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case 's':
			b.WriteString(arguments[r.IntN(len(arguments))])
			fmt.Fprintf(&b, "%d", r.IntN(100))
		case 'd':
			fmt.Fprintf(&b, "%d", 1+r.IntN(9999))
		default:
			b.WriteByte(s[i+1])
		}
		s = s[i+2:]
	}
}

var vocabulary = []template{
	"uname -a", "cat /proc/cpuinfo", "nproc", "free -m", "w", "id", "whoami", "ls -la /tmp/%s",
	"cd /var/tmp/%s", "cat /etc/%s", "ps aux | grep %s", "netstat -tulpn", "ss -antp", "history -c",
	"crontab -l", "cat /etc/passwd", "df -h", "lscpu", "chmod +x /tmp/%s", "./%s -o pool:%d",
	"rm -rf /tmp/%s", "echo ssh-ed25519 %s >> ~/.ssh/authorized_keys", "export HISTFILE=/dev/null",
	"iptables -L -n", "systemctl status %s", "mkdir -p /dev/shm/%s", "tar xzf %s.tar.gz",
	"nohup ./%s >/dev/null 2>&1 &", "kill -9 %d", "top -bn1 | head -%d", "find / -name %s 2>/dev/null",
	"grep -r %s /etc", "hostname", "uptime", "last -n %d", "cat /etc/os-release", "ip a", "sudo -l",
	"useradd -m %s", "mv /tmp/%s /usr/bin/%s", "cat ~/.bash_history | tail -%d", "ls /home",
	"docker ps", "env | grep -i %s", "curl -s http://%s.example/", "pkill -f %s", "dmesg | tail -%d",
	"cat /proc/meminfo | head -%d", "lsblk", "mount | grep %s", "which %s", "echo %d > /tmp/%s",
}

var arguments = []string{
	"x", "bin", ".cache", "kswapd", "sshd", "xmrig", "dbus", ".x", ".s", "tmp", "data", "lib",
	"update", "sysd", "cron", "klog", "ntpd", "redis", "mysql", "nginx", "root", "backup",
}

// typist is a typing rhythm. Intervals are log-normal around muMS and
// slower by wordFactor at the start of each word. Pastes send a whole
// command at once, and think pauses come before some commands.
type typist struct {
	muMS       float64
	sigma      float64
	wordFactor float64
	pasteProb  float64
	thinkProb  float64
}

func makeTypist(r *rand.Rand) typist {
	return typist{
		muMS:       math.Exp(math.Log(70) + r.Float64()*math.Log(350.0/70)),
		sigma:      0.2 + r.Float64()*0.4,
		wordFactor: 1 + r.Float64()*1.5,
		pasteProb:  r.Float64() * 0.3,
		thinkProb:  0.1 + r.Float64()*0.6,
	}
}

// castWriter builds an asciicast v2 recording as the shell decoy would.
type castWriter struct {
	start   time.Time
	b       strings.Builder
	in, out uint64
}

func newCast(start time.Time) *castWriter {
	c := &castWriter{start: start}
	fmt.Fprintf(&c.b, `{"version":2,"width":80,"height":24,"timestamp":%d,"env":{"SHELL":"/bin/bash","TERM":"xterm-256color"}}`+"\n", start.Unix())
	return c
}

func (c *castWriter) event(t time.Time, code, data string) {
	q, _ := json.Marshal(data)
	fmt.Fprintf(&c.b, "[%.6f, %q, %s]\n", t.Sub(c.start).Seconds(), code, q)
	if code == "i" {
		c.in += uint64(len(data))
	} else {
		c.out += uint64(len(data))
	}
}

// typeLine records the prompt and the keystrokes of one command line and
// returns the time after its Enter.
func (c *castWriter) typeLine(r *rand.Rand, ty *typist, t time.Time, line string) time.Time {
	c.event(t, "o", "root@host:~# ")
	if r.Float64() < ty.thinkProb {
		t = t.Add(time.Duration((2 + r.Float64()*13) * float64(time.Second)))
	} else {
		t = t.Add(time.Duration((0.3 + r.Float64()*1.2) * float64(time.Second)))
	}
	if r.Float64() < ty.pasteProb {
		c.event(t, "i", line+"\r")
		return t.Add(10 * time.Millisecond)
	}
	prev := ' '
	for _, ch := range line + "\r" {
		ms := ty.muMS * math.Exp(r.NormFloat64()*ty.sigma)
		if prev == ' ' {
			ms *= ty.wordFactor
		}
		// Humans rarely exceed a couple of seconds between keys of one
		// word; longer gaps would be think pauses.
		ms = math.Min(ms, 1500)
		t = t.Add(time.Duration(ms * float64(time.Millisecond)))
		c.event(t, "i", string(ch))
		prev = ch
	}
	return t
}

// output records a short output of the last command.
func (c *castWriter) output(r *rand.Rand, t time.Time) time.Time {
	t = t.Add(time.Duration(5+r.IntN(200)) * time.Millisecond)
	c.event(t, "o", "\r\n"+strings.Repeat("-", 1+r.IntN(60))+"\r\n")
	return t
}

func (c *castWriter) bytes() []byte { return []byte(c.b.String()) }
