package ftp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// pasvBindAttempts is how many ports of the configured range a PASV tries
// before giving up, as vsftpd retries a busy port.
const pasvBindAttempts = 32

// dataChunk is the unit of data-connection I/O; each chunk renews the
// stall deadline.
const dataChunk = 32 << 10

// dataMode is the data connection the next transfer uses: a passive
// listener or the peer's active address.
type dataMode struct {
	pasv   *net.TCPListener
	active netip.AddrPort
}

func (d dataMode) set() bool { return d.pasv != nil || d.active.IsValid() }

func (c *control) closeData() {
	if c.data.pasv != nil {
		_ = c.data.pasv.Close()
	}
	c.data = dataMode{}
}

func (c *control) cmdDataMode(ctx context.Context, verb, arg string) {
	switch verb {
	case "PASV":
		if c.epsvAll {
			c.send(c.p.pasvAfterAll)
			return
		}
		port, ok := c.listenPassive(ctx)
		if !ok {
			c.send(c.p.noConn)
			return
		}
		addr := c.local
		if c.s.advertised.IsValid() {
			addr = c.s.advertised
		}
		if !addr.Is4() {
			// A PASV reply cannot carry an IPv6 address; vsftpd prints
			// 0,0,0,0 and clients fall back to the control address.
			addr = netip.IPv4Unspecified()
		}
		c.send(reply(c.p.pasv, pasvArgument(addr, port)))
	case "EPSV":
		switch {
		case strings.EqualFold(arg, "ALL"):
			c.epsvAll = true
			c.send(c.p.epsvAll)
			return
		case arg != "" && arg != c.netProto():
			c.send(c.p.epsvBadNet)
			return
		}
		port, ok := c.listenPassive(ctx)
		if !ok {
			c.send(c.p.noConn)
			return
		}
		c.send(reply(c.p.epsv, port))
	case "PORT":
		ap, err := parsePORT(arg)
		if err != nil || !c.activeAllowed(ap) {
			c.send(c.p.portBad)
			return
		}
		c.closeData()
		c.data.active = ap
		c.send(c.p.portOK)
	case "EPRT":
		ap, err := parseEPRT(arg, !c.remote.Is4())
		switch {
		case errors.Is(err, errAddrProto):
			c.send(c.p.eprtProto)
			return
		case err != nil:
			c.send(c.p.eprtBad)
			return
		case !c.activeAllowed(ap):
			c.send(c.p.eprtIllegal)
			return
		}
		c.closeData()
		c.data.active = ap
		c.send(c.p.eprtOK)
	}
}

func (c *control) netProto() string {
	if c.local.Is4() {
		return "1"
	}
	return "2"
}

// activeAllowed is the only check between attacker input and an outgoing
// connection: the address must be the control connection's own peer, and
// the port unprivileged, as vsftpd's port_promiscuous=NO demands.
func (c *control) activeAllowed(ap netip.AddrPort) bool {
	return ap.Addr().Unmap() == c.remote && ap.Port() >= 1024
}

// listenPassive opens the passive listener on the control connection's
// local address and returns its port.
func (c *control) listenPassive(ctx context.Context) (uint16, bool) {
	c.closeData()
	host := c.local.String()
	attempts := 1
	if c.s.pasvMin > 0 {
		attempts = pasvBindAttempts
	}
	for range attempts {
		port := 0
		if c.s.pasvMin > 0 {
			port = c.s.pasvMin + rand.N(c.s.pasvMax-c.s.pasvMin+1) //nolint:gosec // G404: a port choice, not a secret
		}
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		tl, ok := ln.(*net.TCPListener)
		if !ok {
			_ = ln.Close()
			return 0, false
		}
		c.data.pasv = tl
		return uint16(tl.Addr().(*net.TCPAddr).Port), true //nolint:gosec // G115: a TCP port fits in uint16
	}
	return 0, false
}

// dataConn is a data connection that closes when the session's context
// ends, so a transfer cannot outlive the session.
type dataConn struct {
	net.Conn
	stop func() bool
}

func (d *dataConn) Close() error {
	d.stop()
	return d.Conn.Close()
}

func bindToContext(ctx context.Context, conn net.Conn) net.Conn {
	return &dataConn{Conn: conn, stop: context.AfterFunc(ctx, func() { _ = conn.Close() })}
}

