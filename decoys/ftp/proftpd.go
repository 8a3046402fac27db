package ftp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ProFTPD 1.3.8 reads commands with pr_netio_telnet_gets2 and
// pr_cmd_read (src/netio.c, src/main.c). These constants and the reader
// below follow them; the texts were compared with Debian 12's proftpd
// running its packaged proftpd.conf.
const (
	// proftpdCmdBuf is CommandBufferSize's default, PATH_MAX + 7; one
	// byte of it holds the terminating NUL.
	proftpdCmdBuf = 4096 + 7
	// proftpdMaxTooLong is how many over-long reads one command read
	// tolerates before the session ends.
	proftpdMaxTooLong = 3
	// proftpdTooLongPause is pr_cmd_read's pause after each over-long
	// read.
	proftpdTooLongPause = 250 * time.Millisecond
)

// Telnet bytes (RFC 854) that pr_netio_telnet_gets2 interprets.
const (
	telnetIAC  = 0xff
	telnetDONT = 0xfe
	telnetDO   = 0xfd
	telnetWONT = 0xfc
	telnetWILL = 0xfb
	telnetIP   = 0xf4
	telnetDM   = 0xf2
)

// proftpdInput is the reader state that ProFTPD keeps across commands.
type proftpdInput struct {
	telnetMode byte
	// prev is the last byte read, raw; a line ends only at an LF that
	// follows a CR.
	prev byte
	// badPrev is set after a read that filled the buffer without a line
	// end: the rest of that line is discarded too.
	badPrev bool
}

// readProFTPDLine returns the next command line as pr_cmd_read leaves it:
// without its line end, cut at the first NUL. A line that starts with
// white space comes back empty, as ProFTPD answers both alike. Over-long
// lines are skipped after a pause; more than proftpdMaxTooLong of those
// in a row end the session with errLineTooLong.
func (c *control) readProFTPDLine() (string, error) {
	tooLong := 0
	for {
		line, err := c.proftpdGets()
		if errors.Is(err, errLineIgnored) {
			tooLong++
			time.Sleep(c.s.tooLongPause)
			if tooLong > proftpdMaxTooLong {
				return "", errLineTooLong
			}
			continue
		}
		if err != nil {
			return "", err
		}
		return proftpdCommandLine(line), nil
	}
}

// proftpdCommandLine trims a line read by proftpdGets as pr_cmd_read
// does.
func proftpdCommandLine(line []byte) string {
	for range 2 {
		if n := len(line); n > 0 && (line[n-1] == '\n' || line[n-1] == '\r') {
			line = line[:n-1]
		}
	}
	if len(line) > 0 && line[0] == '\r' {
		line = line[1:]
	}
	// The rest is a C string.
	if i := strings.IndexByte(string(line), 0); i >= 0 {
		line = line[:i]
	}
	if len(line) > 0 && isCSpace(line[0]) {
		return ""
	}
	return string(line)
}

func isCSpace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

// splitProFTPDCommand splits a line as make_ftp_cmd does: the verb ends
// at the first white space, and the argument is what follows that one
// character.
func splitProFTPDCommand(line string) (string, string) {
	i := strings.IndexFunc(line, func(r rune) bool { return r < 0x80 && isCSpace(byte(r)) })
	if i < 0 {
		return asciiUpper(line), ""
	}
	return asciiUpper(line[:i]), line[i+1:]
}

