// Package campaign groups attacker identities into campaigns: the
// identities that work on the same operation. Five kinds of evidence
// join pairs of identities. A phase hand-off on the same targets is a
// scanner, then a brute forcer, then an interactive operator. A handed-
// over credential is one that an identity guessed and another used at
// once. Shared infrastructure is a C2 host or payload hash. Temporal
// overlap is activity on the same targets at the same time, and a cohort
// is identities first seen together on the same targets. Pairs whose
// weighted evidence reaches Threshold are joined. The Engine turns
// successive clusterings into soft, revocable merges, as the identity
// engine does for identities.
package campaign

import (
	"encoding/hex"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Phase is how far an identity got on one target, in the order an
// intrusion escalates.
type Phase int

// Phases, lowest first. A later phase on the same target after an
// earlier one is the hand-off the campaign clusterer looks for.
const (
	// PhaseScan: connections or HTTP requests, no authentication.
	PhaseScan Phase = iota + 1
	// PhaseBrute: authentication attempts, including a password the
	// decoy accepted after guessing: a lucky brute forcer is still one.
	PhaseBrute
	// PhaseAccess: a login with a credential known in advance, accepted
	// within the session's first directLogin attempts.
	PhaseAccess
	// PhaseShell: commands after logging in.
	PhaseShell
	// PhaseInstall: a download or a captured file.
	PhaseInstall
)

// String returns the phase name used in evidence details.
func (p Phase) String() string {
	switch p {
	case PhaseScan:
		return "scan"
	case PhaseBrute:
		return "brute"
	case PhaseAccess:
		return "access"
	case PhaseShell:
		return "shell"
	case PhaseInstall:
		return "install"
	}
	return "none"
}

// Target is one service on one decky.
type Target struct {
	Decky   string
	Service string
}

// String returns "decky/service".
func (t Target) String() string { return t.Decky + "/" + t.Service }

// Span is an identity's activity on one target.
type Span struct {
	First, Last time.Time
	Phase       Phase
}

func (s *Span) add(t time.Time, p Phase) {
	if s.First.IsZero() || t.Before(s.First) {
		s.First = t
	}
	if t.After(s.Last) {
		s.Last = t
	}
	s.Phase = max(s.Phase, p)
}

func (s *Span) merge(o Span) {
	s.add(o.First, o.Phase)
	s.add(o.Last, o.Phase)
}

// Limits on what one session contributes, so a flood adds no evidence
// and costs bounded memory.
const (
	maxInfraPerSession = 64
	maxCredsPerSession = 64
	// directLogin is the attempts within which an accepted secret counts
	// as known rather than guessed: one try, or two for a client that
	// first probes "none". The identity clusterer uses the same rule.
	directLogin = 2
)

// Session is the campaign clusterer's summary of one session: its spans
// per target, the infrastructure it named, and the credentials it
// guessed or used directly. Build one with Add, one event at a time.
type Session struct {
	Attacker string
	Spans    map[Target]*Span
	// Infra holds "c2:" and a lower-case host[:port], or "sha256:" and a
	// hex payload digest.
	Infra map[string]struct{}
	// Found maps a credential digest to when the session guessed it: the
	// decoy accepted it after more than directLogin attempts.
	Found map[string]time.Time
	// Direct maps a credential digest to when the session used it within
	// its first directLogin attempts: a secret it already knew.
	Direct   map[string]time.Time
	attempts int
}

// NewSession returns an empty Session of an attacker.
func NewSession(attacker string) *Session {
	return &Session{
		Attacker: attacker, Spans: map[Target]*Span{}, Infra: map[string]struct{}{},
		Found: map[string]time.Time{}, Direct: map[string]time.Time{},
	}
}

// Add records one event of the session.
func (s *Session) Add(ev *eventv1.Event) {
	if ev == nil {
		return
	}
	t := ev.GetTime().AsTime()
	phase := PhaseScan
	switch {
	case ev.GetAuthAttempt() != nil:
		a := ev.GetAuthAttempt()
		s.attempts++
		phase = PhaseBrute
		if a.GetOutcome() == eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED && s.noteCredential(credentialKey(a), t) {
			phase = PhaseAccess
		}
	case ev.GetCommand() != nil:
		phase = PhaseShell
	case ev.GetDownloadRequested() != nil:
		phase = PhaseInstall
		d := ev.GetDownloadRequested()
		s.noteHost(d.GetUrl())
		s.noteDigest(d.GetSha256())
	case ev.GetFileCaptured() != nil:
		phase = PhaseInstall
		f := ev.GetFileCaptured()
		s.noteHost(f.GetUrl())
		s.noteDigest(f.GetSha256())
	case ev.GetForwardRequested() != nil:
		phase = PhaseShell
		if h := ev.GetForwardRequested().GetHost(); h != "" {
			s.noteInfra("c2:" + strings.ToLower(h))
		}
	}
	target := Target{Decky: ev.GetDecky(), Service: ev.GetService()}
	span := s.Spans[target]
	if span == nil {
		span = &Span{}
		s.Spans[target] = span
	}
	span.add(t, phase)
}

func credentialKey(a *eventv1.AuthAttempt) string {
	return a.GetPrincipal() + "\x00" + a.GetSecretKind() + "\x00" + hex.EncodeToString(a.GetSecretSha256())
}

// noteCredential records an accepted credential as known or guessed and
// reports whether it was known.
func (s *Session) noteCredential(key string, t time.Time) bool {
	direct := s.attempts <= directLogin
	if len(s.Found)+len(s.Direct) >= maxCredsPerSession {
		return direct
	}
	seen := s.Found
	if direct {
		seen = s.Direct
	}
	if _, ok := seen[key]; !ok {
		seen[key] = t
	}
	return direct
}

// noteHost records the host (and port) a URL points at: paths vary per
// target, the host an operator controls does not.
func (s *Session) noteHost(raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return
	}
	s.noteInfra("c2:" + strings.ToLower(u.Host))
}

