package decoys

import "time"

// Limits bound what one attacker connection may cost. Zero fields take the
// defaults from DefaultLimits.
type Limits struct {
	// ReadTimeout is the longest a connection may stay silent.
	ReadTimeout time.Duration
	// WriteTimeout is the longest one write may take.
	WriteTimeout time.Duration
	// SessionTimeout caps the whole life of a connection.
	SessionTimeout time.Duration
	// MaxLineBytes caps one protocol line (an SSH banner, an HTTP request
	// line or header).
	MaxLineBytes int
	// MaxConnsPerSource caps concurrent connections from one source address.
	MaxConnsPerSource int
	// MaxConns caps concurrent connections to the service.
	MaxConns int
}

// DefaultLimits returns limits generous enough for real clients and scanners
// and small enough that one source cannot exhaust the agent.
func DefaultLimits() Limits {
	return Limits{
		ReadTimeout:    2 * time.Minute, // OpenSSH LoginGraceTime is 120 s
		WriteTimeout:   30 * time.Second,
		SessionTimeout: 30 * time.Minute,
		// 8 KiB matches nginx's large_client_header_buffers and exceeds
		// the 255 bytes RFC 4253 allows an SSH identification line.
		MaxLineBytes:      8 << 10,
		MaxConnsPerSource: 16,
		MaxConns:          1024,
	}
}

// WithDefaults returns l with every zero field replaced by its default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.SessionTimeout <= 0 {
		l.SessionTimeout = d.SessionTimeout
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = d.MaxLineBytes
	}
	if l.MaxConnsPerSource <= 0 {
		l.MaxConnsPerSource = d.MaxConnsPerSource
	}
	if l.MaxConns <= 0 {
		l.MaxConns = d.MaxConns
	}
	return l
}