// proftpdGets reads one line into a buffer of proftpdCmdBuf-1 bytes,
// answering Telnet option negotiation and dropping Telnet commands. It
// returns errLineIgnored when the buffer fills before the line ends, and
// for the rest of such a line.
func (c *control) proftpdGets() ([]byte, error) {
	in := &c.pin
	var out []byte
	room := proftpdCmdBuf - 1
	for room > 0 {
		b, err := c.br.ReadByte()
		if err != nil {
			return nil, err
		}
		prev := in.prev
		in.prev = b
		if b == '\n' && prev == '\r' {
			if n := len(out); n > 0 && out[n-1] == '\r' {
				out[n-1] = '\n'
			} else {
				out = append(out, '\n')
			}
			if in.badPrev {
				in.badPrev = false
				return nil, errLineIgnored
			}
			return out, nil
		}

		switch in.telnetMode {
		case telnetIAC:
			switch b {
			case telnetWILL, telnetWONT, telnetDO, telnetDONT, telnetIP, telnetDM:
				in.telnetMode = b
				continue
			case telnetIAC:
				in.telnetMode = 0
			default:
				out = append(out, telnetIAC)
				room--
				in.telnetMode = 0
			}
		case telnetWILL, telnetWONT:
			c.sendRaw([]byte{telnetIAC, telnetDONT, b})
			in.telnetMode = 0
			continue
		case telnetDO, telnetDONT:
			c.sendRaw([]byte{telnetIAC, telnetWONT, b})
			in.telnetMode = 0
			continue
		default:
			if b == telnetIAC {
				in.telnetMode = telnetIAC
				continue
			}
		}
		if room == 0 {
			break
		}
		out = append(out, b)
		room--
	}
	in.badPrev = true
	return nil, errLineIgnored
}

// proftpdForeign lists the verbs by which pr_cmd_read recognises HTTP and
// SMTP clients; ProFTPD drops the connection without a reply to them. It
// compares case-sensitively.
var proftpdForeign = []string{
	"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
	"DATA", "EHLO", "HELO", "MAIL", "RCPT", "RSET", "VRFY",
}

// proftpdForeignProtocol reports whether line starts with a command of
// another protocol.
func proftpdForeignProtocol(line string) bool {
	word, _, _ := strings.Cut(line, " ")
	if strings.HasPrefix(word, "SSH-2.0-") || strings.HasPrefix(word, "SSH-1.99-") {
		return true
	}
	for _, f := range proftpdForeign {
		if word == f {
			return true
		}
	}
	return false
}

// proftpdHelpEntry is one command of mod_core's HELP table.
type proftpdHelpEntry struct {
	cmd, syntax string
	impl        bool
}

// proftpdHelpTable is the HELP table in the order the modules register
// their commands, as Debian's build loads them.
var proftpdHelpTable = []proftpdHelpEntry{
	{"CWD", "<sp> pathname", true}, {"XCWD", "<sp> pathname", true}, {"CDUP", "(up one directory)", true},
	{"XCUP", "(up one directory)", true}, {"SMNT", "is not implemented", false}, {"QUIT", "(close control connection)", true},
	{"PORT", "<sp> h1,h2,h3,h4,p1,p2", true}, {"PASV", "(returns address/port)", true},
	{"EPRT", "<sp> |proto|addr|port|", true}, {"EPSV", "(returns port |||port|)", true}, {"ALLO", "<sp> size", true},
	{"RNFR", "<sp> pathname", true}, {"RNTO", "<sp> pathname", true}, {"DELE", "<sp> pathname", true},
	{"MDTM", "<sp> pathname", true}, {"RMD", "<sp> pathname", true}, {"XRMD", "<sp> pathname", true},
	{"MKD", "<sp> pathname", true}, {"XMKD", "<sp> pathname", true}, {"PWD", "(returns current working directory)", true},
	{"XPWD", "(returns current working directory)", true}, {"SIZE", "<sp> pathname", true},
	{"SYST", "(returns system type)", true}, {"HELP", "[<sp> command]", true}, {"NOOP", "(no operation)", true},
	{"FEAT", "(returns feature list)", true}, {"OPTS", "<sp> command [<sp> options]", true},
	{"HOST", "<cp> hostname", true}, {"CLNT", "<cp> client-info", true}, {"AUTH", "<sp> base64-data", false},
	{"CCC", "(clears protection level)", false}, {"CONF", "<sp> base64-data", false}, {"ENC", "<sp> base64-data", false},
	{"MIC", "<sp> base64-data", false}, {"PBSZ", "<sp> protection buffer size", false},
	{"PROT", "<sp> protection code", false}, {"TYPE", "<sp> type-code (A, I, L 7, L 8)", true},
	{"STRU", "is not implemented (always F)", true}, {"MODE", "is not implemented (always S)", true},
	{"RETR", "<sp> pathname", true}, {"STOR", "<sp> pathname", true}, {"STOU", "(store unique filename)", true},
	{"APPE", "<sp> pathname", true}, {"REST", "<sp> byte-count", true}, {"ABOR", "(abort current operation)", true},
	{"RANG", "<sp> start-point <sp> end-point", true}, {"USER", "<sp> username", true}, {"PASS", "<sp> password", true},
	{"ACCT", "is not implemented", false}, {"REIN", "is not implemented", false}, {"LIST", "[<sp> pathname]", true},
	{"NLST", "[<sp> (pathname)]", true}, {"STAT", "[<sp> pathname]", true}, {"SITE", "<sp> string", true},
	{"MLSD", "[<sp> pathname]", true}, {"MLST", "[<sp> pathname]", true},
}

