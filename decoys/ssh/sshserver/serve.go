package sshserver

import (
	"bytes"
	"errors"
	"strings"
	"sync"
)

// Channel open failure reasons (RFC 4254 section 5.1).
const (
	openAdministrativelyProhibited = 1
	openConnectFailed              = 2
)

// serve handles everything after the first key exchange.
func (c *conn) serve() error {
	auth := &authState{}
	serviceAccepted := false
	for {
		payload := c.pending
		c.pending = nil
		var seq uint32
		if payload == nil {
			var err error
			if payload, seq, err = c.next(); err != nil {
				return err
			}
		}

		if !c.authenticated {
			switch payload[0] {
			case msgServiceRequest:
				r := reader{b: payload[1:]}
				service := r.text()
				if err := r.end(); err != nil {
					return err
				}
				if service != "ssh-userauth" {
					return c.t.protocolError("bad service request %s", service)
				}
				serviceAccepted = true
				if err := c.t.writePacket(appendText([]byte{msgServiceAccept}, service)); err != nil {
					return err
				}
			case msgUserauthRequest:
				if !serviceAccepted {
					continue
				}
				ok, err := c.userauth(auth, payload)
				if err != nil {
					return err
				}
				if ok {
					if err := c.afterLogin(auth.user); err != nil {
						return err
					}
				}
			}
			// Before authentication sshd ignores every other message
			// (dispatch_protocol_ignore).
			continue
		}

		// After authentication sshd answers everything it does not handle,
		// including further authentication requests, with UNIMPLEMENTED
		// (server_init_dispatch).
		var err error
		switch payload[0] {
		case msgGlobalRequest:
			err = c.globalRequest(payload)
		case msgChannelOpen:
			err = c.channelOpen(payload)
		case msgChannelRequest:
			err = c.channelRequest(payload)
		case msgChannelData, msgChannelExtendedData:
			err = c.channelData(payload)
		case msgChannelWindowAdjust:
			err = c.windowAdjust(payload)
		case msgChannelEOF:
			err = c.channelEOF(payload)
		case msgChannelClose:
			err = c.channelClose(payload)
		case msgChannelOpenConfirm, msgChannelOpenFailure:
			err = c.openReply(payload)
		case msgChannelSuccess, msgChannelFailure, msgRequestSuccess, msgRequestFailure:
			// Replies to keepalives sshd sends when ClientAliveInterval is
			// set; nothing to do.
		default:
			err = c.t.unimplemented(seq)
		}
		if err != nil {
			return err
		}
	}
}

// notifyHostKeys sends hostkeys-00@openssh.com, as sshd does after
// authentication so that clients can learn all host keys.
func (c *conn) notifyHostKeys() error {
	b := []byte{msgGlobalRequest}
	b = appendText(b, "hostkeys-00@openssh.com")
	b = appendBool(b, false)
	for _, k := range c.cfg.HostKeys {
		b = appendString(b, k.PublicKey().Marshal())
	}
	return c.t.writePacket(b)
}

// afterLogin sends what sshd sends once a login succeeded: the host keys,
// then the DEBUG messages it queued while checking authorized_keys.
func (c *conn) afterLogin(user string) error {
	if err := c.notifyHostKeys(); err != nil {
		return err
	}
	if c.cfg.AuthorizedKeysFile == nil {
		return nil
	}
	for range c.keyChecks {
		msg := c.cfg.AuthorizedKeysFile(user) + ":1: key options: agent-forwarding port-forwarding pty user-rc x11-forwarding"
		if err := c.sendDebug(msg); err != nil {
			return err
		}
	}
	return nil
}

func (c *conn) sendDebug(message string) error {
	b := []byte{msgDebug}
	b = appendBool(b, false)
	b = appendText(b, message)
	return c.t.writePacket(appendText(b, ""))
}

func (c *conn) forward(f Forward) {
	if c.cfg.OnForward != nil {
		c.cfg.OnForward(&c.meta, f)
	}
}

