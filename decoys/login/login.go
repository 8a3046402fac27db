// Package login decides which authentication attempts a decoy accepts.
// Accepting every password marks a honeypot, so the default mode
// accepts none. The mode "after:N" lets a persistent guesser in on the
// Nth try, and "list" accepts only configured pairs.
package login

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// Option keys read by Parse.
const (
	KeyLogin       = "login"
	KeyCredentials = "credentials"
)

// Modes.
const (
	ModeNever = "never"
	ModeAfter = "after"
	ModeList  = "list"
)

// maxSources caps the per-source table. The oldest entry is evicted
// first, so a scan from many addresses cannot grow memory.
const maxSources = 10000

// maxAfter is the largest N accepted in "after:N".
const maxAfter = 20

// ErrInvalid is wrapped by every Parse error.
var ErrInvalid = errors.New("invalid login policy")

// Policy decides whether a login succeeds. It is safe for concurrent use.
type Policy struct {
	mode  string
	after int
	creds map[string]string

	mu      sync.Mutex
	sources map[netip.Addr]*sourceState
	// order lists sources by first sight, for eviction.
	order []netip.Addr
}

type sourceState struct {
	failures int
	// granted is the SHA-256 of the password that let this source in.
	// That password keeps working, as a real account's would. Keeping
	// the hash bounds the entry's size whatever the password's length.
	granted *[sha256.Size]byte
}

// Keys returns the option keys Parse reads, so services can reject others.
func Keys() []string { return []string{KeyLogin, KeyCredentials} }

// Parse reads the service options "login" ("never" by default,
// "after:N" or "list") and "credentials" ("user:pass,user2:pass2", read
// by "list"). The seed is part of the signature for per-decky variation
// and none of these modes uses it.
func Parse(opts map[string]string, seed []byte) (*Policy, error) {
	_ = seed
	p := &Policy{mode: ModeNever, sources: map[netip.Addr]*sourceState{}}
	mode := strings.TrimSpace(opts[KeyLogin])
	creds, hasCreds := opts[KeyCredentials]
	switch {
	case mode == "" || mode == ModeNever:
		p.mode = ModeNever
	case strings.HasPrefix(mode, ModeAfter+":"):
		n, err := strconv.Atoi(strings.TrimPrefix(mode, ModeAfter+":"))
		if err != nil || n < 1 || n > maxAfter {
			return nil, fmt.Errorf("%w: login mode %q: set N in after:N to an integer from 1 to %d", ErrInvalid, mode, maxAfter)
		}
		p.mode, p.after = ModeAfter, n
	case mode == ModeList:
		if !hasCreds || strings.TrimSpace(creds) == "" {
			return nil, fmt.Errorf("%w: login mode \"list\" is missing the option %q: set it to user:pass,user2:pass2", ErrInvalid, KeyCredentials)
		}
		p.mode = ModeList
	default:
		return nil, fmt.Errorf("%w: unknown login mode %q: use %q, %q or %q", ErrInvalid, mode, ModeNever, "after:N", ModeList)
	}
	if hasCreds && p.mode != ModeList {
		return nil, fmt.Errorf("%w: option %q is read only in login mode \"list\": remove it or set login to list", ErrInvalid, KeyCredentials)
	}
	if p.mode == ModeList {
		p.creds = map[string]string{}
		for i, pair := range strings.Split(creds, ",") {
			user, pass, ok := strings.Cut(strings.TrimSpace(pair), ":")
			if !ok || user == "" {
				// The entry is not quoted: it may hold a password.
				return nil, fmt.Errorf("%w: credential %d of %q is not user:password", ErrInvalid, i+1, KeyCredentials)
			}
			p.creds[user] = pass
		}
	}
	return p, nil
}

// Allow reports whether this attempt succeeds. In "after:N" mode the
// failed attempts are counted per source address, whatever the
// principal. Once a source got in with a password, the same password
// works again for it and no other does.
func (p *Policy) Allow(source netip.Addr, principal string, secret []byte) bool {
	switch p.mode {
	case ModeList:
		want, ok := p.creds[principal]
		return ok && subtle.ConstantTimeCompare([]byte(want), secret) == 1
	case ModeAfter:
		return p.allowAfter(source.Unmap(), secret)
	}
	return false
}

func (p *Policy) allowAfter(src netip.Addr, secret []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.sources[src]
	if !ok {
		if len(p.order) >= maxSources {
			oldest := p.order[0]
			p.order = p.order[1:]
			delete(p.sources, oldest)
		}
		st = &sourceState{}
		p.sources[src] = st
		p.order = append(p.order, src)
	}
	sum := sha256.Sum256(secret)
	if st.granted != nil {
		return subtle.ConstantTimeCompare(st.granted[:], sum[:]) == 1
	}
	if st.failures+1 >= p.after {
		st.granted = &sum
		return true
	}
	st.failures++
	return false
}
