package telnet

// Telnet commands (RFC 854) and the option codes the personas use.
const (
	cmdSE   = 240
	cmdNOP  = 241
	cmdDM   = 242
	cmdBRK  = 243
	cmdIP   = 244
	cmdAO   = 245
	cmdAYT  = 246
	cmdEC   = 247
	cmdEL   = 248
	cmdGA   = 249
	cmdSB   = 250
	cmdWILL = 251
	cmdWONT = 252
	cmdDO   = 253
	cmdDONT = 254
	cmdIAC  = 255
)

const (
	optBinary   = 0
	optEcho     = 1
	optSGA      = 3
	optStatus   = 5
	optTM       = 6
	optLogout   = 18
	optTType    = 24
	optEOR      = 25
	optNAWS     = 31
	optTSpeed   = 32
	optLFlow    = 33
	optLinemode = 34
	optXDispLoc = 35
	optEnviron  = 36
	optAuth     = 37
	optEncrypt  = 38
	optNewEnv   = 39
)

// Subnegotiation qualifiers (RFC 1091, RFC 1184).
const (
	qualIs   = 0
	qualSend = 1

	lmMode = 1
	lmSLC  = 3
)

// maxSubnegotiation caps one subnegotiation's payload. inetutils telnetd
// keeps 512 bytes and drops the rest of a longer one, and so does the
// decoder.
const maxSubnegotiation = 512

// parser states, as in telnetd's telrcv.
const (
	stData = iota
	stCR
	stIAC
	stSB
	stSBIAC
	stWill
	stWont
	stDo
	stDont
)

// protocolHandler receives what the decoder finds in the byte stream.
type protocolHandler interface {
	// data receives one data byte, after CR handling.
	data(c byte)
	// command receives a two-byte command such as IAC AYT.
	command(c byte)
	// negotiate receives WILL, WONT, DO or DONT and its option.
	negotiate(verb, option byte)
	// subnegotiation receives the option and payload of IAC SB ... IAC SE.
	// The payload is reused by the decoder after the call.
	subnegotiation(option byte, payload []byte)
	// binaryInput reports whether the client sends in binary mode, where
	// CR is not followed by LF or NUL.
	binaryInput() bool
}

// decoder splits a telnet byte stream into data, commands and option
// negotiation. It keeps its state across calls, so a command split over
// two TCP segments decodes as if it arrived whole, and its memory is
// bounded by maxSubnegotiation whatever the input.
type decoder struct {
	state int
	sb    []byte
	// sbFull marks a subnegotiation past maxSubnegotiation; the rest of it
	// is dropped.
	sbFull bool
}

// feed decodes p, calling h for each item.
func (d *decoder) feed(p []byte, h protocolHandler) {
	for _, c := range p {
		d.step(c, h)
	}
}

func (d *decoder) step(c byte, h protocolHandler) {
	switch d.state {
	case stCR:
		d.state = stData
		// A CR from a client in NVT mode is followed by LF or NUL, which
		// telnetd strips.
		if c == 0 || c == '\n' {
			return
		}
		d.dataByte(c, h)
	case stData:
		d.dataByte(c, h)
	case stIAC:
		d.state = stData
		switch c {
		case cmdSB:
			d.state = stSB
			d.sb = d.sb[:0]
			d.sbFull = false
		case cmdWILL:
			d.state = stWill
		case cmdWONT:
			d.state = stWont
		case cmdDO:
			d.state = stDo
		case cmdDONT:
			d.state = stDont
		case cmdIAC:
			h.data(cmdIAC)
		default:
			h.command(c)
		}
	case stSB:
		if c == cmdIAC {
			d.state = stSBIAC
			return
		}
		d.accumulate(c)
	case stSBIAC:
		switch c {
		case cmdSE:
			d.state = stData
			d.finishSB(h)
		case cmdIAC:
			d.state = stSB
			d.accumulate(c)
		default:
			// IAC and something other than SE or IAC ends a malformed
			// subnegotiation. telnetd handles what it has and reads the
			// byte as a command after IAC.
			d.finishSB(h)
			d.state = stIAC
			d.step(c, h)
		}
	case stWill, stWont, stDo, stDont:
		verb := [...]byte{stWill: cmdWILL, stWont: cmdWONT, stDo: cmdDO, stDont: cmdDONT}[d.state]
		d.state = stData
		h.negotiate(verb, c)
	}
}

func (d *decoder) dataByte(c byte, h protocolHandler) {
	if c == cmdIAC {
		d.state = stIAC
		return
	}
	if c == '\r' && !h.binaryInput() {
		d.state = stCR
	}
	h.data(c)
}

func (d *decoder) accumulate(c byte) {
	if len(d.sb) >= maxSubnegotiation {
		d.sbFull = true
		return
	}
	d.sb = append(d.sb, c)
}

func (d *decoder) finishSB(h protocolHandler) {
	if len(d.sb) == 0 {
		return
	}
	h.subnegotiation(d.sb[0], d.sb[1:])
}

// appendNVT appends data to dst in the form telnetd sends terminal output:
// IAC doubled, and, unless plainCR is set, a CR that LF does not follow
// turned into CR NUL.
func appendNVT(dst, data []byte, plainCR bool) []byte {
	for i, c := range data {
		switch {
		case c == cmdIAC:
			dst = append(dst, cmdIAC, cmdIAC)
		case c == '\r' && !plainCR && (i+1 >= len(data) || data[i+1] != '\n'):
			dst = append(dst, '\r', 0)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