// globalRequest replies to a global request as sshd with
// AllowTcpForwarding no does.
func (c *conn) globalRequest(payload []byte) error {
	r := reader{b: payload[1:]}
	name := r.text()
	wantReply := r.bool()
	if r.err != nil {
		return c.t.protocolError("server_input_global_request: parse packet: incomplete message")
	}
	success := false
	var resp []byte
	switch name {
	case "tcpip-forward", "cancel-tcpip-forward":
		host := r.text()
		port := r.uint32()
		if r.err != nil {
			return r.err
		}
		if name == "tcpip-forward" {
			c.forward(Forward{Kind: name, Host: host, Port: port})
			if err := c.sendDebug("Server has disabled port forwarding."); err != nil {
				return err
			}
		}
	case "streamlocal-forward@openssh.com":
		path := r.text()
		if r.err != nil {
			return r.err
		}
		c.forward(Forward{Kind: name, Host: path})
		if err := c.sendDebug("Server has disabled streamlocal forwarding."); err != nil {
			return err
		}
	case "no-more-sessions@openssh.com":
		c.noMoreSessions = true
		success = true
	case "hostkeys-prove-00@openssh.com":
		resp, success = c.proveHostKeys(r.b)
	}
	if !wantReply {
		return nil
	}
	if success {
		return c.t.writePacket(append([]byte{msgRequestSuccess}, resp...))
	}
	return c.t.writePacket([]byte{msgRequestFailure})
}

// proveHostKeys signs each requested host key's binding to the session,
// as sshd's server_input_hostkeys_prove does.
func (c *conn) proveHostKeys(rest []byte) ([]byte, bool) {
	r := reader{b: rest}
	var resp []byte
	for len(r.b) > 0 {
		blob := r.string()
		if r.err != nil {
			return nil, false
		}
		var found bool
		for _, k := range c.cfg.HostKeys {
			if !bytes.Equal(k.PublicKey().Marshal(), blob) {
				continue
			}
			alg := k.PublicKey().Type()
			if alg == "ssh-rsa" {
				alg = "rsa-sha2-512"
				if strings.HasPrefix(c.hostKeyAlg, "rsa-sha2-") {
					alg = c.hostKeyAlg
				}
			}
			signer, err := c.hostSigner(alg)
			if err != nil {
				return nil, false
			}
			data := appendText(nil, "hostkeys-prove-00@openssh.com")
			data = appendString(data, c.sessionID)
			data = appendString(data, blob)
			sig, err := c.sign(signer, alg, data)
			if err != nil {
				return nil, false
			}
			resp = appendString(resp, sig)
			found = true
		}
		if !found {
			return nil, false
		}
	}
	return resp, true
}

func (c *conn) openFailure(remote, reason uint32) error {
	b := appendUint32([]byte{msgChannelOpenFailure}, remote)
	b = appendUint32(b, reason)
	b = appendText(b, "open failed")
	return c.t.writePacket(appendText(b, ""))
}

// channelOpen accepts session channels and refuses the rest as sshd
// with AllowTcpForwarding no does.
func (c *conn) channelOpen(payload []byte) error {
	r := reader{b: payload[1:]}
	kind := r.text()
	remote := r.uint32()
	window := r.uint32()
	maxPacket := r.uint32()
	if r.err != nil {
		return c.t.protocolError("server_input_channel_open: parse packet: incomplete message")
	}
	switch kind {
	case "session":
		if c.noMoreSessions {
			return c.t.protocolError("Possible attack: attempt to open a session after additional sessions disabled")
		}
		ch := &Channel{
			c: c, remote: remote, remoteWindow: window, remoteMaxPacket: max(maxPacket, 1),
			Env: make(map[string]string), resize: make(chan WindowSize, 1),
		}
		ch.cond = sync.NewCond(&ch.mu)
		if !c.channels.add(ch) {
			return c.openFailure(remote, openConnectFailed)
		}
		b := appendUint32([]byte{msgChannelOpenConfirm}, remote)
		b = appendUint32(b, ch.local)
		// A session has no window until its shell starts (sshd's
		// SSH_CHANNEL_LARVAL).
		b = appendUint32(b, 0)
		return c.t.writePacket(appendUint32(b, sessionMaxPacket))
	case "direct-tcpip":
		host := r.text()
		port := r.uint32()
		origin := r.text()
		originPort := r.uint32()
		if err := r.end(); err != nil {
			return err
		}
		c.forward(Forward{Kind: kind, Host: host, Port: port, OriginHost: origin, OriginPort: originPort})
		return c.openFailure(remote, openAdministrativelyProhibited)
	case "direct-streamlocal@openssh.com":
		path := r.text()
		c.forward(Forward{Kind: kind, Host: path})
	}
	return c.openFailure(remote, openConnectFailed)
}

