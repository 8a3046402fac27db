package telnet

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/decnet/decnet/decoys"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Reasons a telnet connection ended, for connection.closed.
const (
	reasonClientClosed = "client_closed"
	reasonLoginFailed  = "login_failed"
	reasonLoginTimeout = "login_timeout"
	reasonLogout       = "logout"
	reasonShellExit    = "shell_exit"
	reasonShutdown     = "shutdown"
	reasonSessionLimit = "session_timeout"
	reasonReadTimeout  = "read_timeout"
	reasonWriteFailed  = "write_failed"
)

var (
	// errLoginTimeout means the login program's alarm went off.
	errLoginTimeout = errors.New("login timed out")
	// errDeadlinePassed means a wait for the client reached its own
	// deadline, which is not the read timeout.
	errDeadlinePassed = errors.New("deadline passed")
	// errEndOfInput means the client sent ^D on an empty line.
	errEndOfInput = errors.New("end of input at login prompt")
)

// Control characters of the pty line discipline at the login prompt.
const (
	ctrlD   = 0x04
	ctrlH   = 0x08
	ctrlU   = 0x15
	charDEL = 0x7f
)

// maxPendingLines caps the completed lines the line discipline keeps
// before login reads them; a flood of empty lines is dropped beyond it.
const maxPendingLines = 64

// ttyLine is one completed line of the line discipline; eof marks ^D on
// an empty line.
type ttyLine struct {
	text []byte
	eof  bool
}

// lineInput runs one byte through the pty's canonical-mode line
// discipline as it arrives, as the kernel does before login(1) reads it.
// The echo (when on) happens now, in the terminal state of this moment,
// even for lines that are read later. DEL and ^H erase a character, ^U
// the line, control characters echo in caret form, CR or LF end the line,
// and the line is capped like the pty's 4095-byte buffer.
func (t *tconn) lineInput(c byte) {
	echo := t.ldEcho && !t.echoOff
	// The pty of inetutils telnetd has ECHONL, so a newline is echoed
	// even while PAM reads a password. telnetd clears it with ECHO when
	// the client sends DONT ECHO.
	echoNL := echo || t.p.inetutils && !t.echoOff
	var shown []byte
	switch {
	case c == '\r' || c == '\n':
		if echoNL {
			shown = append(shown, '\r', '\n')
		}
		t.completeLine(ttyLine{text: t.ldLine})
		t.ldLine = nil
	case c == charDEL || c == ctrlH:
		if len(t.ldLine) > 0 {
			t.ldLine = t.ldLine[:len(t.ldLine)-1]
			if echo {
				shown = append(shown, '\b', ' ', '\b')
			}
		}
	case c == ctrlU:
		if echo {
			for range t.ldLine {
				shown = append(shown, '\b', ' ', '\b')
			}
		}
		t.ldLine = t.ldLine[:0]
	case c == ctrlD && len(t.ldLine) == 0:
		t.completeLine(ttyLine{eof: true})
	case len(t.ldLine) >= maxTypeahead:
	case c < 0x20 && c != '\t':
		t.ldLine = append(t.ldLine, c)
		if echo {
			shown = append(shown, '^', c+'@')
		}
	default:
		t.ldLine = append(t.ldLine, c)
		if echo {
			shown = append(shown, c)
		}
	}
	if len(shown) > 0 {
		t.queue(appendNVT(nil, shown, t.plainCR())...)
	}
}

func (t *tconn) completeLine(l ttyLine) {
	if len(t.ldLines) < maxPendingLines {
		t.ldLines = append(t.ldLines, l)
	}
}

