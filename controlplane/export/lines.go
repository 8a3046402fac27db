package export

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/decnet/decnet/internal/netguard"
)

// LinesConfig configures a newline-delimited output: one ECS JSON
// document or CEF line per record, to a file or a TCP (or TLS) sink.
// Exactly one of Path and Address is set.
type LinesConfig struct {
	// Path of the file to append to. It is rotated when it would grow
	// past MaxBytes: path.1 is the newest old file, up to path.<MaxFiles>.
	Path string
	// MaxBytes is the rotation size; zero means 100 MiB.
	MaxBytes int64
	// MaxFiles is how many rotated files are kept; zero means 5.
	MaxFiles int

	// Address is host:port of a TCP sink; TLS wraps it when set.
	Address      string
	TLS          *tls.Config
	WriteTimeout time.Duration

	// Format of each line: FormatJSON (default) or FormatCEF.
	Format Format
}

// Rotation defaults, sized for a SIEM forwarder that tails the file and
// for a disk that also holds the store.
const (
	defaultMaxBytes = 100 << 20
	defaultMaxFiles = 5
	// filePerm keeps exported events readable by the owner and a log
	// shipper in the same group only.
	filePerm = 0o640
)

// linesSink appends lines to a rotated file or writes them to a stream.
type linesSink struct {
	cfg  LinesConfig
	f    formatter
	conn *streamConn
	file *os.File
	size int64
}

func newLinesSink(cfg LinesConfig, guard *netguard.Guard, f formatter) (*linesSink, error) {
	if cfg.Format == "" {
		cfg.Format = FormatJSON
	}
	if err := cfg.Format.validate(); err != nil {
		return nil, fmt.Errorf("lines: %w", err)
	}
	if (cfg.Path == "") == (cfg.Address == "") {
		return nil, errors.New("lines: exactly one of path and address must be set")
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = defaultMaxBytes
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = defaultMaxFiles
	}
	s := &linesSink{cfg: cfg, f: f}
	if cfg.Address != "" {
		conn, err := newStreamConn(cfg.Address, cfg.TLS, guard, cfg.WriteTimeout)
		if err != nil {
			return nil, fmt.Errorf("lines: %w", err)
		}
		s.conn = conn
	}
	return s, nil
}

// Send renders the batch and writes it in one piece.
func (s *linesSink) Send(ctx context.Context, batch []Record) ([]Record, error) {
	var buf []byte
	for _, r := range batch {
		line, err := s.f.render(s.cfg.Format, r)
		if err != nil {
			return rejectAll(batch, fmt.Errorf("format line: %w", err))
		}
		buf = append(buf, line...)
		buf = append(buf, '\n')
	}
	if s.conn != nil {
		if err := s.conn.write(ctx, buf); err != nil {
			return retryAll(batch, err)
		}
		return nil, nil
	}
	if err := s.writeFile(buf); err != nil {
		return retryAll(batch, err)
	}
	return nil, nil
}

// writeFile appends buf, rotating first when it would not fit. A batch
// larger than MaxBytes still goes whole into a fresh file, so no record
// is split across files.
func (s *linesSink) writeFile(buf []byte) error {
	if s.file == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if s.size > 0 && s.size+int64(len(buf)) > s.cfg.MaxBytes {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	n, err := s.file.Write(buf)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("write %s: %w", s.cfg.Path, err)
	}
	return nil
}

func (s *linesSink) open() error {
	f, err := os.OpenFile(s.cfg.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, filePerm)
	if err != nil {
		return fmt.Errorf("open export file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("stat export file: %w", err)
	}
	s.file, s.size = f, st.Size()
	return nil
}

// rotate shifts path.N-1 to path.N down to path to path.1, dropping the
// oldest, then opens a fresh path.
func (s *linesSink) rotate() error {
	if err := s.file.Close(); err != nil {
		return fmt.Errorf("close export file: %w", err)
	}
	s.file = nil
	name := func(i int) string { return s.cfg.Path + "." + strconv.Itoa(i) }
	for i := s.cfg.MaxFiles - 1; i >= 1; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate export file: %w", err)
		}
	}
	if err := os.Rename(s.cfg.Path, name(1)); err != nil {
		return fmt.Errorf("rotate export file: %w", err)
	}
	return s.open()
}

// Close closes the file or the connection.
func (s *linesSink) Close() error {
	if s.conn != nil {
		return s.conn.close()
	}
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}
