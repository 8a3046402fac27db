package smtp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/tlsfp"
)

// Reasons in connection.closed.
const (
	reasonQuit          = "quit"
	reasonClientClosed  = "client_closed"
	reasonTimeout       = "timeout"
	reasonErrorLimit    = "error_limit"
	reasonNonSMTP       = "non_smtp_command"
	reasonProtocol      = "protocol_error"
	reasonTLSFailed     = "tls_handshake_failed"
	reasonShutdown      = "shutdown"
	reasonSessionExpiry = "session_timeout"
)

// maxEventLine caps the command line carried by one command event.
const maxEventLine = 1 << 10

// saslResponseLimit is smtpd_sasl_response_limit, the longest SASL
// response line read.
const saslResponseLimit = 12288

// rcptLimit is smtpd_recipient_limit; rcptOvershoot is
// smtpd_recipient_overshoot_limit.
const (
	rcptLimit     = 1000
	rcptOvershoot = 1000
)

// bdat states of a transaction.
const (
	bdatNone = iota
	bdatActive
	bdatError
)

// conn is the state of one SMTP session.
type conn struct {
	ctx  context.Context
	s    *Service
	p    *persona
	sess *decoys.Session
	// netConn is the transport under the current stream: the metered TCP
	// connection, or the TLS connection over it after STARTTLS.
	netConn net.Conn
	metered *meteredConn
	br      *bufio.Reader
	bw      *bufio.Writer
	host    hostView

	tls     bool
	helo    string
	hangup  bool
	reason  string
	errors  int
	junk    int
	unknown int
	// ex is the state of Exim's command loop, for the personas that
	// use it.
	ex eximState

	// The mail transaction.
	inMail    bool
	sender    string
	rcpts     []string
	overshoot int
	smtputf8  bool
	msgSize   int64
	bdat      int
	msg       *message
}

// flushReader flushes pending replies before it blocks for input, so that
// the replies to a pipelined group of commands leave together, as
// Postfix's VSTREAM does.
type flushReader struct{ c *conn }

func (f flushReader) Read(p []byte) (int, error) {
	if f.c.bw.Buffered() > 0 {
		if err := f.c.bw.Flush(); err != nil {
			return 0, err
		}
	}
	return f.c.netConn.Read(p)
}

func (c *conn) setStream(nc net.Conn) {
	c.netConn = nc
	c.br = bufio.NewReaderSize(flushReader{c}, 4096)
	c.bw = bufio.NewWriterSize(nc, 4096)
}

// reply sends one reply. Past the persona's soft error limit every reply
// waits first, as smtpd_chat_reply does. A 421 or 521 reply ends the
// session after it is sent.
func (c *conn) reply(text string) {
	if c.p.softErrors > 0 && c.errors >= c.p.softErrors {
		_ = c.bw.Flush()
		c.s.sleep(c.ctx, c.p.errorSleep)
	}
	_, _ = c.bw.WriteString(text)
	_, _ = c.bw.WriteString("\r\n")
	if strings.HasPrefix(text, "421") || strings.HasPrefix(text, "521") {
		c.hangup = true
	}
}

func (c *conn) flush() { _ = c.bw.Flush() }

// command is one entry of the command table.
type command struct {
	name string
	run  func(c *conn, args []token) bool
	// junk commands count toward the junk command limit.
	junk bool
}

// commandTable returns smtpd's command table with the optional commands
// the persona has.
func commandTable(p *persona) []command {
	table := []command{
		{"HELO", (*conn).cmdHelo, true},
		{"EHLO", (*conn).cmdEhlo, true},
		{"STARTTLS", (*conn).cmdStarttls, false},
		{"AUTH", (*conn).cmdAuth, false},
		{"MAIL", (*conn).cmdMail, false},
		{"RCPT", (*conn).cmdRcpt, false},
		{"DATA", (*conn).cmdData, false},
		{"RSET", (*conn).cmdRset, true},
		{"NOOP", (*conn).cmdNoop, true},
		{"VRFY", (*conn).cmdVrfy, true},
		{"QUIT", (*conn).cmdQuit, false},
	}
	if p.chunking {
		table = append(table, command{"BDAT", (*conn).cmdBdat, false})
	}
	if p.etrn {
		table = append(table, command{"ETRN", (*conn).cmdEtrn, true})
	}
	if p.r.xclientDenied != "" {
		table = append(table, command{"XCLIENT", (*conn).cmdXclient, false}, command{"XFORWARD", (*conn).cmdXclient, false})
	}
	if p.r.help != "" {
		table = append(table, command{"HELP", (*conn).cmdHelp, false})
	}
	if p.r.expn != "" {
		table = append(table, command{"EXPN", (*conn).cmdExpn, false})
	}
	return table
}

