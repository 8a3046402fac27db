package telnet

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxTypeahead caps the data bytes kept while nothing reads them, as the
// 4095-byte line buffer of a Linux pty does. Bytes beyond it are dropped.
const maxTypeahead = 4095

// maxTermType caps a terminal type name; real ones are short, and telnetd
// copies at most 40 bytes of it.
const maxTermType = 40

// errLogout means the client asked the server to log out (DO LOGOUT).
var errLogout = errors.New("client requested logout")

// qstate is the state of one side of an option (RFC 1143, without the
// queue bit).
type qstate uint8

const (
	qNo qstate = iota
	qYes
	qWantYes
	qWantNo
)

// meteredConn counts bytes and pushes the write deadline forward before
// every write. Reads set their own deadlines.
type meteredConn struct {
	net.Conn
	writeTimeout time.Duration

	received atomic.Uint64
	sent     atomic.Uint64
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.received.Add(uint64(n)) //nolint:gosec // G115: n is never negative
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	if err := c.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	c.sent.Add(uint64(n)) //nolint:gosec // G115: n is never negative
	return n, err
}

// tconn is the telnet side of one connection: it decodes what the client
// sends, answers option negotiation as the persona's server does, and
// queues data bytes for the login prompt or the shell.
type tconn struct {
	conn        *meteredConn
	p           *persona
	readTimeout time.Duration
	now         func() time.Time

	dec    decoder
	him    [256]qstate
	us     [256]qstate
	readBf []byte

	// in holds data bytes not yet consumed.
	in []byte

	// writeMu guards out and the connection's write side: the shell may
	// write from another goroutine than the one that reads.
	writeMu sync.Mutex
	out     []byte

	// Values the client sent in subnegotiations.
	termType      string
	termTypeCount int
	sbCount       [256]int
	width, height int
	slc           []byte
	linemode      bool
	sentTM        bool
	// echoOff: the client refused the server's echo (DONT ECHO), and
	// telnetd turns the pty's echo off with it.
	echoOff bool

	// The pty's line discipline while login(1) reads (canonical set):
	// ldEcho is the echo flag login set, ldLine the line being typed and
	// ldLines the lines typed but not yet read.
	canonical bool
	ldEcho    bool
	ldLine    []byte
	ldLines   []ttyLine
	// started is set once the login program runs, when a pty exists for
	// input to reach.
	started bool

	onResize func(width, height int)
	logout   bool
	// urgent makes flush send IAC DM as urgent data.
	urgent bool
	// binaryOut mirrors us[optBinary] == qYes for writers on other
	// goroutines than the reader, which owns the option state.
	binaryOut atomic.Bool
}

func newTConn(conn *meteredConn, p *persona, readTimeout time.Duration) *tconn {
	return &tconn{
		conn:        conn,
		p:           p,
		readTimeout: readTimeout,
		now:         time.Now,
		readBf:      make([]byte, 4096),
	}
}

// queue adds raw bytes to the pending output.
func (t *tconn) queue(b ...byte) {
	t.writeMu.Lock()
	t.out = append(t.out, b...)
	t.writeMu.Unlock()
}

// flush writes the pending output.
func (t *tconn) flush() error {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	if t.urgent {
		t.urgent = false
		if err := t.sendUrgentDM(); err != nil {
			return err
		}
	}
	if len(t.out) == 0 {
		return nil
	}
	_, err := t.conn.Write(t.out)
	t.out = t.out[:0]
	return err
}

// sendUrgentDM sends IAC DM the way telnetd's netflush does after IAC
// AO: the IAC as TCP urgent data, the DM in the stream, ahead of the
// pending output.
func (t *tconn) sendUrgentDM() error {
	if err := t.conn.SetWriteDeadline(time.Now().Add(t.conn.writeTimeout)); err != nil {
		return err
	}
	if sc, ok := t.conn.Conn.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			var sendErr error
			werr := rc.Write(func(fd uintptr) bool {
				sendErr = unix.Send(int(fd), []byte{cmdIAC}, unix.MSG_OOB) //nolint:gosec // G115: a socket descriptor fits an int
				return !errors.Is(sendErr, unix.EAGAIN)
			})
			if werr != nil {
				return werr
			}
			if sendErr != nil {
				return sendErr
			}
			t.conn.sent.Add(1)
		}
	}
	t.out = append([]byte{cmdDM}, t.out...)
	return nil
}

// plainCR reports whether a lone CR goes out as is: when the server sends
// binary, or the persona's server never adds NUL.
func (t *tconn) plainCR() bool {
	return t.binaryOut.Load() || !t.p.crNul
}