// openData establishes the data connection of a transfer. On failure it
// returns the reply to send.
func (c *control) openData(ctx context.Context) (net.Conn, string) {
	mode := c.data
	c.data = dataMode{}
	if mode.pasv != nil {
		// One connection per PASV: the listener closes once it has
		// accepted, and its close error changes nothing for the transfer.
		defer func() { _ = mode.pasv.Close() }()
		stop := context.AfterFunc(ctx, func() { _ = mode.pasv.Close() })
		defer stop()
		_ = mode.pasv.SetDeadline(time.Now().Add(c.s.acceptTimeout))
		conn, err := mode.pasv.Accept()
		if err != nil {
			return nil, c.p.noConn
		}
		if addrOf(conn.RemoteAddr()) != c.remote {
			_ = conn.Close()
			return nil, c.p.badDataIP
		}
		return bindToContext(ctx, conn), ""
	}

	d := net.Dialer{Timeout: dataConnectTimeout, LocalAddr: &net.TCPAddr{IP: net.IP(c.local.AsSlice())}}
	conn, err := d.DialContext(ctx, "tcp", mode.active.String())
	if err != nil {
		return nil, c.p.noConn
	}
	return bindToContext(ctx, conn), ""
}

func (c *control) stallTimeout() time.Duration {
	return min(dataStallTimeout, c.s.limits.ReadTimeout)
}

// writeData copies r to the data connection with a stall deadline per
// chunk. It reports whether everything was written.
func (c *control) writeData(conn net.Conn, r io.Reader) bool {
	buf := make([]byte, dataChunk)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			_ = conn.SetWriteDeadline(time.Now().Add(c.stallTimeout()))
			if _, err := conn.Write(buf[:n]); err != nil {
				return false
			}
		}
		if rerr == io.EOF {
			return true
		}
		if rerr != nil {
			return false
		}
	}
}

func (c *control) cmdList(ctx context.Context, verb, arg string) {
	if !c.data.set() {
		c.send(c.p.needPort)
		return
	}
	opts, target := splitListArg(arg)
	abs := resolve(c.cwd, target)
	var lines []string
	if verb == "NLST" {
		lines = c.tree.names(abs, target, opts)
	} else {
		lines = c.tree.listing(c.p.listStyle, abs, target, opts, c.s.now())
	}
	if c.tree.lookup(abs) == nil && c.p.listMissing != "" {
		if !c.p.listMissingAfterOpen {
			c.closeData()
			c.send(reply(c.p.listMissing, target))
			return
		}
		conn, fail := c.openData(ctx)
		if conn == nil {
			c.send(fail)
			return
		}
		c.send(c.p.listStart)
		_ = conn.Close()
		c.send(reply(c.p.listMissing, target))
		return
	}

	conn, fail := c.openData(ctx)
	if conn == nil {
		c.send(fail)
		return
	}
	defer func() { _ = conn.Close() }() // the control reply reports the transfer, and closing only ends it
	c.send(c.p.listStart)
	var body strings.Builder
	for _, l := range lines {
		body.WriteString(l)
		body.WriteString("\r\n")
	}
	if !c.writeData(conn, strings.NewReader(body.String())) {
		c.send(c.p.writeFailed)
		return
	}
	_ = conn.Close()
	c.send(c.p.listDone)
}

func (c *control) cmdRetr(ctx context.Context, arg string) {
	if !c.data.set() {
		c.send(c.p.needPort)
		return
	}
	n := c.fileAt(arg)
	req := &eventv1.FileRequested{Name: truncate(arg, maxEventName), Channel: "ftp_retr", Mode: modeName(c.binary)}
	if n == nil {
		c.closeData()
		c.sess.FileRequested(req)
		c.send(reply(c.p.retrFailed, arg))
		return
	}
	req.Served = true
	req.Size = uint64(n.size) //nolint:gosec // G115: sizes are never negative
	c.sess.FileRequested(req)

	conn, fail := c.openData(ctx)
	if conn == nil {
		c.send(fail)
		return
	}
	defer func() { _ = conn.Close() }() // the control reply reports the transfer, and closing only ends it
	offset := min(c.restAt, n.size)
	c.restAt = 0
	c.send(c.p.retrStart(c.binary, arg, n.size))
	r := n.reader()
	if offset > 0 {
		if _, err := io.CopyN(io.Discard, r, offset); err != nil {
			c.send(c.p.writeFailed)
			return
		}
	}
	if c.p.asciiDownloads && !c.binary {
		r = &crlfReader{r: r}
	}
	if !c.writeData(conn, r) {
		c.send(c.p.writeFailed)
		return
	}
	_ = conn.Close()
	c.send(c.p.xferDone)
}

// crlfReader turns each LF not preceded by CR into CR LF, as an
// ASCII-mode transfer sends text lines (RFC 959 section 3.1.1.1).
type crlfReader struct {
	r      io.Reader
	prevCR bool
	// pending holds converted bytes that did not fit, and err the read
	// error to return once they are out.
	pending []byte
	err     error
}

