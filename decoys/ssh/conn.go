package ssh

import (
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
