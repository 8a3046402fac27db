package smtp

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"

	"github.com/decnet/decnet/decoys"
)

// Exim reads and judges commands differently from Postfix: a command ends
// at a line feed, the verb is matched as a prefix of the line, errors are
// counted as "syntax or protocol errors", and a client that sends ahead
// without PIPELINING is dropped. The loop below follows smtp_in.c of Exim
// 4.96 as Debian 12 builds it. The mail transaction itself (addresses,
// DATA, BDAT) runs through the shared handlers with Exim's texts.

// Limits of Exim 4.96, all at their defaults in Debian's configuration.
const (
	// eximCmdBuffer is SMTP_CMD_BUFFER_SIZE: a longer command is refused
	// as unrecognized after this many bytes, and the rest of the line is
	// read as the next command.
	eximCmdBuffer = 16384
	// eximMaxSynprot is smtp_max_synprot_errors: the error after this
	// many ends the session.
	eximMaxSynprot = 3
	// eximMaxUnknown is smtp_max_unknown_commands.
	eximMaxUnknown = 3
	// eximMaxNonmail is smtp_accept_max_nonmail: commands other than
	// MAIL, RCPT, DATA, BDAT and QUIT beyond it end the session.
	eximMaxNonmail = 10
	// eximAuthLineLimit bounds a SASL response line; Exim reads it into
	// its big buffer.
	eximAuthLineLimit = 16384
)

// eximCmd identifies a command. The order matters as in smtp_in.c: the
// commands before eximSyncPipelining must be the last of a pipelined
// group, and without PIPELINING so must those before eximSyncPlain.
type eximCmd int

const (
	eximHelo eximCmd = iota
	eximEhlo
	eximData
	eximVrfy
	eximExpn
	eximNoop
	eximEtrn
	eximStarttls
	eximSyncPipelining
	eximMail
	eximRcpt
	eximRset
	eximSyncPlain
	eximBdat
	eximAuth
	eximQuit
	eximHelp
	eximUnknown
)

// eximCommands is smtp_in.c's cmd_list: a command matches when the line
// starts with its name (any case) followed by a space or the end, or
// when the name ends in a colon.
var eximCommands = []struct {
	name   string
	cmd    eximCmd
	hasArg bool
}{
	{"rset", eximRset, false},
	{"helo", eximHelo, true},
	{"ehlo", eximEhlo, true},
	{"auth", eximAuth, true},
	{"starttls", eximStarttls, false},
	{"mail from:", eximMail, true},
	{"rcpt to:", eximRcpt, true},
	{"data", eximData, false},
	{"bdat", eximBdat, true},
	{"quit", eximQuit, false},
	{"noop", eximNoop, true},
	{"etrn", eximEtrn, true},
	{"vrfy", eximVrfy, true},
	{"expn", eximExpn, true},
	{"help", eximHelp, true},
}

// eximState is the session state that Exim keeps beside the transaction.
type eximState struct {
	synprot, unknown, nonmail int

	// free marks the commands whose next use is not counted as a
	// non-mail command: one RSET, HELO or EHLO and STARTTLS per message,
	// and the first AUTH (again after STARTTLS).
	freeRset, freeHelo, freeEhlo, freeStarttls, freeAuth bool

	heloSeen, pipelining, tlsAdvertised, authAdvertised bool
	// pipeConnect is PIPECONNECT still acceptable: Exim then checks no
	// synchronization when it reads a command, until DATA or BDAT.
	pipeConnect bool

	wasRejMail, wasRcpt, lastWasRejMail, lastWasRcpt bool

	// rcptResponse is the first RCPT rejection of the transaction;
	// rcptSame stays true while every rejection was the same.
	rcptResponse string
	rcptSame     bool
}

// serveExim runs the command loop until the session ends.
func (c *conn) serveExim() {
	c.ex = eximState{pipeConnect: true, freeAuth: true}
	c.eximMessageStart()
	for !c.hangup {
		line, overlong, nul, err := c.eximReadLine()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.emitCommand(line)
		c.ex.wasRejMail, c.ex.wasRcpt = false, false
		c.eximDispatch(line, overlong, nul)
		c.ex.lastWasRejMail, c.ex.lastWasRcpt = c.ex.wasRejMail, c.ex.wasRcpt
	}
}