// proftpdHelp renders the HELP reply: eight commands a line, each padded
// to eight columns, unimplemented ones starred; admin is ServerAdmin.
func proftpdHelp(admin string) []string {
	lines := []string{"214-The following commands are recognized (* =>'s unimplemented):"}
	var row strings.Builder
	for i, h := range proftpdHelpTable {
		name := h.cmd
		if !h.impl {
			name += "*"
		}
		fmt.Fprintf(&row, "%-8s", name)
		if (i+1)%8 == 0 || i+1 == len(proftpdHelpTable) {
			lines = append(lines, " "+row.String())
			row.Reset()
		}
	}
	return append(lines, "214 Direct comments to "+admin)
}

// proftpdSiteHelp is mod_site's SITE HELP with the SITE commands of the
// modules Debian's modules.conf loads.
func proftpdSiteHelp(admin string) []string {
	return []string{
		"214-The following SITE commands are recognized (* =>'s unimplemented)",
		" CPFR <sp> pathname",
		" CPTO <sp> pathname",
		" UTIME <sp> YYYYMMDDhhmm[ss] <sp> path",
		" SYMLINK <sp> source <sp> destination",
		" RMDIR <sp> path",
		" MKDIR <sp> path",
		" The following SITE extensions are recognized:",
		" RATIO -- show all ratios in effect",
		" QUOTA",
		" HELP",
		" CHGRP",
		" CHMOD",
		"214 Direct comments to " + admin,
	}
}

// proftpdServerAdmin is ProFTPD's default ServerAdmin: root at the name
// its host address resolves to, the host name on a Debian install.
func proftpdServerAdmin(decky string) string {
	return "root@" + hostLabel(decky)
}

// hostLabel returns decky as a host name, or Debian's 127.0.1.1 when it
// is not one.
func hostLabel(decky string) string {
	name := strings.ToLower(decky)
	if name == "" || len(name) > 63 {
		return "127.0.1.1"
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if (ch < 'a' || ch > 'z') && (ch < '0' || ch > '9') && ch != '-' {
			return "127.0.1.1"
		}
	}
	return name
}

// proftpdArgsRequired are the commands whose handlers answer a missing
// argument with CHECK_CMD_ARGS's reply.
var proftpdArgsRequired = []string{
	"CWD", "XCWD", "DELE", "EPRT", "MDTM", "MKD", "XMKD", "RMD", "XRMD", "RNFR", "RNTO", "SIZE",
	"PORT", "MFMT", "MFF", "OPTS",
}

// proftpdNotUnderstood maps commands whose handlers reject a missing
// argument with "'VERB' not understood" to that reply's code.
var proftpdNotUnderstood = map[string]string{
	"TYPE": "500", "REST": "500", "RETR": "500", "STOR": "500", "APPE": "500", "RANG": "500",
	"MODE": "501", "STRU": "501", "ALLO": "504",
}

