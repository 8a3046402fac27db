package webhooks

import (
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Subjects of the notices the dispatcher makes itself.
const (
	// SubjectTest is the subject of the message Test sends.
	SubjectTest = "webhook.test"
	// SubjectIncident is the subject of the follow-up that summarises the
	// notices grouped in a quiet period.
	SubjectIncident = "webhook.incident"
)

// maxIncidentValues bounds the distinct deckies and addresses an
// incident remembers, so a scan of a large network costs bounded memory.
const maxIncidentValues = 50

// Incident summarises the notices about one attacker that arrived during
// a quiet period after the first one, which was delivered at once.
type Incident struct {
	AttackerID string
	// Count is how many notices were grouped, not counting the first.
	Count int
	// First and Last are the times of the first and last grouped notice.
	First time.Time
	Last  time.Time
	// Subjects counts the grouped notices per subject.
	Subjects map[string]int
	// Deckies and Addresses are distinct values seen, at most
	// maxIncidentValues of each.
	Deckies   []string
	Addresses []string
	// Truncated reports that more distinct values were seen than kept.
	Truncated bool
}

func (inc Incident) clone() Incident {
	inc.Subjects = maps.Clone(inc.Subjects)
	inc.Deckies = slices.Clone(inc.Deckies)
	inc.Addresses = slices.Clone(inc.Addresses)
	return inc
}

// add counts n into the incident.
func (inc *Incident) add(n *apiv1.Notice) {
	t := n.GetTime().AsTime()
	if inc.Count == 0 || t.Before(inc.First) {
		inc.First = t
	}
	if t.After(inc.Last) {
		inc.Last = t
	}
	inc.Count++
	if inc.Subjects == nil {
		inc.Subjects = map[string]int{}
	}
	if _, ok := inc.Subjects[n.GetSubject()]; ok || len(inc.Subjects) < maxIncidentValues {
		inc.Subjects[n.GetSubject()]++
	}
	f := factsOf(n)
	for _, d := range f.deckies {
		inc.Deckies = addDistinct(inc.Deckies, d, &inc.Truncated)
	}
	if f.address != "" {
		inc.Addresses = addDistinct(inc.Addresses, f.address, &inc.Truncated)
	}
}

func addDistinct(list []string, v string, truncated *bool) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	if len(list) >= maxIncidentValues {
		*truncated = true
		return list
	}
	return append(list, v)
}

// notice returns the follow-up notice of the incident, made at now.
func (inc *Incident) notice(id string, now time.Time, quiet time.Duration) *apiv1.Notice {
	subjects := slices.Sorted(maps.Keys(inc.Subjects))
	parts := make([]string, 0, len(subjects))
	for _, s := range subjects {
		parts = append(parts, fmt.Sprintf("%d %s", inc.Subjects[s], s))
	}
	return &apiv1.Notice{
		Id:         id,
		Subject:    SubjectIncident,
		Time:       timestamppb.New(now),
		AttackerId: inc.AttackerID,
		Summary: fmt.Sprintf("%d more notices about attacker %s within %s on %d deckies: %s",
			inc.Count, inc.AttackerID, quiet, len(inc.Deckies), strings.Join(parts, ", ")),
	}
}

// message is the input of a template: a notice, plus its incident when
// the notice is a group follow-up.
type message struct {
	notice   *apiv1.Notice
	incident *Incident
}

// fact is one labelled value shown by the chat templates.
type fact struct{ title, value string }

// noticeFacts is the set of values templates show, extracted once per notice.
type noticeFacts struct {
	address string
	agent   string
	deckies []string
	facts   []fact
	// lines are list entries such as the targets of a reuse, one each.
	lines []string
}

// factsOf extracts the values templates show. Every value may come from
// an attacker; templates escape them for their markup.
func factsOf(n *apiv1.Notice) noticeFacts {
	var out noticeFacts
	add := func(title, value string) {
		if value != "" {
			out.facts = append(out.facts, fact{title, value})
		}
	}
	add("Subject", n.GetSubject())
	add("Attacker", n.GetAttackerId())
	if n.GetTime() != nil {
		add("Time", n.GetTime().AsTime().UTC().Format(time.RFC3339))
	}
	if se := n.GetEvent(); se != nil {
		ev := se.GetEvent()
		out.address = ev.GetSource().GetAddress()
		out.agent = ev.GetAgentId()
		if ev.GetDecky() != "" {
			out.deckies = []string{ev.GetDecky()}
		}
		if out.address != "" {
			add("Source", out.address+":"+strconv.FormatUint(uint64(ev.GetSource().GetPort()), 10))
		}
		add("Decky", ev.GetDecky())
		add("Service", ev.GetService())
		add("Agent", ev.GetAgentId())
		if a := ev.GetAuthAttempt(); a != nil {
			add("Principal", a.GetPrincipal())
			add("Mechanism", a.GetMechanism())
			add("Secret kind", a.GetSecretKind())
			if a.GetOutcome() != 0 {
				add("Outcome", a.GetOutcome().String())
			}
			add("Key fingerprint", a.GetKeyFingerprint())
		}
	}
	if r := n.GetCredentialReuse(); r != nil {
		add("Principal", r.GetPrincipal())
		add("Secret kind", r.GetSecretKind())
		add("Secret SHA-256", hex.EncodeToString(r.GetSecretSha256()))
		add("Targets", strconv.Itoa(len(r.GetTargets())))
		for _, t := range r.GetTargets() {
			out.deckies = append(out.deckies, t.GetDecky())
			out.lines = append(out.lines, fmt.Sprintf("%s/%s: %d attempts", t.GetDecky(), t.GetService(), t.GetAttempts()))
		}
	}
	return out
}

// factsOfMessage adds the incident's values to the notice's.
func factsOfMessage(m message) noticeFacts {
	f := factsOf(m.notice)
	inc := m.incident
	if inc == nil {
		return f
	}
	f.deckies = slices.Clone(inc.Deckies)
	f.facts = append(f.facts,
		fact{"Grouped notices", strconv.Itoa(inc.Count)},
		fact{"First", inc.First.UTC().Format(time.RFC3339)},
		fact{"Last", inc.Last.UTC().Format(time.RFC3339)},
	)
	for _, s := range slices.Sorted(maps.Keys(inc.Subjects)) {
		f.lines = append(f.lines, fmt.Sprintf("%s: %d", s, inc.Subjects[s]))
	}
	if len(inc.Deckies) > 0 {
		f.lines = append(f.lines, "deckies: "+strings.Join(inc.Deckies, ", "))
	}
	if len(inc.Addresses) > 0 {
		f.lines = append(f.lines, "sources: "+strings.Join(inc.Addresses, ", "))
	}
	return f
}

// addresses returns the attacker addresses of a message.
func addresses(m message) []string {
	if m.incident != nil {
		return slices.Clone(m.incident.Addresses)
	}
	if a := factsOf(m.notice).address; a != "" {
		return []string{a}
	}
	return nil
}

// outbound returns a copy of n fit to leave the control plane: the raw
// secret of a credential is removed even if a publisher left it in.
func outbound(n *apiv1.Notice) *apiv1.Notice {
	c := proto.Clone(n).(*apiv1.Notice)
	if a := c.GetEvent().GetEvent().GetAuthAttempt(); a != nil {
		a.Secret = nil
	}
	return c
}

func title(n *apiv1.Notice) string {
	return "DECNET " + n.GetSubject()
}
