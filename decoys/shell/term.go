package shell

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
)

// Terminal bounds: a line longer than this is cut, as the kernel's tty
// line discipline stops accepting input at 4096 bytes.
const maxInputLine = 4096

// lineEditor turns raw terminal bytes into lines, echoing and editing as
// readline does for the keys an attacker uses.
type lineEditor struct {
	buf []byte
	// esc tracks an escape sequence being skipped: 1 after ESC, 2 inside
	// CSI or SS3 parameters.
	esc     int
	lastCR  bool
	pending []byte // echo for the terminal
}

// editEvent is the outcome of one byte of input.
type editEvent int

const (
	evNone editEvent = iota
	evLine
	evInterrupt
	evEOF
)

// feed consumes one byte and reports whether it ended a line.
func (e *lineEditor) feed(b byte) editEvent {
	switch e.esc {
	case 1:
		if b == '[' || b == 'O' {
			e.esc = 2
		} else {
			e.esc = 0
		}
		return evNone
	case 2:
		if b >= 0x40 && b <= 0x7e {
			e.esc = 0
		}
		return evNone
	}
	wasCR := e.lastCR
	e.lastCR = false
	switch b {
	case 0x1b:
		e.esc = 1
	case '\r':
		e.lastCR = true
		e.pending = append(e.pending, '\r', '\n')
		return evLine
	case '\n':
		if wasCR {
			return evNone
		}
		e.pending = append(e.pending, '\r', '\n')
		return evLine
	case 0x7f, 0x08:
		if len(e.buf) > 0 {
			// Remove a whole UTF-8 character.
			i := len(e.buf) - 1
			for i > 0 && e.buf[i]&0xc0 == 0x80 {
				i--
			}
			e.buf = e.buf[:i]
			e.pending = append(e.pending, '\b', ' ', '\b')
		}
	case 0x03:
		e.buf = e.buf[:0]
		e.pending = append(e.pending, '^', 'C', '\r', '\n')
		return evInterrupt
	case 0x04:
		if len(e.buf) == 0 {
			return evEOF
		}
	case 0x15:
		for range len(e.buf) {
			e.pending = append(e.pending, '\b', ' ', '\b')
		}
		e.buf = e.buf[:0]
	case 0x0c:
		e.pending = append(e.pending, "\x1b[H\x1b[2J"...)
	case '\t':
		// NOTE: no completion; bash rings the bell when it has none.
		e.pending = append(e.pending, 0x07)
	default:
		if b < 0x20 {
			return evNone
		}
		if len(e.buf) < maxInputLine {
			e.buf = append(e.buf, b)
			e.pending = append(e.pending, b)
		}
	}
	return evNone
}

// crlfWriter maps \n to \r\n, as the tty's onlcr does on output.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write([]byte(strings.ReplaceAll(string(p), "\n", "\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// prompt is Debian's default PS1 for the session's user and directory.
func (sh *Shell) prompt() string {
	if sh.busybox() {
		return sh.bbPrompt()
	}
	dir := sh.cwd
	if dir == sh.home {
		dir = "~"
	} else if strings.HasPrefix(dir, sh.home+"/") {
		dir = "~" + dir[len(sh.home):]
	}
	sign := "$"
	if sh.uid == 0 {
		sign = "#"
	}
	return sh.userName() + "@" + sh.host.hostname + ":" + dir + sign + " "
}

// lockedWriter serialises writes from the command and the input loop.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// readResult carries one read: data and the error that ended reading,
// in one value so that data read before an EOF is handled first.
type readResult struct {
	data []byte
	err  error
}

