package sshserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrDisconnected means the client sent SSH_MSG_DISCONNECT.
var ErrDisconnected = errors.New("client disconnected")

// DisconnectError is a protocol failure for which the server sent a
// DISCONNECT with Reason and Message before closing, as sshd would.
type DisconnectError struct {
	Reason  uint32
	Message string
}

func (e *DisconnectError) Error() string {
	return fmt.Sprintf("disconnect (reason %d): %s", e.Reason, e.Message)
}

// transport is the binary packet protocol of one connection. One
// goroutine (the connection's reader) calls readPacket and runs key
// exchanges; any goroutine may call writePacket, which waits while a key
// exchange is under way.
type transport struct {
	r    *bufio.Reader
	w    io.Writer
	rand io.Reader

	opener  packetOpener
	readSeq uint32
	inflate *decompressor

	mu       sync.Mutex
	kexDone  *sync.Cond
	kexing   bool
	sealer   packetSealer
	writeSeq uint32
	deflate  *compressor
	out      []byte
	// writeErr is the first write error; later writes return it.
	writeErr error
}

func newTransport(r *bufio.Reader, w io.Writer, rand io.Reader) *transport {
	t := &transport{r: r, w: w, rand: rand, opener: newPlainCipher(), sealer: newPlainCipher()}
	t.kexDone = sync.NewCond(&t.mu)
	return t
}

// readPacket returns the next payload, decompressed, with its sequence
// number.
func (t *transport) readPacket() ([]byte, uint32, error) {
	seq := t.readSeq
	payload, err := t.opener.openPacket(seq, t.r)
	if err != nil {
		return nil, seq, err
	}
	t.readSeq++
	if t.inflate != nil {
		payload, err = t.inflate.decompress(payload)
		if err != nil {
			return nil, seq, err
		}
	}
	if len(payload) == 0 {
		return nil, seq, errBadFraming
	}
	return payload, seq, nil
}

// writePacket sends one payload. Messages other than those of the
// transport layer wait for a key exchange in progress to end (RFC 4253
// section 7.1).
func (t *transport) writePacket(payload []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.kexing && !isKexMessage(payload[0]) {
		t.kexDone.Wait()
	}
	return t.writeLocked(payload)
}

func isKexMessage(m byte) bool {
	return m == msgDisconnect || m == msgIgnore || m == msgUnimplemented || m == msgDebug ||
		(m >= msgKexInit && m <= 49) || m == msgExtInfo
}

func (t *transport) writeLocked(payload []byte) error {
	if t.writeErr != nil {
		return t.writeErr
	}
	if t.deflate != nil {
		payload = t.deflate.compress(payload)
	}
	var err error
	t.out, err = t.sealer.sealPacket(t.writeSeq, t.out[:0], payload, t.rand)
	if err == nil {
		t.writeSeq++
		_, err = t.w.Write(t.out)
	}
	if err != nil {
		t.writeErr = fmt.Errorf("write packet: %w", err)
	}
	return t.writeErr
}

// startKex blocks other writers until endKex.
func (t *transport) startKex() {
	t.mu.Lock()
	t.kexing = true
	t.mu.Unlock()
}

func (t *transport) endKex() {
	t.mu.Lock()
	t.kexing = false
	t.kexDone.Broadcast()
	t.mu.Unlock()
}

// disconnect sends SSH_MSG_DISCONNECT and returns the matching error.
func (t *transport) disconnect(reason uint32, message string) error {
	b := []byte{msgDisconnect}
	b = appendUint32(b, reason)
	b = appendText(b, message)
	b = appendText(b, "")
	t.mu.Lock()
	_ = t.writeLocked(b)
	t.mu.Unlock()
	return &DisconnectError{Reason: reason, Message: message}
}

// protocolError disconnects with SSH_DISCONNECT_PROTOCOL_ERROR, the only
// reason sshd's ssh_packet_disconnect uses.
func (t *transport) protocolError(format string, args ...any) error {
	return t.disconnect(disconnectProtocolError, fmt.Sprintf(format, args...))
}

// unimplemented replies UNIMPLEMENTED to a message the current state
// does not handle.
func (t *transport) unimplemented(seq uint32) error {
	return t.writePacket(appendUint32([]byte{msgUnimplemented}, seq))
}

// readError turns a packet decoding error into sshd's reaction. sshd
// queues "Packet corrupt" for a bad length or a wrong MAC over plaintext
// but exits before flushing it, so only a short padding length gets a
// DISCONNECT on the wire; everything else closes silently.
func (t *transport) readError(err error) error {
	var pad *badPaddingError
	if errors.As(err, &pad) {
		return t.protocolError("Corrupted padlen %d on input.", pad.padding)
	}
	return err
}
