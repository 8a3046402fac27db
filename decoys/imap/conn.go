package imap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/mailbox"
	"github.com/decnet/decnet/decoys/tlsfp"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// errClose ends a connection after its last reply was sent.
type errClose struct{ reason string }

func (e errClose) Error() string { return "close: " + e.reason }

// maxLoginTag is IMAP_TAG_MAX_LEN of the login process.
const maxLoginTag = 126

// maxEventLine caps a command line in a command event.
const maxEventLine = 1024

// conn is one IMAP connection. Only its goroutine touches it.
type conn struct {
	s      *Service
	p      *persona
	ctx    context.Context
	w      *mailbox.Wire
	sess   *decoys.Session
	source netip.Addr

	loginDeadline time.Time
	bad           int

	// Set once logged in.
	user       string
	box        *mailbox.Mailbox
	selected   *mailbox.Folder
	readOnly   bool
	seen       map[*mailbox.Message]bool
	condstore  bool
	subscribed map[string]bool
	// opened holds the folders selected in this session: Courier marks
	// them \Marked once their messages were counted as recent.
	opened map[*mailbox.Folder]bool
	// Modification sequences as a freshly delivered Dovecot maildir
	// shows them: every message carries the highest modseq, which
	// starts at 2 and grows by one per flag change.
	highest     int
	modseqFloor int
	modseq      map[*mailbox.Message]int

	// cmdStart and waited time a command for Dovecot's timing text.
	cmdStart time.Time
	waited   time.Duration
	// lineMax caps the lines of the command being read.
	lineMax int
}

func (s *Service) handle(ctx context.Context, nc net.Conn) {
	started := s.now()
	sess := decoys.NewSession(nc, s.decky, ServiceName, s.emitter)
	sess.Now = s.now
	sess.Opened()

	c := &conn{
		s:             s,
		p:             s.persona,
		ctx:           ctx,
		w:             mailbox.NewWire(nc, s.limits.ReadTimeout, s.limits.WriteTimeout),
		sess:          sess,
		source:        addrOf(nc.RemoteAddr()),
		loginDeadline: time.Now().Add(loginTimeout),
	}
	reason := c.run()
	c.w.CloseTLS()
	if ctx.Err() != nil {
		reason = reasonShutdown
	}
	sess.Closed(started, c.w.Received(), c.w.Sent(), reason)
	s.log.Debug().Str(decoys.FieldSession, sess.ID).Str(decoys.FieldSource, nc.RemoteAddr().String()).
		Str("reason", reason).Msg("imap connection closed")
}

func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func (c *conn) run() string {
	var greet string
	if c.p.exchange {
		greet = "* OK " + c.p.greeting(c.s.host)
	} else {
		greet = "* OK [CAPABILITY " + c.capabilities() + "] " + c.p.greeting(c.s.host)
	}
	if err := c.line(greet); err != nil {
		return reasonClientClosed
	}

	err := c.notAuthenticated()
	if err == nil {
		err = c.authenticated()
	}
	var ec errClose
	var pe *parseError
	switch {
	case errors.As(err, &ec):
		return ec.reason
	case errors.As(err, &pe) && pe.fatal:
		_ = c.line("* BYE " + pe.msg)
		return reasonLiteralTooBig
	case errors.Is(err, mailbox.ErrBufferFull):
		return reasonBufferFull
	case mailbox.IsTimeout(err) || errors.Is(err, os.ErrDeadlineExceeded):
		return reasonTimeout
	}
	return reasonClientClosed
}

func (c *conn) line(s string) error { return c.w.WriteString(s + "\r\n") }

func (c *conn) secured() bool { return c.w.TLS() }

func (c *conn) plaintextAllowed() bool { return c.secured() || !c.s.disablePlaintext }

