package smtp

import (
	"bytes"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/decnet/decnet/decoys/quarantine"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// maxSubjectBytes caps the Subject carried by a mail.received event.
const maxSubjectBytes = 512

// maxEventRecipients caps the recipients listed in one event; the
// recipient limit itself is rcptLimit.
const maxEventRecipients = 100

// bdatReadBytes is how much of a BDAT chunk is read at a time.
const bdatReadBytes = 64 << 10

func (c *conn) cmdMail(args []token) bool {
	c.msgSize = 0
	if c.p.heloRequired && c.helo == "" {
		c.reply(c.p.r.needHelo)
		return false
	}
	if c.inMail {
		c.reply(c.p.r.mailNested)
		return false
	}
	if c.bdat != bdatNone {
		c.reply(c.p.r.mailAfterBdat)
		return false
	}
	if len(args) < 3 || !strings.EqualFold(args[1].text, "from:") {
		c.reply(c.p.r.mailSyntax)
		return false
	}
	if args[2].bad {
		c.reply(c.p.r.badSender)
		return false
	}
	utf := false
	for _, a := range args[3:] {
		if strings.EqualFold(a.text, "SMTPUTF8") {
			utf = true
		}
	}
	sender, ok := extractAddress(args[2].text, true, utf)
	if !ok {
		c.reply(c.p.r.badSender)
		return false
	}

	var ret, envid, authSeen bool
	for _, a := range args[3:] {
		opt := a.text
		upper := strings.ToUpper(opt)
		switch {
		case upper == "BODY=8BITMIME" || upper == "BODY=7BIT" || upper == "SMTPUTF8":
		case strings.HasPrefix(upper, "SIZE="):
			digits := opt[5:]
			if digits == "" || strings.Trim(digits, "0123456789") != "" {
				c.reply(c.p.r.sizeSyntax)
				return false
			}
			n, err := strconv.ParseInt(digits, 10, 64)
			if err != nil || n == math.MaxInt64 {
				c.reply(c.p.r.sizeOverflow)
				return false
			}
			c.msgSize = n
		case strings.HasPrefix(upper, "AUTH="):
			if authSeen {
				c.reply("503 5.5.4 Error: multiple AUTH= options")
				return false
			}
			authSeen = true
		case strings.HasPrefix(upper, "RET="):
			v := upper[4:]
			if ret || v != "FULL" && v != "HDRS" {
				c.reply(c.p.r.badRet)
				return false
			}
			ret = true
		case strings.HasPrefix(upper, "ENVID="):
			if envid || !xtextValid(opt[6:]) {
				c.reply(c.p.r.badEnvid)
				return false
			}
			envid = true
		default:
			c.reply(c.p.r.unsupportedOption(opt))
			return false
		}
	}
	if c.msgSize > c.p.messageLimit {
		c.reply(c.p.r.sizeTooBig)
		return false
	}
	c.inMail = true
	c.sender = sender
	c.smtputf8 = utf
	c.reply(c.p.r.mailOK)
	return true
}

func (c *conn) cmdRcpt(args []token) bool {
	if !c.inMail {
		c.reply(c.p.r.needMail)
		return false
	}
	if c.bdat != bdatNone {
		c.reply(c.p.r.rcptAfterBdat)
		return false
	}
	if len(args) < 3 || !strings.EqualFold(args[1].text, "to:") {
		c.reply(c.p.r.rcptSyntax)
		return false
	}
	if args[2].bad {
		c.reply(c.p.r.badRcpt)
		return false
	}
	rcpt, ok := extractAddress(args[2].text, false, c.smtputf8)
	if !ok {
		c.reply(c.p.r.badRcpt)
		return false
	}

	var notify, orcpt bool
	for _, a := range args[3:] {
		opt := a.text
		upper := strings.ToUpper(opt)
		switch {
		case strings.HasPrefix(upper, "NOTIFY="):
			if notify || !validNotify(upper[7:]) {
				c.reply(c.p.r.badNotify)
				return false
			}
			notify = true
		case strings.HasPrefix(upper, "ORCPT="):
			typ, coded, found := strings.Cut(opt[6:], ";")
			if orcpt || !found || typ == "" || !xtextValid(coded) && !strings.EqualFold(typ, "utf-8") {
				c.reply(c.p.r.badOrcpt)
				return false
			}
			orcpt = true
		default:
			c.reply(c.p.r.unsupportedOption(opt))
			return false
		}
	}

	if len(c.rcpts) >= rcptLimit {
		c.reply(c.p.r.tooManyRcpts)
		c.overshoot++
		return c.overshoot <= rcptOvershoot
	}
	if reject := c.checkRecipient(rcpt); reject != "" {
		c.reply(reject)
		return false
	}
	c.rcpts = append(c.rcpts, rcpt)
	c.reply(c.p.r.rcptOK)
	return true
}

// validNotify checks an RFC 3461 NOTIFY value: NEVER alone, or a list of
// SUCCESS, FAILURE and DELAY.
func validNotify(v string) bool {
	if v == "NEVER" {
		return true
	}
	for _, w := range strings.Split(v, ",") {
		if w != "SUCCESS" && w != "FAILURE" && w != "DELAY" {
			return false
		}
	}
	return true
}

func (c *conn) cmdData(args []token) bool {
	if c.bdat != bdatNone {
		c.reply(c.p.r.dataAfterBdat)
		return false
	}
	if len(c.rcpts) == 0 {
		if !c.inMail {
			c.reply(c.p.r.needRcpt)
			return false
		}
		c.reply(c.p.r.noValidRcpts)
		return false
	}
	if len(args) != 1 {
		c.reply(c.p.r.dataSyntax)
		return false
	}
	c.reply(c.p.r.dataStart)
	msg := c.s.newMessage(c.p)
	c.msg = msg

	prevCont := false
	for {
		line, complete, err := readLine(c.br, c.p.lineLimit, false)
		if err != nil {
			c.readFailed(err)
			return false
		}
		if !prevCont && len(line) > 0 && line[0] == '.' {
			line = line[1:]
			if len(line) == 0 && complete {
				break
			}
		}
		msg.record(line, complete)
		prevCont = !complete
	}
	return c.finishMessage(false)
}

// finishMessage closes the message, reports it and sends the reply that
// smtpd's common_post_message_handling sends.
func (c *conn) finishMessage(bdat bool) bool {
	msg := c.msg
	c.msg = nil
	res := msg.file.Close()
	if err := msg.file.Err(); err != nil {
		c.s.log.Warn().Err(err).Msg("quarantine write failed")
	}
	rcpts := make([]string, 0, min(len(c.rcpts), maxEventRecipients))
	for _, r := range c.rcpts[:min(len(c.rcpts), maxEventRecipients)] {
		rcpts = append(rcpts, capField(r))
	}
	c.sess.Mail(&eventv1.MailReceived{
		Helo:      capField(c.helo),
		MailFrom:  capField(c.sender),
		RcptTo:    rcpts,
		Size:      msg.received,
		Sha256:    res.SHA256,
		Truncated: res.Truncated || msg.overLimit,
		Subject:   msg.subject(),
	})
	size := msg.actSize
	chunk, total := msg.lastChunk, msg.chunked
	c.resetTransaction()

	if msg.overLimit {
		c.reply(c.p.r.tooBig)
		return false
	}
	c.errors = 0
	c.junk = 0
	id := c.s.queueID()
	if bdat {
		c.reply(c.p.r.bdatQueued(c.host, id, size, chunk, total))
	} else {
		c.reply(c.p.r.queued(c.host, id))
	}
	return true
}

func (c *conn) cmdBdat(args []token) bool {
	var size int64
	final := len(args) == 3
	valid := len(args) >= 2 && len(args) <= 3 && args[1].text != "" && strings.Trim(args[1].text, "0123456789") == ""
	if valid {
		n, err := strconv.ParseInt(args[1].text, 10, 64)
		valid = err == nil
		size = n
	}
	if valid && final && !strings.EqualFold(args[2].text, "LAST") {
		valid = false
	}
	if !valid {
		c.reply(c.p.r.bdatSyntax)
		return false
	}
	if size == 0 && !final {
		return c.skipBdat(size, final, c.p.r.bdatNull)
	}
	if c.bdat == bdatError {
		return c.skipBdat(size, final, c.p.r.bdatDiscarded(size))
	}
	if c.bdat == bdatNone {
		if len(c.rcpts) == 0 {
			if !c.inMail {
				return c.skipBdat(size, final, c.p.r.needRcpt)
			}
			return c.skipBdat(size, final, c.p.r.noValidRcpts)
		}
	}
	if c.msg != nil && c.msg.actSize > c.p.messageLimit-size || c.msg == nil && size > c.p.messageLimit {
		return c.skipBdat(size, final, c.p.r.bdatTooBig)
	}
	if c.bdat == bdatNone {
		c.msg = c.s.newMessage(c.p)
	}
	c.bdat = bdatActive

	buf := make([]byte, min(size, bdatReadBytes))
	for done := int64(0); done < size; {
		n := min(size-done, int64(len(buf)))
		if _, err := io.ReadFull(c.br, buf[:n]); err != nil {
			c.readFailed(err)
			return false
		}
		c.msg.feed(buf[:n])
		done += n
	}
	c.msg.chunked += size
	c.msg.lastChunk = size
	if final {
		c.msg.flushPartial()
		return c.finishMessage(true)
	}
	if c.msg.overLimit {
		c.finishMessage(true)
		c.bdat = bdatError
		return false
	}
	c.reply(c.p.r.bdatChunk(size))
	return true
}

// skipBdat reads and drops a chunk, then replies with text. After a final
// chunk the transaction ends. Otherwise later chunks are dropped too.
func (c *conn) skipBdat(size int64, final bool, text string) bool {
	if err := c.readFull(size, nil); err != nil {
		c.readFailed(err)
		return false
	}
	c.reply(text)
	if final {
		c.resetTransaction()
	} else {
		c.bdat = bdatError
	}
	return false
}

// message is one message being received: stored in the quarantine up to
// the persona's size limit and scanned for its Subject.
type message struct {
	file      *quarantine.File
	limit     int64
	lineLimit int
	// actSize is smtpd's act_size: every record counts its length plus
	// two, whether or not it ended a line.
	actSize   int64
	received  uint64
	overLimit bool
	// chunked is the byte count of all BDAT chunks as sent, and
	// lastChunk the size of the latest one. Exim's reply to the last
	// chunk names both.
	chunked   int64
	lastChunk int64

	inHeader   bool
	inSubject  bool
	subjectBuf []byte

	// pending holds a BDAT line not yet ended.
	pending []byte
}

func (s *Service) newMessage(p *persona) *message {
	return &message{file: s.quarantine.NewFile(), limit: p.messageLimit, lineLimit: p.lineLimit, inHeader: true}
}

// record takes one record of the message: a line without its end, or a
// piece of a longer line when complete is false.
func (m *message) record(line []byte, complete bool) {
	n := int64(len(line)) + 2
	if complete {
		m.received += uint64(len(line)) + 2
	} else {
		m.received += uint64(len(line))
	}
	m.scanHeader(line, complete)
	if m.overLimit {
		return
	}
	if m.limit-m.actSize < n {
		m.overLimit = true
		return
	}
	m.actSize += n
	_, _ = m.file.Write(line)
	if complete {
		_, _ = m.file.Write([]byte("\r\n"))
	}
}

// feed splits BDAT bytes into records as smtpd's bdat_cmd does.
func (m *message) feed(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		room := m.lineLimit - len(m.pending)
		if i >= 0 && i < room {
			m.pending = append(m.pending, p[:i]...)
			m.record(bytes.TrimRight(m.pending, "\r"), true)
			m.pending = m.pending[:0]
			p = p[i+1:]
			continue
		}
		take := min(room, len(p))
		m.pending = append(m.pending, p[:take]...)
		p = p[take:]
		if len(m.pending) >= m.lineLimit {
			m.record(m.pending, false)
			m.pending = m.pending[:0]
		}
	}
}