// eximMessageStart resets what smtp_setup_msg resets before each message.
func (c *conn) eximMessageStart() {
	c.ex.freeRset, c.ex.freeHelo, c.ex.freeEhlo, c.ex.freeStarttls = true, true, true, true
	c.eximReset()
}

// eximReset drops the transaction, as smtp_reset does.
func (c *conn) eximReset() {
	c.resetTransaction()
	c.ex.rcptResponse = ""
	c.ex.rcptSame = true
}

// eximReadLine reads one command as smtp_read_command does: up to a line
// feed, with trailing white space (the CR among it) removed and NULs
// replaced by '?'. A line longer than the command buffer comes back
// early with overlong set; one more byte is consumed and lost.
func (c *conn) eximReadLine() (line []byte, overlong, nul bool, err error) {
	buf := make([]byte, 0, 256)
	for {
		b, err := c.br.ReadByte()
		if err != nil {
			return nil, false, false, err
		}
		if b == '\n' {
			break
		}
		if len(buf) >= eximCmdBuffer {
			return buf, true, false, nil
		}
		if b == 0 {
			nul = true
			b = '?'
		}
		buf = append(buf, b)
	}
	for len(buf) > 0 && isCSpace(buf[len(buf)-1]) {
		buf = buf[:len(buf)-1]
	}
	return buf, false, nul, nil
}

// isCSpace is C's isspace in the C locale.
func isCSpace(b byte) bool {
	return b == ' ' || b >= '\t' && b <= '\r'
}

// isAlnum is C's isalnum in the C locale.
func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// eximPending reports whether the client has sent more than the command
// being handled: Exim's check for input waiting in its buffer.
func (c *conn) eximPending() bool { return c.br.Buffered() > 0 }

// matchExim finds the command a line starts with and its argument.
func matchExim(line string) (eximCmd, bool, string) {
	for _, e := range eximCommands {
		n := len(e.name)
		if len(line) < n || !strings.EqualFold(line[:n], e.name) {
			continue
		}
		if e.name[n-1] != ':' && len(line) > n && line[n] != ' ' {
			continue
		}
		arg := strings.TrimLeft(line[n:], " \t\n\v\f\r")
		return e.cmd, e.hasArg, arg
	}
	return eximUnknown, false, ""
}

// eximDispatch handles one command line in the order smtp_read_command
// and smtp_setup_msg check it: length, NULs, synchronization, the
// non-mail limit, an argument where none is allowed, then the command.
func (c *conn) eximDispatch(raw []byte, overlong, nul bool) {
	if overlong {
		c.eximUnknownCommand()
		return
	}
	if nul {
		// Counted, but the limit shows only in the closed connection.
		c.ex.synprot++
		c.reply("501 NUL characters are not allowed in SMTP commands")
		c.eximDropIfOver()
		return
	}
	line := string(raw)
	cmd, hasArg, arg := matchExim(line)
	if cmd == eximUnknown {
		if !c.ex.pipeConnect && c.eximPending() {
			c.eximSyncError()
			return
		}
		c.eximUnknownCommand()
		return
	}
	limit := eximSyncPlain
	if c.ex.pipelining {
		limit = eximSyncPipelining
	}
	if !c.ex.pipeConnect && cmd < limit && c.eximPending() {
		c.eximSyncError()
		return
	}
	if c.eximNonmail(cmd) {
		c.eximNonmailDrop()
		return
	}
	if !hasArg && arg != "" {
		c.eximSynprot(501, "unexpected argument data")
		return
	}
	c.eximRun(cmd, arg, line)
}

