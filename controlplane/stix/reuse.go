package stix

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// ErrNoReuse is returned for a reuse group without principal or targets.
var ErrNoReuse = errors.New("credential reuse group without principal or targets")

type reuseFacts struct {
	// key identifies the group in exported ids. It is built from the
	// principal, kind and targets, never from the secret digest: a
	// digest-derived id would let anyone confirm a guessed password.
	key         string
	principal   string
	kind        string
	first, last time.Time
	attempts    uint64
	targets     []string
	attackers   []string
	mechanisms  []string
}

func collectReuse(r *apiv1.CredentialReuse) (*reuseFacts, error) {
	if r.GetPrincipal() == "" && len(r.GetTargets()) == 0 {
		return nil, ErrNoReuse
	}
	g := &reuseFacts{principal: clean(r.GetPrincipal()), kind: clean(r.GetSecretKind())}
	attackers, mechs := map[string]bool{}, map[string]bool{}
	var names []string

	for _, t := range r.GetTargets() {
		first, last := t.GetFirstSeen().AsTime(), t.GetLastSeen().AsTime()
		if t.GetFirstSeen() != nil && (g.first.IsZero() || first.Before(g.first)) {
			g.first = first
		}
		if t.GetLastSeen() != nil && last.After(g.last) {
			g.last = last
		}
		g.attempts += t.GetAttempts()
		target := clean(t.GetDecky() + "/" + t.GetService())
		names = append(names, target)
		g.targets = append(g.targets, fmt.Sprintf("%s: %d attempts, %s to %s", target, t.GetAttempts(), timestamp(first), timestamp(last)))
		for _, a := range t.GetAttackerIds() {
			if a != "" {
				attackers[clean(a)] = true
			}
		}
		for _, m := range t.GetMechanisms() {
			mechs[m] = true
		}
	}

	if g.first.IsZero() || g.last.IsZero() {
		return nil, fmt.Errorf("export credential reuse for %q: no first or last seen time", g.principal)
	}
	slices.Sort(names)
	slices.Sort(g.targets)
	g.key = g.principal + "\x00" + g.kind + "\x00" + strings.Join(names, "\x00")
	g.attackers = keys(attackers)
	g.mechanisms = keys(mechs)
	if len(g.attackers) > maxItems {
		g.attackers = g.attackers[:maxItems]
	}
	if len(g.targets) > maxItems {
		g.targets = g.targets[:maxItems]
	}
	return g, nil
}