// Interactive runs a login shell on a raw terminal. The caller writes
// Motd first. Reads happen on a goroutine that ends when a Read fails,
// so the caller closes the connection once Interactive returns.
func (sh *Shell) Interactive(ctx context.Context, term io.ReadWriter) error {
	sh.interactive = true
	if !sh.busybox() {
		sh.setVar("SSH_TTY", "/dev/pts/0")
		sh.exported["SSH_TTY"] = true
	}
	tw := &lockedWriter{w: term}
	out := &capWriter{w: crlfWriter{tw}, sh: sh}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	input := make(chan readResult, 1)
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := term.Read(buf)
			r := readResult{data: append([]byte{}, buf[:n]...), err: err}
			select {
			case input <- r:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	ed := &lineEditor{}
	var cont strings.Builder
	var queue []byte
	var readErr error
	if _, err := io.WriteString(tw, sh.prompt()); err != nil {
		return err
	}
	for {
		if len(queue) == 0 {
			if readErr != nil {
				if errors.Is(readErr, io.EOF) {
					return nil
				}
				return readErr
			}
			select {
			case <-ctx.Done():
				return nil
			case r := <-input:
				// A read may bring an error with no data, so the loop
				// checks the queue again before taking a byte.
				queue, readErr = r.data, r.err
			}
			continue
		}
		b := queue[0]
		queue = queue[1:]

		ev := ed.feed(b)
		if len(ed.pending) > 0 {
			if _, err := tw.Write(ed.pending); err != nil {
				return err
			}
			ed.pending = ed.pending[:0]
		}
		switch ev {
		case evEOF:
			// End of input inside an unfinished line makes bash report
			// what was left open, then log out.
			var se *syntaxError
			// Input has ended, so the terminal may be gone too. The
			// session ends as a shell exit whether or not these land.
			if _, err := parse(cont.String()); cont.Len() > 0 && errors.As(err, &se) {
				_, _ = io.WriteString(out, "-bash: "+se.msg+"\n")
			}
			_, _ = io.WriteString(out, "logout\n")
			return nil
		case evInterrupt:
			cont.Reset()
			sh.status = 130
			// A dead terminal is left to the reader, whose error
			// tells the caller why the session ended.
			_, _ = io.WriteString(tw, sh.prompt())
		case evLine:
			line := string(ed.buf)
			ed.buf = ed.buf[:0]
			if cont.Len() > 0 {
				cont.WriteString("\n")
			}
			cont.WriteString(line)
			if cont.Len() > maxScriptSize {
				cont.Reset()
			}
			src := cont.String()
			var se *syntaxError
			// The newline that ended the line is part of what bash
			// parses: "for" alone is an error, not an open loop.
			if _, err := parse(src + "\n"); errors.As(err, &se) && se.incomplete {
				_, _ = io.WriteString(tw, "> ") // a dead terminal is left to the reader, as above
				continue
			}
			cont.Reset()

			var err error
			queue, readErr, err = sh.runForeground(ctx, src, out, tw, input, queue, readErr)
			if err != nil {
				return err
			}
			if sh.exited || ctx.Err() != nil {
				return nil
			}
			_, _ = io.WriteString(tw, sh.prompt()) // a dead terminal is left to the reader, as above
		}
	}
}

// runForeground runs one line while still reading the terminal, so
// that a ^C typed during the command interrupts it as the tty's SIGINT
// would. Other bytes typed meanwhile are kept for the line editor, as
// typeahead is.
func (sh *Shell) runForeground(ctx context.Context, src string, out, tw io.Writer, input <-chan readResult, queue []byte, readErr error) ([]byte, error, error) {
	cmdCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sh.runInteractive(cmdCtx, src, out)
	}()

	interrupt := func(data []byte) []byte {
		if i := bytes.IndexByte(data, 0x03); i >= 0 {
			stop()
			_, _ = io.WriteString(tw, "^C\r\n") // a dead terminal is left to the reader
			return data[i+1:]
		}
		return data
	}
	for {
		if readErr != nil {
			// Input has ended, but the typeahead before the end still
			// runs, because bash reads it before the end of file.
			<-done
			return queue, readErr, nil
		}
		select {
		case <-done:
			if cmdCtx.Err() != nil && ctx.Err() == nil {
				sh.status = 130
			}
			return queue, readErr, nil
		case r := <-input:
			if len(queue)+len(r.data) <= maxInputLine {
				queue = append(queue, interrupt(r.data)...)
			} else {
				interrupt(r.data)
			}
			readErr = r.err
		}
	}
}

func (sh *Shell) runInteractive(ctx context.Context, src string, out io.Writer) {
	if strings.TrimSpace(src) == "" {
		return
	}
	if sh.cfg.OnCommand != nil {
		sh.cfg.OnCommand(src)
	}
	if !strings.HasPrefix(src, " ") {
		sh.history = append(sh.history, src)
		if len(sh.history) > maxHistory {
			sh.history = sh.history[len(sh.history)-maxHistory:]
		}
	}
	sh.runSource(ctx, src+"\n", nil, out, out)
}