// writeText sends terminal output in NVT form, flushing pending option
// replies first so the order on the wire is the order of events.
func (t *tconn) writeText(s string) error {
	t.writeMu.Lock()
	t.out = appendNVT(t.out, []byte(s), t.plainCR())
	t.writeMu.Unlock()
	return t.flush()
}

// sendDo requests that the client enable option, unless it is on or
// already requested.
func (t *tconn) sendDo(option byte) {
	if t.him[option] == qYes || t.him[option] == qWantYes {
		return
	}
	t.him[option] = qWantYes
	t.queue(cmdIAC, cmdDO, option)
}

func (t *tconn) sendDont(option byte) {
	if t.him[option] == qNo || t.him[option] == qWantNo {
		return
	}
	t.him[option] = qWantNo
	t.queue(cmdIAC, cmdDONT, option)
}

// sendWill offers option, unless it is on or offered.
func (t *tconn) sendWill(option byte) {
	if t.us[option] == qYes || t.us[option] == qWantYes {
		return
	}
	t.us[option] = qWantYes
	t.queue(cmdIAC, cmdWILL, option)
}

// changing reports whether a request about the client's side of option
// is still without a reply.
func (t *tconn) changing(option byte) bool {
	return t.him[option] == qWantYes || t.him[option] == qWantNo
}

// changingLocal reports whether an offer about the server's side of
// option is still without a reply.
func (t *tconn) changingLocal(option byte) bool {
	return t.us[option] == qWantYes || t.us[option] == qWantNo
}

// fill reads once from the client and decodes what arrived. It waits until
// deadline, or the read timeout if that comes first; a zero deadline means
// the read timeout. It returns errDeadlinePassed when deadline passed, and
// the read's own timeout error when the read timeout did, so that callers
// end the connection only on the latter.
func (t *tconn) fill(deadline time.Time) error {
	limit := time.Now().Add(t.readTimeout)
	short := !deadline.IsZero() && deadline.Before(limit)
	if short {
		limit = deadline
	}
	if err := t.conn.SetReadDeadline(limit); err != nil {
		return err
	}
	n, err := t.conn.Read(t.readBf)
	if n > 0 {
		t.dec.feed(t.readBf[:n], t)
		if ferr := t.flush(); ferr != nil {
			return ferr
		}
		if t.logout {
			return errLogout
		}
	}
	if err != nil {
		if short && errors.Is(err, os.ErrDeadlineExceeded) {
			return errDeadlinePassed
		}
		return err
	}
	return nil
}