func (c *crlfReader) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			return n, c.err
		}
		return n, nil
	}
	if c.err != nil {
		return 0, c.err
	}
	// Read at most half of p, so that every LF has room for its CR.
	buf := make([]byte, max(len(p)/2, 1))
	n, err := c.r.Read(buf)
	out := make([]byte, 0, 2*n)
	for _, b := range buf[:n] {
		if b == '\n' && !c.prevCR {
			out = append(out, '\r')
		}
		out = append(out, b)
		c.prevCR = b == '\r'
	}
	m := copy(p, out)
	c.pending = out[m:]
	c.err = err
	if len(c.pending) > 0 {
		return m, nil
	}
	return m, err
}

func modeName(binary bool) string {
	if binary {
		return "binary"
	}
	return "ascii"
}

func (c *control) cmdStor(ctx context.Context, verb, arg string) {
	// vsftpd refuses a disabled write before it looks for a data
	// connection.
	if c.writeDenied() {
		c.send(reply(c.p.denied, arg))
		return
	}
	if !c.data.set() {
		c.send(c.p.needPort)
		return
	}
	name := arg
	if verb == "STOU" && name == "" {
		name = "STOU." + strconv.Itoa(1+rand.N(999)) //nolint:gosec // G404: a file name, not a secret
	}
	abs := resolve(c.cwd, name)
	dir, base := c.tree.parentOf(abs)
	existing := c.tree.lookup(abs)
	if name == "" || (existing != nil && existing.dir) || (existing == nil && !c.tree.canCreate(dir, base)) || (dir != nil && !dir.writable) {
		c.closeData()
		c.send(reply(c.p.storFailed, arg))
		return
	}

	conn, fail := c.openData(ctx)
	if conn == nil {
		c.send(fail)
		return
	}
	defer func() { _ = conn.Close() }() // the control reply reports the transfer, and closing only ends it
	c.send(c.p.storStart(c.binary, name))

	prior := []byte(nil)
	if verb == "APPE" && existing != nil && existing.content == nil {
		prior = existing.data
	}
	file := c.s.quarantine.NewFile()
	_, _ = file.Write(prior)
	kept, complete := c.readUpload(conn, file, prior)
	res := file.Close()
	c.sess.FileCaptured(&eventv1.FileCaptured{
		Sha256:    res.SHA256,
		Size:      res.Size,
		Truncated: res.Truncated,
		Name:      truncate(abs, maxEventName),
		Channel:   "ftp_stor",
		Stored:    res.Stored,
	})

	if existing == nil {
		c.tree.nodes++
		existing = mkfile(dir, base, 0o644, c.owner(), c.s.now(), 0, nil)
	}
	existing.content = nil
	existing.size = int64(res.Size) //nolint:gosec // G115: an upload is capped far below 2^63
	existing.mtime = c.s.now()
	existing.data = kept
	existing.truncated = int64(len(kept)) < existing.size
	if existing.truncated {
		// The bytes beyond the session's memory budget are gone; serve
		// zeros in their place rather than a short file.
		size := existing.size
		existing.data = nil
		existing.content = func() io.Reader { return io.LimitReader(zeroReader{}, size) }
	}
	c.s.uploads.remember(c.loginKey(), abs, &upload{size: existing.size, data: existing.data, mtime: existing.mtime, owner: c.owner()})
	if !complete {
		c.send(c.p.readFailed)
		return
	}
	c.send(c.p.xferDone)
}

// readUpload copies the data connection into the quarantine file until
// EOF, the upload cap or a stall, and keeps up to the session's memory
// budget so that a later RETR serves the same bytes.
func (c *control) readUpload(conn net.Conn, file io.Writer, prior []byte) ([]byte, bool) {
	br := bufio.NewReaderSize(conn, dataChunk)
	kept := append([]byte(nil), prior...)
	buf := make([]byte, dataChunk)
	var total int64
	for {
		_ = conn.SetReadDeadline(time.Now().Add(c.stallTimeout()))
		n, err := br.Read(buf)
		if n > 0 {
			total += int64(n)
			_, _ = file.Write(buf[:n])
			if room := maxSessionKeptBytes - c.tree.kept; room > 0 {
				take := min(int64(n), room)
				kept = append(kept, buf[:take]...)
				c.tree.kept += take
			}
			if total > c.s.maxUploadBytes {
				return kept, false
			}
		}
		if errors.Is(err, io.EOF) {
			return kept, true
		}
		if err != nil {
			return kept, false
		}
	}
}
