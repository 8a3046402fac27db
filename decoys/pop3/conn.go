package pop3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
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

// conn is one POP3 connection. Only its goroutine touches it.
type conn struct {
	s      *Service
	p      *persona
	ctx    context.Context
	w      *mailbox.Wire
	sess   *decoys.Session
	source netip.Addr

	loginDeadline time.Time
	bad           int
	lastUser      *string
	apop          string // the APOP challenge of the banner, "" when off

	// Set once logged in.
	user    string
	inbox   *mailbox.Folder
	deleted []bool
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
		Str("reason", reason).Msg("pop3 connection closed")
}

func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// run serves the connection and returns why it ended.
func (c *conn) run() string {
	banner := "+OK " + c.p.greeting(c.s.host)
	if slices.Contains(c.s.mechanisms, "APOP") && c.p.id == PersonaDovecot {
		c.apop = apopChallenge(c.s.host, c.s.now())
		banner += " " + c.apop
	}
	if err := c.reply(banner); err != nil {
		return reasonClientClosed
	}

	err := c.authorization()
	if err == nil {
		err = c.transaction()
	}
	var ec errClose
	switch {
	case errors.As(err, &ec):
		return ec.reason
	case errors.Is(err, mailbox.ErrBufferFull):
		return reasonBufferFull
	case mailbox.IsTimeout(err) || errors.Is(err, os.ErrDeadlineExceeded):
		return reasonTimeout
	}
	return reasonClientClosed
}

// apopChallenge builds Dovecot's "<pid.connect-uid.time.random@host>".
func apopChallenge(host string, now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	var id [6]byte
	_, _ = rand.Read(id[:])
	pid := 1000 + int(id[0])<<8 | int(id[1])
	uid := int(id[2])<<8 | int(id[3])
	return fmt.Sprintf("<%x.%x.%x.%s@%s>", pid, uid, now.Unix(), base64.StdEncoding.EncodeToString(b[:]), host)
}

func (c *conn) reply(line string) error {
	return c.w.WriteString(line + "\r\n")
}

func (c *conn) secured() bool { return c.w.TLS() }

// plaintextAllowed is Dovecot's client_check_plaintext_auth without the
// reply.
func (c *conn) plaintextAllowed() bool { return c.secured() || !c.s.disablePlaintext }

// readLoginLine reads one line before login, within the login timeout.
func (c *conn) readLoginLine() ([]byte, error) {
	left := time.Until(c.loginDeadline)
	if left <= 0 {
		return nil, os.ErrDeadlineExceeded
	}
	c.w.SetReadTimeout(min(c.s.limits.ReadTimeout, left))
	// The command name and its space are consumed before the rest of
	// the line has to fit the login process's input buffer.
	line, err := c.w.ReadLine(c.p.maxLoginLine+9, 0)
	if c.p.lenientLines {
		line, err = c.lenientLine(line, err)
	}
	if errors.Is(err, mailbox.ErrBufferFull) {
		_ = c.reply(c.p.inputBufferFull)
	} else if mailbox.IsTimeout(err) && c.ctx.Err() == nil {
		_ = c.reply(c.p.idleDisconnect)
	}
	return line, err
}

// lenientLine applies Courier's line reader, as measured against
// courierpop3login: an overlong line is cut and its rest discarded
// rather than refused, and a line with a NUL is taken up to the NUL
// while the line after it is swallowed.
func (c *conn) lenientLine(line []byte, err error) ([]byte, error) {
	for errors.Is(err, mailbox.ErrBufferFull) {
		// Each read renews the line deadline, so the login deadline
		// bounds a client that streams an endless line.
		if time.Now().After(c.loginDeadline) {
			return line, os.ErrDeadlineExceeded
		}
		_, err = c.w.ReadLine(c.p.maxLoginLine+9, 0)
	}
	if err != nil {
		return line, err
	}
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
		if _, err := c.w.ReadLine(c.p.maxLoginLine+9, 0); err != nil && !errors.Is(err, mailbox.ErrBufferFull) {
			return line, err
		}
	}
	return line, nil
}