// wait reads until cond is false or deadline passes (zero: no deadline
// other than the read timeout). A passed deadline is not an error.
func (t *tconn) wait(cond func() bool, deadline time.Time) error {
	for cond() {
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return nil
		}
		err := t.fill(deadline)
		if errors.Is(err, errDeadlinePassed) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// protocolHandler implementation.

func (t *tconn) binaryInput() bool { return t.him[optBinary] == qYes }

func (t *tconn) data(c byte) {
	if t.canonical {
		t.lineInput(c)
		return
	}
	if len(t.in) >= maxTypeahead {
		return
	}
	t.in = append(t.in, c)
}

func (t *tconn) command(c byte) {
	if t.p.silentOptions {
		return
	}
	switch c {
	case cmdAYT:
		if t.p.aytReply != "" {
			t.queue(appendNVT(nil, []byte(t.p.aytReply), t.plainCR())...)
		}
	case cmdAO:
		// Before login starts telnetd sends nothing a client can read.
		// Later it writes the pty's discard character (^O, which Linux
		// passes on as data) and sends IAC DM as urgent data; Linux
		// delivers the IAC out of band and only the DM in the stream.
		if t.p.inetutils && t.started {
			t.urgent = true
			t.data(0x0f)
		}
	case cmdEC:
		t.data(0x7f)
	case cmdEL:
		t.data(0x15)
	}
}

func (t *tconn) negotiate(verb, option byte) {
	switch verb {
	case cmdWILL:
		t.recvWill(option)
	case cmdWONT:
		t.recvWont(option)
	case cmdDO:
		t.recvDo(option)
	case cmdDONT:
		t.recvDont(option)
	}
	t.binaryOut.Store(t.us[optBinary] == qYes)
}

func (t *tconn) recvWill(option byte) {
	switch t.him[option] {
	case qYes:
		return
	case qWantYes:
		t.him[option] = qYes
		t.agreedRemote(option)
		return
	case qWantNo:
		t.him[option] = qNo
		return
	}
	if t.p.silentOptions {
		return
	}
	if option == optTM && t.p.inetutils {
		// telnetd never replies to WILL TM, because it only uses timing
		// marks to probe for kludge line mode.
		return
	}
	if t.p.acceptRemote[option] {
		t.him[option] = qYes
		t.queue(cmdIAC, cmdDO, option)
		t.agreedRemote(option)
		return
	}
	t.queue(cmdIAC, cmdDONT, option)
}

// agreedRemote runs what telnetd does when the client turns option on.
func (t *tconn) agreedRemote(option byte) {
	if option == optTType && t.p.askTermType {
		t.queue(cmdIAC, cmdSB, optTType, qualSend, cmdIAC, cmdSE)
	}
	if !t.p.inetutils {
		return
	}
	switch option {
	case optEcho:
		// A client that echoes locally (4.2BSD) gets DONT ECHO.
		t.sendDont(optEcho)
	case optLinemode:
		t.linemode = true
		// telnetd sends the mode from a 7-byte buffer filled by sprintf
		// with 6 characters, so a NUL follows IAC SE on the wire.
		t.queue(cmdIAC, cmdSB, optLinemode, lmMode, 0x03, cmdIAC, cmdSE, 0)
	case optLFlow:
		// LFLOW_RESTART_XON, from the same 7-byte buffer.
		t.queue(cmdIAC, cmdSB, optLFlow, 0x03, cmdIAC, cmdSE, 0)
	case optTM:
		// NOTE: a client that agrees to the timing mark gets kludge line
		// mode at the real daemon, which takes back SGA. The decoy only
		// leaves the option off.
		t.him[optTM] = qNo
		t.sentTM = false
	}
}

func (t *tconn) recvWont(option byte) {
	switch t.him[option] {
	case qNo:
		return
	case qYes:
		t.him[option] = qNo
		if !t.p.silentOptions {
			t.queue(cmdIAC, cmdDONT, option)
		}
	case qWantYes, qWantNo:
		t.him[option] = qNo
	}
	if option == optLinemode {
		t.linemode = false
	}
	if option == optTM && t.sentTM && t.p.inetutils {
		// The client has no kludge line mode, so telnetd takes back
		// character mode: it offers SGA and ECHO again unless they are
		// on.
		t.sentTM = false
		if t.us[optSGA] == qNo {
			t.sendWill(optSGA)
		}
		if t.us[optEcho] == qNo {
			t.sendWill(optEcho)
		}
	}
}

func (t *tconn) recvDo(option byte) {
	if option == optEcho {
		t.echoOff = false
	}
	switch t.us[option] {
	case qYes:
		return
	case qWantYes:
		t.us[option] = qYes
		return
	case qWantNo:
		t.us[option] = qNo
		return
	}
	if t.p.silentOptions {
		return
	}
	if t.p.inetutils {
		switch option {
		case optTM:
			// Answered every time, and the state stays off.
			t.queue(cmdIAC, cmdWILL, optTM)
			return
		case optLogout:
			t.queue(cmdIAC, cmdWILL, optLogout)
			t.logout = true
			return
		}
	}
	if t.p.acceptLocal[option] {
		t.us[option] = qYes
		t.queue(cmdIAC, cmdWILL, option)
		return
	}
	t.queue(cmdIAC, cmdWONT, option)
}

func (t *tconn) recvDont(option byte) {
	if option == optEcho && !t.p.silentOptions {
		t.echoOff = true
	}
	switch t.us[option] {
	case qNo:
		return
	case qYes:
		t.us[option] = qNo
		if !t.p.silentOptions {
			t.queue(cmdIAC, cmdWONT, option)
		}
	case qWantYes, qWantNo:
		t.us[option] = qNo
	}
}

func (t *tconn) subnegotiation(option byte, payload []byte) {
	t.sbCount[option]++
	switch option {
	case optTType:
		if len(payload) == 0 || payload[0] != qualIs {
			return
		}
		name := payload[1:]
		if len(name) > maxTermType {
			name = name[:maxTermType]
		}
		t.termType = string(name)
		t.termTypeCount++
	case optNAWS:
		if len(payload) < 4 {
			return
		}
		w := int(payload[0])<<8 | int(payload[1])
		h := int(payload[2])<<8 | int(payload[3])
		if w == 0 || h == 0 {
			return
		}
		t.width, t.height = w, h
		if t.onResize != nil {
			t.onResize(w, h)
		}
	case optLinemode:
		if len(payload) > 0 && payload[0] == lmSLC && t.him[optLinemode] == qYes {
			t.slc = append(t.slc[:0], payload[1:]...)
		}
	}
}