func (s *Session) noteDigest(sum []byte) {
	if len(sum) > 0 {
		s.noteInfra("sha256:" + hex.EncodeToString(sum))
	}
}

func (s *Session) noteInfra(key string) {
	if len(s.Infra) < maxInfraPerSession {
		s.Infra[key] = struct{}{}
	}
}

// Activity is everything the clusterer weighs about one identity: the
// union of its sessions.
type Activity struct {
	Identity  string
	Attackers []string
	First     time.Time
	Last      time.Time
	Spans     map[Target]Span
	Infra     map[string]struct{}
	Found     map[string]time.Time
	Direct    map[string]time.Time
}

// NewActivity merges the sessions of one identity.
func NewActivity(identity string, sessions []*Session) *Activity {
	a := &Activity{
		Identity: identity, Spans: map[Target]Span{}, Infra: map[string]struct{}{},
		Found: map[string]time.Time{}, Direct: map[string]time.Time{},
	}
	attackers := map[string]struct{}{}
	for _, s := range sessions {
		if s.Attacker != "" {
			attackers[s.Attacker] = struct{}{}
		}
		for t, span := range s.Spans {
			merged, ok := a.Spans[t]
			if !ok {
				merged = *span
			} else {
				merged.merge(*span)
			}
			a.Spans[t] = merged
			if a.First.IsZero() || span.First.Before(a.First) {
				a.First = span.First
			}
			if span.Last.After(a.Last) {
				a.Last = span.Last
			}
		}
		maps.Copy(a.Infra, s.Infra)
		earliest(a.Found, s.Found)
		earliest(a.Direct, s.Direct)
	}
	a.Attackers = slices.Sorted(maps.Keys(attackers))
	return a
}

// earliest copies src into dst, keeping the earlier time of a key in both.
func earliest(dst, src map[string]time.Time) {
	for k, t := range src {
		if old, ok := dst[k]; !ok || t.Before(old) {
			dst[k] = t
		}
	}
}
