package mailbox

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// ErrBufferFull is returned by ReadLine for a line over its caps. Dovecot
// replies "Input buffer full, aborting" to such a line and closes.
var ErrBufferFull = errors.New("input buffer full")

// Wire is the byte stream of one mail connection: plain at first, TLS after
// STARTTLS. Every read and write has a deadline; only the connection's
// goroutine uses it.
type Wire struct {
	raw     *meteredConn
	conn    net.Conn
	r       *bufio.Reader
	readTO  time.Duration
	writeTO time.Duration
	tls     bool
}

// NewWire wraps conn with the given per-read and per-write timeouts.
func NewWire(conn net.Conn, readTimeout, writeTimeout time.Duration) *Wire {
	m := &meteredConn{Conn: conn}
	return &Wire{raw: m, conn: m, r: bufio.NewReaderSize(m, 4096), readTO: readTimeout, writeTO: writeTimeout}
}

// TLS reports whether STARTTLS has completed.
func (w *Wire) TLS() bool { return w.tls }

// Received and Sent count the bytes on the TCP connection, TLS included.
func (w *Wire) Received() uint64 { return w.raw.received.Load() }

// Sent counts the bytes written; see Received.
func (w *Wire) Sent() uint64 { return w.raw.sent.Load() }

// SetReadTimeout changes the per-read timeout (IDLE and logged-in
// sessions wait longer than a login does).
func (w *Wire) SetReadTimeout(d time.Duration) { w.readTO = d }

// Write sends p in full.
func (w *Wire) Write(p []byte) error {
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.writeTO))
	_, err := w.conn.Write(p)
	return err
}

// WriteString sends s in full.
func (w *Wire) WriteString(s string) error { return w.Write([]byte(s)) }

// ReadLine returns the next line without its LF (a CR before it is kept,
// since the protocols differ in what they make of it). A line longer than
// maxLine bytes, or holding a run of more than maxRun bytes without a
// space, fails with ErrBufferFull as soon as the cap is passed, without
// waiting for its end. maxRun <= 0 means no run cap.
func (w *Wire) ReadLine(maxLine, maxRun int) ([]byte, error) {
	var line []byte
	run := 0
	// One deadline for the whole line: a client that drips bytes gets no
	// more time than one that stays silent.
	_ = w.conn.SetReadDeadline(time.Now().Add(w.readTO))
	for {
		c, err := w.r.ReadByte()
		if err != nil {
			return line, err
		}
		if c == '\n' {
			return line, nil
		}
		line = append(line, c)
		if c == ' ' {
			run = 0
		} else {
			run++
		}
		if len(line) > maxLine || maxRun > 0 && run > maxRun {
			return line, ErrBufferFull
		}
	}
}

// ReadFull reads exactly n bytes (an IMAP literal).
func (w *Wire) ReadFull(n int) ([]byte, error) {
	buf := make([]byte, n)
	off := 0
	_ = w.conn.SetReadDeadline(time.Now().Add(w.readTO))
	for off < n {
		k, err := w.r.Read(buf[off:])
		off += k
		if err != nil {
			return buf[:off], err
		}
	}
	return buf, nil
}

// Buffered reports bytes received but not read yet.
func (w *Wire) Buffered() int { return w.r.Buffered() }

// WaitInput waits until input arrives, ctx ends or d passes, and reports
// whether input is ready. A timeout is not an error.
func (w *Wire) WaitInput(ctx context.Context, d time.Duration) (bool, error) {
	if w.r.Buffered() > 0 {
		return true, nil
	}
	_ = w.conn.SetReadDeadline(time.Now().Add(d))
	_, err := w.r.Peek(1)
	if err == nil {
		return true, nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
		return false, nil
	}
	return false, err
}

// StartTLS runs the server side of a TLS handshake on the connection.
// Plain-text bytes the client pipelined after the STARTTLS command are
// discarded, as Dovecot does, so they cannot be injected into the TLS
// session.
func (w *Wire) StartTLS(ctx context.Context, cfg *tls.Config) error {
	if n := w.r.Buffered(); n > 0 {
		_, _ = w.r.Discard(n)
	}
	tc := tls.Server(w.raw, cfg)
	hsCtx, cancel := context.WithTimeout(ctx, w.readTO)
	defer cancel()
	if err := tc.HandshakeContext(hsCtx); err != nil {
		return err
	}
	w.conn = tc
	w.r = bufio.NewReaderSize(tc, 4096)
	w.tls = true
	return nil
}

// CloseTLS sends a TLS close_notify alert once STARTTLS has completed and
// leaves the TCP connection to the caller. Dovecot shuts TLS down when it
// closes a session, and OpenSSL clients report an unexpected EOF
// without the alert.
func (w *Wire) CloseTLS() {
	tc, ok := w.conn.(*tls.Conn)
	if !ok {
		return
	}
	_ = tc.SetWriteDeadline(time.Now().Add(w.writeTO))
	_ = tc.CloseWrite()
}

// IsTimeout reports a deadline error.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsClosed reports an error that means the client went away.
func IsClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF)
}

type meteredConn struct {
	net.Conn
	received atomic.Uint64
	sent     atomic.Uint64
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.received.Add(uint64(n))
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.sent.Add(uint64(n))
	return n, err
}
