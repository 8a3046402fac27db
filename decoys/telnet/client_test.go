package telnet

import (
	"errors"
	"net"
	"testing"
	"time"
)

// policyClient is a scripted telnet client: it answers option requests by
// a fixed policy, the way different real clients do, and collects what the
// server sends.
type policyClient struct {
	t    testing.TB
	conn net.Conn
	// will lists the options the client enables on its side when asked
	// (DO), do the ones it lets the server enable (WILL).
	will, do map[byte]bool
	termType string

	dec     decoder
	us, him [256]bool
	// raw is every byte the server sent; text only the data bytes.
	raw, text []byte
	closed    bool
}

func optionSet(opts ...byte) map[byte]bool {
	m := make(map[byte]bool, len(opts))
	for _, o := range opts {
		m[o] = true
	}
	return m
}

// Client policies seen in the wild.
var (
	// policyRefuse refuses every option.
	policyRefuse = clientPolicy{name: "refuse"}
	// policyMinimal agrees to the terminal type, window size, SGA and the
	// server's echo, like simple bots and libraries.
	policyMinimal = clientPolicy{
		name: "minimal",
		will: []byte{optTType, optNAWS, optSGA},
		do:   []byte{optEcho, optSGA},
	}
	// policyNetkit agrees to what the Debian telnet client agrees to.
	policyNetkit = clientPolicy{
		name: "netkit",
		will: []byte{optTType, optTSpeed, optNewEnv, optLinemode, optNAWS, optLFlow, optBinary},
		do:   []byte{optAuth, optEncrypt, optSGA, optEcho, optStatus, optBinary},
		eol:  "\r",
	}
)

type clientPolicy struct {
	name     string
	silent   bool
	will, do []byte
	// eol ends a typed line: CR LF in NVT mode, a bare CR from a client
	// in binary mode.
	eol string
}

func newPolicyClient(t testing.TB, conn net.Conn, p clientPolicy) *policyClient {
	c := &policyClient{t: t, conn: conn, termType: "XTERM-256COLOR"}
	if !p.silent {
		c.will = optionSet(p.will...)
		c.do = optionSet(p.do...)
	}
	return c
}

// send writes raw bytes to the server.
func (c *policyClient) send(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// readUntilText reads until the server's text ends with suffix, the
// server closes, or 15 s pass (a guard against hangs, not an assertion).
// It returns the raw bytes read by this call.
func (c *policyClient) readUntilText(suffix string) []byte {
	c.t.Helper()
	start, textStart := len(c.raw), len(c.text)
	deadline := time.Now().Add(15 * time.Second)
	for !hasSuffix(c.text[textStart:], suffix) && !c.closed {
		if !c.readOnce(deadline) {
			c.t.Fatalf("no %q from the server; got %q", suffix, c.raw[start:])
		}
	}
	return c.raw[start:]
}

// readFor reads for d and returns the raw bytes of this call.
func (c *policyClient) readFor(d time.Duration) []byte {
	start := len(c.raw)
	deadline := time.Now().Add(d)
	for !c.closed && c.readOnce(deadline) {
	}
	return c.raw[start:]
}

// readOnce reads one chunk; it returns false when deadline passed.
func (c *policyClient) readOnce(deadline time.Time) bool {
	buf := make([]byte, 4096)
	_ = c.conn.SetReadDeadline(deadline)
	n, err := c.conn.Read(buf)
	if n > 0 {
		c.raw = append(c.raw, buf[:n]...)
		var reply []byte
		h := &clientHandler{c: c, reply: &reply}
		c.dec.feed(buf[:n], h)
		if len(reply) > 0 && c.will != nil {
			_, _ = c.conn.Write(reply)
		}
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false
		}
		c.closed = true
	}
	return true
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

// clientHandler answers the server within one chunk.
type clientHandler struct {
	c     *policyClient
	reply *[]byte
}

func (h *clientHandler) add(b ...byte) { *h.reply = append(*h.reply, b...) }

func (h *clientHandler) data(b byte) { h.c.text = append(h.c.text, b) }

func (h *clientHandler) command(byte) {}

func (h *clientHandler) binaryInput() bool { return true }

func (h *clientHandler) negotiate(verb, option byte) {
	c := h.c
	switch verb {
	case cmdDO:
		if c.us[option] {
			return
		}
		if !c.will[option] {
			h.add(cmdIAC, cmdWONT, option)
			return
		}
		c.us[option] = true
		h.add(cmdIAC, cmdWILL, option)
		switch option {
		case optNAWS:
			h.add(cmdIAC, cmdSB, optNAWS, 0, 100, 0, 30, cmdIAC, cmdSE)
		case optLinemode:
			h.add(cmdIAC, cmdSB, optLinemode, lmSLC)
			h.add([]byte("\x01\x00\x00\x03b\x03\x04\x02\x0f\x05\x00\x00\x07b\x1c\x08\x02\x04\tB\x1a\n\x02\x7f\x0b\x02\x15\x0c\x02\x17\r\x02\x12\x0e\x02\x16\x0f\x02\x11\x10\x02\x13\x11\x00\x00\x12\x00\x00")...)
			h.add(cmdIAC, cmdSE)
		}
	case cmdDONT:
		if c.us[option] {
			c.us[option] = false
			h.add(cmdIAC, cmdWONT, option)
		}
	case cmdWILL:
		if c.him[option] {
			return
		}
		if !c.do[option] {
			h.add(cmdIAC, cmdDONT, option)
			return
		}
		c.him[option] = true
		h.add(cmdIAC, cmdDO, option)
	case cmdWONT:
		if c.him[option] {
			c.him[option] = false
			h.add(cmdIAC, cmdDONT, option)
		}
	}
}

func (h *clientHandler) subnegotiation(option byte, payload []byte) {
	if len(payload) == 0 {
		return
	}
	switch {
	case option == optTType && payload[0] == qualSend:
		h.add(cmdIAC, cmdSB, optTType, qualIs)
		h.add([]byte(h.c.termType)...)
		h.add(cmdIAC, cmdSE)
	case option == optTSpeed && payload[0] == qualSend:
		h.add(cmdIAC, cmdSB, optTSpeed, qualIs)
		h.add([]byte("38400,38400")...)
		h.add(cmdIAC, cmdSE)
	case option == optNewEnv && payload[0] == qualSend:
		h.add(cmdIAC, cmdSB, optNewEnv, qualIs, cmdIAC, cmdSE)
	case option == optLinemode && payload[0] == lmMode && len(payload) > 1 && payload[1]&0x04 == 0:
		h.add(cmdIAC, cmdSB, optLinemode, lmMode, payload[1]|0x04, cmdIAC, cmdSE)
	}
}
