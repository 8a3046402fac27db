package ssh

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// meteredConn counts the bytes of an attacker connection and pushes its
// read and write deadlines forward before every call, so a connection dies
// after ReadTimeout of silence or a WriteTimeout-long stalled write.
// Deadlines use the wall clock, not the injected one, because the runtime
// compares them with the wall clock.
type meteredConn struct {
	net.Conn
	readTimeout  time.Duration
	writeTimeout time.Duration

	received atomic.Uint64
	sent     atomic.Uint64
}

func (c *meteredConn) Read(p []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(c.readTimeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	c.received.Add(uint64(n))
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	if err := c.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	c.sent.Add(uint64(n))
	return n, err
}

// errBannerMismatch means x/crypto/ssh tried to send an identification
// string other than the one already sent, which is a bug in this package.
var errBannerMismatch = errors.New("transport identification differs from the one sent")

// handoffConn is the connection given to x/crypto/ssh after this package
// has done the identification exchange itself. x/crypto/ssh always runs
// that exchange again, so handoffConn drops the library's identification
// write (already on the wire) and replays the client's line before the
// bytes that followed it.
type handoffConn struct {
	net.Conn
	reader io.Reader
	// unsent is the part of the server identification line, CR LF
	// included, that x/crypto/ssh has yet to write and that must not reach
	// the wire again.
	unsent []byte
}

// newHandoffConn returns conn as x/crypto/ssh expects it. clientLine is
// the client identification without CR LF; rest yields the bytes the
// client sent after it.
func newHandoffConn(conn net.Conn, serverLine string, clientLine []byte, rest io.Reader) *handoffConn {
	replay := make([]byte, 0, len(clientLine)+2)
	replay = append(replay, clientLine...)
	replay = append(replay, '\r', '\n')
	return &handoffConn{
		Conn:   conn,
		reader: io.MultiReader(bytes.NewReader(replay), rest),
		unsent: []byte(serverLine + "\r\n"),
	}
}

func (c *handoffConn) Read(p []byte) (int, error) {
	return c.reader.Read(p)
}

func (c *handoffConn) Write(p []byte) (int, error) {
	if len(c.unsent) == 0 {
		return c.Conn.Write(p)
	}
	n := min(len(p), len(c.unsent))
	if !bytes.Equal(p[:n], c.unsent[:n]) {
		return 0, errBannerMismatch
	}
	c.unsent = c.unsent[n:]
	if n == len(p) {
		return n, nil
	}
	m, err := c.Conn.Write(p[n:])
	return n + m, err
}