// eximNonmail counts a command that is not part of a mail transaction
// and reports whether the count is over the limit.
func (c *conn) eximNonmail(cmd eximCmd) bool {
	var free *bool
	switch cmd {
	case eximMail, eximRcpt, eximData, eximBdat, eximQuit:
		return false
	case eximRset:
		free = &c.ex.freeRset
	case eximHelo:
		free = &c.ex.freeHelo
	case eximEhlo:
		free = &c.ex.freeEhlo
	case eximStarttls:
		free = &c.ex.freeStarttls
	case eximAuth:
		free = &c.ex.freeAuth
	}
	if free != nil && *free {
		return false
	}
	c.ex.nonmail++
	return c.ex.nonmail > eximMaxNonmail
}

// eximNonmailDrop ends the session past smtp_accept_max_nonmail.
func (c *conn) eximNonmailDrop() {
	c.reply("554 Too many nonmail commands")
	c.reason = reasonErrorLimit
	c.hangup = true
}

// eximRun runs a recognized command with its argument.
func (c *conn) eximRun(cmd eximCmd, arg, line string) {
	switch cmd {
	case eximHelo, eximEhlo:
		c.eximHello(cmd == eximEhlo, arg)
	case eximAuth:
		c.ex.freeAuth = false
		c.eximAuth(arg)
	case eximStarttls:
		c.eximStarttls()
	case eximMail:
		c.eximMail(arg)
	case eximRcpt:
		c.eximRcpt(arg)
	case eximData:
		c.eximData()
	case eximBdat:
		c.ex.pipeConnect = false
		args := tokenize(line)
		// Exim rejects a missing or non-numeric size with 501 and keeps
		// the transaction. It takes a zero size without LAST as an empty
		// chunk. Postfix handles both differently.
		if len(args) < 2 || args[1].text == "" || strings.Trim(args[1].text, "0123456789") != "" {
			c.reply("501 missing size for BDAT command")
			break
		}
		if len(args) == 2 && strings.Trim(args[1].text, "0") == "" {
			c.reply(c.p.r.bdatChunk(0))
			break
		}
		if c.cmdBdat(args) && c.bdat == bdatNone {
			c.eximMessageStart()
		}
	case eximRset:
		c.ex.freeRset = false
		c.eximReset()
		c.reply(c.p.r.rset)
	case eximNoop:
		c.reply(c.p.r.noop)
	case eximQuit:
		c.reply(c.p.r.quit(c.host))
		c.reason = reasonQuit
		c.hangup = true
	case eximHelp:
		c.reply(c.eximHelp())
	case eximVrfy:
		c.eximVrfy(arg)
	case eximExpn:
		// acl_smtp_expn is unset, and an unset ACL denies.
		c.reply(c.p.r.expn)
	case eximEtrn:
		if c.inMail {
			c.eximSynprot(503, "ETRN is not permitted inside a transaction")
			return
		}
		c.reply("458 Administrative prohibition")
	}
}

// eximUnknownCommand replies to a line that is no command. The fourth ends
// the session; the others count as syntax errors.
func (c *conn) eximUnknownCommand() {
	c.ex.unknown++
	if c.ex.unknown > eximMaxUnknown {
		c.reply(c.p.r.tooManyUnknown)
		c.reason = reasonErrorLimit
		c.hangup = true
		return
	}
	c.eximSynprot(500, "unrecognized command")
}

// eximSynprot sends an error that counts toward smtp_max_synprot_errors,
// as synprot_error does: past the limit the reply becomes the first
// line of two and the session ends. It returns the first line.
func (c *conn) eximSynprot(code int, text string) string {
	c.ex.synprot++
	if c.ex.synprot > eximMaxSynprot {
		first := fmt.Sprintf("%d-%s", code, text)
		c.reply(first + fmt.Sprintf("\r\n%d Too many syntax or protocol errors", code))
		c.reason = reasonErrorLimit
		c.hangup = true
		return first
	}
	return c.eximReply(fmt.Sprintf("%d %s", code, text))
}

// eximDropIfOver ends the session when the error count is past the
// limit and the reply was already sent.
func (c *conn) eximDropIfOver() {
	if c.ex.synprot > eximMaxSynprot {
		c.reason = reasonErrorLimit
		c.hangup = true
	}
}

