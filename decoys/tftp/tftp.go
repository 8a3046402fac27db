// Package tftp is the TFTP decoy: a tftpd-hpa 5.2, atftpd 0.8.0 or
// Windows Deployment Services persona on UDP that serves a per-decky boot
// and configuration root, records every read and write request, and keeps
// written files in the quarantine. Each transfer runs on its own
// ephemeral port, as the real daemons' forked children and threads do.
//
// TFTP is UDP, so the service has ServePacket instead of the TCP Serve of
// decoys.Service.
package tftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/quarantine"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ServiceName is the service name in every event of this decoy.
const ServiceName = "tftp"

// ErrUnknownPersona is returned by New for a persona id it does not know.
var ErrUnknownPersona = errors.New("unknown tftp persona")

// Option keys.
const (
	// OptCreate "false" refuses writes of new files as Debian's stock
	// TFTP_OPTIONS="--secure" does; the default "true" behaves as
	// "--secure --create" so that uploads are captured.
	OptCreate = "create"
	// OptMaxUploadBytes caps one write; beyond it the transfer ends with
	// "Disk full or allocation exceeded". Default 32 MiB, the most a
	// transfer of 65535 blocks of 512 bytes can carry.
	OptMaxUploadBytes = "max_upload_bytes"
)

const defaultMaxUploadBytes = 32 << 20

// maxRequestBytes is the receive buffer of the main socket: the largest
// UDP payload. tftpd-hpa reads requests into a buffer of this order.
const maxRequestBytes = 65536

// retransmitLimit ends a transfer after the waits 1, 2, 4, 8, 16 and 32
// times the retransmission timeout without a reply, as measured
// against in.tftpd (a packet at 0, 1, 3, 7, 15 and 31 s, then silence).
const retransmitLimit = 6

// Caps on what one event carries.
const maxEventName = 1 << 10

// Service is the TFTP decoy.
type Service struct {
	decky      string
	emitter    decoys.Emitter
	log        zerolog.Logger
	limits     decoys.Limits
	quarantine *quarantine.Store
	files      *store
	persona    *persona

	create         bool
	maxUploadBytes int64

	now func() time.Time

	mu      sync.Mutex
	active  map[netip.Addr]int
	running int
	wg      sync.WaitGroup
}

// Keys returns the option keys New reads.
func Keys() []string { return []string{OptCreate, OptMaxUploadBytes} }

// New returns the TFTP decoy for cfg.
func New(cfg decoys.Config) (*Service, error) {
	if cfg.Emitter == nil {
		return nil, errors.New("create tftp decoy: missing emitter")
	}
	id := cfg.Persona
	if id == "" {
		id = DefaultPersona
	}
	p, ok := personas[id]
	if !ok {
		return nil, fmt.Errorf("create tftp decoy: %w %q (known: %s)", ErrUnknownPersona, cfg.Persona, strings.Join(Personas(), ", "))
	}
	s := &Service{
		decky:          cfg.Decky,
		emitter:        cfg.Emitter,
		log:            cfg.Logger.With().Str(decoys.FieldService, ServiceName).Str(decoys.FieldDecky, cfg.Decky).Logger(),
		limits:         cfg.Limits.WithDefaults(),
		quarantine:     cfg.Quarantine,
		files:          newStore(seeder{cfg.Seed}),
		persona:        p,
		create:         true,
		maxUploadBytes: defaultMaxUploadBytes,
		now:            time.Now,
		active:         make(map[netip.Addr]int),
	}
	for k, v := range cfg.Options {
		switch k {
		case OptCreate:
			if v != "true" && v != "false" {
				return nil, fmt.Errorf("create tftp decoy: option %s: %q is not true or false", k, v)
			}
			s.create = v == "true"
		case OptMaxUploadBytes:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("create tftp decoy: option %s: %q is not a positive byte count", k, v)
			}
			s.maxUploadBytes = n
		default:
			return nil, fmt.Errorf("create tftp decoy: unknown option %q (known: %s)", k, strings.Join(Keys(), ", "))
		}
	}
	return s, nil
}

