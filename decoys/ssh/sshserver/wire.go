package sshserver

import (
	"encoding/binary"
	"errors"
	"math/big"
)

// errShortMessage is returned by every decoder when a message ends before
// a field does.
var errShortMessage = errors.New("ssh message truncated")

// reader decodes SSH wire types (RFC 4251 section 5) from one message. The
// first error sticks, so a parser can read all its fields and check once.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errShortMessage
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) bool() bool { return r.byte() != 0 }

func (r *reader) uint32() uint32 {
	if len(r.b) < 4 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// string reads an SSH string; the result aliases the message.
func (r *reader) string() []byte {
	n := r.uint32()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	return r.bytes(int(n))
}

func (r *reader) text() string { return string(r.string()) }

// mpint reads a non-negative multiple-precision integer; a negative value
// is an error, as no key exchange here uses one.
func (r *reader) mpint() *big.Int {
	b := r.string()
	if r.err != nil {
		return nil
	}
	if len(b) > 0 && b[0]&0x80 != 0 {
		r.err = errors.New("negative mpint")
		return nil
	}
	return new(big.Int).SetBytes(b)
}

// end fails unless the whole message was read, as sshpkt_get_end does.
func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("ssh message has trailing bytes")
	}
	return r.err
}

// Appenders for the SSH wire types.

func appendUint32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

func appendString(b []byte, s []byte) []byte {
	b = appendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendText(b []byte, s string) []byte {
	b = appendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendMpint appends a non-negative integer in mpint form: big-endian,
// no leading zero bytes except one when the top bit would be set.
func appendMpint(b []byte, v *big.Int) []byte {
	return appendMpintBytes(b, v.Bytes())
}

// appendMpintBytes appends the unsigned big-endian magnitude mag as an
// mpint, dropping leading zeros (X25519 and ECDH secrets may have them).
func appendMpintBytes(b []byte, mag []byte) []byte {
	for len(mag) > 0 && mag[0] == 0 {
		mag = mag[1:]
	}
	if len(mag) > 0 && mag[0]&0x80 != 0 {
		b = appendUint32(b, uint32(len(mag)+1))
		b = append(b, 0)
		return append(b, mag...)
	}
	return appendString(b, mag)
}
