package tftp

import (
	"strconv"
	"strings"
	"time"
)

// Persona ids.
const (
	PersonaTftpdHPA = "tftpd-hpa-5.2-debian12"
	PersonaAtftpd   = "atftpd-0.8.0-debian12"
	PersonaWDS      = "wds-windows-server-2022"
	DefaultPersona  = PersonaTftpdHPA
)

// Personas lists the persona ids New accepts.
func Personas() []string { return []string{PersonaTftpdHPA, PersonaAtftpd, PersonaWDS} }

// persona is every detail of a TFTP server that a client can observe.
type persona struct {
	id string
	// nonRequest is the ERROR that a datagram other than an RRQ or WRQ
	// on the server port gets from a transfer port; nil drops it.
	nonRequest *requestError
	// nonRequestFromListener sends nonRequest from the server port
	// instead of a transfer port.
	nonRequestFromListener bool
	// parse reads an RRQ or WRQ.
	parse func(pkt []byte) (request, *requestError, bool)
	// negotiate applies the options of a request.
	negotiate func(opts [][2]string, write bool, size int64, known bool) (negotiation, *requestError)
	// Replies to requests for things that are not a readable file.
	notFound, isDir *requestError
	// dirAsEmpty serves a directory as an empty file instead of isDir.
	dirAsEmpty bool
	// writeExisting refuses a WRQ over a seeded file; nil accepts it.
	writeExisting *requestError
	// writeRefused is the error for a WRQ that cannot create its file,
	// or for every WRQ when readOnly is set. Nil sends notFound instead.
	writeRefused *requestError
	// lateRefusal is the error sent in reply to the first DATA of a WRQ
	// that cannot be written, after the WRQ was acknowledged, because
	// atftpd opens the file only then. Nil rejects the WRQ itself.
	lateRefusal *requestError
	// readOnly refuses every WRQ with writeRefused.
	readOnly bool
	// rexmt is the first retransmission wait; backoff doubles it after
	// each resend; retries is how many times a packet is sent in all.
	rexmt   time.Duration
	backoff bool
	retries int
}

var personas = map[string]*persona{
	PersonaTftpdHPA: {
		id:            PersonaTftpdHPA,
		parse:         parseRequest,
		negotiate:     negotiate,
		notFound:      &requestError{errNotFound, "File not found"},
		isDir:         &requestError{errUndefined, "Is a directory"},
		writeExisting: &requestError{errUndefined, "Permission denied"},
		writeRefused:  &requestError{errNotFound, "File not found"},
		rexmt:         time.Second,
		backoff:       true,
		retries:       retransmitLimit,
	},
	// atftpd as Debian's /etc/default/atftpd starts it: --retry-timeout
	// 5 and a root writable by the daemon, so a WRQ of a new file is
	// accepted. The seeded files are root's, so a WRQ over one fails at
	// its first DATA.
	// NOTE: Debian's default also enables multicast (RFC 2090), which
	// the decoy ignores like any unknown option; the oracle test runs
	// atftpd with --no-multicast.
	PersonaAtftpd: {
		id:          PersonaAtftpd,
		nonRequest:  &requestError{errIllegalOp, "Illegal TFTP operation"},
		parse:       parseRequestAtftpd,
		negotiate:   negotiateAtftpd,
		notFound:    &requestError{errNotFound, "File not found"},
		dirAsEmpty:  true,
		lateRefusal: &requestError{errAccess, "Access violation"},
		// Measured: the block is resent every 5 s, six sends in all.
		// NOTE: the real daemon's resends of an 11-byte block were
		// 3 bytes long (a bug); the decoy resends the whole block.
		rexmt:   5 * time.Second,
		retries: 6,
	},
	// The TFTP server of Windows Deployment Services: read-only, with
	// the variable window extension. Its reply to a stray opcode is the
	// one nmap-service-probes matches as this product.
	// NOTE: only that reply is sourced (nmap-service-probes). The other
	// error texts, the blksize and window limits and the retransmission
	// timing are estimates, not checked against a real WDS server.
	PersonaWDS: {
		id:         PersonaWDS,
		nonRequest: &requestError{errIllegalOp, "Illegal operation error."},
		// nmap's match line for this server is reached only by a
		// reply from the probed port.
		nonRequestFromListener: true,
		parse:                  parseRequestWDS,
		negotiate:              negotiateWDS,
		notFound:               &requestError{errNotFound, "File not found."},
		isDir:                  &requestError{errNotFound, "File not found."},
		writeRefused:           &requestError{errAccess, "Access violation."},
		readOnly:               true,
		rexmt:                  time.Second,
		retries:                5,
	},
}