// ServePacket reads requests from pc until ctx ends, then closes pc, waits
// for running transfers and returns nil. It returns an error only when pc
// fails for good. Each accepted request is served from a new socket on
// pc's address and an ephemeral port.
func (s *Service) ServePacket(ctx context.Context, pc net.PacketConn) error {
	s.log.Info().Str("persona", s.persona.id).Str("address", pc.LocalAddr().String()).Msg("tftp decoy serving")
	stop := context.AfterFunc(ctx, func() { _ = pc.Close() })
	defer stop()
	defer s.wg.Wait()

	local := addrPortOf(pc.LocalAddr())
	buf := make([]byte, maxRequestBytes)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("serve tftp decoy: %w", err)
		}
		peer := addrPortOf(from)
		if !peer.IsValid() || peer.Port() == 0 {
			continue
		}
		req, rerr, ok := s.persona.parse(buf[:n])
		if !ok {
			// tftpd-hpa's parent forks only for RRQ and WRQ and drops
			// anything else; atftpd and WDS answer it with an error
			// from a new port, as they answer a refused request.
			if s.persona.nonRequest == nil {
				continue
			}
			rerr = s.persona.nonRequest
			req = request{stray: true, op: 0xffff}
			if n >= 2 {
				req.op = uint16(buf[0])<<8 | uint16(buf[1])
			}
		}
		if !s.acquire(peer.Addr()) {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.release(peer.Addr())
			s.serveTransfer(ctx, pc, local, peer, req, rerr)
		}()
	}
}

// acquire takes a transfer slot for source under the per-source and total
// limits. Requests over a limit are dropped: the client retries, as it
// would against a loaded server.
func (s *Service) acquire(source netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running >= s.limits.MaxConns || s.active[source] >= s.limits.MaxConnsPerSource {
		return false
	}
	s.active[source]++
	s.running++
	return true
}

func (s *Service) release(source netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	if s.active[source] <= 1 {
		delete(s.active, source)
		return
	}
	s.active[source]--
}

// transfer is one request's exchange on its own socket.
type transfer struct {
	s    *Service
	conn *net.UDPConn
	sess *decoys.Session
	// rexmt is the current first retransmission wait.
	rexmt    time.Duration
	backoff  bool
	retries  int
	sent     uint64
	received uint64
	buf      []byte
}

func (s *Service) serveTransfer(ctx context.Context, listener net.PacketConn, local, peer netip.AddrPort, req request, rerr *requestError) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Interface("panic", r).Str(decoys.FieldSource, peer.String()).Msg("tftp transfer panicked")
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, s.limits.SessionTimeout)
	defer cancel()

	sess := &decoys.Session{
		ID:          decoys.NewEventID(),
		Decky:       s.decky,
		Service:     ServiceName,
		Source:      &eventv1.Endpoint{Address: peer.Addr().String(), Port: uint32(peer.Port())},
		Destination: &eventv1.Endpoint{Address: local.Addr().String(), Port: uint32(local.Port())},
		Emitter:     s.emitter,
		Now:         s.now,
	}
	started := s.now()
	opened := sess.Event(decoys.KindConnectionOpened)
	opened.Time = timestamppb.New(started)
	opened.Payload = &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "udp"}}
	s.emitter.Emit(opened)
	sess.Command(truncateString(requestLine(req), maxEventName), ServiceName)

	if req.stray && s.persona.nonRequestFromListener {
		// Answered from the server port itself, as nmap's match for
		// this product shows: its probe sees only that port's replies.
		p := errorPacket(rerr.code, rerr.msg)
		_ = listener.SetWriteDeadline(time.Now().Add(s.limits.WriteTimeout))
		n, _ := listener.WriteTo(p, net.UDPAddrFromAddrPort(peer))
		sess.Closed(started, 0, uint64(n), "error_sent") //nolint:gosec // G115: n is never negative
		return
	}
	laddr := &net.UDPAddr{IP: local.Addr().AsSlice()}
	if local.Addr().IsUnspecified() {
		laddr = nil
	}
	conn, err := net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(peer))
	if err != nil {
		s.log.Warn().Err(err).Str(decoys.FieldSource, peer.String()).Msg("tftp transfer socket failed")
		sess.Closed(started, 0, 0, "error")
		return
	}
	// The transfer's outcome is already decided when this runs, so a
	// failed close of the UDP socket changes nothing the peer sees.
	defer func() { _ = conn.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	p := s.persona
	t := &transfer{s: s, conn: conn, sess: sess, rexmt: p.rexmt, backoff: p.backoff, retries: p.retries, buf: make([]byte, defaultBlksize+4)}
	reason := "error_sent"
	switch {
	case rerr != nil:
		t.send(errorPacket(rerr.code, rerr.msg))
	case req.write:
		reason = t.receive(ctx, req)
	default:
		reason = t.sendFile(ctx, req)
	}
	sess.Closed(started, t.received, t.sent, reason)
}

