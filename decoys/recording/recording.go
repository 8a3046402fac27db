// Package recording records interactive decoy sessions in the asciinema
// asciicast v2 format (https://docs.asciinema.org/manual/asciicast/v2/):
// a JSON header line, then one JSON array per event,
// [seconds, "o"|"i"|"r", data].
//
// Attacker bytes need not be UTF-8, but a cast is JSON text. Each stream
// (output and input) is decoded as UTF-8 incrementally, the way
// asciinema's own recorder does: a sequence split across two writes is
// joined, and every byte that cannot start or continue a valid sequence
// becomes U+FFFD. The quoted data then uses JSON escapes for control
// characters, so `asciinema play`, `asciinema cat` and asciinema-player
// accept every recording.
//
// The cast is written to a file in Options.Dir as it grows, so that a
// crash leaves a partial recording behind; Close reads it back into the
// payload and removes the file.
package recording

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Defaults for the zero Options fields.
const (
	// DefaultMaxBytes caps one cast. It is small enough to ship in one
	// event and, as an estimate, holds a long hands-on shell session.
	DefaultMaxBytes = 1 << 20
	// DefaultMinFreeBytes keeps recordings from filling the disk the agent
	// and its logs live on.
	DefaultMinFreeBytes = 256 << 20
)

// freeCheckInterval is how many cast bytes may be written between two
// free-space checks. A session writes at most MaxBytes, so a full disk is
// noticed within a few checks even with many sessions at once.
const freeCheckInterval = 64 << 10

// Options configures a recording.
type Options struct {
	// Dir holds the cast file while the session runs. Empty, or a
	// directory where no file can be created, keeps the cast in memory.
	Dir string
	// MaxBytes caps the cast per session; zero means DefaultMaxBytes.
	MaxBytes int64
	// MinFreeBytes stops recording when Dir has less free space; zero
	// means DefaultMinFreeBytes.
	MinFreeBytes int64
}

// freeSpaceFunc reports the bytes available to an unprivileged writer in
// dir.
type freeSpaceFunc func(dir string) (uint64, error)

func statfsFree(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil //nolint:gosec // G115: Bsize is a positive block size
}

// Recorder records one session. Its methods are safe for concurrent use:
// a decoy may write output from one goroutine while reading input in
// another.
type Recorder struct {
	mu sync.Mutex

	now     func() time.Time
	started time.Time
	width   int
	height  int

	maxBytes     int64
	minFreeBytes uint64
	dir          string
	freeSpace    freeSpaceFunc

	// file holds the cast when Dir is usable; mem holds it otherwise.
	file *os.File
	mem  bytes.Buffer
	// size is the cast's length so far; sinceCheck the part written since
	// the last free-space check.
	size       int64
	sinceCheck int64

	// stopped is set once the cap, the free-space floor or a write error
	// ended the recording; later events are counted but not written.
	stopped   bool
	truncated bool
	closed    bool
	result    *eventv1.SessionRecorded

	// pendingOut and pendingIn hold the tail of an incomplete UTF-8
	// sequence until the next write of the same stream.
	pendingOut []byte
	pendingIn  []byte

	inputBytes  uint64
	outputBytes uint64
}

// Start begins an asciinema v2 recording with the terminal's size and
// TERM value. now is the clock for event times; nil means time.Now.
func Start(opts Options, width, height int, term string, now func() time.Time) *Recorder {
	return start(opts, width, height, term, now, statfsFree)
}

