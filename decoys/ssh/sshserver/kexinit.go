package sshserver

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Message numbers (RFC 4250 section 4.1 and OpenSSH's PROTOCOL).
const (
	msgDisconnect     = 1
	msgIgnore         = 2
	msgUnimplemented  = 3
	msgDebug          = 4
	msgServiceRequest = 5
	msgServiceAccept  = 6
	msgExtInfo        = 7
	msgKexInit        = 20
	msgNewKeys        = 21
	// 30-49 are method specific: KEXDH_INIT/REPLY and KEX_ECDH_INIT/REPLY
	// share 30 and 31; group exchange uses 31-34.
	msgKexDHInit            = 30
	msgKexDHReply           = 31
	msgKexGexGroup          = 31
	msgKexGexInit           = 32
	msgKexGexReply          = 33
	msgKexGexRequest        = 34
	msgUserauthRequest      = 50
	msgUserauthFailure      = 51
	msgUserauthSuccess      = 52
	msgUserauthBanner       = 53
	msgUserauthPKOK         = 60
	msgUserauthInfoRequest  = 60
	msgUserauthInfoResponse = 61
	msgGlobalRequest        = 80
	msgRequestSuccess       = 81
	msgRequestFailure       = 82
	msgChannelOpen          = 90
	msgChannelOpenConfirm   = 91
	msgChannelOpenFailure   = 92
	msgChannelWindowAdjust  = 93
	msgChannelData          = 94
	msgChannelExtendedData  = 95
	msgChannelEOF           = 96
	msgChannelClose         = 97
	msgChannelRequest       = 98
	msgChannelSuccess       = 99
	msgChannelFailure       = 100
)

// Disconnect reason codes (RFC 4250 section 4.2.2).
const (
	disconnectProtocolError = 2
	disconnectByApplication = 11
)

// KEXINIT markers: pseudo-algorithms that announce an extension.
const (
	kexStrictServer = "kex-strict-s-v00@openssh.com"
	kexStrictClient = "kex-strict-c-v00@openssh.com"
	extInfoClient   = "ext-info-c"
)

// Algorithms are the name-lists of the server's KEXINIT, each in the
// order the server prefers them. Both directions use the same lists, as
// sshd does.
type Algorithms struct {
	KeyExchanges []string
	HostKeys     []string
	Ciphers      []string
	MACs         []string
	Compressions []string
}

// kexInit is a decoded KEXINIT message.
type kexInit struct {
	cookie               []byte
	kex, hostKey         []string
	ciphersCS, ciphersSC []string
	macsCS, macsSC       []string
	compCS, compSC       []string
	langCS, langSC       []string
	firstKexFollows      bool
}

func splitList(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), ",")
}

// parseKexInit decodes a KEXINIT payload, message number included.
func parseKexInit(payload []byte) (*kexInit, error) {
	r := reader{b: payload}
	if r.byte() != msgKexInit {
		return nil, errors.New("not a KEXINIT message")
	}
	k := &kexInit{cookie: r.bytes(16)}
	lists := []*[]string{&k.kex, &k.hostKey, &k.ciphersCS, &k.ciphersSC, &k.macsCS, &k.macsSC, &k.compCS, &k.compSC, &k.langCS, &k.langSC}
	for _, l := range lists {
		*l = splitList(r.string())
	}
	k.firstKexFollows = r.bool()
	_ = r.uint32() // reserved
	if r.err != nil {
		return nil, fmt.Errorf("parse KEXINIT: %w", r.err)
	}
	// sshd ignores bytes after the reserved field (kex_buf2prop).
	return k, nil
}

// marshalKexInit builds the server's KEXINIT with a random cookie.
func marshalKexInit(a *Algorithms, rand io.Reader) ([]byte, error) {
	b := []byte{msgKexInit}
	cookie := make([]byte, 16)
	if _, err := io.ReadFull(rand, cookie); err != nil {
		return nil, fmt.Errorf("read cookie: %w", err)
	}
	b = append(b, cookie...)
	for _, l := range [][]string{a.KeyExchanges, a.HostKeys, a.Ciphers, a.Ciphers, a.MACs, a.MACs, a.Compressions, a.Compressions, nil, nil} {
		b = appendText(b, strings.Join(l, ","))
	}
	b = appendBool(b, false)
	return appendUint32(b, 0), nil
}

// negotiated is the outcome of algorithm negotiation.
type negotiated struct {
	kex, hostKey       string
	cipherCS, cipherSC string
	macCS, macSC       string
	compCS, compSC     string
	strict, extInfo    bool
	// guessWrong means the client sent a guessed first key exchange
	// packet that must be ignored.
	guessWrong bool
}

// errNoMatch is a negotiation failure; sshd closes without a DISCONNECT
// (sshpkt_fatal after kex_choose_conf fails).
var errNoMatch = errors.New("no matching algorithm")

// choose returns the first of the client's names the server also lists,
// as RFC 4253 section 7.1 prescribes.
func choose(client, server []string) (string, bool) {
	for _, c := range client {
		for _, s := range server {
			if c == s {
				return c, true
			}
		}
	}
	return "", false
}

func negotiate(client *kexInit, server *Algorithms, first bool) (*negotiated, error) {
	n := &negotiated{}
	var ok bool
	if n.kex, ok = choose(client.kex, server.KeyExchanges); !ok {
		return nil, fmt.Errorf("%w for key exchange", errNoMatch)
	}
	if n.hostKey, ok = choose(client.hostKey, server.HostKeys); !ok {
		return nil, fmt.Errorf("%w for host key", errNoMatch)
	}
	for _, p := range []struct {
		out            *string
		client, server []string
		what           string
	}{
		{&n.cipherCS, client.ciphersCS, server.Ciphers, "cipher"},
		{&n.cipherSC, client.ciphersSC, server.Ciphers, "cipher"},
		{&n.macCS, client.macsCS, server.MACs, "mac"},
		{&n.macSC, client.macsSC, server.MACs, "mac"},
		{&n.compCS, client.compCS, server.Compressions, "compression"},
		{&n.compSC, client.compSC, server.Compressions, "compression"},
	} {
		if *p.out, ok = choose(p.client, p.server); ok {
			continue
		}
		// An AEAD cipher needs no MAC, so sshd accepts a MAC list
		// without a match for it.
		if p.what == "mac" {
			cipher := n.cipherCS
			if p.out == &n.macSC {
				cipher = n.cipherSC
			}
			if cipherSpecs[cipher].aead {
				continue
			}
		}
		return nil, fmt.Errorf("%w for %s", errNoMatch, p.what)
	}
	if first {
		n.extInfo = contains(client.kex, extInfoClient)
		n.strict = contains(client.kex, kexStrictClient) && contains(server.KeyExchanges, kexStrictServer)
	}
	if client.firstKexFollows && (len(client.kex) == 0 || client.kex[0] != n.kex ||
		len(client.hostKey) == 0 || client.hostKey[0] != n.hostKey) {
		n.guessWrong = true
	}
	return n, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