// eximSyncError ends the session of a client that sent ahead.
func (c *conn) eximSyncError() {
	c.reply("554 SMTP synchronization error")
	c.reason = reasonProtocol
	c.hangup = true
}

// eximHello replies to HELO and EHLO. An invalid name leaves the session as
// it was.
func (c *conn) eximHello(ehlo bool, arg string) {
	c.ex.freeHelo, c.ex.freeEhlo = false, false
	if !eximHeloValid(arg) {
		name := "HELO"
		if ehlo {
			name = "EHLO"
		}
		c.reply("501 Syntactically invalid " + name + " argument(s)")
		c.ex.synprot++
		c.eximDropIfOver()
		return
	}

	c.eximReset()
	c.helo = arg
	c.ex.heloSeen = true
	c.ex.pipelining = ehlo
	c.ex.tlsAdvertised = ehlo && !c.tls && c.s.tlsConfig != nil
	c.ex.authAdvertised = ehlo && len(c.mechanisms()) > 0
	if !ehlo {
		c.reply(c.p.r.helo(c.host, arg))
		return
	}

	lines := append([]string{c.p.r.ehloGreeting(c.host, arg)}, c.eximKeywords()...)
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteString("\r\n")
		}
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		b.WriteString("250" + sep + l)
	}
	c.reply(b.String())
}

// eximKeywords returns the EHLO keywords. PIPECONNECT is left out once
// a message was started with DATA or BDAT.
func (c *conn) eximKeywords() []string {
	out := c.keywords()
	if c.ex.pipeConnect {
		return out
	}
	kept := out[:0]
	for _, k := range out {
		if k != "PIPECONNECT" {
			kept = append(kept, k)
		}
	}
	return kept
}

// eximHeloValid reports whether check_helo accepts s: an address
// literal, or letters, digits, dots and hyphens only (helo_allow_chars
// is empty).
func eximHeloValid(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '[' {
		if !strings.HasSuffix(s, "]") {
			return false
		}
		inner := s[1 : len(s)-1]
		switch {
		case len(inner) >= 5 && strings.EqualFold(inner[:5], "IPv6:"):
			a, err := netip.ParseAddr(inner[5:])
			return err == nil && a.Is6() && a.Zone() == ""
		case len(inner) >= 5 && strings.EqualFold(inner[:5], "IPv4:"):
			a, err := netip.ParseAddr(inner[5:])
			return err == nil && a.Is4()
		}
		a, err := netip.ParseAddr(inner)
		return err == nil && a.Zone() == ""
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !isAlnum(b) && b != '.' && b != '-' {
			return false
		}
	}
	return true
}

// eximHelp returns the list of commands, with STARTTLS only outside TLS.
func (c *conn) eximHelp() string {
	cmds := "AUTH"
	if !c.tls && c.s.tlsConfig != nil {
		cmds += " STARTTLS"
	}
	return "214-Commands supported:\r\n214 " + cmds + " HELO EHLO MAIL RCPT DATA BDAT NOOP QUIT RSET HELP"
}

// eximVrfy parses the address and then meets the unset acl_smtp_vrfy,
// which denies.
//
// NOTE: Exim's address parser has many more error texts; a malformed
// address other than an empty or unqualified one gets the ACL's reply.
func (c *conn) eximVrfy(arg string) {
	addr := strings.TrimSpace(arg)
	if strings.HasPrefix(addr, "<") && strings.HasSuffix(addr, ">") {
		addr = addr[1 : len(addr)-1]
	}
	switch {
	case addr == "":
		c.reply("501 empty address")
	case !strings.Contains(addr, "@") && !strings.EqualFold(addr, "postmaster"):
		c.reply("501 " + arg + ": recipient address must contain a domain")
	default:
		c.reply(c.p.r.vrfyText)
	}
}

// captured runs f with replies held back and returns them.
func (c *conn) captured(f func()) string {
	saved := c.bw
	var b bytes.Buffer
	c.bw = bufio.NewWriter(&b)
	f()
	_ = c.bw.Flush()
	c.bw = saved
	return b.String()
}

