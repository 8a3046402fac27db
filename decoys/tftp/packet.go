package tftp

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Opcodes (RFC 1350, RFC 2347).
const (
	opRRQ   = 1
	opWRQ   = 2
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6
)

// Error codes (RFC 1350, RFC 2347).
const (
	errUndefined  = 0
	errNotFound   = 1
	errAccess     = 2
	errDiskFull   = 3
	errIllegalOp  = 4
	errUnknownTID = 5
	errExists     = 6
	errNoUser     = 7
	errOptionNeg  = 8
)

// request is a parsed RRQ or WRQ.
type request struct {
	write    bool
	filename string
	// mode is lower-cased, as tftpd-hpa compares it.
	mode string
	// options are the name and value pairs in the order sent; a name
	// without a value is dropped, as tftpd-hpa drops it.
	options [][2]string
	// unreadable marks a request whose name atftpd cannot read as a
	// file; it is answered with an empty first block.
	unreadable bool
	// stray marks a datagram that is no request; op is its opcode,
	// for the record.
	stray bool
	op    uint16
}

// requestError is the ERROR packet a malformed request gets.
type requestError struct {
	code uint16
	msg  string
}

// maxOptions caps the option pairs kept from one request. A request fits
// in one datagram, so this only bounds work on hostile input.
const maxOptions = 32

// parseRequest reads an RRQ or WRQ the way tftpd-hpa walks it: strings
// ended by NUL bytes, the filename first, then the mode, then option
// names and values, stopping at the first empty string. The end of the
// datagram ends a string as a NUL would, as the zeroed receive buffer of
// a fresh tftpd-hpa process makes it. ok is false for packets that are
// not requests; they get no reply. A request the server refuses returns
// a non-nil error packet.
func parseRequest(pkt []byte) (req request, rerr *requestError, ok bool) {
	if len(pkt) < 2 {
		return request{}, nil, false
	}
	op := binary.BigEndian.Uint16(pkt)
	if op != opRRQ && op != opWRQ {
		return request{}, nil, false
	}
	req.write = op == opWRQ

	fields := splitStrings(pkt[2:])
	if len(fields) < 2 {
		return req, &requestError{errIllegalOp, "Missing mode"}, true
	}
	req.filename = fields[0]
	req.mode = strings.ToLower(fields[1])
	if req.mode != "netascii" && req.mode != "octet" {
		return req, &requestError{errIllegalOp, "Unknown mode"}, true
	}
	for i := 2; i+1 < len(fields) && len(req.options) < maxOptions; i += 2 {
		req.options = append(req.options, [2]string{fields[i], fields[i+1]})
	}
	return req, nil, true
}

// splitStrings returns the strings of b up to the first empty one.
func splitStrings(b []byte) []string {
	var out []string
	for len(b) > 0 && b[0] != 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return append(out, string(b))
		}
		out = append(out, string(b[:i]))
		b = b[i+1:]
	}
	return out
}

func errorPacket(code uint16, msg string) []byte {
	p := make([]byte, 4, 5+len(msg))
	binary.BigEndian.PutUint16(p, opERROR)
	binary.BigEndian.PutUint16(p[2:], code)
	p = append(p, msg...)
	return append(p, 0)
}

func ackPacket(block uint16) []byte {
	return []byte{0, opACK, byte(block >> 8), byte(block)}
}

func dataPacket(block uint16, payload []byte) []byte {
	p := make([]byte, 4, 4+len(payload))
	binary.BigEndian.PutUint16(p, opDATA)
	binary.BigEndian.PutUint16(p[2:], block)
	return append(p, payload...)
}

func oackPacket(opts [][2]string) []byte {
	p := []byte{0, opOACK}
	for _, o := range opts {
		p = append(p, o[0]...)
		p = append(p, 0)
		p = append(p, o[1]...)
		p = append(p, 0)
	}
	return p
}

// Limits of the options tftpd-hpa 5.2 accepts.
const (
	minBlksize = 8
	// maxBlksize is tftpd-hpa's MAX_SEGSIZE: the largest payload of a
	// UDP datagram over IPv4 without fragmentation headaches it allows.
	maxBlksize     = 65464
	defaultBlksize = 512
	minTimeoutSec  = 1
	maxTimeoutSec  = 255
	minUtimeoutUs  = 10000
	maxUtimeoutUs  = 255000000
)

// negotiation is the outcome of a request's options.
type negotiation struct {
	blksize int
	// rexmt is the first retransmission timeout in microseconds.
	rexmt int64
	// window is the number of blocks sent before an ACK (RFC 7440).
	window int
	oack   [][2]string
}

// negotiate applies the options as tftpd-hpa 5.2 on Debian 12 does.
// Known names compare without case and are echoed as sent, in order,
// duplicates included. Unknown names, and values that are not whole
// numbers, are ignored. A number out of range fails the request with
// error 8. size is the file size, and known is false when the size is
// unknown (netascii reads), which makes tsize fail.
func negotiate(opts [][2]string, write bool, size int64, known bool) (negotiation, *requestError) {
	n := negotiation{blksize: defaultBlksize, rexmt: 1000000, window: 1}
	bad := &requestError{errOptionNeg, "Unsupported option(s) requested"}
	for _, o := range opts {
		name := o[0]
		lower := strings.ToLower(name)
		switch lower {
		case "blksize", "blksize2", "tsize", "timeout", "utimeout", "rollover":
		default:
			continue
		}
		v, ok := parseUint(o[1])
		if !ok {
			continue
		}
		switch lower {
		case "blksize", "blksize2":
			if v < minBlksize {
				return n, bad
			}
			v = min(v, maxBlksize)
			if lower == "blksize2" {
				v = 1 << (63 - bits.LeadingZeros64(v))
			}
			n.blksize = int(v) //nolint:gosec // G115: at most maxBlksize
		case "tsize":
			if !known && !write {
				return n, bad
			}
			if v == 0 && !write {
				v = uint64(size) //nolint:gosec // G115: sizes are never negative
			}
		case "timeout":
			if v < minTimeoutSec || v > maxTimeoutSec {
				return n, bad
			}
			n.rexmt = int64(v) * 1000000 //nolint:gosec // G115: at most 255
		case "utimeout":
			if v < minUtimeoutUs || v > maxUtimeoutUs {
				return n, bad
			}
			n.rexmt = int64(v) //nolint:gosec // G115: at most 255000000
		}
		n.oack = append(n.oack, [2]string{name, strconv.FormatUint(v, 10)})
	}
	return n, nil
}

// parseUint reads a number as strtoul does when the whole value must be
// consumed: leading white space, an optional sign (a minus negates modulo
// 2^64), at least one digit. Overflow fails, as strtoul's ERANGE does.
func parseUint(s string) (uint64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}
