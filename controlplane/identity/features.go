package identity

import (
	"hash/fnv"
	"net/url"
	"slices"
	"strings"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Observation is one session of one source address: the unit the
// clusterer assigns to identities. Events without a session id are
// grouped per source address.
type Observation struct {
	// Key is the session id, or "addr:" and the address.
	Key     string
	Address string
	ASN     uint32
	First   time.Time
	Events  int

	tools    []uint64 // client fingerprints
	creds    []uint64 // (principal, kind, secret digest) presented
	accepted []uint64 // the subset a decoy accepted
	// direct is the subset accepted within the session's first
	// directLogin attempts: a secret the attacker knew, not guessed.
	direct   []uint64
	attempts int
	cmds     []uint64 // command lines
	cmdPairs []uint64 // consecutive pairs of command lines: the order
	// cmdSeq contains the distinct command lines in the order first run,
	// the first maxCmdSeq of them.
	cmdSeq   []uint64
	commands int
	infra    []uint64 // payload digests and C2 endpoints
	ks       Keystrokes
	hasKS    bool
	// stock is set when the client is a stock client or library.
	stock bool
}

// Token namespaces, so that equal text in two roles never collides.
const (
	nsTool     = "tool\x00"
	nsCred     = "cred\x00"
	nsCmd      = "cmd\x00"
	nsCmdPair  = "cmd2\x00"
	nsPayload  = "payload\x00"
	nsC2       = "c2\x00"
	nsAddress  = "addr\x00"
	maxPerSet  = 512 // tokens kept per set; a flood adds no evidence
	maxCmdLine = 256 // characters of a command line used for its token
	// maxCmdSeq bounds the ordered lines compared per session: the
	// comparison costs their product, and an operator's habit shows in
	// far fewer lines.
	maxCmdSeq = 128
	// directLogin is the attempts within which an accepted secret counts
	// as known: one try, or two for a client that first probes "none".
	directLogin = 2
)

func token(ns string, parts ...string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(ns))
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// extract groups inputs into observations, in order of first event.
func extract(inputs []Input, asn ASNLookup, w Weights) []*Observation {
	byKey := map[string]*Observation{}
	var order []*Observation
	prevCmd := map[*Observation]string{}

	for _, in := range inputs {
		ev := in.Event
		if ev == nil {
			continue
		}
		addr := ev.GetSource().GetAddress()
		key := ev.GetSessionId()
		if key == "" {
			key = "addr:" + addr
		}
		o := byKey[key]
		if o == nil {
			o = &Observation{Key: key, Address: addr, First: ev.GetTime().AsTime()}
			if asn != nil {
				o.ASN = asn(addr)
			}
			byKey[key] = o
			order = append(order, o)
		}
		o.Events++
		if t := ev.GetTime().AsTime(); t.Before(o.First) {
			o.First = t
		}

		p := in.Proposed
		if p.HASSH != "" {
			o.tools = addToken(o.tools, token(nsTool, "hassh", p.HASSH))
		}
		if p.JA4 != "" {
			o.tools = addToken(o.tools, token(nsTool, "ja4", p.JA4))
		}
		if p.SSHClientVersion != "" {
			o.tools = addToken(o.tools, token(nsTool, "ssh", p.SSHClientVersion))
			o.stock = o.stock || hasAnyPrefix(p.SSHClientVersion, w.StockClients)
		}

		switch {
		case ev.GetAuthAttempt() != nil:
			a := ev.GetAuthAttempt()
			t := token(nsCred, a.GetPrincipal(), a.GetSecretKind(), string(a.GetSecretSha256()))
			o.creds = addToken(o.creds, t)
			o.attempts++
			if a.GetOutcome() == eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED {
				o.accepted = addToken(o.accepted, t)
				if o.attempts <= directLogin {
					o.direct = addToken(o.direct, t)
				}
			}
		case ev.GetCommand() != nil:
			line := normalizeCommand(ev.GetCommand().GetLine())
			if line == "" {
				break
			}
			o.commands++
			t := token(nsCmd, line)
			if len(o.cmdSeq) < maxCmdSeq && !slices.Contains(o.cmds, t) {
				o.cmdSeq = append(o.cmdSeq, t)
			}
			o.cmds = addToken(o.cmds, t)
			if prev, ok := prevCmd[o]; ok {
				o.cmdPairs = addToken(o.cmdPairs, token(nsCmdPair, prev, line))
			}
			prevCmd[o] = line
		case ev.GetHttpRequest() != nil:
			r := ev.GetHttpRequest()
			names := make([]string, 0, len(r.GetHeaders()))
			for _, h := range r.GetHeaders() {
				names = append(names, strings.ToLower(h.GetName()))
			}
			o.tools = addToken(o.tools, token(nsTool, "http", r.GetUserAgent(), strings.Join(names, ",")))
			o.stock = o.stock || hasAnyPrefix(r.GetUserAgent(), w.StockClients)
		case ev.GetDownloadRequested() != nil:
			d := ev.GetDownloadRequested()
			o.infra = addC2(o.infra, d.GetUrl())
			if len(d.GetSha256()) > 0 {
				o.infra = addToken(o.infra, token(nsPayload, string(d.GetSha256())))
			}
		case ev.GetFileCaptured() != nil:
			f := ev.GetFileCaptured()
			if len(f.GetSha256()) > 0 {
				o.infra = addToken(o.infra, token(nsPayload, string(f.GetSha256())))
			}
			o.infra = addC2(o.infra, f.GetUrl())
		case ev.GetForwardRequested() != nil:
			f := ev.GetForwardRequested()
			if f.GetHost() != "" {
				o.infra = addToken(o.infra, token(nsC2, strings.ToLower(f.GetHost())))
			}
		case ev.GetSessionRecorded() != nil:
			if ks, err := KeystrokesFromCast(ev.GetSessionRecorded().GetCast()); err == nil {
				o.ks, o.hasKS = ks, true
			}
		}
	}
	for _, o := range order {
		slices.Sort(o.tools)
		slices.Sort(o.creds)
		slices.Sort(o.accepted)
		slices.Sort(o.direct)
		slices.Sort(o.cmds)
		slices.Sort(o.cmdPairs)
		slices.Sort(o.infra)
	}
	return order
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func addToken(set []uint64, t uint64) []uint64 {
	if len(set) >= maxPerSet || slices.Contains(set, t) {
		return set
	}
	return append(set, t)
}

// addC2 records the host (and port) a URL points at: the endpoint an
// operator controls. Paths vary per target; the host does not.
func addC2(set []uint64, raw string) []uint64 {
	if raw == "" {
		return set
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return set
	}
	return addToken(set, token(nsC2, strings.ToLower(u.Host)))
}

// normalizeCommand collapses whitespace so that retyped commands compare
// equal, and caps the length used for the token.
func normalizeCommand(line string) string {
	line = strings.Join(strings.Fields(line), " ")
	if len(line) > maxCmdLine {
		line = line[:maxCmdLine]
	}
	return line
}