// requestLine renders a request for the command event.
func requestLine(req request) string {
	var b strings.Builder
	if req.stray {
		return "OPCODE " + strconv.Itoa(int(req.op))
	}
	if req.write {
		b.WriteString("WRQ ")
	} else {
		b.WriteString("RRQ ")
	}
	b.WriteString(strconv.Quote(req.filename))
	b.WriteString(" ")
	b.WriteString(req.mode)
	for _, o := range req.options {
		b.WriteString(" ")
		b.WriteString(o[0])
		b.WriteString("=")
		b.WriteString(o[1])
	}
	return b.String()
}

func (t *transfer) send(p []byte) bool {
	_ = t.conn.SetWriteDeadline(time.Now().Add(t.s.limits.WriteTimeout))
	n, err := t.conn.Write(p)
	t.sent += uint64(n) //nolint:gosec // G115: n is never negative
	return err == nil
}

// exchange sends p and waits for a packet that accept takes, resending p
// with doubling waits. Packets accept refuses are ignored without a
// resend, which avoids the Sorcerer's Apprentice bug (RFC 1123 4.2.3.1).
// It returns the accepted packet, or nil on give-up, an ERROR from the
// peer or the end of ctx.
func (t *transfer) exchange(ctx context.Context, p []byte, accept func(pkt []byte) bool) []byte {
	wait := t.rexmt
	for range t.retries {
		if !t.send(p) {
			return nil
		}
		deadline := time.Now().Add(wait)
		for {
			if ctx.Err() != nil {
				return nil
			}
			_ = t.conn.SetReadDeadline(deadline)
			n, err := t.conn.Read(t.buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				// ICMP port unreachable and closed sockets end the
				// transfer, as tftpd-hpa's recv error does.
				return nil
			}
			t.received += uint64(n) //nolint:gosec // G115: n is never negative
			pkt := t.buf[:n]
			if n >= 2 && pkt[1] == opERROR && pkt[0] == 0 {
				return nil
			}
			if accept(pkt) {
				return pkt
			}
		}
		if t.backoff {
			wait *= 2
		}
	}
	return nil
}

func isPacket(pkt []byte, op byte, block uint16) bool {
	return len(pkt) >= 4 && pkt[0] == 0 && pkt[1] == op && uint16(pkt[2])<<8|uint16(pkt[3]) == block
}

// sendFile serves an RRQ.
func (t *transfer) sendFile(ctx context.Context, req request) string {
	p := t.s.persona
	name := cleanPath(req.filename)
	f := t.s.files.lookup(name)
	fr := &eventv1.FileRequested{Name: truncateString(req.filename, maxEventName), Channel: "tftp_read", Mode: req.mode}
	switch {
	case req.unreadable || (f != nil && f.dir && p.dirAsEmpty):
		// atftpd opens the name, fails to read it, and sends the
		// empty block that ends a transfer.
		t.sess.FileRequested(fr)
		if t.exchange(ctx, dataPacket(1, nil), func(pkt []byte) bool { return isPacket(pkt, opACK, 1) }) == nil {
			return "timeout"
		}
		return "not_found"
	case f == nil:
		t.sess.FileRequested(fr)
		t.send(errorPacket(p.notFound.code, p.notFound.msg))
		return "not_found"
	case f.dir:
		t.sess.FileRequested(fr)
		t.send(errorPacket(p.isDir.code, p.isDir.msg))
		return "not_found"
	}
	fr.Served = true
	fr.Size = uint64(f.size) //nolint:gosec // G115: sizes are never negative
	t.sess.FileRequested(fr)

	neg, nerr := p.negotiate(req.options, false, f.size, req.mode == "octet")
	if nerr != nil {
		t.send(errorPacket(nerr.code, nerr.msg))
		return "option_refused"
	}
	if neg.rexmt > 0 {
		t.rexmt = time.Duration(neg.rexmt) * time.Microsecond
	}
	// The buffer holds the largest packet the peer may send now; an
	// idle transfer costs little more than its negotiated block.
	t.buf = make([]byte, neg.blksize+4)
	if len(neg.oack) > 0 {
		if t.exchange(ctx, oackPacket(neg.oack), func(pkt []byte) bool { return isPacket(pkt, opACK, 0) }) == nil {
			return "timeout"
		}
	}

	r := io.LimitReader(f.content(), f.size)
	if req.mode == "netascii" {
		r = netascii(r)
	}
	return t.sendBlocks(ctx, r, neg)
}

