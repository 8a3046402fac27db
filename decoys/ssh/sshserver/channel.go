package sshserver

import (
	"errors"
	"io"
	"sync"
)

// Window sizes of sshd's session channels (channels.h
// CHAN_SES_PACKET_DEFAULT and CHAN_SES_WINDOW_DEFAULT).
const (
	sessionMaxPacket = 32 * 1024
	sessionWindow    = 64 * sessionMaxPacket
)

// ErrChannelClosed is returned by Channel writes after the channel closed.
var ErrChannelClosed = errors.New("channel closed")

// WindowSize is a terminal size in characters and pixels.
type WindowSize struct {
	Columns, Rows, Width, Height uint32
}

// PTY is the terminal of a pty-req. Size is the size at that request,
// and later sizes arrive on Channel.Resized.
type PTY struct {
	Term  string
	Size  WindowSize
	Modes []byte
}

// Channel is a session channel as the Session handler sees it. Read
// returns what the client sends on the channel; Write sends standard
// output and Stderr standard error. Exit reports the exit status and
// closes the channel.
type Channel struct {
	c      *conn
	local  uint32
	remote uint32
	// remoteMaxPacket caps one CHANNEL_DATA payload.
	remoteMaxPacket uint32

	mu   sync.Mutex
	cond *sync.Cond
	// remoteWindow is how many bytes the client still accepts.
	remoteWindow uint32
	in           []byte
	inEOF        bool
	// localWindow is how many bytes the client may still send; consumed
	// counts bytes read since the last WINDOW_ADJUST.
	localWindow, consumed uint32
	started               bool
	sentEOF, sentClose    bool
	closed                bool

	// Request details, set before the handler runs.
	Request   string // "shell", "exec" or "subsystem"
	Command   string
	Subsystem string
	pty       *PTY
	Env       map[string]string
	resize    chan WindowSize
}

// PTY returns the pseudo-terminal the client asked for, or nil.
func (ch *Channel) PTY() *PTY { return ch.pty }

// Resized delivers window-change requests; only the latest size is kept
// when the handler falls behind.
func (ch *Channel) Resized() <-chan WindowSize { return ch.resize }

// Read reads data the client sent on the channel. It returns io.EOF
// after the client's EOF or CLOSE.
func (ch *Channel) Read(p []byte) (int, error) {
	ch.mu.Lock()
	for len(ch.in) == 0 && !ch.inEOF && !ch.closed {
		ch.cond.Wait()
	}
	if len(ch.in) == 0 {
		ch.mu.Unlock()
		return 0, io.EOF
	}
	n := copy(p, ch.in)
	ch.in = ch.in[n:]
	ch.consumed += uint32(n)
	adjust := uint32(0)
	// sshd's channel_check_window.
	if !ch.closed && (sessionWindow-ch.localWindow > 3*sessionMaxPacket || ch.localWindow < sessionWindow/2) && ch.consumed > 0 {
		adjust = ch.consumed
		ch.localWindow += adjust
		ch.consumed = 0
	}
	ch.mu.Unlock()
	if adjust > 0 {
		b := appendUint32([]byte{msgChannelWindowAdjust}, ch.remote)
		_ = ch.c.t.writePacket(appendUint32(b, adjust))
	}
	return n, nil
}

// Write sends p as standard output.
func (ch *Channel) Write(p []byte) (int, error) { return ch.send(p, false) }

// Stderr returns a writer for standard error.
func (ch *Channel) Stderr() io.Writer { return stderrWriter{ch} }

type stderrWriter struct{ ch *Channel }

func (w stderrWriter) Write(p []byte) (int, error) { return w.ch.send(p, true) }

func (ch *Channel) send(p []byte, stderr bool) (int, error) {
	written := 0
	for len(p) > 0 {
		ch.mu.Lock()
		for ch.remoteWindow == 0 && !ch.closed && !ch.sentEOF {
			ch.cond.Wait()
		}
		if ch.closed || ch.sentEOF {
			ch.mu.Unlock()
			return written, ErrChannelClosed
		}
		n := min(uint32(len(p)), ch.remoteWindow, ch.remoteMaxPacket)
		ch.remoteWindow -= n
		ch.mu.Unlock()

		var b []byte
		if stderr {
			b = appendUint32([]byte{msgChannelExtendedData}, ch.remote)
			b = appendUint32(b, 1)
		} else {
			b = appendUint32([]byte{msgChannelData}, ch.remote)
		}
		b = appendString(b, p[:n])
		if err := ch.c.t.writePacket(b); err != nil {
			return written, err
		}
		written += int(n)
		p = p[n:]
	}
	return written, nil
}

// Exit ends the session as sshd does when the command exits: EOF, the
// exit-status request, then CLOSE.
func (ch *Channel) Exit(status uint32) error {
	ch.mu.Lock()
	done := ch.sentClose || ch.closed
	sendEOF := !ch.sentEOF
	ch.sentEOF = true
	ch.cond.Broadcast()
	ch.mu.Unlock()
	if done {
		return ErrChannelClosed
	}
	if sendEOF {
		if err := ch.c.t.writePacket(appendUint32([]byte{msgChannelEOF}, ch.remote)); err != nil {
			return err
		}
	}
	b := appendUint32([]byte{msgChannelRequest}, ch.remote)
	b = appendText(b, "exit-status")
	b = appendBool(b, false)
	if err := ch.c.t.writePacket(appendUint32(b, status)); err != nil {
		return err
	}
	return ch.Close()
}

// Close sends EOF (unless sent) and CLOSE (unless sent).
func (ch *Channel) Close() error {
	ch.mu.Lock()
	if ch.sentClose {
		ch.mu.Unlock()
		return nil
	}
	sendEOF := !ch.sentEOF && !ch.closed
	ch.sentEOF = true
	ch.sentClose = true
	ch.cond.Broadcast()
	ch.mu.Unlock()

	if sendEOF {
		if err := ch.c.t.writePacket(appendUint32([]byte{msgChannelEOF}, ch.remote)); err != nil {
			return err
		}
	}
	if err := ch.c.t.writePacket(appendUint32([]byte{msgChannelClose}, ch.remote)); err != nil {
		return err
	}
	ch.c.channels.releaseIfDone(ch)
	return nil
}

// channelTable maps local channel ids to channels.
type channelTable struct {
	mu   sync.Mutex
	byID map[uint32]*Channel
}

// maxChannels is sshd's default MaxSessions: more open sessions on one
// connection are refused with "open failed".
const maxChannels = 10

func newChannelTable() *channelTable { return &channelTable{byID: make(map[uint32]*Channel)} }

func (t *channelTable) add(ch *Channel) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.byID) >= maxChannels {
		return false
	}
	// sshd gives a new channel the lowest free slot, so ids are reused.
	id := uint32(0)
	for t.byID[id] != nil {
		id++
	}
	ch.local = id
	t.byID[id] = ch
	return true
}

func (t *channelTable) get(id uint32) *Channel {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[id]
}

// releaseIfDone removes a channel from the table once CLOSE went both
// ways.
func (t *channelTable) releaseIfDone(ch *Channel) {
	ch.mu.Lock()
	done := ch.sentClose && ch.closed
	ch.mu.Unlock()
	if done {
		t.mu.Lock()
		// The id may already belong to a newer channel.
		if t.byID[ch.local] == ch {
			delete(t.byID, ch.local)
		}
		t.mu.Unlock()
	}
}

// closeAll wakes every handler when the connection ends.
func (t *channelTable) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ch := range t.byID {
		ch.mu.Lock()
		ch.closed = true
		ch.cond.Broadcast()
		ch.mu.Unlock()
	}
}
