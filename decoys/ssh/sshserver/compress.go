package sshserver

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"sync"
)

// maxInflatedBytes caps one decompressed packet. sshd's uncompress_buffer
// has no cap of its own, but its packet buffer does (PACKET_MAX_SIZE is
// the wire limit; 1 MiB leaves room for any honest payload).
const maxInflatedBytes = 1 << 20

var errInflateTooLarge = errors.New("decompressed packet too large")

// compressor is the outgoing half of zlib@openssh.com: one zlib stream
// for the life of the keys, flushed at the end of every packet.
//
// NOTE: OpenSSH flushes with Z_PARTIAL_FLUSH, compress/zlib with
// Z_SYNC_FLUSH; both decompress the same, but the compressed bytes and so
// the packet lengths differ slightly from sshd's.
type compressor struct {
	buf bytes.Buffer
	zw  *zlib.Writer
}

func newCompressor() *compressor {
	c := &compressor{}
	// OpenSSH uses compression level 6 (zlib's default).
	c.zw, _ = zlib.NewWriterLevel(&c.buf, 6)
	return c
}

func (c *compressor) compress(payload []byte) []byte {
	c.buf.Reset()
	_, _ = c.zw.Write(payload)
	_ = c.zw.Flush()
	return bytes.Clone(c.buf.Bytes())
}

// decompressor is the incoming half. The inflater blocks for input, so
// it runs in its own goroutine over a feed; when it has used up a
// packet's bytes it hands over all it decoded and waits for the next.
type decompressor struct {
	feed   chan []byte
	events chan inflateEvent
	stop   chan struct{}
	once   sync.Once
	failed error
}

// inflateEvent is the output of one packet, or the error that ended the
// stream.
type inflateEvent struct {
	data []byte
	err  error
}

// feedReader hands the inflater the bytes of one packet at a time.
type feedReader struct {
	d   *decompressor
	z   *inflater
	cur []byte
	// started is false until the first packet arrives.
	started bool
}

func (f *feedReader) ReadByte() (byte, error) {
	for len(f.cur) == 0 {
		if f.started {
			out := f.z.out
			f.z.out = nil
			select {
			case f.d.events <- inflateEvent{data: out}:
			case <-f.d.stop:
				return 0, io.ErrClosedPipe
			}
		}
		f.started = true
		select {
		case b := <-f.d.feed:
			f.cur = b
		case <-f.d.stop:
			return 0, io.ErrClosedPipe
		}
	}
	if len(f.z.out) > maxInflatedBytes {
		return 0, errInflateTooLarge
	}
	c := f.cur[0]
	f.cur = f.cur[1:]
	return c, nil
}

func newDecompressor() *decompressor {
	d := &decompressor{feed: make(chan []byte), events: make(chan inflateEvent), stop: make(chan struct{})}
	go d.run()
	return d
}

func (d *decompressor) run() {
	z := &inflater{}
	z.src = &feedReader{d: d, z: z}
	err := z.run()
	if errors.Is(err, io.EOF) {
		// The client ended the stream; nothing may follow.
		err = errInflate
	}
	select {
	case d.events <- inflateEvent{err: err}:
	case <-d.stop:
	}
}

// decompress feeds one packet's compressed payload and returns what it
// decodes to.
func (d *decompressor) decompress(in []byte) ([]byte, error) {
	if d.failed != nil {
		return nil, d.failed
	}
	if len(in) == 0 {
		return nil, nil
	}
	select {
	case d.feed <- in:
	case <-d.stop:
		return nil, io.ErrClosedPipe
	}
	ev := <-d.events
	if ev.err != nil {
		d.failed = ev.err
		return nil, ev.err
	}
	return ev.data, nil
}

func (d *decompressor) close() {
	d.once.Do(func() { close(d.stop) })
}
