package ssh

import (
	"errors"
	"fmt"
	"io"
)

// Errors for a client identification line that sshd rejects. Each maps to
// the clear-text reply the persona sends before closing.
var (
	errInvalidIdent    = errors.New("invalid ssh identification string")
	errVersionMismatch = errors.New("protocol major versions differ")
)

// clientVersion is a parsed client identification line
// ("SSH-protoversion-softwareversion SP comments").
type clientVersion struct {
	major, minor int
	// software is everything after the second dash, comments included.
	software string
}

// readClientIdent reads the client's identification line the way OpenSSH's
// sshd does (kex.c, kex_exchange_identification). CR is dropped wherever it
// appears and LF ends the line. A NUL, a byte other than LF after a CR, or
// more than maxBytes bytes make the line invalid. Unlike a client, sshd
// accepts no other line before the identification. It returns the line
// without CR and LF and reads nothing past the LF, so the caller can hand
// the rest of r to the key exchange.
func readClientIdent(r io.ByteReader, maxBytes int) ([]byte, error) {
	line := make([]byte, 0, 64)
	expectLF := false
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("read client identification: %w", err)
		}
		switch {
		case c == '\r':
			expectLF = true
			continue
		case c == '\n':
			if len(line) > 4 && string(line[:4]) == "SSH-" {
				return line, nil
			}
			return nil, errInvalidIdent
		case c == 0 || expectLF:
			return nil, errInvalidIdent
		}
		line = append(line, c)
		if len(line) > maxBytes {
			return nil, errInvalidIdent
		}
	}
}

// parseClientVersion parses an identification line as sshd does with
// sscanf("SSH-%d.%d-%[^\n]"), then checks the protocol version: 2.x and
// 1.99 are accepted, anything else is errVersionMismatch.
func parseClientVersion(line []byte) (clientVersion, error) {
	rest, ok := cutPrefix(line, "SSH-")
	if !ok {
		return clientVersion{}, errInvalidIdent
	}
	major, rest, ok := scanInt(rest)
	if !ok {
		return clientVersion{}, errInvalidIdent
	}
	rest, ok = cutPrefix(rest, ".")
	if !ok {
		return clientVersion{}, errInvalidIdent
	}
	minor, rest, ok := scanInt(rest)
	if !ok {
		return clientVersion{}, errInvalidIdent
	}
	rest, ok = cutPrefix(rest, "-")
	if !ok || len(rest) == 0 {
		return clientVersion{}, errInvalidIdent
	}

	v := clientVersion{major: major, minor: minor, software: string(rest)}
	switch {
	case major == 2:
	case major == 1 && minor == 99:
	default:
		return v, errVersionMismatch
	}
	return v, nil
}

func cutPrefix(b []byte, prefix string) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return b, false
	}
	return b[len(prefix):], true
}

// scanInt reads a decimal integer as sscanf's %d does: leading white space,
// an optional sign, at least one digit. A value that does not fit in 32
// bits becomes -1, which is what glibc's saturated long turns into when
// stored in sshd's int, so it never matches a valid version.
func scanInt(b []byte) (int, []byte, bool) {
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	negative := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		negative = b[i] == '-'
		i++
	}
	start := i
	value := int64(0)
	overflow := false
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if !overflow {
			value = value*10 + int64(b[i]-'0')
			if value > 1<<31-1 {
				overflow = true
			}
		}
		i++
	}
	if i == start {
		return 0, b, false
	}
	if overflow {
		return -1, b[i:], true
	}
	if negative {
		value = -value
	}
	return int(value), b[i:], true
}

// isCSpace reports the bytes C's isspace accepts in the "C" locale.
func isCSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}