// parseRequestAtftpd reads a request as atftpd 0.8.0 does: any mode
// other than netascii is served as octet, a missing mode means octet,
// and a request whose last string lacks its NUL names nothing readable.
func parseRequestAtftpd(pkt []byte) (request, *requestError, bool) {
	if len(pkt) < 2 || pkt[0] != 0 || (pkt[1] != opRRQ && pkt[1] != opWRQ) {
		return request{}, nil, false
	}
	req := request{write: pkt[1] == opWRQ}
	// argz walks every string, empty ones included.
	fields := strings.Split(string(pkt[2:]), "\x00")
	if len(pkt) == 2 || pkt[len(pkt)-1] != 0 || fields[0] == "" {
		// The daemon opens a name it cannot read as a file and sends
		// an empty first block.
		req.unreadable = true
		return req, nil, true
	}
	req.filename = fields[0]
	req.mode = "octet"
	if len(fields) > 1 && strings.EqualFold(fields[1], "netascii") {
		req.mode = "netascii"
	}
	// The split leaves an empty string after the final NUL.
	fields = fields[:len(fields)-1]
	for i := 2; i+1 < len(fields) && len(req.options) < maxOptions; i += 2 {
		req.options = append(req.options, [2]string{fields[i], fields[i+1]})
	}
	return req, nil, true
}

// atoi is C's atoi on glibc: leading white space, a sign, the digits
// up to the first other byte, no digits meaning 0.
func atoi(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var v int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if v > 1<<40 {
			// Saturate: the value is out of every range checked.
			v = 1 << 41
			continue
		}
		v = v*10 + int64(s[i]-'0')
	}
	if neg {
		v = -v
	}
	return v
}

// negotiateAtftpd applies options as atftpd 0.8.0 does: the last of a
// repeated name wins, names are matched and answered in lower case, and
// the OACK lists tsize, timeout, blksize and windowsize in that order
// whatever the request's order. Out of range values fail with error 8.
// A negative or overflowing value is echoed as sent and otherwise
// ignored.
// NOTE: only atftpd's first reply to such values was measured; whether
// the daemon then sends blocks of 512 bytes, as this does, is unverified.
func negotiateAtftpd(opts [][2]string, write bool, size int64, known bool) (negotiation, *requestError) {
	n := negotiation{blksize: defaultBlksize, window: 1}
	bad := &requestError{errOptionNeg, "Failure to negotiate RFC2347 options"}
	order := []string{"tsize", "timeout", "blksize", "windowsize"}
	vals := map[string]string{}
	for _, o := range opts {
		lower := strings.ToLower(o[0])
		for _, k := range order {
			if k == lower {
				vals[k] = o[1]
			}
		}
	}
	for _, k := range order {
		raw, ok := vals[k]
		if !ok {
			continue
		}
		v := atoi(raw)
		overflow := v > 1<<40
		if v < 0 || overflow {
			n.oack = append(n.oack, [2]string{k, raw})
			continue
		}
		switch k {
		case "tsize":
			if !write {
				v = size
				if !known {
					v = 0
				}
			}
		case "timeout":
			if v < minTimeoutSec || v > maxTimeoutSec {
				return n, bad
			}
			n.rexmt = v * 1000000
		case "blksize":
			if v < minBlksize || v > maxBlksize {
				return n, bad
			}
			n.blksize = int(v)
		case "windowsize":
			if v < 1 || v > 65535 {
				return n, bad
			}
			n.window = int(v)
		}
		n.oack = append(n.oack, [2]string{k, strconv.FormatInt(v, 10)})
	}
	return n, nil
}

// parseRequestWDS reads a request as the WDS server does: the mode must
// be netascii or octet, any case.
func parseRequestWDS(pkt []byte) (request, *requestError, bool) {
	req, rerr, ok := parseRequest(pkt)
	if rerr != nil {
		rerr = &requestError{errIllegalOp, "Illegal operation error."}
	}
	return req, rerr, ok
}

// WDS limits: the block size is capped at the largest payload that fits
// an Ethernet-sized IP datagram without fragmentation hazards in its
// default configuration, and windows are at most 64 blocks.
const (
	maxBlksizeWDS = 16384
	maxWindowWDS  = 64
)

// negotiateWDS answers blksize, tsize, timeout and windowsize in the
// request's order; unknown names and unparsable values are dropped.
// Values beyond the limits are lowered, never refused.
func negotiateWDS(opts [][2]string, write bool, size int64, known bool) (negotiation, *requestError) {
	n := negotiation{blksize: defaultBlksize, window: 1}
	for _, o := range opts {
		lower := strings.ToLower(o[0])
		v, err := strconv.ParseInt(o[1], 10, 64)
		if err != nil || v < 0 {
			continue
		}
		switch lower {
		case "blksize":
			if v < minBlksize {
				continue
			}
			v = min(v, maxBlksizeWDS)
			n.blksize = int(v)
		case "tsize":
			if !write {
				if !known {
					continue
				}
				v = size
			}
		case "timeout":
			if v < minTimeoutSec || v > maxTimeoutSec {
				continue
			}
			n.rexmt = v * 1000000
		case "windowsize":
			if v < 1 {
				continue
			}
			v = min(v, maxWindowWDS)
			n.window = int(v)
		default:
			continue
		}
		n.oack = append(n.oack, [2]string{lower, strconv.FormatInt(v, 10)})
	}
	return n, nil
}