// capabilities is the login process's list (imap-login-client.c
// get_capability).
func (c *conn) capabilities() string {
	if c.p.capsFunc != nil {
		return c.p.capsFunc(c.secured())
	}
	var auth []string
	for _, m := range c.p.saslExtra {
		auth = append(auth, "AUTH="+m)
	}
	for _, m := range c.s.mechanisms {
		if c.plaintextAllowed() {
			auth = append(auth, "AUTH="+m)
		}
	}
	var b strings.Builder
	if c.p.exchange {
		b.WriteString(c.p.preCaps)
		for _, a := range auth {
			b.WriteString(" " + a)
		}
		if !c.secured() {
			b.WriteString(" STARTTLS")
		}
		if !c.plaintextAllowed() {
			b.WriteString(" LOGINDISABLED")
		}
		b.WriteString(" UIDPLUS MOVE ID CHILDREN IDLE NAMESPACE LITERAL+")
		return b.String()
	}
	b.WriteString(c.p.preCaps)
	if !c.secured() {
		b.WriteString(" STARTTLS")
	}
	if !c.plaintextAllowed() {
		b.WriteString(" LOGINDISABLED")
	}
	for _, a := range auth {
		b.WriteString(" " + a)
	}
	return b.String()
}

// command is one parsed command line.
type command struct {
	tag  string
	name string // upper case; "UID FETCH" for UID commands
	raw  []byte // the first line, for the command event
	src  *source
}

// readCommand reads a line and its tag and name. ok is false when the
// tag or name is invalid; tag is "" when the tag was.
func (c *conn) readCommand(maxLine, maxToken int) (*command, bool, error) {
	line, err := c.w.ReadLine(maxLine, maxToken)
	if errors.Is(err, mailbox.ErrBufferFull) {
		_ = c.line(c.p.inputBufferFull)
		return nil, false, err
	}
	if err != nil {
		if mailbox.IsTimeout(err) && c.ctx.Err() == nil {
			_ = c.line(c.p.idleDisconnect)
		}
		return nil, false, err
	}
	c.cmdStart, c.waited, c.lineMax = time.Now(), 0, maxLine
	cmd := &command{raw: line}
	cmd.src = &source{line: line, maxLine: maxLine, cont: c.continuation, literal: c.readLiteral}
	tag, ok := cmd.src.readAtomWord(true)
	if !ok {
		return cmd, false, nil
	}
	cmd.tag = tag
	if c.p.tagAsCommand && string(trimCR(line)) == tag {
		// Courier's imaplogin takes a lone word as both tag and
		// command: "CAPABILITY" gets "CAPABILITY OK CAPABILITY
		// completed".
		cmd.name = strings.ToUpper(tag)
		return cmd, true, nil
	}
	name, ok := cmd.src.readAtomWord(false)
	if !ok {
		return cmd, false, nil
	}
	cmd.name = strings.ToUpper(name)
	return cmd, true, nil
}

func (c *conn) continuation() error { return c.line("+ OK") }

// readLiteral reads a literal's bytes and the line after them.
func (c *conn) readLiteral(size int64) ([]byte, []byte, error) {
	t := time.Now()
	defer func() { c.waited += time.Since(t) }()
	data, err := c.w.ReadFull(int(size))
	if err != nil {
		return nil, nil, err
	}
	next, err := c.w.ReadLine(c.lineMax, 0)
	if err != nil {
		return nil, nil, err
	}
	return data, next, nil
}

// tagged sends the tagged completion of cmd.
func (c *conn) tagged(tag, text string) error {
	if tag == "" {
		tag = "*"
	}
	return c.line(tag + " " + text)
}