func start(opts Options, width, height int, term string, now func() time.Time, free freeSpaceFunc) *Recorder {
	if now == nil {
		now = time.Now
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MinFreeBytes <= 0 {
		opts.MinFreeBytes = DefaultMinFreeBytes
	}
	r := &Recorder{
		now:          now,
		started:      now(),
		width:        width,
		height:       height,
		maxBytes:     opts.MaxBytes,
		minFreeBytes: uint64(opts.MinFreeBytes),
		dir:          opts.Dir,
		freeSpace:    free,
	}

	if opts.Dir != "" {
		// CreateTemp opens the file with mode 0600 and a random name, so
		// one session's cast is never readable by others nor guessable.
		if f, err := os.CreateTemp(opts.Dir, "session-*.cast"); err == nil {
			r.file = f
		}
	}

	r.writeHeader(term)
	if r.file != nil {
		r.checkFree()
	}
	return r
}

// header is the first line of a cast, in the field order asciinema writes.
type header struct {
	Version   int       `json:"version"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	Timestamp int64     `json:"timestamp"`
	Env       headerEnv `json:"env"`
}

type headerEnv struct {
	Shell string `json:"SHELL"`
	Term  string `json:"TERM"`
}

func (r *Recorder) writeHeader(term string) {
	h := header{
		Version:   2,
		Width:     r.width,
		Height:    r.height,
		Timestamp: r.started.Unix(),
		Env:       headerEnv{Shell: "/bin/bash", Term: toValidUTF8([]byte(term))},
	}
	line, err := json.Marshal(h)
	if err != nil {
		// A struct of ints and valid strings always marshals.
		panic("marshal cast header: " + err.Error())
	}
	r.write(append(line, '\n'))
}

// Output records bytes the session printed.
func (r *Recorder) Output(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.outputBytes += uint64(len(p))
	r.record("o", p, &r.pendingOut)
}

// Input records bytes the attacker typed.
func (r *Recorder) Input(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.inputBytes += uint64(len(p))
	r.record("i", p, &r.pendingIn)
}

// Resize records a terminal size change.
func (r *Recorder) Resize(width, height int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.stopped {
		return
	}
	r.event("r", []byte(strconv.Itoa(width)+"x"+strconv.Itoa(height)))
}

// Wrap returns a ReadWriter that records what is read from rw as input and
// what is written to it as output.
func (r *Recorder) Wrap(rw io.ReadWriter) io.ReadWriter {
	return &wrapped{rw: rw, r: r}
}

type wrapped struct {
	rw io.ReadWriter
	r  *Recorder
}

func (w *wrapped) Read(p []byte) (int, error) {
	n, err := w.rw.Read(p)
	if n > 0 {
		w.r.Input(p[:n])
	}
	return n, err
}

func (w *wrapped) Write(p []byte) (int, error) {
	n, err := w.rw.Write(p)
	if n > 0 {
		w.r.Output(p[:n])
	}
	return n, err
}

// Close ends the recording, adding a marker event if it was cut short, and
// returns the payload for decoys.Session.Recorded. Later calls return the
// same payload.
func (r *Recorder) Close() *eventv1.SessionRecorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.result
	}
	r.closed = true

	// A stream that ended inside a UTF-8 sequence still shows its bytes.
	if !r.stopped {
		if len(r.pendingOut) > 0 {
			r.event("o", r.pendingOut)
		}
		if len(r.pendingIn) > 0 && !r.stopped {
			r.event("i", r.pendingIn)
		}
	}
	r.pendingOut, r.pendingIn = nil, nil

	r.result = &eventv1.SessionRecorded{
		Cast:        r.collect(),
		DurationMs:  uint64(max(r.now().Sub(r.started), 0).Milliseconds()),
		Truncated:   r.truncated,
		Width:       uint32(max(r.width, 0)),  //nolint:gosec // G115: clamped to zero, terminal sizes are small
		Height:      uint32(max(r.height, 0)), //nolint:gosec // G115: as above
		InputBytes:  r.inputBytes,
		OutputBytes: r.outputBytes,
	}
	return r.result
}

// collect returns the cast and releases its storage.
func (r *Recorder) collect() []byte {
	if r.file == nil {
		cast := r.mem.Bytes()
		r.mem = bytes.Buffer{}
		return cast
	}
	name := r.file.Name()
	_ = r.file.Close()
	cast, err := os.ReadFile(name) //nolint:gosec // G304: the recorder's own CreateTemp file
	_ = os.Remove(name)
	if err != nil {
		return nil
	}
	return cast
}

// record writes a data event of kind for p, keeping an incomplete UTF-8
// sequence at its end for the stream's next write.
func (r *Recorder) record(kind string, p []byte, pending *[]byte) {
	if r.stopped {
		return
	}
	data := p
	if len(*pending) > 0 {
		data = append(*pending, p...)
		*pending = nil
	}
	if cut := incompleteTail(data); cut > 0 {
		*pending = append([]byte(nil), data[len(data)-cut:]...)
		data = data[:len(data)-cut]
	}
	if len(data) == 0 {
		return
	}
	r.event(kind, data)
}

// event writes one event line, or as much of its data as fits under the
// cap followed by the truncation marker.
func (r *Recorder) event(kind string, data []byte) {
	elapsed := max(r.now().Sub(r.started), 0).Seconds()
	line := encodeEvent(elapsed, kind, data)
	if r.size+int64(len(line)) > r.maxBytes {
		// Keep a prefix that fits, so the last screen before the cap is
		// not lost. Each pass shrinks the prefix in proportion to the
		// excess, so a few passes suffice.
		budget := r.maxBytes - r.size
		n := len(data)
		for n > 0 && int64(len(line)) > budget {
			n = int(int64(n) * max(budget, 0) / int64(len(line)))
			line = encodeEvent(elapsed, kind, data[:n])
		}
		if n > 0 {
			r.write(line)
		}
		r.stop(elapsed, fmt.Sprintf("\r\n[recording truncated: cap of %d bytes reached]\r\n", r.maxBytes))
		return
	}
	r.write(line)

	if r.file != nil && r.sinceCheck >= freeCheckInterval && !r.stopped {
		r.checkFree()
	}
}

// checkFree stops the recording when the directory runs short of space.
func (r *Recorder) checkFree() {
	r.sinceCheck = 0
	free, err := r.freeSpace(r.dir)
	if err != nil || free >= r.minFreeBytes {
		return
	}
	elapsed := max(r.now().Sub(r.started), 0).Seconds()
	r.stop(elapsed, fmt.Sprintf("\r\n[recording stopped: less than %d bytes of free disk space]\r\n", r.minFreeBytes))
}

// stop ends the recording with a visible marker. The marker may exceed the
// cap by its own length, which is bounded.
func (r *Recorder) stop(elapsed float64, marker string) {
	r.write(encodeEvent(elapsed, "o", []byte(marker)))
	r.stopped = true
	r.truncated = true
}

func (r *Recorder) write(line []byte) {
	if r.file == nil {
		r.mem.Write(line)
		r.size += int64(len(line))
		return
	}
	n, err := r.file.Write(line)
	r.size += int64(n)
	r.sinceCheck += int64(n)
	if err != nil && !r.stopped {
		// A full disk or a removed directory: what is on file stays, and
		// nothing more is attempted.
		r.stopped = true
		r.truncated = true
	}
}

// encodeEvent returns one event line: [time, kind, data] and a newline.
func encodeEvent(elapsed float64, kind string, data []byte) []byte {
	line := make([]byte, 0, len(data)+32)
	line = append(line, '[')
	line = strconv.AppendFloat(line, elapsed, 'f', 6, 64)
	line = append(line, ", \""...)
	line = append(line, kind...)
	line = append(line, "\", "...)
	line = appendJSONString(line, data)
	line = append(line, "]\n"...)
	return line
}

// appendJSONString appends data as a JSON string, replacing invalid UTF-8
// with U+FFFD. Unlike encoding/json it does not escape <, > and &, which
// keeps casts of HTML output readable.
func appendJSONString(dst, data []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but JavaScript parsers before ES2019 reject
			// them inside strings; the web player may run on one.
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, data[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// incompleteTail returns how many bytes at the end of p form the start of
// a UTF-8 sequence that more bytes could still complete, or 0.
func incompleteTail(p []byte) int {
	// A sequence is at most 4 bytes, so only the last 3 can be a prefix.
	for back := 1; back <= 3 && back <= len(p); back++ {
		c := p[len(p)-back]
		if c < 0x80 {
			return 0
		}
		if c >= 0xc0 {
			need := 0
			switch {
			case c >= 0xf0 && c <= 0xf4:
				need = 4
			case c >= 0xe0 && c <= 0xef:
				need = 3
			case c >= 0xc2 && c <= 0xdf:
				need = 2
			}
			if need > back && !utf8.FullRune(p[len(p)-back:]) {
				return back
			}
			return 0
		}
	}
	return 0
}

// toValidUTF8 returns p as a string with invalid bytes replaced.
func toValidUTF8(p []byte) string {
	return string(bytes.ToValidUTF8(p, []byte("\uFFFD")))
}