// sendBlocks sends r in blocks of neg.blksize, neg.window blocks before
// each wait for an ACK (RFC 7440; a window of 1 is RFC 1350's lockstep).
// An ACK of any block of the window moves the window past it; a
// duplicate or older ACK is ignored, so it never causes a resend.
func (t *transfer) sendBlocks(ctx context.Context, r io.Reader, neg negotiation) string {
	type block struct {
		n   uint16
		pkt []byte
		end bool
	}
	var window []block
	next := uint16(1)
	done := false
	for {
		for !done && len(window) < max(neg.window, 1) {
			chunk := make([]byte, neg.blksize)
			n, err := io.ReadFull(r, chunk)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return "error"
			}
			done = n < neg.blksize
			window = append(window, block{next, dataPacket(next, chunk[:n]), done})
			next++
		}
		if len(window) == 0 {
			return "complete"
		}
		// All but the last block of the window go out once per round;
		// exchange sends the last and waits for an ACK in the window.
		for _, b := range window[:len(window)-1] {
			t.send(b.pkt)
		}
		first := window[0].n
		last := window[len(window)-1]
		acked := -1
		ack := t.exchange(ctx, last.pkt, func(pkt []byte) bool {
			if len(pkt) < 4 || pkt[0] != 0 || pkt[1] != opACK {
				return false
			}
			// Block numbers wrap, so the offset is taken modulo 2^16.
			off := int((uint16(pkt[2])<<8 | uint16(pkt[3])) - first)
			if off >= len(window) {
				return false
			}
			acked = off
			return true
		})
		if ack == nil {
			return "timeout"
		}
		if window[acked].end {
			return "complete"
		}
		window = window[acked+1:]
	}
}

