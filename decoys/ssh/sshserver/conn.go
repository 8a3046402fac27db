// Package sshserver is an SSH-2 server (RFC 4253, 4252, 4254) built on Go
// crypto primitives so that every observable detail can follow a real
// OpenSSH: the KEXINIT lists and their order, the key exchanges, ciphers,
// MACs and compression OpenSSH offers, strict key exchange, EXT_INFO,
// sshd's authentication bookkeeping, and sshd's replies to malformed
// input. It serves one connection per ServeConn call; the caller does the
// identification exchange, which differs per persona.
package sshserver

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// ErrLoginGraceTime means the client did not authenticate within
// Config.LoginGraceTime.
var ErrLoginGraceTime = errors.New("login grace time expired")

// Config describes the server one connection talks to. It is shared
// between connections and must not change while any is served.
type Config struct {
	// ServerVersion and the client's identification line, both without CR
	// LF, enter the exchange hash.
	ServerVersion string

	Algorithms Algorithms
	// HostKeys holds one signer per key type. RSA keys sign with the
	// negotiated rsa-sha2-* algorithm.
	HostKeys []ssh.Signer

	// ServerSigAlgs is the server-sig-algs value of EXT_INFO; empty sends
	// no EXT_INFO.
	ServerSigAlgs string
	// PublickeyHostbound adds "publickey-hostbound@openssh.com"="0" to
	// EXT_INFO, as OpenSSH 8.9 and later do.
	PublickeyHostbound bool

	// AuthMethods are the methods listed in USERAUTH_FAILURE, in sshd's
	// order ("publickey", "password", "keyboard-interactive").
	AuthMethods []string
	// MaxAuthTries is sshd's MaxAuthTries; 0 or less means no limit.
	MaxAuthTries int
	// KbdPrompt and KbdEcho are the single keyboard-interactive prompt.
	KbdPrompt string
	KbdEcho   bool
	// Auth decides every authentication attempt. It may block (to delay a
	// rejection); it is called on the connection's reader goroutine.
	// Nil rejects everything.
	Auth func(ctx context.Context, meta *ConnMeta, req *AuthRequest) bool
	// MinFailureDelay is the least time a rejected request takes, from
	// its arrival (sshd's user_specific_delay); nil means none.
	MinFailureDelay func(user string) time.Duration

	// Session serves one session channel after its shell, exec or
	// subsystem request. Nil closes every session with status 0.
	Session func(ctx context.Context, ch *Channel)
	// Subsystems lists the subsystems a session may start ("sftp" on a
	// stock Debian); others are refused.
	Subsystems []string
	// AuthorizedKeysFile returns the authorized_keys path sshd would name
	// for user. After a public-key login sshd sends one DEBUG message per
	// key check naming that file and the key's options; nil sends none.
	AuthorizedKeysFile func(user string) string
	// OnForward reports every port-forwarding request, all refused.
	OnForward func(meta *ConnMeta, f Forward)
	// OnKexInit is called once, when the client's first KEXINIT has
	// been read and meta.ClientAlgorithms is set.
	OnKexInit func(meta *ConnMeta)

	// LoginGraceTime is sshd's LoginGraceTime: a connection that has not
	// authenticated by then is closed without a word. 0 means no limit.
	LoginGraceTime time.Duration

	// Rand is the source of randomness; nil means crypto/rand.
	Rand io.Reader
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (cfg *Config) nowFunc() func() time.Time {
	if cfg.Now == nil {
		return time.Now
	}
	return cfg.Now
}

// ConnMeta describes a connection to callbacks.
type ConnMeta struct {
	ClientVersion string
	RemoteAddr    net.Addr
	// User is the name of the first authentication request.
	User string
	// Negotiated algorithms of the first key exchange.
	KeyExchange, HostKey, CipherIn, MACIn, Compression string
	// ClientAlgorithms is the client's first KEXINIT as
	// "kex;ciphers;macs;compression" (client to server), the string that
	// HASSH hashes.
	ClientAlgorithms string
}

// Forward is a refused port-forwarding request.
type Forward struct {
	// Kind is "direct-tcpip", "tcpip-forward", "cancel-tcpip-forward" or
	// "streamlocal-forward@openssh.com".
	Kind string
	Host string
	Port uint32
	// OriginHost and OriginPort are the originator of a direct-tcpip.
	OriginHost string
	OriginPort uint32
}

// conn is the state of one connection.
type conn struct {
	nc   net.Conn
	ctx  context.Context
	cfg  *Config
	t    *transport
	meta ConnMeta
	rand io.Reader
	now  func() time.Time

	clientVersion, serverVersion []byte
	sessionID                    []byte
	// kexCount counts completed key exchanges.
	kexCount int
	// inKex is true while a key exchange runs on the reader goroutine.
	inKex  bool
	strict bool
	// inFirstKex is true until the first NEWKEYS arrives.
	inFirstKex bool
	// hostKeyAlg is the algorithm negotiated in the last key exchange.
	hostKeyAlg string
	// compIn and compOut are the negotiated compression names, applied
	// at NEWKEYS, or after authentication for zlib@openssh.com.
	compIn, compOut string
	authenticated   bool
	// graceExpired records that LoginGraceTime closed the connection.
	graceExpired atomic.Bool
	// loggedIn mirrors authenticated for the login grace timer.
	loggedIn       atomic.Bool
	noMoreSessions bool
	// keyChecks counts public-key checks that found the key acceptable.
	keyChecks int
	// pending is a message read ahead that serve handles next.
	pending []byte

	channels *channelTable
	wg       sync.WaitGroup
}

// ServeConn runs the SSH protocol on nc after the identification
// exchange: br holds what the client sent after its identification line
// (clientVersion, without CR LF). It returns when the connection ends; a
// *DisconnectError means the server sent a DISCONNECT first, ErrDisconnected
// that the client did. The caller closes nc.
func ServeConn(ctx context.Context, nc net.Conn, br *bufio.Reader, clientVersion []byte, cfg *Config) error {
	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	now := cfg.nowFunc()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &conn{
		nc:            nc,
		ctx:           ctx,
		cfg:           cfg,
		t:             newTransport(br, nc, rnd),
		rand:          rnd,
		now:           now,
		clientVersion: clientVersion,
		serverVersion: []byte(cfg.ServerVersion),
		inFirstKex:    true,
		channels:      newChannelTable(),
	}
	c.meta.ClientVersion = string(clientVersion)
	c.meta.RemoteAddr = nc.RemoteAddr()

	if cfg.LoginGraceTime > 0 {
		grace := time.AfterFunc(cfg.LoginGraceTime, func() {
			if !c.loggedIn.Load() {
				c.graceExpired.Store(true)
				_ = nc.Close()
			}
		})
		defer grace.Stop()
	}

	err := c.run()
	if c.graceExpired.Load() {
		err = fmt.Errorf("%w: %w", ErrLoginGraceTime, err)
	}
	cancel()
	c.channels.closeAll()
	// Handlers write to a transport that now fails; wait so none outlives
	// the connection.
	_ = nc.Close()
	c.wg.Wait()
	if c.t.inflate != nil {
		c.t.inflate.close()
	}
	return err
}

func (c *conn) run() error {
	serverInit, err := marshalKexInit(&c.cfg.Algorithms, c.rand)
	if err != nil {
		return err
	}
	if err := c.t.writePacket(serverInit); err != nil {
		return err
	}

	// The first packet must be the client's KEXINIT, apart from the
	// messages any state accepts.
	for {
		payload, seq, err := c.next()
		if err != nil {
			return err
		}
		if payload[0] == msgKexInit {
			if err := c.keyExchange(serverInit, payload, seq); err != nil {
				return err
			}
			break
		}
		if err := c.t.unimplemented(seq); err != nil {
			return err
		}
	}
	return c.serve()
}

// next reads the next message for the current state. It handles what
// sshd's packet layer handles in every state (IGNORE, DEBUG,
// UNIMPLEMENTED, DISCONNECT, bad message numbers) and runs a key
// exchange the client starts.
func (c *conn) next() ([]byte, uint32, error) {
	for {
		payload, seq, err := c.t.readPacket()
		if err != nil {
			return nil, seq, c.t.readError(err)
		}
		typ := payload[0]
		if typ == 0 || typ >= 192 {
			return nil, seq, c.t.protocolError("Invalid ssh2 packet type: %d", typ)
		}
		// Debian's sshd closes silently on any message above the
		// transport range before the first key exchange ends (observed
		// against 1:9.2p1-2+deb12u10).
		if c.inFirstKex && typ > 49 {
			return nil, seq, fmt.Errorf("%w: type %d before the first key exchange", errUnexpected, typ)
		}
		// In strict mode, nothing but the key exchange may arrive before
		// the first NEWKEYS; the caller reports the violation.
		if c.inFirstKex && c.strict {
			return payload, seq, nil
		}
		switch typ {
		case msgIgnore, msgUnimplemented:
			continue
		case msgDebug:
			r := reader{b: payload[1:]}
			r.bool()
			r.string()
			r.string()
			if r.err != nil {
				return nil, seq, r.err
			}
			continue
		case msgDisconnect:
			return nil, seq, ErrDisconnected
		case msgKexInit:
			// A KEXINIT inside a key exchange goes to the caller, which
			// treats it as an unexpected message.
			if !c.inFirstKex && c.kexCount > 0 && !c.inKex {
				if err := c.keyExchange(nil, payload, seq); err != nil {
					return nil, seq, err
				}
				continue
			}
		}
		return payload, seq, nil
	}
}

// errUnexpected is a message sshd drops the connection for, silently.
var errUnexpected = errors.New("unexpected message")

// kexProtocolError is sshd's kex_protocol_error: UNIMPLEMENTED, or a
// disconnect during a strict initial key exchange.
func (c *conn) kexProtocolError(typ byte, seq uint32) error {
	if c.inFirstKex && c.strict {
		return c.t.protocolError("strict KEX violation: unexpected packet type %d (seqnr %d)", typ, seq)
	}
	return c.t.unimplemented(seq)
}

// expect reads messages until one of type want arrives. It replies to
// the others as sshd does during a key exchange.
func (c *conn) expect(want byte) ([]byte, error) {
	for {
		payload, seq, err := c.next()
		if err != nil {
			return nil, err
		}
		if payload[0] == want {
			return payload, nil
		}
		if c.inFirstKex && c.strict {
			return nil, c.kexProtocolError(payload[0], seq)
		}
		if err := c.kexProtocolError(payload[0], seq); err != nil {
			return nil, err
		}
	}
}

// keyExchange runs one key exchange from the client's KEXINIT. serverInit
// is the server's KEXINIT if already sent (always for the first one).
func (c *conn) keyExchange(serverInit, clientInit []byte, seq uint32) error {
	c.t.startKex()
	c.inKex = true
	defer func() {
		c.inKex = false
		c.t.endKex()
	}()
	if serverInit == nil {
		var err error
		if serverInit, err = marshalKexInit(&c.cfg.Algorithms, c.rand); err != nil {
			return err
		}
		c.t.mu.Lock()
		err = c.t.writeLocked(serverInit)
		c.t.mu.Unlock()
		if err != nil {
			return err
		}
	}

	ci, err := parseKexInit(clientInit)
	if err != nil {
		return err
	}
	// The fingerprint is taken before negotiation, which fails for a
	// client offering nothing in common; such clients are worth knowing.
	if c.kexCount == 0 && c.meta.ClientAlgorithms == "" {
		c.meta.ClientAlgorithms = strings.Join([]string{
			strings.Join(ci.kex, ","), strings.Join(ci.ciphersCS, ","),
			strings.Join(ci.macsCS, ","), strings.Join(ci.compCS, ","),
		}, ";")
		if c.cfg.OnKexInit != nil {
			c.cfg.OnKexInit(&c.meta)
		}
	}
	n, err := negotiate(ci, &c.cfg.Algorithms, c.kexCount == 0)
	if err != nil {
		return err
	}
	if c.kexCount == 0 {
		c.strict = n.strict
		if c.strict && seq != 0 {
			return c.t.protocolError("strict KEX violation: KEXINIT was not the first packet")
		}
		c.meta.KeyExchange, c.meta.HostKey = n.kex, n.hostKey
		c.meta.CipherIn, c.meta.MACIn, c.meta.Compression = n.cipherCS, n.macCS, n.compCS
	}
	if n.guessWrong {
		if _, _, err := c.t.readPacket(); err != nil {
			return c.t.readError(err)
		}
	}

	signer, err := c.hostSigner(n.hostKey)
	if err != nil {
		return err
	}
	method, ok := kexMethods[n.kex]
	if !ok {
		return fmt.Errorf("key exchange %q not implemented", n.kex)
	}
	hostKey := signer.PublicKey().Marshal()
	prefix := c.hashPrefix(clientInit, serverInit, hostKey)

	var k, h []byte
	if method.kex == nil {
		k, h, err = c.groupExchange(method, prefix, signer, n.hostKey)
	} else {
		k, h, err = c.singleRound(method, prefix, signer, n.hostKey)
	}
	if err != nil {
		return err
	}
	if c.sessionID == nil {
		c.sessionID = h
	}
	c.hostKeyAlg = n.hostKey
	return c.newKeys(method, n, k, h)
}

// hashPrefix is the start of every exchange hash: V_C, V_S, I_C, I_S, K_S.
func (c *conn) hashPrefix(clientInit, serverInit, hostKey []byte) []byte {
	var b []byte
	b = appendString(b, c.clientVersion)
	b = appendString(b, c.serverVersion)
	b = appendString(b, clientInit)
	b = appendString(b, serverInit)
	return appendString(b, hostKey)
}

func (c *conn) hostSigner(alg string) (ssh.AlgorithmSigner, error) {
	keyType := alg
	if strings.HasPrefix(alg, "rsa-sha2-") {
		keyType = ssh.KeyAlgoRSA
	}
	for _, s := range c.cfg.HostKeys {
		if s.PublicKey().Type() != keyType {
			continue
		}
		as, ok := s.(ssh.AlgorithmSigner)
		if !ok {
			return nil, fmt.Errorf("host key %s cannot choose its signature algorithm", keyType)
		}
		return as, nil
	}
	return nil, fmt.Errorf("no host key for %s", alg)
}

func (c *conn) sign(signer ssh.AlgorithmSigner, alg string, data []byte) ([]byte, error) {
	sig, err := signer.SignWithAlgorithm(c.rand, data, alg)
	if err != nil {
		return nil, fmt.Errorf("sign with host key: %w", err)
	}
	return ssh.Marshal(sig), nil
}

// singleRound runs KEXDH_INIT/REPLY or KEX_ECDH_INIT/REPLY.
func (c *conn) singleRound(method kexMethod, prefix []byte, signer ssh.AlgorithmSigner, alg string) ([]byte, []byte, error) {
	payload, err := c.expect(msgKexDHInit)
	if err != nil {
		return nil, nil, err
	}
	r := reader{b: payload[1:]}
	clientPub := r.string()
	if err := r.end(); err != nil {
		return nil, nil, fmt.Errorf("parse key exchange init: %w", err)
	}
	serverPub, k, err := method.kex.ServerKEX(c.rand, clientPub)
	if err != nil {
		return nil, nil, err
	}

	hh := method.newHash()
	hh.Write(prefix)
	if method.mpintValues {
		e := reader{b: appendString(nil, clientPub)}
		hh.Write(appendMpint(nil, e.mpint()))
	} else {
		hh.Write(appendString(nil, clientPub))
	}
	hh.Write(appendString(nil, serverPub))
	hh.Write(k)
	h := hh.Sum(nil)

	sig, err := c.sign(signer, alg, h)
	if err != nil {
		return nil, nil, err
	}
	reply := []byte{msgKexDHReply}
	reply = appendString(reply, signer.PublicKey().Marshal())
	reply = appendString(reply, serverPub)
	reply = appendString(reply, sig)
	if err := c.writeKex(reply); err != nil {
		return nil, nil, err
	}
	return k, h, nil
}

// groupExchange runs diffie-hellman-group-exchange (RFC 4419).
func (c *conn) groupExchange(method kexMethod, prefix []byte, signer ssh.AlgorithmSigner, alg string) ([]byte, []byte, error) {
	payload, err := c.expect(msgKexGexRequest)
	if err != nil {
		return nil, nil, err
	}
	req, err := parseGexRequest(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("parse group exchange request: %w", err)
	}
	minBits, wantBits, maxBits, ok := req.clamp()
	if !ok {
		return nil, nil, errors.New("group exchange request out of range")
	}
	group, err := chooseGroup(builtinModuli, minBits, wantBits, maxBits, c.rand)
	if err != nil {
		return nil, nil, err
	}
	msg := []byte{msgKexGexGroup}
	msg = appendMpint(msg, group.p)
	msg = appendMpint(msg, group.g)
	if err := c.writeKex(msg); err != nil {
		return nil, nil, err
	}

	payload, err = c.expect(msgKexGexInit)
	if err != nil {
		return nil, nil, err
	}
	r := reader{b: payload[1:]}
	e := r.mpint()
	if err := r.end(); err != nil {
		return nil, nil, fmt.Errorf("parse group exchange init: %w", err)
	}
	f, k, err := group.ServerKEX(c.rand, mpintBody(e))
	if err != nil {
		return nil, nil, err
	}

	hh := method.newHash()
	hh.Write(prefix)
	hh.Write(req.hashParams(group))
	hh.Write(appendMpint(nil, e))
	hh.Write(appendString(nil, f))
	hh.Write(k)
	h := hh.Sum(nil)

	sig, err := c.sign(signer, alg, h)
	if err != nil {
		return nil, nil, err
	}
	reply := []byte{msgKexGexReply}
	reply = appendString(reply, signer.PublicKey().Marshal())
	reply = appendString(reply, f)
	reply = appendString(reply, sig)
	if err := c.writeKex(reply); err != nil {
		return nil, nil, err
	}
	return k, h, nil
}

func (c *conn) writeKex(payload []byte) error {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	return c.t.writeLocked(payload)
}

// newKeys sends NEWKEYS (and EXT_INFO after the first), switches the
// outgoing keys, waits for the client's NEWKEYS and switches the incoming
// ones.
func (c *conn) newKeys(method kexMethod, n *negotiated, k, h []byte) error {
	derive := func(letter byte, size int) []byte {
		return deriveKey(method.newHash, k, h, c.sessionID, letter, size)
	}
	csSpec, scSpec := cipherSpecs[n.cipherCS], cipherSpecs[n.cipherSC]
	keys := sessionKeys{
		ivCS:  derive('A', csSpec.ivBytes),
		ivSC:  derive('B', scSpec.ivBytes),
		keyCS: derive('C', csSpec.keyBytes),
		keySC: derive('D', scSpec.keyBytes),
	}
	if !csSpec.aead {
		keys.macCS = derive('E', macKeyBytes(n.macCS))
	}
	if !scSpec.aead {
		keys.macSC = derive('F', macKeyBytes(n.macSC))
	}
	out, err := newDirection(n.cipherSC, n.macSC, keys.keySC, keys.ivSC, keys.macSC)
	if err != nil {
		return err
	}
	in, err := newDirection(n.cipherCS, n.macCS, keys.keyCS, keys.ivCS, keys.macCS)
	if err != nil {
		return err
	}

	first := c.kexCount == 0
	c.t.mu.Lock()
	err = c.t.writeLocked([]byte{msgNewKeys})
	if err == nil {
		c.t.sealer = out
		if c.strict {
			c.t.writeSeq = 0
		}
		c.compOut = n.compSC
		c.t.deflate = nil
		if c.compOut == "zlib@openssh.com" && c.authenticated {
			c.t.deflate = newCompressor()
		}
		if first && n.extInfo && c.cfg.ServerSigAlgs != "" {
			err = c.t.writeLocked(c.extInfo())
		}
	}
	c.t.mu.Unlock()
	if err != nil {
		return err
	}

	if _, err := c.expect(msgNewKeys); err != nil {
		return err
	}
	c.t.opener = in
	if c.strict {
		c.t.readSeq = 0
	}
	c.compIn = n.compCS
	if c.t.inflate != nil {
		c.t.inflate.close()
		c.t.inflate = nil
	}
	if c.compIn == "zlib@openssh.com" && c.authenticated {
		c.t.inflate = newDecompressor()
	}
	c.kexCount++
	c.inFirstKex = false
	return nil
}

func (c *conn) extInfo() []byte {
	count := uint32(1)
	if c.cfg.PublickeyHostbound {
		count++
	}
	b := []byte{msgExtInfo}
	b = appendUint32(b, count)
	b = appendText(b, "server-sig-algs")
	b = appendText(b, c.cfg.ServerSigAlgs)
	if c.cfg.PublickeyHostbound {
		b = appendText(b, "publickey-hostbound@openssh.com")
		b = appendText(b, "0")
	}
	return b
}

// enableDelayedCompression starts zlib@openssh.com after USERAUTH_SUCCESS
// went out (the caller holds the write lock). The incoming side starts
// at the same point, since the client compresses from the first packet it
// sends after reading USERAUTH_SUCCESS.
func (c *conn) enableDelayedCompression() {
	c.authenticated = true
	c.loggedIn.Store(true)
	if c.compOut == "zlib@openssh.com" {
		c.t.deflate = newCompressor()
	}
	if c.compIn == "zlib@openssh.com" {
		c.t.inflate = newDecompressor()
	}
}