// readLine returns the next line login(1) reads, with the terminal's echo
// set to echo while it waits.
func (t *tconn) readLine(echo bool, deadline time.Time) ([]byte, error) {
	t.ldEcho = echo
	t.canonical = true
	// Bytes that arrived before the line discipline ran reach it now.
	pending := t.in
	t.in = nil
	for _, c := range pending {
		t.lineInput(c)
	}
	if err := t.flush(); err != nil {
		return nil, err
	}
	for len(t.ldLines) == 0 {
		err := t.fill(deadline)
		if errors.Is(err, errDeadlinePassed) {
			return nil, errLoginTimeout
		}
		if err != nil {
			return nil, err
		}
	}
	l := t.ldLines[0]
	t.ldLines = t.ldLines[1:]
	if l.eof {
		return nil, errEndOfInput
	}
	return l.text, nil
}

// rawMode hands the terminal to the shell, which edits lines itself.
// Lines typed ahead go with it.
func (t *tconn) rawMode() {
	t.canonical = false
	var ahead []byte
	for _, l := range t.ldLines {
		if !l.eof {
			ahead = append(append(ahead, l.text...), '\r')
		}
	}
	t.in = append(append(ahead, t.ldLine...), t.in...)
	t.ldLines, t.ldLine = nil, nil
}

// login runs the persona's login program. It returns the accepted user
// name, or the reason the connection ends.
func (s *Service) login(ctx context.Context, t *tconn, session *decoys.Session, source netip.Addr) (string, string, error) {
	p := t.p
	deadline := time.Now().Add(p.loginTimeout)
	failures := 0
	for {
		if p.timeoutPerPrompt {
			deadline = time.Now().Add(p.loginTimeout)
		}
		if err := t.writeText(p.userPrompt(s.hostname)); err != nil {
			return "", reasonWriteFailed, err
		}
		user, err := t.readLine(true, deadline)
		if err != nil {
			return "", s.loginEnd(t, err), err
		}
		if len(user) == 0 {
			continue
		}

		if p.timeoutPerPrompt {
			deadline = time.Now().Add(p.loginTimeout)
		}
		if err := t.writeText(p.passwordPrompt); err != nil {
			return "", reasonWriteFailed, err
		}
		password, err := t.readLine(false, deadline)
		if err != nil {
			return "", s.loginEnd(t, err), err
		}
		// PAM turns the echo back on once it has the password.
		t.ldEcho = true
		if p.afterPassword != "" {
			if err := t.writeText(p.afterPassword); err != nil {
				return "", reasonWriteFailed, err
			}
		}

		accepted := s.newShell != nil && s.allow(source, string(user), password)
		outcome := eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED
		if accepted {
			outcome = eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED
		}
		session.AuthAttempt(&eventv1.AuthAttempt{
			// Protobuf strings must be UTF-8; the secret stays raw bytes.
			Principal:  strings.ToValidUTF8(string(user), "\uFFFD"),
			SecretKind: decoys.SecretPlaintext,
			Mechanism:  decoys.MechanismTelnet,
			Secret:     password,
			Outcome:    outcome,
		})
		if accepted {
			return string(user), "", nil
		}

		if err := s.sleep(ctx, s.failureDelay(p.failDelay)); err != nil {
			return "", reasonShutdown, err
		}
		if err := t.writeText(p.failure); err != nil {
			return "", reasonWriteFailed, err
		}
		failures++
		if failures >= p.maxTries {
			return "", reasonLoginFailed, nil
		}
	}
}

// loginEnd maps a read error at the login prompt to a close reason,
// printing the timeout message where the login program prints one.
func (s *Service) loginEnd(t *tconn, err error) string {
	switch {
	case errors.Is(err, errLoginTimeout):
		_ = t.writeText(t.p.timeoutText)
		return reasonLoginTimeout
	case errors.Is(err, errEndOfInput), errors.Is(err, io.EOF):
		return reasonClientClosed
	case errors.Is(err, errLogout):
		return reasonLogout
	}
	return closeReason(err)
}

// closeReason names why a read or write failed.
func closeReason(err error) string {
	switch {
	case errors.Is(err, io.EOF):
		return reasonClientClosed
	case errors.Is(err, errLogout):
		return reasonLogout
	case errors.Is(err, os.ErrDeadlineExceeded):
		return reasonReadTimeout
	}
	return reasonClientClosed
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