// proftpdCommand answers what ProFTPD handles differently from the
// generic loop. It reports whether it replied.
func (c *control) proftpdCommand(ctx context.Context, verb, arg string) bool {
	if arg == "" {
		if code, ok := proftpdNotUnderstood[verb]; ok && c.loggedIn {
			c.send(code + " '" + verb + "' not understood")
			return true
		}
	}
	switch verb {
	case "HELP":
		c.proftpdHelpCmd(arg)
		return true
	case "OPTS":
		c.proftpdOpts(arg)
		return true
	case "LANG":
		c.proftpdLang(arg)
		return true
	case "HOST":
		c.proftpdHost(arg)
		return true
	case "SITE":
		c.proftpdSite(arg)
		return true
	case "USER":
		if arg == "" {
			c.send("500 USER: command requires a parameter")
			return true
		}
	case "ACCT", "REIN":
		c.send(reply(c.p.notImplemented, verb))
		return true
	}
	if !c.loggedIn {
		return false
	}

	if arg == "" && contains(proftpdArgsRequired, verb) {
		c.send("501 Invalid number of parameters")
		return true
	}
	switch verb {
	case "CSID":
		c.send("200 name=ProFTPD;version=1.3.8;casesensitive=1;")
	case "MODE":
		if !strings.EqualFold(arg, "S") {
			c.send("504 'MODE " + arg + "' unsupported transfer mode")
			return true
		}
		return false
	case "STRU":
		if !strings.EqualFold(arg, "F") {
			c.send("504 'STRU " + arg + "' unsupported structure type")
			return true
		}
		return false
	case "ALLO":
		c.send("200 ALLO command successful")
	case "REST":
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || n < 0 {
			c.send("501 REST requires a value greater than or equal to 0")
			return true
		}
		c.restAt = n
		c.send(reply(c.p.rest, n))
	case "RETR":
		if n := c.fileAt(arg); n == nil {
			c.send(c.proftpdFileError(arg, "Not a regular file"))
			return true
		}
		return false
	case "SIZE":
		if !c.binary {
			return false
		}
		if n := c.fileAt(arg); n == nil {
			c.send(c.proftpdFileError(arg, "not a regular file"))
			return true
		}
		return false
	case "MDTM":
		if n := c.fileAt(arg); n == nil {
			c.send(c.proftpdFileError(arg, "not a plain file"))
			return true
		}
		return false
	case "DELE":
		if n := c.tree.lookup(resolve(c.cwd, arg)); n != nil && n.dir && !c.writeDenied() {
			c.send("550 " + arg + ": Is a directory")
			return true
		}
		return false
	case "STAT":
		if arg == "" {
			return false
		}
		c.proftpdStat(arg)
	case "PORT":
		c.proftpdPort(arg)
	case "EPRT":
		c.proftpdEprt(arg)
	case "EPSV":
		switch {
		case arg == "" || strings.EqualFold(arg, "ALL"):
			return false
		case arg == "1" || arg == "2":
			// The dual-stack listener of a default install takes either.
			c.cmdDataMode(ctx, "EPSV", "")
		case parseDigits(arg):
			c.send("522 Network protocol not supported, use (1,2)")
		default:
			c.send("501 EPSV: unknown network protocol")
		}
	default:
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func parseDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// proftpdFileError is the reply to a file command on a path that is
// missing or not a file; notFile is the text for a directory.
func (c *control) proftpdFileError(arg, notFile string) string {
	if n := c.tree.lookup(resolve(c.cwd, arg)); n != nil {
		return "550 " + arg + ": " + notFile
	}
	return "550 " + arg + ": No such file or directory"
}

func (c *control) proftpdHelpCmd(arg string) {
	if arg == "" {
		c.sendLines(proftpdHelp(proftpdServerAdmin(c.s.decky)))
		return
	}
	word, _, _ := strings.Cut(arg, " ")
	word = asciiUpper(word)
	if word == "SITE" {
		// mod_site answers with the last three lines of its table, the
		// first as the reply's opening.
		c.sendLines([]string{"214-HELP", " CHGRP", "214 CHMOD"})
		return
	}
	for _, h := range proftpdHelpTable {
		if h.cmd == word {
			c.send("214 Syntax: " + h.cmd + " " + h.syntax)
			return
		}
	}
	c.send("502 Unknown command '" + word + "'")
}

func (c *control) proftpdOpts(arg string) {
	words := strings.Fields(arg)
	if len(words) == 0 {
		c.send("501 Invalid number of parameters")
		return
	}
	sub := asciiUpper(words[0])
	if sub != "UTF8" {
		c.send("500 OPTS " + sub + " not understood")
		return
	}
	if len(words) != 2 {
		c.send("501 'OPTS UTF8' not understood")
		return
	}
	switch strings.ToLower(words[1]) {
	case "on", "yes", "true", "1":
		c.send("200 UTF8 set to on")
	case "off", "no", "false", "0":
		c.send("200 UTF8 set to off")
	default:
		c.send("501 'OPTS UTF8' not understood")
	}
}

// proftpdLang answers LANG as mod_lang does on a host without generated
// locales, where en_US is the only language.
func (c *control) proftpdLang(arg string) {
	switch {
	case c.loggedIn:
		c.send("500 Unable to handle command")
	case arg == "":
		c.send("200 Using default language en_US")
	case strings.Contains(arg, " "):
		c.send("501 Invalid number of parameters")
	case arg == "en_US" || strings.EqualFold(arg, "en-US"):
		c.send("200 Using language en_US")
	default:
		c.send("504 Language " + arg + " not supported")
	}
}

func (c *control) proftpdHost(arg string) {
	switch {
	case arg == "":
		c.send("500 'HOST' not understood")
	case c.loggedIn:
		c.send("503 Bad sequence of commands")
	case c.hostMatches(arg):
		c.send("220 HOST command successful")
	default:
		c.send("504 " + arg + ": Unknown hostname provided")
	}
}

// hostMatches reports whether a HOST argument names this server: its
// address as the connection shows it, bare or in brackets.
func (c *control) hostMatches(arg string) bool {
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(arg, "["), "]"))
	return err == nil && a.Unmap() == c.local.Unmap()
}

