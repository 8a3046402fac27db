package telnet

import (
	"time"
)

// maxTermTypeRounds caps the requests for another terminal type, because
// a client may offer an endless list.
const maxTermTypeRounds = 16

// loginStartDelay bounds how long the server keeps reading option answers
// after its last batch before the login prompt appears: the time login(1)
// takes to start on the real host, measured at about 5 ms on loopback, with
// margin.
const loginStartDelay = 30 * time.Millisecond

// open runs the persona's opening negotiation and prints what comes before
// the first login prompt.
func (t *tconn) open(hostinfo string) error {
	if !t.p.inetutils {
		// The opening and banner stay queued, so that they leave in one
		// segment with the first prompt, as scanners' match lines expect.
		for i := 0; i+2 < len(t.p.opening); i += 3 {
			t.markSent(t.p.opening[i+1], t.p.opening[i+2])
		}
		t.queue(t.p.opening...)
		t.queue(appendNVT(nil, []byte(t.p.banner), false)...)
		return nil
	}
	if err := t.terminalType(); err != nil {
		return err
	}
	return t.startSession(hostinfo)
}

// markSent records an opening request in the option state.
func (t *tconn) markSent(verb, option byte) {
	switch verb {
	case cmdDO:
		t.him[option] = qWantYes
	case cmdWILL:
		t.us[option] = qWantYes
	}
}

// terminalType is telnetd's getterminaltype: offer AUTHENTICATION and
// ENCRYPT, ask for the terminal type, speed, X display and environment,
// wait for every answer, then ask for each value the client agreed to
// send. telnetd waits for these replies with no time limit and starts
// login(1) only afterwards, so a client that never replies gets neither a
// prompt nor login's timeout message. The decoy ends such a connection at
// the read timeout instead of holding it forever.
func (t *tconn) terminalType() error {
	for i := 0; i+2 < len(t.p.opening); i += 3 {
		t.markSent(t.p.opening[i+1], t.p.opening[i+2])
	}
	t.queue(t.p.opening...)
	if err := t.flush(); err != nil {
		return err
	}

	err := t.wait(func() bool {
		return t.changingLocal(optEncrypt) || t.changing(optTType) || t.changing(optTSpeed) ||
			t.changing(optXDispLoc) || t.changing(optNewEnv) || t.changing(optEnviron)
	}, time.Time{})
	if err != nil {
		return err
	}

	base := t.sbCount
	if t.him[optTSpeed] == qYes {
		t.queue(cmdIAC, cmdSB, optTSpeed, qualSend, cmdIAC, cmdSE)
	}
	if t.him[optXDispLoc] == qYes {
		t.queue(cmdIAC, cmdSB, optXDispLoc, qualSend, cmdIAC, cmdSE)
	}
	if t.him[optNewEnv] == qYes {
		t.queue(cmdIAC, cmdSB, optNewEnv, qualSend, cmdIAC, cmdSE)
	} else if t.him[optEnviron] == qYes {
		t.queue(cmdIAC, cmdSB, optEnviron, qualSend, cmdIAC, cmdSE)
	}
	if t.him[optTType] == qYes {
		t.queue(cmdIAC, cmdSB, optTType, qualSend, cmdIAC, cmdSE)
	}
	if err := t.flush(); err != nil {
		return err
	}

	for _, o := range []byte{optTSpeed, optXDispLoc, optNewEnv, optEnviron, optTType} {
		if t.him[o] != qYes {
			continue
		}
		err := t.wait(func() bool { return t.sbCount[o] == base[o] && t.him[o] == qYes }, time.Time{})
		if err != nil {
			return err
		}
	}
	if t.him[optTType] == qYes && !termTypeKnown(t.termType) {
		return t.cycleTermTypes()
	}
	return nil
}

// cycleTermTypes asks for the client's next terminal type until it names
// one the host knows or repeats itself (RFC 1091). At the end of the list
// telnetd asks once more, so that the client's list starts over, and keeps
// the first name.
func (t *tconn) cycleTermTypes() error {
	first, last := t.termType, ""
	for range maxTermTypeRounds {
		last = t.termType
		if err := t.askTermType(); err != nil {
			return err
		}
		if termTypeKnown(t.termType) {
			return nil
		}
		if t.termType == last || t.him[optTType] != qYes {
			if t.termType != first {
				if err := t.askTermType(); err != nil {
					return err
				}
				t.termType = first
			}
			return nil
		}
	}
	return nil
}

func (t *tconn) askTermType() error {
	count := t.termTypeCount
	t.queue(cmdIAC, cmdSB, optTType, qualSend, cmdIAC, cmdSE)
	if err := t.flush(); err != nil {
		return err
	}
	return t.wait(func() bool { return t.termTypeCount == count && t.him[optTType] == qYes }, time.Time{})
}

// startSession is the start of telnetd_run: character-mode options, the
// ECHO probe for 4.2BSD clients, line mode, window size, status and flow
// control, then echo, the timing-mark probe for kludge line mode, the pty
// state (binary input, line mode off at the login prompt) and the host
// information line.
func (t *tconn) startSession(hostinfo string) error {
	t.sendWill(optSGA)
	t.sendDo(optEcho)
	if t.him[optLinemode] != qYes {
		t.sendDo(optLinemode)
	}
	t.sendDo(optNAWS)
	t.sendWill(optStatus)
	t.sendDo(optLFlow)
	if err := t.flush(); err != nil {
		return err
	}

	if err := t.wait(func() bool { return t.changing(optNAWS) }, time.Time{}); err != nil {
		return err
	}
	if t.him[optEcho] == qWantYes && t.him[optNAWS] == qYes {
		if err := t.wait(func() bool { return t.changing(optEcho) }, time.Time{}); err != nil {
			return err
		}
	}
	if t.him[optEcho] == qWantYes {
		// The client ignored DO ECHO: telnetd acts as if it had agreed,
		// which makes it send DONT ECHO.
		t.him[optEcho] = qYes
		t.agreedRemote(optEcho)
	}

	t.sendWill(optEcho)
	if !t.linemode {
		t.sendDo(optTM)
		t.sentTM = true
	}
	t.sendDo(optBinary)
	if t.linemode {
		t.sendDont(optLinemode)
		if reply := slcReply(t.slc); reply != nil {
			t.queue(reply...)
		}
	}
	if err := t.writeText(hostinfo); err != nil {
		return err
	}

	// Answers that arrive while login(1) starts are handled before its
	// prompt, as at the real host.
	return t.wait(func() bool {
		return t.changingLocal(optEcho) || t.changing(optBinary) || t.changing(optLinemode) || t.sentTM
	}, time.Now().Add(loginStartDelay))
}