// eximRelay sends a reply produced by a shared handler. An accepted
// command sent ahead without PIPELINING is a synchronization error, and
// a 501 or 503 counts as a syntax or protocol error.
func (c *conn) eximRelay(reply string) {
	if strings.HasPrefix(reply, "250") && !c.ex.pipelining && c.eximPending() {
		c.eximSyncError()
		return
	}
	text := strings.TrimSuffix(reply, "\r\n")
	if strings.HasPrefix(text, "501 ") || strings.HasPrefix(text, "503 ") {
		code := 501
		if text[2] == '3' {
			code = 503
		}
		c.eximSynprot(code, text[4:])
		return
	}
	if text != "" {
		c.reply(text)
	}
}

// eximMail checks what smtp_in.c checks before the address, then lets
// the shared handler parse it.
func (c *conn) eximMail(arg string) {
	c.ex.wasRejMail = true
	if !c.ex.heloSeen {
		// hosts_require_helo defaults to all hosts.
		c.reply("503 HELO or EHLO required")
		return
	}
	if c.inMail {
		c.eximSynprot(503, "sender already given")
		return
	}
	if arg == "" {
		c.eximSynprot(501, "MAIL must have an address operand")
		return
	}
	if c.eximAddress(arg, true) != "" {
		return
	}
	reply := c.captured(func() { c.cmdMail(tokenize("MAIL FROM:" + eximMailArg(arg))) })
	if c.inMail {
		c.ex.wasRejMail = false
	}
	c.eximRelay(reply)
}

// eximRcpt checks for a sender and an operand, then lets the shared
// handler parse and judge the recipient, remembering a rejection.
func (c *conn) eximRcpt(arg string) {
	c.ex.wasRcpt = true
	if !c.inMail {
		if c.ex.pipelining && c.ex.lastWasRejMail {
			c.eximRcptRejected("503 sender not yet given")
			c.reply("503 sender not yet given")
			c.ex.wasRejMail = true
			return
		}
		c.ex.wasRcpt = false
		c.eximRcptRejected("503 sender not yet given")
		c.eximSynprot(503, "sender not yet given")
		return
	}
	if arg == "" {
		c.eximRcptRejected("501 RCPT must have an address operand")
		c.eximSynprot(501, "RCPT must have an address operand")
		return
	}
	if rejected := c.eximAddress(arg, false); rejected != "" {
		c.eximRcptRejected(rejected)
		return
	}
	before := len(c.rcpts)
	reply := strings.TrimSuffix(c.captured(func() { c.cmdRcpt(tokenize("RCPT TO:" + arg)) }), "\r\n")
	if len(c.rcpts) == before {
		// An ACL's rejection is remembered by its message, any other
		// reply as it was sent.
		msg := reply
		if strings.HasPrefix(reply, "55") {
			msg = reply[4:]
		}
		c.eximRcptRejected(msg)
	}
	c.eximRelay(reply)
}

// eximMailOptions are the MAIL parameters Exim takes off the end of the
// command after EHLO with the options Debian's configuration advertises.
var eximMailOptions = map[string]bool{"SIZE": true, "BODY": true, "AUTH": true, "RET": true, "ENVID": true}

// eximAddress applies the checks of Exim's address parser that the shared
// handlers do not: text after the address that is no accepted option, a
// domain literal, a missing domain. When one fails it sends the reply
// and returns it; otherwise it returns "".
//
// NOTE: other malformed addresses get the shared parser's verdict with
// one Exim text, while Exim's parser names each fault.
func (c *conn) eximAddress(arg string, mail bool) string {
	if strings.HasPrefix(arg, "<<") {
		// Nested brackets are the shared parser's to refuse.
		return ""
	}
	addr, rest := eximSplitAddress(arg)
	for _, opt := range strings.Fields(rest) {
		name, _, found := strings.Cut(opt, "=")
		if !mail || !c.ex.pipelining || !found || !eximMailOptions[strings.ToUpper(name)] {
			junk := rest[:min(len(rest), 32)]
			return c.eximSynprot(501, arg+": malformed address: "+junk+" may not follow "+arg[:len(arg)-len(rest)])
		}
	}

	inner := strings.TrimSuffix(strings.TrimPrefix(addr, "<"), ">")
	at := strings.LastIndexByte(inner, '@')
	switch {
	case inner == "" && !mail:
		return c.eximSynprot(501, addr+": missing or malformed local part")
	case at >= 0 && strings.HasPrefix(inner[at+1:], "["):
		return c.eximSynprot(501, addr+": domain literals not allowed")
	case inner != "" && at < 0 && mail:
		return c.eximReply("501 " + addr + ": sender address must contain a domain")
	case at < 0 && !mail && !strings.EqualFold(inner, "postmaster"):
		return c.eximReply("501 " + addr + ": recipient address must contain a domain")
	}
	return ""
}

