package api

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/behaviour"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

var behaviourClasses = map[behaviour.Class]apiv1.BehaviourClass{
	behaviour.Unknown:     apiv1.BehaviourClass_BEHAVIOUR_CLASS_UNKNOWN,
	behaviour.Scanning:    apiv1.BehaviourClass_BEHAVIOUR_CLASS_SCANNING,
	behaviour.BruteForce:  apiv1.BehaviourClass_BEHAVIOUR_CLASS_BRUTE_FORCE,
	behaviour.Interactive: apiv1.BehaviourClass_BEHAVIOUR_CLASS_INTERACTIVE,
	behaviour.Beaconing:   apiv1.BehaviourClass_BEHAVIOUR_CLASS_BEACONING,
	behaviour.SlowScan:    apiv1.BehaviourClass_BEHAVIOUR_CLASS_SLOW_SCAN,
	behaviour.Mixed:       apiv1.BehaviourClass_BEHAVIOUR_CLASS_MIXED,
}

// attackerBehaviour classifies the attacker's newest events, at most
// behaviour.MaxEvents of them, and lists the deckies they reached.
//
// NOTE: this reads and decodes up to behaviour.MaxEvents events on every
// GetAttacker call, and the dashboard calls GetAttacker again as live
// events of the attacker arrive (at most once a second).
func attackerBehaviour(ctx context.Context, st store.Store, attackerID string) (*apiv1.AttackerBehaviour, []*apiv1.DeckyVisit, error) {
	events, capped, err := newestEvents(ctx, st, attackerID, behaviour.MaxEvents)
	if err != nil {
		return nil, nil, fmt.Errorf("classify attacker %s: %w", attackerID, err)
	}

	r := behaviour.Classify(events, capped)
	out := &apiv1.AttackerBehaviour{
		Classification:   behaviourClasses[r.Class],
		Evidence:         r.Evidence,
		EventsConsidered: uint32(r.EventsConsidered), //nolint:gosec // G115: at most behaviour.MaxEvents
		EventsCapped:     r.Capped,
	}
	for _, c := range r.Signals {
		out.Signals = append(out.Signals, behaviourClasses[c])
	}

	visits := behaviour.Traverse(events)
	traversal := make([]*apiv1.DeckyVisit, len(visits))
	for i, v := range visits {
		traversal[i] = &apiv1.DeckyVisit{
			Decky:      v.Decky,
			FirstSeen:  timestamppb.New(v.First),
			LastSeen:   timestamppb.New(v.Last),
			Services:   v.Services,
			EventCount: uint64(v.Events), //nolint:gosec // G115: a count, never negative
		}
	}
	return out, traversal, nil
}

// newestEvents returns up to limit of the attacker's newest events and
// whether it has more.
func newestEvents(ctx context.Context, st store.Store, attackerID string, limit int) ([]*eventv1.Event, bool, error) {
	filter := &apiv1.EventFilter{AttackerId: attackerID}
	var events []*eventv1.Event
	token := ""
	for len(events) < limit {
		page, err := st.ListEvents(ctx, store.EventQuery{
			Filter:    filter,
			PageSize:  min(store.MaxPageSize, limit-len(events)),
			PageToken: token,
		})
		if err != nil {
			return nil, false, err
		}
		for _, se := range page.Items {
			events = append(events, se.GetEvent())
		}
		if token = page.NextPageToken; token == "" {
			return events, false, nil
		}
	}

	// A full last page carries a token even when nothing follows it, so
	// look for one more event.
	more, err := st.ListEvents(ctx, store.EventQuery{Filter: filter, PageSize: 1, PageToken: token})
	if err != nil {
		return nil, false, err
	}
	return events, len(more.Items) > 0, nil
}