// lookup finds verb in the command table, ignoring case.
func (c *conn) lookup(verb string) *command {
	for i := range c.s.commands {
		if strings.EqualFold(verb, c.s.commands[i].name) {
			return &c.s.commands[i]
		}
	}
	return nil
}

// serve runs the session from the greeting to the close and returns why
// it ended.
func (c *conn) serve() string {
	c.reply(c.p.r.banner(c.host))
	c.flush()

	if c.p.eximEngine {
		c.serveExim()
	}
	for !c.hangup {
		if c.p.hardErrors > 0 && c.errors >= c.p.hardErrors {
			c.reason = reasonErrorLimit
			c.reply(c.p.r.tooManyErrors(c.host))
			break
		}
		line, ok := c.readCommand(c.p.lineLimit)
		if !ok {
			break
		}
		c.dispatch(line)
	}
	c.flush()
	if tc, ok := c.netConn.(*tls.Conn); ok {
		// smtpd shuts TLS down with a close_notify alert before it closes
		// the connection; clients report a truncation otherwise.
		_ = tc.CloseWrite()
	}
	if c.reason == "" {
		c.reason = reasonProtocol
	}
	return c.reason
}

// readCommand reads one command line. On a timeout it sends the persona's
// timeout reply; on any failure it sets the reason and returns false.
func (c *conn) readCommand(limit int) ([]byte, bool) {
	line, _, err := readLine(c.br, limit, true)
	if err != nil {
		c.readFailed(err)
		return nil, false
	}
	return line, true
}

func (c *conn) readFailed(err error) {
	var ne net.Error
	switch {
	case c.ctx.Err() != nil:
		c.reason = reasonShutdown
		if errors.Is(c.ctx.Err(), context.DeadlineExceeded) {
			c.reason = reasonSessionExpiry
		}
	case errors.As(err, &ne) && ne.Timeout():
		c.reason = reasonTimeout
		c.reply(c.p.r.timeout(c.host))
	default:
		c.reason = reasonClientClosed
	}
	c.hangup = true
}

func (c *conn) dispatch(line []byte) {
	c.emitCommand(line)
	if !utf8.Valid(line) {
		c.reply(c.p.r.badUTF8)
		c.errors++
		return
	}
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	args := tokenize(string(line))
	if len(args) == 0 {
		c.reply(c.p.r.badSyntax)
		c.errors++
		return
	}
	cmd := c.lookup(args[0].text)
	if cmd == nil {
		c.unknownCommand(args[0].text)
		return
	}
	if !cmd.run(c, args) {
		c.errors++
	}
	if cmd.junk {
		if c.junk > c.p.junkLimit && c.p.junkLimit > 0 {
			c.errors++
		}
		c.junk++
	}
}

func (c *conn) unknownCommand(verb string) {
	if c.p.forbidNonSMTP && (isHeaderName(verb) || forbiddenVerb(verb)) {
		c.reply(c.p.r.goodbye)
		c.reason = reasonNonSMTP
		c.hangup = true
		return
	}
	c.unknown++
	if c.p.unknownLimit > 0 && c.unknown > c.p.unknownLimit {
		c.reply(c.p.r.tooManyUnknown)
		c.reason = reasonErrorLimit
		c.hangup = true
		return
	}
	c.reply(c.p.r.unknown(verb))
	c.errors++
}