// eximMailArg returns the address of a MAIL argument and its SIZE when
// that is a number. Exim takes the other options it recognizes off the
// command and ignores them, and ignores a SIZE without a number.
func eximMailArg(arg string) string {
	if strings.HasPrefix(arg, "<<") {
		return arg
	}
	out, rest := eximSplitAddress(arg)
	for _, opt := range strings.Fields(rest) {
		name, value, _ := strings.Cut(opt, "=")
		if strings.EqualFold(name, "SIZE") && value != "" && strings.Trim(value, "0123456789") == "" {
			out += " SIZE=" + value
		}
	}
	return out
}

// eximSplitAddress splits a MAIL or RCPT argument into the address (up
// to the first '>' of a bracketed one, else the first word) and the
// text after it.
func eximSplitAddress(arg string) (addr, rest string) {
	addr = arg
	if strings.HasPrefix(arg, "<") {
		if i := strings.IndexByte(arg, '>'); i > 0 {
			addr, rest = arg[:i+1], arg[i+1:]
		}
	} else if i := strings.IndexAny(arg, " \t"); i > 0 {
		addr, rest = arg[:i], arg[i:]
	}
	return addr, strings.TrimLeft(rest, " \t")
}

// eximReply sends a reply and returns it.
func (c *conn) eximReply(text string) string {
	c.reply(text)
	return text
}

// eximRcptRejected remembers a RCPT rejection for the reply to DATA.
func (c *conn) eximRcptRejected(msg string) {
	switch {
	case c.ex.rcptResponse == "" && c.ex.rcptSame:
		c.ex.rcptResponse = msg
	case c.ex.rcptResponse != msg:
		c.ex.rcptSame = false
	}
}

// eximData starts the message, or refuses DATA without a valid RCPT,
// quoting the rejection when every RCPT got the same one.
func (c *conn) eximData() {
	c.ex.pipeConnect = false
	if len(c.rcpts) > 0 {
		if c.cmdData([]token{{text: "DATA"}}) {
			c.eximMessageStart()
		}
		return
	}
	var b strings.Builder
	if c.ex.rcptSame && c.ex.rcptResponse != "" {
		b.WriteString("503-All RCPT commands were rejected with this error:\r\n503-" + c.ex.rcptResponse + "\r\n")
	}
	if c.ex.pipelining && c.ex.lastWasRcpt {
		c.reply(b.String() + "503 Valid RCPT command must precede DATA")
		return
	}
	if b.Len() > 0 {
		_, _ = c.bw.WriteString(b.String())
	}
	c.eximSynprot(503, "valid RCPT command must precede DATA")
}

// eximStarttls starts TLS when the last EHLO offered it. Success resets
// HELO, EHLO and the transaction.
func (c *conn) eximStarttls() {
	if !c.ex.tlsAdvertised {
		c.eximSynprot(503, "STARTTLS command used when not advertised")
		return
	}
	c.ex.freeStarttls = false
	if !c.cmdStarttls([]token{{text: "STARTTLS"}}) {
		return
	}
	c.eximReset()
	c.ex.heloSeen, c.ex.pipelining, c.ex.authAdvertised, c.ex.tlsAdvertised = false, false, false, false
	c.ex.freeEhlo, c.ex.freeAuth = true, true
}

