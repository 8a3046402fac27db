package ntlm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// ErrMalformed is returned for a message that breaks the layout of
// MS-NLMP section 2.2.1: a wrong signature or type, a header cut short,
// a field outside the message, or a Unicode string of odd length.
var ErrMalformed = errors.New("malformed ntlm message")

// Fixed header sizes: where the payload of each message may begin at
// the earliest (MS-NLMP 2.2.1.1 and 2.2.1.3, without VERSION and MIC).
const (
	negotiateHeader    = 32
	authenticateHeader = 64
)

// MessageType returns the MessageType field of msg, or 0 when msg does
// not start with the NTLMSSP signature and a type.
func MessageType(msg []byte) uint32 {
	if len(msg) < 12 || string(msg[:8]) != Signature {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[8:12])
}

// Negotiate is a client's NEGOTIATE message (MS-NLMP 2.2.1.1).
type Negotiate struct {
	Flags uint32
	// Domain and Workstation are set only when the client supplied
	// them, which Windows clients no longer do.
	Domain      string
	Workstation string
}

// ParseNegotiate parses a NEGOTIATE message. A 16-byte message without
// the domain and workstation fields, as very old clients send, is
// accepted.
func ParseNegotiate(msg []byte) (*Negotiate, error) {
	if MessageType(msg) != TypeNegotiate || len(msg) < 16 {
		return nil, fmt.Errorf("parse negotiate: %w", ErrMalformed)
	}
	n := &Negotiate{Flags: binary.LittleEndian.Uint32(msg[12:16])}
	if len(msg) < negotiateHeader {
		return n, nil
	}
	// The NEGOTIATE message's strings are always OEM.
	if n.Flags&FlagOEMDomainSupplied != 0 {
		b, err := field(msg, 16, negotiateHeader)
		if err != nil {
			return nil, fmt.Errorf("parse negotiate domain: %w", err)
		}
		n.Domain = oemString(b)
	}
	if n.Flags&FlagOEMWorkstationSupplied != 0 {
		b, err := field(msg, 24, negotiateHeader)
		if err != nil {
			return nil, fmt.Errorf("parse negotiate workstation: %w", err)
		}
		n.Workstation = oemString(b)
	}
	return n, nil
}

// Authenticate is a client's AUTHENTICATE message (MS-NLMP 2.2.1.3).
type Authenticate struct {
	Flags       uint32
	LMResponse  []byte
	NTResponse  []byte
	Domain      string
	User        string
	Workstation string
}

// ParseAuthenticate parses an AUTHENTICATE message. Strings are UTF-16LE
// when the message's flags carry NEGOTIATE_UNICODE, else OEM bytes,
// which are kept where they are valid UTF-8. The responses are copies.
func ParseAuthenticate(msg []byte) (*Authenticate, error) {
	if MessageType(msg) != TypeAuthenticate || len(msg) < authenticateHeader {
		return nil, fmt.Errorf("parse authenticate: %w", ErrMalformed)
	}
	a := &Authenticate{Flags: binary.LittleEndian.Uint32(msg[60:64])}
	unicode := a.Flags&FlagUnicode != 0

	fields := []struct {
		at   int
		name string
		set  func([]byte) error
	}{
		{12, "lm response", func(b []byte) error { a.LMResponse = append([]byte(nil), b...); return nil }},
		{20, "nt response", func(b []byte) error { a.NTResponse = append([]byte(nil), b...); return nil }},
		{28, "domain", func(b []byte) (err error) { a.Domain, err = wireString(b, unicode); return err }},
		{36, "user", func(b []byte) (err error) { a.User, err = wireString(b, unicode); return err }},
		{44, "workstation", func(b []byte) (err error) { a.Workstation, err = wireString(b, unicode); return err }},
	}
	for _, f := range fields {
		b, err := field(msg, f.at, authenticateHeader)
		if err == nil {
			err = f.set(b)
		}
		if err != nil {
			return nil, fmt.Errorf("parse authenticate %s: %w", f.name, err)
		}
	}
	return a, nil
}

// field returns the payload a security buffer at offset at points to:
// Len (2 bytes), MaxLen (2, ignored as Windows ignores it) and
// BufferOffset (4). An empty field may point anywhere; a non-empty one
// must lie inside msg, after the fixed header that ends at minOffset.
func field(msg []byte, at, minOffset int) ([]byte, error) {
	length := int(binary.LittleEndian.Uint16(msg[at:]))
	offset := uint64(binary.LittleEndian.Uint32(msg[at+4:]))
	if length == 0 {
		return nil, nil
	}
	if offset < uint64(minOffset) || offset+uint64(length) > uint64(len(msg)) {
		return nil, ErrMalformed
	}
	return msg[offset : offset+uint64(length)], nil
}

// wireString decodes a string field: UTF-16LE, which must have an even
// length, or OEM bytes.
func wireString(b []byte, unicode bool) (string, error) {
	if !unicode {
		return oemString(b), nil
	}
	if len(b)%2 != 0 {
		return "", ErrMalformed
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(units)), nil
}

// oemString keeps OEM bytes as text. The client's code page is unknown,
// so bytes that are not UTF-8 become U+FFFD rather than a guess.
func oemString(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