// proftpdSite answers SITE. Before login only HELP, RATIO and the
// bad-sequence reply of CPTO work. CHMOD and CHGRP then ask for a login
// twice, once from the dispatcher and once from mod_site's handler.
func (c *control) proftpdSite(arg string) {
	words := strings.Fields(arg)
	if len(words) == 0 {
		c.send("500 'SITE' requires parameters")
		return
	}
	sub := asciiUpper(words[0])
	admin := proftpdServerAdmin(c.s.decky)
	switch sub {
	case "HELP":
		c.sendLines(proftpdSiteHelp(admin))
		return
	case "RATIO":
		c.send("214 Current Ratio: ( -0/0 +0/0 (0 0 0 0) = 0/0 )")
		return
	case "CPTO":
		c.sendLines([]string{"503-Bad sequence of commands", "503 Bad sequence of commands"})
		return
	}
	if !c.loggedIn {
		switch sub {
		case "CHMOD", "CHGRP":
			c.sendLines([]string{c.p.needLogin, c.p.needLogin})
		case "QUOTA", "CPFR", "UTIME", "SYMLINK", "RMDIR", "MKDIR":
			c.send(c.p.needLogin)
		default:
			c.send("500 'SITE " + sub + "' not understood")
		}
		return
	}
	switch sub {
	case "QUOTA":
		c.send("202 No quotas in effect")
	case "CHMOD", "CHGRP":
		if len(words) < 3 {
			c.sendLines([]string{"500-'SITE " + sub + "' not understood", "500 SITE not understood"})
			return
		}
		target := strings.Join(words[2:], " ")
		if c.writeDenied() || c.tree.lookup(resolve(c.cwd, target)) == nil {
			c.send("550 " + target + ": No such file or directory")
			return
		}
		c.send("200 SITE " + sub + " command successful")
	case "UTIME":
		if len(words) < 3 {
			c.send("500 'SITE UTIME' not understood")
			return
		}
		target := strings.Join(words[2:], " ")
		if c.writeDenied() || c.tree.lookup(resolve(c.cwd, target)) == nil {
			c.send("550 " + arg + ": No such file or directory")
			return
		}
		c.send("200 SITE UTIME command successful")
	case "CPFR":
		if len(words) < 2 {
			c.send("500 'SITE CPFR' not understood")
			return
		}
		abs := resolve(c.cwd, strings.Join(words[1:], " "))
		if c.tree.lookup(abs) == nil {
			c.send("550 " + abs + ": No such file or directory")
			return
		}
		c.send(c.p.rnfrOK)
	case "MKDIR", "RMDIR":
		c.proftpdSiteDir(sub, arg, strings.Join(words[1:], " "))
	case "SYMLINK":
		c.send("550 " + arg + ": No such file or directory")
	default:
		c.send("500 'SITE " + sub + "' not understood")
	}
}