// splitLoginCommand reads the command name as Dovecot's pop3-login does.
// The name is at most 8 characters, upper-cased, with CRs skipped, and
// ends at a space, a NUL or the line end. One space after it is consumed.
func splitLoginCommand(line []byte) (string, []byte) {
	var name []byte
	i := 0
	for ; i < len(line); i++ {
		ch := line[i]
		if ch == '\r' {
			continue
		}
		if ch == ' ' || ch == 0 || i >= 8 {
			break
		}
		name = append(name, upper(ch))
	}
	rest := line[i:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return string(name), rest
}

func upper(ch byte) byte {
	if ch >= 'a' && ch <= 'z' {
		return ch - 'a' + 'A'
	}
	return ch
}

// trimCR drops one CR before the line end, as i_stream_next_line does.
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// authorization runs the state before login. It returns nil once a login
// is accepted.
func (c *conn) authorization() error {
	for {
		line, err := c.readLoginLine()
		if err != nil {
			return err
		}
		name, rest := splitLoginCommand(line)
		if name != "PASS" && name != "AUTH" && name != "APOP" {
			c.command(line)
		}

		var ok bool
		var loggedIn bool
		switch name {
		case "CAPA":
			ok, err = true, c.w.WriteString(c.capa())
		case "USER":
			ok, err = true, c.cmdUser(string(trimCR(rest)))
		case "PASS":
			ok = true
			loggedIn, err = c.cmdPass(trimCR(rest))
		case "APOP":
			ok = true
			loggedIn, err = c.cmdAPOP(string(trimCR(rest)))
		case "AUTH":
			ok = true
			loggedIn, err = c.cmdAuth(rest)
		case "STLS":
			ok = true
			if err = c.cmdSTLS(); err != nil {
				return err
			}
		case "QUIT":
			_ = c.reply(c.p.quit)
			return errClose{reasonQuit}
		case "XCLIENT", "XOIP":
			if c.p.id == PersonaDovecot {
				ok, err = true, c.reply("+OK You are not from trusted IP - ignoring")
				break
			}
			err = c.reply(c.p.unknown)
		default:
			err = c.reply(c.p.unknown)
		}
		if err != nil {
			return err
		}
		if loggedIn {
			return nil
		}
		if ok {
			c.bad = 0
			continue
		}
		c.bad++
		if c.p.maxBad > 0 && c.bad >= c.p.maxBad {
			_ = c.reply(c.p.tooManyBad)
			return errClose{reasonTooManyBad}
		}
	}
}

// capa builds the CAPA reply for the connection's state
// (pop3-login/client-authenticate.c cmd_capa).
func (c *conn) capa() string {
	if c.p.capaReply != nil {
		return c.p.capaReply(c.secured())
	}
	var b strings.Builder
	b.WriteString("+OK\r\n")
	for _, l := range c.p.preCapa {
		b.WriteString(l + "\r\n")
	}
	stls := !c.secured()
	user := c.plaintextAllowed()
	sasl := "SASL"
	for _, m := range c.p.saslExtra {
		sasl += " " + m
	}
	for _, m := range c.s.mechanisms {
		// APOP is private; plain-text mechanisms are hidden until they
		// may be used.
		if m == "APOP" || !c.plaintextAllowed() {
			continue
		}
		sasl += " " + m
	}
	if c.p.exchangeCapaOrder {
		b.WriteString(sasl + "\r\n")
		b.WriteString("USER\r\n")
		if stls {
			b.WriteString("STLS\r\n")
		}
	} else {
		if stls {
			b.WriteString("STLS\r\n")
		}
		if user {
			b.WriteString("USER\r\n")
		}
		b.WriteString(sasl + "\r\n")
	}
	b.WriteString(".\r\n")
	return b.String()
}

func (c *conn) cmdUser(args string) error {
	if !c.plaintextAllowed() {
		// Dovecot still remembers the name for its log.
		user := args
		c.lastUser = &user
		return c.reply(c.p.plaintextDenied)
	}
	user := args
	c.lastUser = &user
	return c.reply(c.p.userOK)
}

func (c *conn) cmdPass(args []byte) (bool, error) {
	if !c.plaintextAllowed() {
		// Refused unheard, yet the client has sent the password in
		// clear: record it.
		principal := ""
		if c.lastUser != nil {
			principal = *c.lastUser
		}
		c.record(principal, args, decoys.MechanismPOP3Pass, decoys.SecretPlaintext, false)
		c.lastUser = nil
		return false, c.reply(c.p.plaintextDenied)
	}
	if c.lastUser == nil {
		return false, c.reply(c.p.noUser)
	}
	user := *c.lastUser
	c.lastUser = nil
	return c.login(user, args, decoys.MechanismPOP3Pass, decoys.SecretPlaintext)
}

func (c *conn) cmdAPOP(args string) (bool, error) {
	if c.apop == "" {
		return false, c.reply(c.p.apopDisabled)
	}
	user, digest, ok := strings.Cut(args, " ")
	if !ok || len(digest) != 32 {
		return false, c.reply("-ERR Invalid parameters.")
	}
	if !isHex(digest) {
		return false, c.reply("-ERR Invalid characters in MD5 response.")
	}
	return c.login(user, []byte(c.apop+" "+strings.ToLower(digest)), decoys.MechanismPOP3APOP, decoys.SecretAPOP)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (c *conn) cmdSTLS() error {
	if c.secured() {
		return c.reply(c.p.tlsActive)
	}
	if err := c.reply(c.p.stls); err != nil {
		return err
	}
	if err := c.w.StartTLS(tlsfp.WithSink(c.ctx, c.sess.Fingerprinted), c.s.tls); err != nil {
		return errClose{reasonTLSFailed}
	}
	// A USER sent before TLS does not carry over into the TLS session.
	c.lastUser = nil
	return nil
}

// cmdAuth runs AUTH (pop3-login/client-authenticate.c cmd_auth).
func (c *conn) cmdAuth(rest []byte) (bool, error) {
	i := bytes.IndexAny(rest, " \r")
	if i < 0 {
		i = len(rest)
	}
	if i == 0 && c.p.noAuthDiscovery {
		return false, c.reply(c.p.unknown)
	}
	if i == 0 {
		// Old-style SASL discovery, as Outlook sends it.
		var b strings.Builder
		b.WriteString("+OK\r\n")
		for _, m := range c.p.saslExtra {
			b.WriteString(m + "\r\n")
		}
		for _, m := range c.s.mechanisms {
			if m != "APOP" && c.plaintextAllowed() {
				b.WriteString(m + "\r\n")
			}
		}
		b.WriteString(".\r\n")
		return false, c.w.WriteString(b.String())
	}
	mech := strings.ToUpper(string(rest[:i]))
	rest = rest[i:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	ir := trimCR(rest)
	if len(ir) > mailbox.MaxSASLLine {
		return false, errClose{reasonBufferFull}
	}

	if mech == "NTLM" && slices.Contains(c.p.saslExtra, mech) {
		// NTLM sends no password, so Exchange offers it without TLS.
		return c.authNTLM(ir)
	}
	if (mech != "PLAIN" && mech != "LOGIN") || !slices.Contains(c.s.mechanisms, mech) {
		if c.p.anyMechanism {
			c.wait(c.s.failDelay())
		}
		return false, c.reply(c.p.unsupportedMech)
	}
	if !c.plaintextAllowed() {
		if len(ir) > 0 {
			c.recordSASL(mech, ir)
		}
		return false, c.reply(c.p.mechDenied)
	}
	if mech == "PLAIN" {
		return c.authPlain(ir)
	}
	return c.authLogin(ir)
}

// recordSASL records the credentials of an initial response that the
// persona refuses to read.
func (c *conn) recordSASL(mech string, ir []byte) {
	switch mech {
	case "PLAIN":
		if p, err := mailbox.DecodePlain(ir); err == nil {
			c.record(p.AuthcID, p.Password, decoys.MechanismSASLPlain, decoys.SecretPlaintext, false)
		}
	}
}

// saslResponse sends a challenge and reads the client's response. ok is
// false when the client aborted with "*", after the abort reply is sent.
func (c *conn) saslResponse(challenge string) ([]byte, bool, error) {
	if err := c.reply("+ " + challenge); err != nil {
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
		return nil, false, c.reply(c.p.aborted)
	}
	return line, true, nil
}

func (c *conn) authPlain(ir []byte) (bool, error) {
	badReply := c.p.badBase64IR
	if len(ir) == 0 {
		line, ok, err := c.saslResponse("")
		if !ok {
			return false, err
		}
		ir, badReply = line, c.p.badBase64
	}
	p, err := mailbox.DecodePlain(ir)
	switch {
	case errors.Is(err, mailbox.ErrBadBase64):
		return false, c.reply(badReply)
	case err != nil:
		// Well-formed base64 that is not a PLAIN message fails like a
		// wrong password.
		c.wait(c.s.failDelay())
		return false, c.reply(c.saslFailed())
	}
	return c.login(p.AuthcID, p.Password, decoys.MechanismSASLPlain, decoys.SecretPlaintext)
}

// Prompts of Dovecot's LOGIN mechanism: "Username:" and "Password:".
//
//nolint:gosec // G101: base64 of the prompt text, not a password
const (
	loginUserPrompt = "VXNlcm5hbWU6"
	loginPassPrompt = "UGFzc3dvcmQ6"
)

func (c *conn) authLogin(ir []byte) (bool, error) {
	userB64 := ir
	if len(userB64) == 0 {
		line, ok, err := c.saslResponse(loginUserPrompt)
		if !ok {
			return false, err
		}
		userB64 = line
	}
	user, err := mailbox.DecodeBase64(userB64)
	if err != nil {
		return false, c.reply(c.p.badBase64)
	}
	passB64, ok, err := c.saslResponse(loginPassPrompt)
	if !ok {
		return false, err
	}
	pass, err := mailbox.DecodeBase64(passB64)
	if err != nil {
		return false, c.reply(c.p.badBase64)
	}
	return c.login(string(user), pass, decoys.MechanismSASLLogin, decoys.SecretPlaintext)
}

// login checks one attempt against the policy with Dovecot's penalty and
// failure delay, records it and sends the outcome.
func (c *conn) login(principal string, secret []byte, mechanism, kind string) (bool, error) {
	penalised := c.p.fixedFailDelay == 0
	var points int
	if penalised {
		var wait time.Duration
		wait, points = c.s.penalty.Begin(c.source)
		c.wait(wait)
	}
	ok := c.s.policy.Allow(c.source, principal, secret)
	c.record(principal, secret, mechanism, kind, ok)
	if !ok {
		if penalised {
			c.s.penalty.Fail(c.source, points)
		}
		c.wait(c.s.failDelay())
		failed := c.p.authFailed
		if mechanism != decoys.MechanismPOP3Pass && mechanism != decoys.MechanismPOP3APOP {
			failed = c.saslFailed()
		}
		return false, c.reply(failed)
	}
	if penalised {
		c.s.penalty.Reset(c.source)
	}
	if err := c.reply(c.p.loggedIn); err != nil {
		return false, err
	}
	c.user = principal
	return true, nil
}

// saslFailed is the reply to a failed AUTH.
func (c *conn) saslFailed() string {
	if c.p.saslFailed != "" {
		return c.p.saslFailed
	}
	return c.p.authFailed
}

func (c *conn) record(principal string, secret []byte, mechanism, kind string, accepted bool) {
	outcome := eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
	if accepted {
		outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
	}
	c.sess.AuthAttempt(&eventv1.AuthAttempt{
		Principal:  strings.ToValidUTF8(principal, "\uFFFD"),
		SecretKind: kind,
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

// wait sleeps for d or until the connection ends.
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

// postLoginMaxLine is MAX_INBUF_SIZE of src/pop3/pop3-client.c.
const postLoginMaxLine = 2048

// postLoginIdle is CLIENT_IDLE_TIMEOUT_MSECS of src/pop3.
const postLoginIdle = 10 * time.Minute

// transaction serves the mailbox after login.
func (c *conn) transaction() error {
	box := mailbox.Generate(c.s.seed, mailbox.Options{User: c.user, Domain: c.s.host, Now: c.s.now()})
	c.inbox = box.Folder(mailbox.Inbox)
	c.deleted = make([]bool, len(c.inbox.Messages))
	c.w.SetReadTimeout(min(c.s.limits.ReadTimeout, postLoginIdle))
	bad := 0
	for {
		line, err := c.w.ReadLine(postLoginMaxLine, 0)
		if errors.Is(err, mailbox.ErrBufferFull) {
			_ = c.reply("-ERR Input line too long.")
			return err
		}
		if mailbox.IsTimeout(err) && c.ctx.Err() == nil {
			_ = c.reply(c.p.idleDisconnect)
			return err
		}
		if err != nil {
			return err
		}
		line = trimCR(line)
		c.command(line)

		ok, err := c.transactionCommand(string(line))
		if err != nil {
			return err
		}
		if ok {
			bad = 0
			continue
		}
		bad++
		if c.p.postMaxBad > 0 && bad > c.p.postMaxBad {
			_ = c.reply(c.p.postTooManyBad)
			return errClose{reasonTooManyBad}
		}
	}
}

// transactionCommand runs one command (src/pop3/pop3-commands.c) and
// reports whether it was a good one.
func (c *conn) transactionCommand(line string) (bool, error) {
	name, args, _ := strings.Cut(line, " ")
	if name == "" {
		return false, c.reply("-ERR Unknown command.")
	}
	name = strings.ToUpper(name)
	args = strings.TrimLeft(args, " ")

	switch name {
	case "CAPA":
		if c.p.capaReply != nil {
			// courierpop3d lists STLS even after login.
			return true, c.w.WriteString(c.p.capaReply(c.secured()))
		}
		return true, c.w.WriteString(c.p.postCapa)
	case "NOOP":
		return true, c.reply(or(c.p.noopOK, "+OK"))
	case "STAT":
		n, size := c.totals()
		return true, c.reply(fmt.Sprintf("+OK %d %d", n, size))
	case "LIST":
		return c.cmdList(args)
	case "UIDL":
		return c.cmdUIDL(args)
	case "RETR":
		return c.cmdRetr(args)
	case "TOP":
		return c.cmdTop(args)
	case "DELE":
		i, ok, err := c.msgnum(args, false)
		if !ok {
			return false, err
		}
		c.deleted[i] = true
		return true, c.reply(or(c.p.deleOK, "+OK Marked to be deleted."))
	case "RSET":
		clear(c.deleted)
		return true, c.reply(or(c.p.rsetOK, "+OK"))
	case "QUIT":
		// Deletions are not carried out: the mailbox is regenerated
		// for every session, as a store no one else touches would be.
		msg := c.p.postQuit
		if slices.Contains(c.deleted, true) {
			msg = c.p.postQuitDeleted
		}
		_ = c.reply(msg)
		return true, errClose{reasonQuit}
	}
	if c.p.id == PersonaDovecot {
		return false, c.reply(fmt.Sprintf(c.p.postUnknown, name))
	}
	return false, c.reply(c.p.postUnknown)
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func (c *conn) totals() (int, int) {
	n, size := 0, 0
	for i, m := range c.inbox.Messages {
		if !c.deleted[i] {
			n++
			size += len(m.Raw)
		}
	}
	return n, size
}

// msgnum parses a message number as get_msgnum does; thenSpace requires a
// space after it. It returns the index and whether a reply is still due.
func (c *conn) msgnum(args string, thenSpace bool) (int, bool, error) {
	if c.p.badMsgnum != "" {
		return c.simpleMsgnum(args, thenSpace)
	}
	if args == "" || args[0] < '0' || args[0] > '9' {
		return 0, false, c.reply("-ERR Invalid message number: " + args)
	}
	end := 0
	for end < len(args) && args[end] >= '0' && args[end] <= '9' {
		end++
	}
	num, err := strconv.ParseUint(args[:end], 10, 32)
	if err != nil {
		return 0, false, c.reply("-ERR Message number too large: " + args[end:])
	}
	rest := args[end:]
	if thenSpace && !strings.HasPrefix(rest, " ") || !thenSpace && rest != "" {
		return 0, false, c.reply("-ERR Noise after message number: " + rest)
	}
	if num == 0 || num > uint64(len(c.inbox.Messages)) {
		return 0, false, c.reply(fmt.Sprintf("-ERR There's no message %d.", num))
	}
	i := int(num - 1)
	if c.deleted[i] {
		return 0, false, c.reply("-ERR Message is deleted.")
	}
	return i, true, nil
}

// simpleMsgnum parses a message number as Courier's pop3dserver does:
// one text for every kind of bad number.
func (c *conn) simpleMsgnum(args string, thenSpace bool) (int, bool, error) {
	numText, rest, _ := strings.Cut(args, " ")
	if !thenSpace && rest != "" {
		numText = args
	}
	num, err := strconv.ParseUint(numText, 10, 32)
	if err != nil || num == 0 || num > uint64(len(c.inbox.Messages)) || c.deleted[num-1] {
		return 0, false, c.reply(c.p.badMsgnum)
	}
	return int(num - 1), true, nil
}

func (c *conn) cmdList(args string) (bool, error) {
	if args == "" {
		n, _ := c.totals()
		var b strings.Builder
		if c.p.listHeader != "" {
			b.WriteString(c.p.listHeader + "\r\n")
		} else {
			fmt.Fprintf(&b, "+OK %d messages:\r\n", n)
		}
		for i, m := range c.inbox.Messages {
			if !c.deleted[i] {
				fmt.Fprintf(&b, "%d %d\r\n", i+1, len(m.Raw))
			}
		}
		b.WriteString(".\r\n")
		return true, c.w.WriteString(b.String())
	}
	i, ok, err := c.msgnum(args, false)
	if !ok {
		return false, err
	}
	return true, c.reply(fmt.Sprintf("+OK %d %d", i+1, len(c.inbox.Messages[i].Raw)))
}

// uidl is Dovecot's default pop3_uidl_format %08Xu%08Xv.
func (c *conn) uidl(m *mailbox.Message) string {
	return fmt.Sprintf("%08x%08x", m.UID, c.inbox.UIDValidity)
}

func (c *conn) cmdUIDL(args string) (bool, error) {
	if args == "" {
		var b strings.Builder
		b.WriteString("+OK\r\n")
		for i, m := range c.inbox.Messages {
			if !c.deleted[i] {
				fmt.Fprintf(&b, "%d %s\r\n", i+1, c.uidl(m))
			}
		}
		b.WriteString(".\r\n")
		return true, c.w.WriteString(b.String())
	}
	i, ok, err := c.msgnum(args, false)
	if !ok {
		return false, err
	}
	return true, c.reply(fmt.Sprintf("+OK %d %s", i+1, c.uidl(c.inbox.Messages[i])))
}

func (c *conn) cmdRetr(args string) (bool, error) {
	i, ok, err := c.msgnum(args, false)
	if !ok {
		return false, err
	}
	m := c.inbox.Messages[i]
	var b bytes.Buffer
	fmt.Fprintf(&b, or(c.p.retrHeader, "+OK %d octets")+"\r\n", len(m.Raw))
	writeStuffed(&b, m.Raw, -1)
	b.WriteString(".\r\n")
	return true, c.w.Write(b.Bytes())
}

func (c *conn) cmdTop(args string) (bool, error) {
	i, ok, err := c.msgnum(args, true)
	if !ok {
		return false, err
	}
	rest := strings.TrimLeft(args[strings.IndexByte(args, ' '):], " ")
	if rest == "" || rest[0] < '0' || rest[0] > '9' {
		return false, c.reply("-ERR Invalid size: " + rest)
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	lines, perr := strconv.ParseUint(rest[:end], 10, 64)
	if perr != nil {
		return false, c.reply("-ERR Size too large: " + rest[end:])
	}
	if end != len(rest) {
		return false, c.reply("-ERR Noise after size: " + rest[end:])
	}
	m := c.inbox.Messages[i]
	var b bytes.Buffer
	b.WriteString(or(c.p.topHeader, "+OK") + "\r\n")
	writeStuffed(&b, m.Raw[:m.HeaderSize], -1)
	writeStuffed(&b, m.Body(), int64(min(lines, uint64(m.BodyLines))))
	b.WriteString(".\r\n")
	return true, c.w.Write(b.Bytes())
}

// writeStuffed writes raw dot-stuffed, ending in CRLF; lines >= 0 stops
// after that many lines. The caller adds the final ".\r\n".
func writeStuffed(b *bytes.Buffer, raw []byte, lines int64) {
	for len(raw) > 0 && lines != 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line = raw[:i+1]
		}
		raw = raw[len(line):]
		if line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line)
		lines--
	}
	if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
}
