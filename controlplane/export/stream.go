package export

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/decnet/decnet/internal/netguard"
)

// Format is the body of a syslog message or a line of a lines output.
type Format string

// Formats.
const (
	// FormatJSON is an ECS JSON document.
	FormatJSON Format = "json"
	// FormatCEF is an ArcSight CEF line.
	FormatCEF Format = "cef"
)

func (f Format) validate() error {
	switch f {
	case FormatJSON, FormatCEF:
		return nil
	}
	return fmt.Errorf("unknown format %q: want json (ECS documents) or cef", string(f))
}

// render formats r as one body, without a line break at the end.
func (f formatter) render(format Format, r Record) ([]byte, error) {
	if format == FormatCEF {
		return []byte(f.cef(r)), nil
	}
	return f.ecsJSON(r)
}

// defaultWriteTimeout bounds one batch write to a stream destination, so
// a receiver that stops reading fails the batch instead of stalling the
// output forever.
const defaultWriteTimeout = 30 * time.Second

// streamConn is a reconnecting TCP or TLS connection to one address.
// It is used by one goroutine at a time.
type streamConn struct {
	address      string
	tls          *tls.Config
	guard        *netguard.Guard
	writeTimeout time.Duration
	conn         net.Conn
}

// errNoGuard is returned when an output must dial out but the exporter
// has no guard to check the destination with.
var errNoGuard = errors.New("an outbound guard is required")

func newStreamConn(address string, tlsConfig *tls.Config, guard *netguard.Guard, writeTimeout time.Duration) (*streamConn, error) {
	if guard == nil {
		return nil, errNoGuard
	}
	if _, _, err := net.SplitHostPort(address); err != nil {
		return nil, fmt.Errorf("address %q: %w", address, err)
	}
	if writeTimeout <= 0 {
		writeTimeout = defaultWriteTimeout
	}
	return &streamConn{address: address, tls: tlsConfig, guard: guard, writeTimeout: writeTimeout}, nil
}

func (s *streamConn) dial(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.writeTimeout)
	defer cancel()

	conn, err := s.guard.DialContext(ctx, "tcp", s.address)
	if err != nil {
		return err
	}
	if s.tls != nil {
		cfg := s.tls.Clone()
		if cfg.ServerName == "" {
			host, _, _ := net.SplitHostPort(s.address)
			cfg.ServerName = host
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return fmt.Errorf("tls handshake %s: %w", s.address, err)
		}
		conn = tc
	}
	s.conn = conn
	return nil
}

// write sends p whole, connecting first when needed. On failure the
// connection is dropped so the next attempt starts clean; a partial write
// may then repeat records, which SIEMs deduplicate on the event id.
func (s *streamConn) write(ctx context.Context, p []byte) error {
	if s.conn == nil {
		if err := s.dial(ctx); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(s.writeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn := s.conn
	_ = conn.SetWriteDeadline(deadline)

	// Cancelling ctx interrupts a write blocked on a receiver that
	// stopped reading. The callback may run after close, so it holds
	// its own reference to the connection.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetWriteDeadline(time.Unix(1, 0)) })
	_, err := conn.Write(p)
	stop()
	if err != nil {
		// The write error is the one to report. The connection is
		// dropped either way, and the next write redials.
		_ = s.close()
		return fmt.Errorf("write %s: %w", s.address, err)
	}
	return nil
}

func (s *streamConn) close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