func (c *conn) lookup(id uint32, what string) (*Channel, error) {
	ch := c.channels.get(id)
	if ch == nil {
		return nil, c.t.protocolError("%s: unknown channel %d", what, id)
	}
	return ch, nil
}

// channelRequest is sshd's server_input_channel_req for a session.
func (c *conn) channelRequest(payload []byte) error {
	r := reader{b: payload[1:]}
	id := r.uint32()
	name := r.text()
	wantReply := r.bool()
	if r.err != nil {
		return c.t.protocolError("server_input_channel_req: parse packet: incomplete message")
	}
	ch, err := c.lookup(id, "server_input_channel_req")
	if err != nil {
		return err
	}

	ch.mu.Lock()
	larval := !ch.started && !ch.closed
	ch.mu.Unlock()
	success := false
	start := false
	switch {
	case name == "eow@openssh.com":
	case larval && name == "pty-req":
		if ch.pty != nil {
			return c.t.protocolError("Protocol error: you already have a pty.")
		}
		term := r.text()
		size := WindowSize{Columns: r.uint32(), Rows: r.uint32(), Width: r.uint32(), Height: r.uint32()}
		modes := r.string()
		if r.err == nil {
			ch.pty = &PTY{Term: term, Size: size, Modes: bytes.Clone(modes)}
			success = true
		}
	case larval && name == "env":
		key, value := r.text(), r.text()
		if r.err == nil && acceptEnv(key) && len(ch.Env) < 64 {
			ch.Env[key] = value
			success = true
		}
	case larval && name == "auth-agent-req@openssh.com":
		success = true
	case larval && (name == "shell" || name == "exec" || name == "subsystem"):
		ch.Request = name
		switch name {
		case "exec":
			ch.Command = r.text()
		case "subsystem":
			ch.Subsystem = r.text()
		}
		success = r.err == nil && (name != "subsystem" || c.subsystemEnabled(ch.Subsystem))
		start = success
	case name == "window-change":
		size := WindowSize{Columns: r.uint32(), Rows: r.uint32(), Width: r.uint32(), Height: r.uint32()}
		if r.err == nil && ch.pty != nil {
			select {
			case <-ch.resize:
			default:
			}
			ch.resize <- size
			success = true
		}
	}

	if start {
		if err := c.openWindow(ch); err != nil {
			return err
		}
	}
	ch.mu.Lock()
	closeSent := ch.sentClose
	ch.mu.Unlock()
	if wantReply && !closeSent {
		reply := byte(msgChannelFailure)
		if success {
			reply = msgChannelSuccess
		}
		if err := c.t.writePacket(appendUint32([]byte{reply}, ch.remote)); err != nil {
			return err
		}
	}
	// The handler starts after the reply, so its first output (or its
	// exit) never overtakes the CHANNEL_SUCCESS, as in sshd where the
	// reply leaves before the child runs.
	if start {
		c.runSession(ch)
	}
	return nil
}

// acceptEnv is Debian's "AcceptEnv LANG LC_*".
func acceptEnv(key string) bool {
	return key == "LANG" || strings.HasPrefix(key, "LC_")
}

func (c *conn) subsystemEnabled(name string) bool {
	for _, s := range c.cfg.Subsystems {
		if s == name {
			return true
		}
	}
	return false
}

// openWindow grants the session its window, as sshd's channel_set_fds
// does when the shell starts.
func (c *conn) openWindow(ch *Channel) error {
	ch.mu.Lock()
	ch.started = true
	ch.localWindow = sessionWindow
	ch.mu.Unlock()
	b := appendUint32([]byte{msgChannelWindowAdjust}, ch.remote)
	return c.t.writePacket(appendUint32(b, sessionWindow))
}