// proftpdSiteDir answers mod_site_misc's SITE MKDIR and SITE RMDIR,
// which create and remove a directory like MKD and RMD.
func (c *control) proftpdSiteDir(sub, arg, target string) {
	abs := resolve(c.cwd, target)
	dir, name := c.tree.parentOf(abs)
	n := c.tree.lookup(abs)
	switch {
	case c.writeDenied() || target == "":
		c.send("550 " + arg + ": Permission denied")
	case sub == "MKDIR" && n != nil && n.dir:
		// Like mkdir -p, an existing directory is success.
		c.send("200 SITE MKDIR command successful")
	case sub == "MKDIR" && n != nil:
		c.send("550 " + arg + ": File exists")
	case sub == "MKDIR" && !c.tree.canCreate(dir, name):
		c.send("550 " + arg + ": Permission denied")
	case sub == "MKDIR":
		nd := mkdir(dir, name, 0o755, c.owner(), c.s.now())
		nd.writable = true
		c.tree.nodes++
		c.send("200 SITE MKDIR command successful")
	case n == nil || !n.dir || n.link != "" || dir == nil || !dir.writable || len(n.children) > 0:
		c.send("550 " + arg + ": No such file or directory")
	default:
		dir.remove(name)
		c.send("200 SITE RMDIR command successful")
	}
}

// proftpdStat answers STAT with a path: 213 for a file, 212 for a
// directory, 450 for nothing.
func (c *control) proftpdStat(arg string) {
	opts, target := splitListArg(arg)
	opts.all = true
	name := target
	if name == "" {
		name = "."
	}
	abs := resolve(c.cwd, target)
	n := c.tree.lookup(abs)
	if n == nil {
		c.send("450 " + name + ": No such file or directory")
		return
	}
	code := "213"
	if t := c.tree.follow(abs, n); t != nil && t.dir && !opts.directory {
		code = "212"
	}
	lines := []string{code + "-Status of " + name + ":"}
	for _, l := range c.tree.listing(c.p.listStyle, abs, target, opts, c.s.now()) {
		lines = append(lines, " "+l)
	}
	c.sendLines(append(lines, code+" End of status"))
}

// proftpdPort answers PORT. With AllowForeignAddress off, as Debian
// ships it, ProFTPD accepts another host's address but connects to the
// client's own. The decoy does the same, so no connection leaves for a
// third party.
func (c *control) proftpdPort(arg string) {
	if c.epsvAll {
		c.send("500 Illegal PORT command, EPSV ALL in effect")
		return
	}
	ap, err := parsePORT(arg)
	if err != nil {
		c.send("501 Illegal PORT command")
		return
	}
	if ap.Port() < 1024 {
		c.send("500 Illegal PORT command")
		return
	}
	c.closeData()
	c.data.active = netip.AddrPortFrom(c.remote, ap.Port())
	c.send("200 PORT command successful")
}

// proftpdEprt answers EPRT as core_eprt does: the port is taken modulo
// 2^16, and the address family must be the connection's.
func (c *control) proftpdEprt(arg string) {
	if c.epsvAll {
		c.send("500 Illegal EPRT command, EPSV ALL in effect")
		return
	}
	if len(arg) < 1 || arg[0] < 33 || arg[0] > 126 {
		c.send("522 Network protocol not supported, use (1,2)")
		return
	}

	parts := strings.Split(arg, arg[:1])
	if len(parts) < 2 || (parts[1] != "1" && parts[1] != "2") {
		c.send("522 Network protocol not supported, use (1,2)")
		return
	}
	if len(parts) != 5 || parts[4] != "" {
		c.send("501 Illegal EPRT command")
		return
	}

	addr, err := netip.ParseAddr(parts[2])
	if err != nil || addr.Is4() != (parts[1] == "1") || !addr.Unmap().Is4() {
		c.send("500 Illegal EPRT command")
		return
	}
	port, err := strconv.Atoi(parts[3])
	if err != nil || port < 0 || port&0xffff < 1024 {
		c.send("500 Illegal EPRT command")
		return
	}

	c.closeData()
	c.data.active = netip.AddrPortFrom(c.remote, uint16(port&0xffff)) //nolint:gosec // G115: masked to 16 bits
	c.send("200 EPRT command successful")
}