// eximAuth runs AUTH as smtp_in.c and Exim's plaintext authenticator do,
// with Debian's example PLAIN and LOGIN servers. No password is ever
// right.
func (c *conn) eximAuth(arg string) {
	if !c.ex.authAdvertised {
		c.eximSynprot(503, "AUTH command used when not advertised")
		return
	}
	if c.inMail {
		c.eximSynprot(503, "not permitted in mail transaction")
		return
	}
	name, data, _ := strings.Cut(arg, " ")
	for i := 0; i < len(name); i++ {
		b := name[i]
		if !isAlnum(b) && b != '-' && b != '_' {
			c.eximSynprot(501, "invalid character in authentication mechanism name")
			return
		}
	}
	data = strings.TrimLeft(data, " \t")
	mech := ""
	for _, m := range c.mechanisms() {
		if strings.EqualFold(m, name) {
			mech = m
		}
	}
	if mech == "" {
		c.eximSynprot(504, name+" authentication mechanism not supported")
		return
	}

	// The prompts of Debian's plain_server (one empty prompt) and
	// login_server; data on the AUTH line answers the first ones.
	prompts := []string{""}
	if mech == "LOGIN" {
		prompts = []string{"Username:", "Password:"}
	}
	var items [][]byte
	if data != "" {
		got, ok := eximDecodeItems(data)
		if !ok {
			c.reply("501 Invalid base64 data")
			return
		}
		items = got
	}
	// Like auth_plaintext_server, a prompt is skipped while the items
	// received so far cover it.
	for i, prompt := range prompts {
		if i < len(items) {
			continue
		}
		answer, ok := c.eximPrompt(prompt)
		if !ok {
			return
		}
		items = append(items, answer...)
	}
	c.recordEximAuth(mech, items)
	c.reply(c.p.r.authFailed(""))
}

// eximPrompt sends one prompt of the plaintext authenticator and returns
// the items of the answer, as auth_prompt splits them. It replies itself
// and returns false when the client cancels or sends bad base64, or the
// connection fails.
func (c *conn) eximPrompt(prompt string) ([][]byte, bool) {
	c.reply("334 " + base64.StdEncoding.EncodeToString([]byte(prompt)))
	line, _, err := readLine(c.br, eximAuthLineLimit, true)
	if err != nil {
		c.readFailed(err)
		return nil, false
	}
	line = bytes.TrimRight(line, " \t")
	if string(line) == "*" {
		c.reply("501 Authentication cancelled")
		return nil, false
	}
	raw, ok := eximBase64(string(line))
	if !ok {
		c.reply("501 Invalid base64 data")
		return nil, false
	}
	return bytes.Split(raw, []byte{0}), true
}

// eximBase64 decodes as Exim's b64decode: white space is skipped and the
// padding is required.
func eximBase64(s string) ([]byte, bool) {
	s = strings.Map(func(r rune) rune {
		if r < 0x80 && isCSpace(byte(r)) {
			return -1
		}
		return r
	}, s)
	raw, err := base64.StdEncoding.DecodeString(s)
	return raw, err == nil
}

// eximDecodeItems is auth_read_input: base64 split at NULs, "=" being
// one empty item.
func eximDecodeItems(s string) ([][]byte, bool) {
	if s == "=" {
		return [][]byte{{}}, true
	}
	raw, ok := eximBase64(s)
	if !ok {
		return nil, false
	}
	return bytes.Split(raw, []byte{0}), true
}

// recordEximAuth reports the credentials: PLAIN's items are the
// authorization id, user and password, LOGIN's the user and password.
func (c *conn) recordEximAuth(mech string, items [][]byte) {
	switch {
	case mech == "PLAIN" && len(items) >= 3:
		c.recordAuth(decoys.MechanismSASLPlain, decoys.SecretPlaintext, string(items[1]), items[2])
	case mech == "LOGIN" && len(items) >= 2:
		c.recordAuth(decoys.MechanismSASLLogin, decoys.SecretPlaintext, string(items[0]), items[1])
	}
}