// runSession runs the handler of a started session.
func (c *conn) runSession(ch *Channel) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		// The handler runs on its own goroutine, outside the accept
		// loop's per-connection recovery, so a panic in it must not take
		// the process down.
		defer func() {
			if recover() != nil {
				_ = c.nc.Close()
			}
		}()
		if c.cfg.Session == nil {
			_ = ch.Exit(0)
			return
		}
		c.cfg.Session(c.ctx, ch)
		// A handler that forgot to close still ends the channel.
		_ = ch.Close()
	}()
}

// channelFromPacket reads the channel id that starts a channel message
// and looks it up, with the texts of sshd's channel_from_packet_id.
func (c *conn) channelFromPacket(r *reader, what string) (*Channel, error) {
	id := r.uint32()
	if r.err != nil {
		return nil, c.t.protocolError("Invalid %s message", what)
	}
	if id > 1<<31-1 {
		return nil, c.t.protocolError("Invalid %s channel id", what)
	}
	ch := c.channels.get(id)
	if ch == nil {
		return nil, c.t.protocolError("%s packet referred to nonexistent channel %d", what, id)
	}
	return ch, nil
}

// errWindowOverflow is a WINDOW_ADJUST beyond 2^32-1, on which sshd exits.
var errWindowOverflow = errors.New("window adjust overflows the remote window")

func (c *conn) channelData(payload []byte) error {
	r := reader{b: payload[1:]}
	what := "data"
	if payload[0] == msgChannelExtendedData {
		what = "extended data"
	}
	ch, err := c.channelFromPacket(&r, what)
	if err != nil {
		return err
	}
	if payload[0] == msgChannelExtendedData {
		r.uint32()
	}
	data := r.string()
	if err := r.end(); err != nil {
		return err
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	// sshd drops data for a channel whose shell has not started, packets
	// above its maximum and data beyond the window it granted. Like sshd,
	// the server reads no extended data from a client.
	if !ch.started || payload[0] == msgChannelExtendedData || ch.inEOF || ch.closed ||
		len(data) > sessionMaxPacket || uint32(len(data)) > ch.localWindow {
		return nil
	}
	ch.localWindow -= uint32(len(data))
	ch.in = append(ch.in, data...)
	ch.cond.Broadcast()
	return nil
}

func (c *conn) windowAdjust(payload []byte) error {
	r := reader{b: payload[1:]}
	id := r.uint32()
	if r.err != nil {
		return c.t.protocolError("Invalid window adjust message")
	}
	if id > 1<<31-1 {
		return c.t.protocolError("Invalid window adjust channel id")
	}
	ch := c.channels.get(id)
	if ch == nil {
		// sshd logs "Received window adjust for non-open channel".
		return nil
	}
	n := r.uint32()
	if err := r.end(); err != nil {
		return c.t.protocolError("Invalid window adjust message")
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.remoteWindow+n < ch.remoteWindow {
		return errWindowOverflow
	}
	ch.remoteWindow += n
	ch.cond.Broadcast()
	return nil
}

func (c *conn) channelEOF(payload []byte) error {
	r := reader{b: payload[1:]}
	ch, err := c.channelFromPacket(&r, "ieof")
	if err != nil {
		return err
	}
	ch.mu.Lock()
	ch.inEOF = true
	ch.cond.Broadcast()
	ch.mu.Unlock()
	return nil
}

func (c *conn) channelClose(payload []byte) error {
	r := reader{b: payload[1:]}
	ch, err := c.channelFromPacket(&r, "oclose")
	if err != nil {
		return err
	}
	ch.mu.Lock()
	ch.closed = true
	started := ch.started
	ch.cond.Broadcast()
	ch.mu.Unlock()
	if !started {
		// No handler owns it, so the reply CLOSE goes out here.
		return ch.Close()
	}
	c.channels.releaseIfDone(ch)
	return nil
}

// openReply handles an OPEN_CONFIRMATION or OPEN_FAILURE. The server
// opens no channels, so every one is a protocol error, with sshd's text.
func (c *conn) openReply(payload []byte) error {
	r := reader{b: payload[1:]}
	what, state := "open confirmation", "confirmation"
	if payload[0] == msgChannelOpenFailure {
		what, state = "open failure", "failure"
	}
	ch, err := c.channelFromPacket(&r, what)
	if err != nil {
		return err
	}
	return c.t.protocolError("Received open %s for non-opening channel %d.", state, ch.local)
}