// flushPartial ends the message after its final chunk: a last line
// without a line feed still counts as a line.
func (m *message) flushPartial() {
	if len(m.pending) > 0 {
		m.record(m.pending, true)
		m.pending = m.pending[:0]
	}
}

func (m *message) discard() {
	_ = m.file.Close()
}

// scanHeader follows the header section to keep the Subject, unfolded
// and capped.
func (m *message) scanHeader(line []byte, complete bool) {
	if !m.inHeader {
		return
	}
	if complete && len(line) == 0 {
		m.inHeader = false
		return
	}
	switch {
	case len(line) > 0 && (line[0] == ' ' || line[0] == '\t'):
		if m.inSubject {
			m.appendSubject(line)
		}
	case len(line) >= 8 && strings.EqualFold(string(line[:8]), "subject:"):
		m.inSubject = true
		m.subjectBuf = m.subjectBuf[:0]
		m.appendSubject(line[8:])
	default:
		m.inSubject = false
	}
}

func (m *message) appendSubject(p []byte) {
	room := maxSubjectBytes - len(m.subjectBuf)
	if room <= 0 {
		return
	}
	m.subjectBuf = append(m.subjectBuf, p[:min(room, len(p))]...)
}

func (m *message) subject() string {
	return strings.ToValidUTF8(strings.TrimSpace(string(m.subjectBuf)), "\uFFFD")
}

// capField caps a client-supplied string carried by an event and makes
// it valid UTF-8.
func capField(s string) string {
	if len(s) > maxEventLine {
		s = s[:maxEventLine]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
