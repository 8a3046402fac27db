// Package bridge carries agent events to the control plane over QUIC with
// mutual TLS. Each connection has one bidirectional stream on which both
// sides exchange frames: a 4-byte big-endian length and then a serialized
// bridgev1.AgentFrame (agent to control plane) or bridgev1.ServerFrame
// (control plane to agent). The agent identifies itself only by its client
// certificate.
package bridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
)

// ALPN is the application protocol both sides negotiate in the TLS
// handshake. A peer that does not offer it is rejected.
const ALPN = "decnet-bridge/1"

// MaxFrameBytes caps the payload of one frame. It bounds the memory a peer
// can make the other side allocate before anything is authenticated as
// well-formed. Batches are sized well below it.
const MaxFrameBytes = 16 << 20

// frameHeaderBytes is the size of the big-endian length prefix.
const frameHeaderBytes = 4

// ErrFrameTooLarge is returned for a frame whose length exceeds
// MaxFrameBytes.
var ErrFrameTooLarge = errors.New("frame too large")

// WriteFrame writes m as one length-prefixed frame in a single Write.
func WriteFrame(w io.Writer, m proto.Message) error {
	size := proto.Size(m)
	if size > MaxFrameBytes {
		return fmt.Errorf("write frame of %d bytes: %w", size, ErrFrameTooLarge)
	}

	buf := make([]byte, frameHeaderBytes, frameHeaderBytes+size)
	binary.BigEndian.PutUint32(buf, uint32(size))
	buf, err := proto.MarshalOptions{}.MarshalAppend(buf, m)
	if err != nil {
		return fmt.Errorf("marshal frame: %w", err)
	}

	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// ReadFrame reads one length-prefixed frame from r into m. It returns
// io.EOF if r ends cleanly before a frame starts, and io.ErrUnexpectedEOF
// if it ends inside one.
func ReadFrame(r io.Reader, m proto.Message) error {
	var header [frameHeaderBytes]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("read frame header: %w", err)
	}

	size := binary.BigEndian.Uint32(header[:])
	if size > MaxFrameBytes {
		return fmt.Errorf("read frame of %d bytes: %w", size, ErrFrameTooLarge)
	}

	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read frame body: %w", err)
	}

	if err := proto.Unmarshal(buf, m); err != nil {
		return fmt.Errorf("unmarshal frame: %w", err)
	}
	return nil
}