// forbiddenVerb matches Postfix's smtpd_forbidden_commands default
// "CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}" (regexp tables ignore case).
func forbiddenVerb(verb string) bool {
	switch strings.ToUpper(verb) {
	case "CONNECT", "GET", "POST":
		return true
	}
	c := verb[0] | 0x20
	return c < 'a' || c > 'z'
}

// emitCommand records the command line, without the credentials an AUTH
// line may carry.
func (c *conn) emitCommand(line []byte) {
	text := string(line)
	if f := strings.Fields(text); len(f) > 2 && strings.EqualFold(f[0], "AUTH") {
		text = f[0] + " " + f[1]
	}
	if len(text) > maxEventLine {
		text = text[:maxEventLine]
	}
	c.sess.Command(strings.ToValidUTF8(text, "\uFFFD"), "smtp")
}

// collapse joins the words from args[1] on, as collapse_args does.
func collapse(args []token) string {
	parts := make([]string, 0, len(args)-1)
	for _, a := range args[1:] {
		parts = append(parts, a.text)
	}
	return strings.Join(parts, " ")
}

func (c *conn) resetTransaction() {
	c.inMail = false
	c.sender = ""
	c.rcpts = nil
	c.overshoot = 0
	c.smtputf8 = false
	c.msgSize = 0
	c.bdat = bdatNone
	if c.msg != nil {
		c.msg.discard()
		c.msg = nil
	}
}

func (c *conn) cmdHelo(args []token) bool {
	if len(args) < 2 {
		c.reply(c.p.r.heloSyntax)
		return false
	}
	c.resetTransaction()
	c.helo = printable(collapse(args))
	c.reply(c.p.r.helo(c.host, c.helo))
	return true
}

func (c *conn) cmdEhlo(args []token) bool {
	if len(args) < 2 {
		c.reply(c.p.r.ehloSyntax)
		return false
	}
	c.resetTransaction()
	c.helo = printable(collapse(args))
	lines := append([]string{c.p.r.ehloGreeting(c.host, c.helo)}, c.keywords()...)
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("250")
		if i < len(lines)-1 {
			b.WriteByte('-')
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(l)
	}
	c.reply(b.String())
	return true
}

// keywords returns the EHLO keywords for the session's current state.
func (c *conn) keywords() []string {
	var out []string
	for _, k := range c.p.ehlo {
		switch k {
		case "STARTTLS", "X-ANONYMOUSTLS":
			if c.tls || c.s.tlsConfig == nil {
				continue
			}
		case "AUTH":
			mechs := c.mechanisms()
			if len(mechs) == 0 {
				continue
			}
			k = "AUTH " + strings.Join(mechs, " ")
		case "SIZE":
			k = "SIZE " + strconv.FormatInt(c.p.messageLimit, 10)
		}
		out = append(out, k)
	}
	return out
}

// mechanisms returns the SASL mechanisms offered in the session's
// current state (before or after STARTTLS).
func (c *conn) mechanisms() []string {
	if c.tls {
		return c.p.mechanismsTLS
	}
	return c.p.mechanismsPlain
}

// printable replaces what Postfix's printable() would: bytes outside
// printable ASCII become '?'. Valid UTF-8 is kept as smtputf8 allows.
func printable(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] < 0x20 || b[i] == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

func (c *conn) cmdRset(args []token) bool {
	if len(args) != 1 {
		c.reply(c.p.r.rsetSyntax)
		return false
	}
	c.resetTransaction()
	c.reply(c.p.r.rset)
	return true
}

func (c *conn) cmdNoop([]token) bool {
	c.reply(c.p.r.noop)
	return true
}

func (c *conn) cmdQuit([]token) bool {
	c.reply(c.p.r.quit(c.host))
	c.reason = reasonQuit
	c.hangup = true
	return true
}

func (c *conn) cmdXclient([]token) bool {
	c.reply(c.p.r.xclientDenied)
	return false
}

func (c *conn) cmdHelp([]token) bool {
	c.reply(c.p.r.help)
	return true
}

func (c *conn) cmdExpn([]token) bool {
	c.reply(c.p.r.expn)
	return false
}