// notAuthenticated serves the login process's commands. It returns nil
// once a login is accepted.
func (c *conn) notAuthenticated() error {
	for {
		left := time.Until(c.loginDeadline)
		if left <= 0 {
			_ = c.line(c.p.idleDisconnect)
			return os.ErrDeadlineExceeded
		}
		c.w.SetReadTimeout(min(c.s.limits.ReadTimeout, left))
		cmd, ok, err := c.readCommand(c.p.maxLoginLine, c.p.maxLoginToken)
		if err != nil {
			return err
		}
		if ok && len(cmd.tag) > maxLoginTag {
			// Not echoed, in case the client speaks another protocol.
			cmd.tag, ok = "", false
		}
		if !ok {
			if err := c.invalid(cmd.tag); err != nil {
				return err
			}
			continue
		}
		if cmd.name != "LOGIN" && cmd.name != "AUTHENTICATE" {
			c.command(cmd.raw)
		}

		done, err := c.loginCommand(cmd)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// invalid replies to a bad command before login (client_invalid_command).
// Dovecot's login process never resets the count, so neither does this.
func (c *conn) invalid(tag string) error {
	c.bad++
	if c.p.maxBad > 0 && c.bad >= c.p.maxBad {
		_ = c.line(c.p.tooManyBad)
		return errClose{reasonTooManyBad}
	}
	return c.tagged(tag, c.p.invalidCommand)
}

// loginCommand runs one command before login and reports a login.
func (c *conn) loginCommand(cmd *command) (bool, error) {
	if cmd.name == "AUTHENTICATE" {
		return c.cmdAuthenticate(cmd)
	}
	switch cmd.name {
	case "CAPABILITY", "STARTTLS", "NOOP", "LOGOUT", "ENABLE", "LOGIN", "ID":
	default:
		if c.p.loginTagHint && strings.EqualFold(cmd.tag, "LOGIN") {
			return false, c.tagged(cmd.tag, "BAD First parameter in line is IMAP's command tag, not the command name. Add that before the command, like: a login user pass")
		}
		// Dovecot parses the arguments before it looks the command up.
		if _, err := cmd.src.args(); err != nil {
			return false, c.parseFailed(cmd, err)
		}
		return false, c.invalid(cmd.tag)
	}

	args, err := cmd.src.args()
	if err != nil {
		return false, c.parseFailed(cmd, err)
	}
	switch cmd.name {
	case "CAPABILITY":
		if err := c.line("* CAPABILITY " + c.capabilities()); err != nil {
			return false, err
		}
		return false, c.tagged(cmd.tag, c.p.capabilityDone)
	case "NOOP":
		return false, c.tagged(cmd.tag, c.p.noopDone)
	case "LOGOUT":
		_ = c.line(c.p.logoutBye)
		_ = c.tagged(cmd.tag, c.p.logoutDone)
		return false, errClose{reasonQuit}
	case "ENABLE":
		if !c.p.enableBeforeAuth {
			return false, c.tagged(cmd.tag, c.p.invalidCommand)
		}
		if err := c.line("* ENABLED"); err != nil {
			return false, err
		}
		return false, c.tagged(cmd.tag, "OK ENABLE ignored in non-authenticated state.")
	case "ID":
		if c.p.noID {
			return false, c.invalid(cmd.tag)
		}
		if err := c.line(`* ID ("name" "` + c.idName() + `")`); err != nil {
			return false, err
		}
		return false, c.tagged(cmd.tag, c.p.idDone)
	case "STARTTLS":
		if c.secured() {
			if c.p.starttlsOnce {
				// imaplogin no longer knows the command.
				return false, c.invalid(cmd.tag)
			}
			return false, c.tagged(cmd.tag, "BAD TLS is already active.")
		}
		if err := c.tagged(cmd.tag, c.p.starttls); err != nil {
			return false, err
		}
		if err := c.w.StartTLS(tlsfp.WithSink(c.ctx, c.sess.Fingerprinted), c.s.tls); err != nil {
			return false, errClose{reasonTLSFailed}
		}
		return false, nil
	}
	return c.cmdLogin(cmd, args)
}

func (c *conn) idName() string {
	if c.p.exchange {
		return "Microsoft.Exchange.Imap4.Imap4Server"
	}
	return "Dovecot"
}

// parseFailed replies to a syntax error before login
// (client_handle_parser_error). A fatal one ends the connection.
func (c *conn) parseFailed(cmd *command, err error) error {
	var pe *parseError
	if !errors.As(err, &pe) {
		return err
	}
	if pe.fatal {
		return err
	}
	return c.tagged(cmd.tag, "BAD "+pe.msg)
}

func (c *conn) cmdLogin(cmd *command, args []arg) (bool, error) {
	if len(args) != 2 || !args[0].isAstring() || !args[1].isAstring() {
		return false, c.invalid(cmd.tag)
	}
	user, pass := args[0].str(), args[1].val
	if !c.plaintextAllowed() {
		c.record(user, pass, decoys.MechanismIMAPLogin, false)
		if c.p.plaintextAlert != "" {
			if err := c.line(c.p.plaintextAlert); err != nil {
				return false, err
			}
		}
		return false, c.tagged(cmd.tag, c.p.plaintextDenied)
	}
	return c.login(cmd.tag, user, pass, decoys.MechanismIMAPLogin, c.p.loginFailed)
}

// cmdAuthenticate reads the mechanism and initial response raw, as
// Dovecot does, since a SASL-IR may exceed the parser's limits.
func (c *conn) cmdAuthenticate(cmd *command) (bool, error) {
	rest := cmd.src.line[cmd.src.pos:]
	i := bytes.IndexAny(rest, " \r")
	if i < 0 {
		i = len(rest)
	}
	if i == 0 {
		return false, c.invalid(cmd.tag)
	}
	mech := strings.ToUpper(string(rest[:i]))
	rest = rest[i:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	ir := trimCR(rest)
	c.command([]byte(cmd.tag + " AUTHENTICATE " + mech))

	if mech == "NTLM" && slices.Contains(c.p.saslExtra, mech) {
		// NTLM sends no password, so Exchange offers it without TLS.
		return c.authNTLM(cmd.tag, ir)
	}
	if (mech != "PLAIN" && mech != "LOGIN") || !slices.Contains(c.s.mechanisms, mech) {
		if c.p.failAll {
			c.wait(c.s.failDelay())
		}
		return false, c.tagged(cmd.tag, c.p.unsupportedMech)
	}
	if !c.plaintextAllowed() {
		if mech == "PLAIN" && len(ir) > 0 {
			if p, err := mailbox.DecodePlain(ir); err == nil {
				c.record(p.AuthcID, p.Password, decoys.MechanismSASLPlain, false)
			}
		}
		return false, c.tagged(cmd.tag, c.p.mechDenied)
	}
	if mech == "PLAIN" {
		return c.authPlain(cmd.tag, ir)
	}
	return c.authLogin(cmd.tag, ir)
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// saslResponse sends a challenge and reads the client's response. ok is
// false when the client aborted with "*", after the abort reply is sent.
func (c *conn) saslResponse(tag, challenge string) ([]byte, bool, error) {
	if err := c.line("+ " + challenge); err != nil {
		return nil, false, err
	}
	line, err := c.w.ReadLine(mailbox.MaxSASLLine, 0)
	if errors.Is(err, mailbox.ErrBufferFull) {
		return nil, false, errClose{reasonBufferFull}
	}
	if err != nil {
		return nil, false, err
	}
	line = trimCR(line)
	if string(line) == "*" {
		if c.p.failAll {
			c.wait(c.s.failDelay())
		}
		return nil, false, c.tagged(tag, c.p.aborted)
	}
	return line, true, nil
}

func (c *conn) authPlain(tag string, ir []byte) (bool, error) {
	bad := c.p.badBase64IR
	if len(ir) == 0 {
		line, ok, err := c.saslResponse(tag, "")
		if !ok {
			return false, err
		}
		ir, bad = line, c.p.badBase64
	}
	p, err := mailbox.DecodePlain(ir)
	switch {
	case errors.Is(err, mailbox.ErrBadBase64):
		if c.p.failAll {
			c.wait(c.s.failDelay())
		}
		return false, c.tagged(tag, bad)
	case err != nil:
		c.wait(c.s.failDelay())
		return false, c.tagged(tag, c.p.authFailed)
	}
	return c.login(tag, p.AuthcID, p.Password, decoys.MechanismSASLPlain, c.p.authFailed)
}

func (c *conn) authLogin(tag string, ir []byte) (bool, error) {
	userB64 := ir
	if len(userB64) == 0 {
		line, ok, err := c.saslResponse(tag, "VXNlcm5hbWU6")
		if !ok {
			return false, err
		}
		userB64 = line
	}
	user, err := mailbox.DecodeBase64(userB64)
	if err != nil {
		return false, c.tagged(tag, c.p.badBase64)
	}
	passB64, ok, err := c.saslResponse(tag, "UGFzc3dvcmQ6")
	if !ok {
		return false, err
	}
	pass, err := mailbox.DecodeBase64(passB64)
	if err != nil {
		return false, c.tagged(tag, c.p.badBase64)
	}
	return c.login(tag, string(user), pass, decoys.MechanismSASLLogin, c.p.authFailed)
}

// login checks an attempt with Dovecot's penalty and failure delay,
// records it and answers it.
func (c *conn) login(tag, principal string, secret []byte, mechanism, failed string) (bool, error) {
	penalised := c.p.fixedFailDelay == 0
	var points int
	if penalised {
		var wait time.Duration
		wait, points = c.s.penalty.Begin(c.source)
		c.wait(wait)
	}
	ok := c.s.policy.Allow(c.source, principal, secret)
	c.record(principal, secret, mechanism, ok)
	if !ok {
		if penalised {
			c.s.penalty.Fail(c.source, points)
		}
		c.wait(c.s.failDelay())
		return false, c.tagged(tag, failed)
	}
	if penalised {
		c.s.penalty.Reset(c.source)
	}
	text := "OK [CAPABILITY " + c.p.postCaps + "] " + c.p.loggedIn
	if c.p.exchange || c.p.plainLoginOK {
		text = "OK " + c.p.loggedIn
	}
	if err := c.tagged(tag, text); err != nil {
		return false, err
	}
	c.user = principal
	return true, nil
}

func (c *conn) record(principal string, secret []byte, mechanism string, accepted bool) {
	outcome := eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
	if accepted {
		outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
	}
	c.sess.AuthAttempt(&eventv1.AuthAttempt{
		Principal:  strings.ToValidUTF8(principal, "\uFFFD"),
		SecretKind: decoys.SecretPlaintext,
		Mechanism:  mechanism,
		Secret:     secret,
		Outcome:    outcome,
	})
}

func (c *conn) command(line []byte) {
	line = trimCR(line)
	if len(line) > maxEventLine {
		line = line[:maxEventLine]
	}
	c.sess.Command(strings.ToValidUTF8(string(line), "\uFFFD"), ServiceName)
}

func (c *conn) wait(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.ctx.Done():
	}
}

// timing is Dovecot's "(0.001 + 0.000 secs)" suffix: milliseconds spent
// running the command, rounded up, and waiting for input, with the time
// since the last run when there was any.
func (c *conn) timing() string {
	total := time.Since(c.cmdStart)
	run := total - c.waited
	ms := func(d time.Duration) string {
		n := (d.Microseconds() + 999) / 1000
		return fmt.Sprintf("%d.%03d", n/1000, n%1000)
	}
	if c.waited >= time.Millisecond {
		return fmt.Sprintf(" (%s + %s + %s secs).", ms(max(run, time.Microsecond)), ms(c.waited), ms(c.waited-time.Millisecond))
	}
	return fmt.Sprintf(" (%s + 0.000 secs).", ms(max(run, time.Microsecond)))
}
