package webhooks

import (
	"net/netip"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// validate reports what is wrong with a rule, or "".
func (s Suppression) validate() string {
	switch {
	case s.Prefix.IsValid() && s.Prefix != s.Prefix.Masked():
		return "prefix has host bits set"
	case !s.NotBefore.IsZero() && !s.NotAfter.IsZero() && !s.NotAfter.After(s.NotBefore):
		return "not_after must be later than not_before"
	case !s.Prefix.IsValid() && s.AgentID == "" && s.Decky == "" && s.NotBefore.IsZero() && s.NotAfter.IsZero():
		return "a rule needs a prefix, agent, decky or time window"
	}
	return ""
}

// matches reports whether the rule drops m for subscription subID at now.
// Every criterion the rule sets must hold. A notice without the value a
// criterion needs, such as a reuse notice for a prefix, does not match.
func (s Suppression) matches(subID string, m message, now time.Time) bool {
	if s.SubscriptionID != "" && s.SubscriptionID != subID {
		return false
	}
	if !s.NotBefore.IsZero() && now.Before(s.NotBefore) {
		return false
	}
	if !s.NotAfter.IsZero() && !now.Before(s.NotAfter) {
		return false
	}
	f := factsOf(m.notice)
	if s.Prefix.IsValid() {
		addrs := addresses(m)
		if len(addrs) == 0 {
			return false
		}
		for _, a := range addrs {
			ip, err := netip.ParseAddr(a)
			if err != nil || !s.Prefix.Contains(ip.Unmap()) {
				return false
			}
		}
	}
	if s.AgentID != "" && f.agent != s.AgentID {
		return false
	}
	if s.Decky != "" {
		deckies := f.deckies
		if m.incident != nil {
			deckies = m.incident.Deckies
		}
		if len(deckies) == 0 {
			return false
		}
		for _, d := range deckies {
			if d != s.Decky {
				return false
			}
		}
	}
	return true
}

// suppressed returns the first rule that drops m, if any.
func suppressed(rules []Suppression, subID string, m message, now time.Time) (Suppression, bool) {
	for _, r := range rules {
		if r.matches(subID, m, now) {
			return r, true
		}
	}
	return Suppression{}, false
}

// SuppressesEvent reports whether a rule that covers every webhook drops
// se now. Rules scoped to one webhook concern that webhook only. Export
// outputs that apply suppression call it for every event they select.
func (d *Dispatcher) SuppressesEvent(se *apiv1.StoredEvent) bool {
	return d.suppressesEverywhere(message{notice: &apiv1.Notice{Detail: &apiv1.Notice_Event{Event: se}}})
}

// SuppressesNotice reports whether a rule that covers every webhook
// drops n now.
func (d *Dispatcher) SuppressesNotice(n *apiv1.Notice) bool {
	return d.suppressesEverywhere(message{notice: n})
}

func (d *Dispatcher) suppressesEverywhere(m message) bool {
	now := d.cfg.Clock.Now()
	for _, r := range *d.suppressions.Load() {
		if r.SubscriptionID == "" && r.matches("", m, now) {
			return true
		}
	}
	return false
}