// receive serves a WRQ.
func (t *transfer) receive(ctx context.Context, req request) string {
	name := cleanPath(req.filename)
	existing := t.s.files.lookup(name)
	parent := t.s.files.lookup(pathDir(name))
	p := t.s.persona
	refuse := func(e *requestError) string {
		t.send(errorPacket(e.code, e.msg))
		return "refused"
	}
	unwritable := (existing != nil && (existing.dir || !existing.uploaded)) ||
		(existing == nil && (!t.s.create || parent == nil || !parent.dir))
	switch {
	case p.readOnly:
		return refuse(p.writeRefused)
	case p.lateRefusal != nil && (unwritable || req.unreadable):
		if t.exchange(ctx, ackPacket(0), func(pkt []byte) bool { return isPacket(pkt, opDATA, 1) }) == nil {
			return "timeout"
		}
		return refuse(p.lateRefusal)
	case req.unreadable:
		return refuse(p.notFound)
	case existing != nil && existing.dir && p.isDir != nil:
		return refuse(p.isDir)
	case existing != nil && !existing.uploaded && p.writeExisting != nil:
		// tftpd-hpa's seeded files belong to root with mode 0644; the
		// daemon runs as the tftp user.
		return refuse(p.writeExisting)
	case existing == nil && (!t.s.create || parent == nil || !parent.dir):
		if p.writeRefused != nil {
			return refuse(p.writeRefused)
		}
		return refuse(p.notFound)
	}

	neg, nerr := p.negotiate(req.options, true, 0, true)
	if nerr != nil {
		t.send(errorPacket(nerr.code, nerr.msg))
		return "option_refused"
	}
	if neg.rexmt > 0 {
		t.rexmt = time.Duration(neg.rexmt) * time.Microsecond
	}
	// The buffer holds the largest packet the peer may send now; an
	// idle transfer costs little more than its negotiated block.
	t.buf = make([]byte, neg.blksize+4)

	qf := t.s.quarantine.NewFile()
	var kept []byte
	var total int64
	finished := false
	finish := func() {
		if finished {
			return
		}
		finished = true
		res := qf.Close()
		t.sess.FileCaptured(&eventv1.FileCaptured{
			Sha256:    res.SHA256,
			Size:      res.Size,
			Truncated: res.Truncated,
			Name:      truncateString(req.filename, maxEventName),
			Channel:   "tftp_write",
			Stored:    res.Stored,
		})
		if int64(len(kept)) != total {
			kept = nil
		}
		t.s.files.keep(name, kept, total)
	}
	reason := t.receiveBlocks(ctx, neg, func(data []byte) bool {
		total += int64(len(data))
		_, _ = qf.Write(data)
		if int64(len(kept))+int64(len(data)) <= maxKeptFileBytes {
			kept = append(kept, data...)
		}
		return total <= t.s.maxUploadBytes
	}, finish)
	finish()
	return reason
}

// await waits one retransmission timeout for a packet accept takes.
func (t *transfer) await(ctx context.Context, accept func(pkt []byte) bool) []byte {
	deadline := time.Now().Add(t.rexmt)
	for ctx.Err() == nil {
		_ = t.conn.SetReadDeadline(deadline)
		n, err := t.conn.Read(t.buf)
		if err != nil {
			return nil
		}
		t.received += uint64(n) //nolint:gosec // G115: n is never negative
		if accept(t.buf[:n]) {
			return t.buf[:n]
		}
	}
	return nil
}

// receiveBlocks acknowledges DATA blocks until a short one, handing each
// new block to write. write returning false ends the transfer with the
// disk-full error. complete runs once the last block has arrived.
func (t *transfer) receiveBlocks(ctx context.Context, neg negotiation, write func([]byte) bool, complete func()) string {
	var ack []byte
	if len(neg.oack) > 0 {
		ack = oackPacket(neg.oack)
	} else {
		ack = ackPacket(0)
	}
	block := uint16(1)
	for {
		b := block
		pkt := t.exchange(ctx, ack, func(p []byte) bool { return isPacket(p, opDATA, b) })
		if pkt == nil {
			return "timeout"
		}
		data := pkt[4:]
		if !write(data) {
			t.send(errorPacket(errDiskFull, "Disk full or allocation exceeded"))
			return "limit"
		}
		ack = ackPacket(b)
		if len(data) < neg.blksize {
			break
		}
		block++
		// Inside a window (RFC 7440) the next block is awaited without
		// an ACK; the window's last block is acknowledged.
		for neg.window > 1 && int(b)%neg.window != 0 {
			pkt = t.await(ctx, func(p []byte) bool { return isPacket(p, opDATA, block) })
			if pkt == nil {
				// A lost block: acknowledge what arrived, which
				// restarts the sender's window there.
				break
			}
			data = pkt[4:]
			if !write(data) {
				t.send(errorPacket(errDiskFull, "Disk full or allocation exceeded"))
				return "limit"
			}
			b = block
			ack = ackPacket(b)
			if len(data) < neg.blksize {
				goto last
			}
			block++
		}
	}
last:

	// The upload is whole: it is readable before the dally ends.
	complete()
	// The final ACK, sent again once if the peer repeats the last block
	// because the first was lost.
	t.send(ack)
	_ = t.conn.SetReadDeadline(time.Now().Add(t.rexmt))
	if n, err := t.conn.Read(t.buf); err == nil && isPacket(t.buf[:n], opDATA, block) {
		t.send(ack)
	}
	return "complete"
}

func pathDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if ua, ok := a.(*net.UDPAddr); ok {
		ap := ua.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