func (c *conn) cmdStarttls(args []token) bool {
	if len(args) != 1 {
		c.reply(c.p.r.starttlsSyntax)
		return false
	}
	if c.tls {
		c.reply(c.p.r.tlsActive)
		return false
	}
	if c.s.tlsConfig == nil {
		c.reply(c.p.r.unknown(args[0].text))
		return false
	}
	c.reply(c.p.r.starttlsReady)
	c.flush()

	// Plain text sent after STARTTLS is dropped (CVE-2011-0411).
	c.br.Reset(flushReader{c})
	tc := tls.Server(c.metered, c.s.tlsConfig)
	hsCtx, cancel := context.WithTimeout(c.ctx, min(c.p.idleTimeout, c.s.limits.ReadTimeout))
	defer cancel()
	if err := tc.HandshakeContext(tlsfp.WithSink(hsCtx, c.sess.Fingerprinted)); err != nil {
		c.reason = reasonTLSFailed
		c.hangup = true
		return false
	}
	c.tls = true
	c.setStream(tc)
	c.helo = ""
	c.resetTransaction()
	return true
}

func (c *conn) cmdEtrn(args []token) bool {
	if c.p.heloRequired && c.helo == "" {
		c.reply(c.p.r.needHelo)
		return false
	}
	if c.inMail {
		c.reply(c.p.r.etrnInTransaction)
		return false
	}
	if len(args) != 2 {
		c.reply(c.p.r.etrnSyntax)
		return false
	}
	domain := args[1].text
	if strings.HasPrefix(domain, "@") || strings.HasPrefix(domain, "#") {
		domain = domain[1:]
	}
	if !validDomain(domain) || strings.HasPrefix(domain, "[") && !strings.HasSuffix(domain, "]") {
		c.reply(c.p.r.etrnInvalid)
		return false
	}
	// fast_flush_domains defaults to relay_domains, which is empty.
	c.reply(c.p.r.etrnDenied(domain))
	return false
}

func (c *conn) cmdVrfy(args []token) bool {
	if !c.p.vrfy {
		c.reply(c.p.r.vrfyText)
		return !strings.HasPrefix(c.p.r.vrfyText, "5")
	}
	utf := false
	if len(args) > 1 && strings.EqualFold(args[len(args)-1].text, "SMTPUTF8") {
		args = args[:len(args)-1]
		utf = true
	}
	if len(args) < 2 {
		c.reply(c.p.r.vrfySyntax)
		return false
	}
	word := collapse(args)
	addr, ok := extractAddress(word, false, utf)
	if !ok {
		c.reply(c.p.r.badRcpt)
		return false
	}
	if reject := c.checkRecipient(addr); reject != "" {
		c.reply(reject)
		return false
	}
	c.reply(c.p.r.vrfyOK(args[1].text))
	return true
}

// checkRecipient applies the persona's recipient restrictions: no relay
// for foreign domains, and local recipients must exist. It returns the
// reject reply or "".
func (c *conn) checkRecipient(addr string) string {
	local, domain := addr, ""
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		local, domain = addr[:at], addr[at+1:]
	}
	if domain != "" && !c.host.isLocalDomain(domain) {
		return c.p.r.relayDenied(addr)
	}
	// allow_percent_hack: "user%host@local" is mail for user@host.
	if i := strings.LastIndexByte(local, '%'); i >= 0 && domain != "" {
		if !c.host.isLocalDomain(local[i+1:]) {
			return c.p.r.relayDenied(addr)
		}
		local = local[:i]
	}
	if !c.s.isUser(local) {
		return c.p.r.userUnknown(addr)
	}
	return ""
}

// sleepFor waits d or until the session ends.
func (s *Service) sleepFor(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// readFull reads exactly n bytes for BDAT, discarding them when dst is
// nil, bounded by the connection's read deadline.
func (c *conn) readFull(n int64, dst io.Writer) error {
	if dst == nil {
		dst = io.Discard
	}
	_, err := io.CopyN(dst, c.br, n)
	return err
}
