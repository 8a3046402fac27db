// Package shell emulates the bash login shell of a Debian or Ubuntu
// server behind the SSH and Telnet decoys. Nothing runs for real: every
// command is answered from a per-decky model of the host (derived from
// the decky seed) and a per-session copy of its file system, so that
// what an attacker changes stays inside the session.
package shell

import (
	"context"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Config describes one session's shell.
type Config struct {
	OS       string // "debian12" (default) or "ubuntu2404"
	Seed     []byte
	Hostname string
	User     string // login name; "root" is uid 0, others uid 1000
	// OnCommand is called with each command line before it runs.
	OnCommand func(line string)
	// Fetch handles wget/curl/tftp URLs; nil means fetching is off
	// (the URL is still reported through OnDownload).
	Fetch func(ctx context.Context, tool, url string) FetchResult
	// OnDownload reports every URL the shell was asked to fetch.
	OnDownload func(*eventv1.DownloadRequested)
}

// FetchResult is what a Fetch hook found at a URL. Outcome is one of
// "fetched", "refused_address", "too_large" or "failed".
type FetchResult struct {
	Outcome string
	SHA256  []byte
	Size    uint64
}

// Session bounds. A real shell has none of these, but a decoy must end
// every session's work in bounded time and memory.
const (
	// maxCommands caps the simple commands one session may run.
	maxCommands = 20000
	// maxOutputBytes caps what one session writes to the attacker.
	maxOutputBytes = 16 << 20
	// maxPipeBytes caps what flows between two commands of a pipeline.
	maxPipeBytes = 1 << 20
	// maxHistory caps the history list, as HISTSIZE does.
	maxHistory = 500
	// maxSleep caps how long sleep really waits.
	maxSleep = 5 * time.Second
)

// Shell is one login session on the emulated host. It is not safe for
// concurrent use, except Resize, which may be called from any
// goroutine.
type Shell struct {
	cfg   Config
	host  *host
	fs    *vfs
	now   func() time.Time
	admin string
	uid   int
	home  string

	cwd      string
	oldpwd   string
	vars     map[string]string
	exported map[string]bool
	varOrder []string
	status   int
	// subStatus is the status of the last command substitution.
	subStatus int
	history   []string
	exited    bool
	exitCode  int

	interactive bool
	src         script
	lineNo      int
	depth       int
	work        int
	out         int64
	loginTime   time.Time
	psCount     int
	// sessionOffset separates the pids of sessions of the same decky.
	sessionOffset int

	width, height atomic.Int32
}

// New prepares a session. It never fails: an unknown OS falls back to
// Debian 12 and an empty user to root.
func New(cfg Config) *Shell {
	return newShell(cfg, time.Now)
}

func newShell(cfg Config, now func() time.Time) *Shell {
	if cfg.OS != OSUbuntu2404 && cfg.OS != OSBusyBox {
		cfg.OS = OSDebian12
	}
	if cfg.User == "" {
		cfg.User = "root"
	}
	sh := &Shell{cfg: cfg, now: now, vars: map[string]string{}, exported: map[string]bool{}, src: script{name: "bash", fromC: true}}
	sh.host = newHost(&sh.cfg, now())
	sh.admin = sh.host.persona.defaultUser
	if cfg.User != "root" {
		sh.admin = sanitizeUser(cfg.User)
		sh.uid = 1000
	}
	sh.home = "/root"
	if sh.uid != 0 {
		sh.home = "/home/" + sh.admin
	}
	sh.loginTime = now()
	sh.sessionOffset = int(now().UnixNano()/1000) % 97 * 3
	sh.fs = sh.buildTree()
	sh.cwd = sh.home
	sh.width.Store(80)
	sh.height.Store(24)
	if sh.busybox() {
		sh.initBusyBox()
		return sh
	}
	sh.initEnv()
	return sh
}

// sanitizeUser keeps a login name usable as a path and passwd field.
func sanitizeUser(u string) string {
	var b strings.Builder
	for i := 0; i < len(u) && b.Len() < 32; i++ {
		c := u[i]
		if c == '-' || c == '.' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 || b.String() == "." || b.String() == ".." {
		return "user"
	}
	return b.String()
}

func (sh *Shell) initEnv() {
	// Debian's /etc/profile sets these two PATHs.
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if sh.uid != 0 {
		path = "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"
	}
	user := sh.userName()
	uid := strconv.Itoa(sh.uid)
	sessionID := strconv.Itoa(1 + pick(sh.host.seed, "logind session", 40) + sh.sessionOffset%7)
	// The order is the one env prints after an OpenSSH login through
	// pam_systemd on Debian 12.
	// NOTE: SSH_CLIENT and SSH_CONNECTION are left out because Config
	// does not carry the client's address.
	for _, kv := range [][2]string{
		{"SHELL", "/bin/bash"},
		{"PWD", sh.cwd},
		{"LOGNAME", user},
		{"XDG_SESSION_TYPE", "tty"},
		{"MOTD_SHOWN", "pam"},
		{"HOME", sh.home},
		{"LANG", "C.UTF-8"},
		{"XDG_SESSION_CLASS", "user"},
		{"TERM", "xterm-256color"},
		{"USER", user},
		{"SHLVL", "1"},
		{"XDG_SESSION_ID", sessionID},
		{"XDG_RUNTIME_DIR", "/run/user/" + uid},
		{"DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/" + uid + "/bus"},
		{"PATH", path},
	} {
		sh.setVar(kv[0], kv[1])
		sh.exported[kv[0]] = true
	}
}

func (sh *Shell) userName() string {
	if sh.uid == 0 {
		return "root"
	}
	return sh.admin
}

func (sh *Shell) setVar(name, value string) {
	if _, ok := sh.vars[name]; !ok {
		sh.varOrder = append(sh.varOrder, name)
	}
	sh.vars[name] = value
}

func (sh *Shell) unsetVar(name string) {
	if _, ok := sh.vars[name]; !ok {
		return
	}
	delete(sh.vars, name)
	delete(sh.exported, name)
	for i, n := range sh.varOrder {
		if n == name {
			sh.varOrder = append(sh.varOrder[:i], sh.varOrder[i+1:]...)
			break
		}
	}
}

// Resize records the terminal size for COLUMNS and LINES.
func (sh *Shell) Resize(width, height int) {
	if width > 0 && width < 10000 {
		sh.width.Store(int32(width))
	}
	if height > 0 && height < 10000 {
		sh.height.Store(int32(height))
	}
}

// Exec runs one command line as sshd runs "bash -c line".
func (sh *Shell) Exec(ctx context.Context, line string, stdout, stderr io.Writer) int {
	sh.interactive = false
	if len(line) > maxScriptSize {
		line = line[:maxScriptSize]
	}
	if sh.cfg.OnCommand != nil {
		sh.cfg.OnCommand(line)
	}
	out := &capWriter{w: stdout, sh: sh}
	errw := &capWriter{w: stderr, sh: sh}
	status := sh.runSource(ctx, line, nil, out, errw)
	if sh.exited {
		return sh.exitCode
	}
	return status
}

// Motd is what the persona prints after authentication and before the
// first prompt.
func (sh *Shell) Motd(now time.Time, lastLogin time.Time, lastFrom string) string {
	h := sh.host
	var b strings.Builder
	b.WriteString(h.persona.motd(h.hostname, h.kernel))
	if sh.busybox() {
		return b.String()
	}
	if lastFrom != "" {
		if h.persona.id == OSUbuntu2404 {
			b.WriteString("\n")
		}
		b.WriteString("Last login: " + lastLogin.In(time.UTC).Format("Mon Jan _2 15:04:05 2006") + " from " + sanitizeHost(lastFrom) + "\n")
	}
	return b.String()
}

func sanitizeHost(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && i < 64; i++ {
		if c := s[i]; c > ' ' && c < 0x7f {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// capWriter bounds what a session writes in total; past the cap output
// is dropped, as if the terminal stopped reading.
type capWriter struct {
	w  io.Writer
	sh *Shell
}

func (c *capWriter) Write(p []byte) (int, error) {
	if c.w == nil {
		return len(p), nil
	}
	left := maxOutputBytes - c.sh.out
	if left <= 0 {
		return len(p), nil
	}
	q := p
	if int64(len(q)) > left {
		q = q[:left]
	}
	c.sh.out += int64(len(q))
	if _, err := c.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// buffer is a capped in-memory sink for pipes and command substitution.
type buffer struct {
	b   []byte
	max int
}

func (b *buffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.b); room > 0 {
		if len(p) > room {
			b.b = append(b.b, p[:room]...)
		} else {
			b.b = append(b.b, p...)
		}
	}
	return len(p), nil
}
