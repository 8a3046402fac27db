package scenario

import (
	"fmt"
	"slices"
	"strings"

	"github.com/decnet/decnet/controlplane/campaign"
	"github.com/decnet/decnet/controlplane/identity/metrics"
)

// Activities summarises the dataset's sessions and merges them per
// identity, as the campaign worker does with the identities the
// identity worker returns.
func (d *Dataset) Activities() []*campaign.Activity {
	sessions := map[string]*campaign.Session{}
	var order []string
	for _, se := range d.Events {
		sid := se.GetEvent().GetSessionId()
		s := sessions[sid]
		if s == nil {
			s = campaign.NewSession(se.GetAttackerId())
			sessions[sid] = s
			order = append(order, sid)
		}
		s.Add(se.GetEvent())
	}
	byIdentity := map[string][]*campaign.Session{}
	var identities []string
	for _, sid := range order {
		id := d.Identity[sid]
		if byIdentity[id] == nil {
			identities = append(identities, id)
		}
		byIdentity[id] = append(byIdentity[id], sessions[sid])
	}
	out := make([]*campaign.Activity, 0, len(identities))
	for _, id := range identities {
		out = append(out, campaign.NewActivity(id, byIdentity[id]))
	}
	return out
}

// Result is the quality of one clustering of a dataset.
type Result struct {
	Scores metrics.Scores
	// Violations lists each expectation the clustering broke.
	Violations []string
}

// Evaluate scores a predicted assignment (identity id to campaign id)
// against the dataset's truth campaigns and checks the scenario's
// expectations. Identities missing from pred, which joined no campaign,
// count as campaigns of their own.
func Evaluate(s *Scenario, d *Dataset, pred map[string]string) (Result, error) {
	ids := make([]string, 0, len(d.Campaign))
	for id := range d.Campaign {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	truth := make([]string, len(ids))
	got := make([]string, len(ids))
	labelsIn := map[string]map[string]bool{} // campaign → truth labels
	campaignsOf := map[string]map[string]bool{}
	for i, id := range ids {
		truth[i] = d.Campaign[id]
		c, ok := pred[id]
		if !ok || c == "" {
			c = "alone:" + id
		}
		got[i] = c
		if labelsIn[c] == nil {
			labelsIn[c] = map[string]bool{}
		}
		labelsIn[c][truth[i]] = true
		if campaignsOf[truth[i]] == nil {
			campaignsOf[truth[i]] = map[string]bool{}
		}
		campaignsOf[truth[i]][c] = true
	}

	scores, err := metrics.Score(truth, got)
	if err != nil {
		return Result{}, fmt.Errorf("score campaigns: %w", err)
	}
	r := Result{Scores: scores}
	for _, e := range s.Expects {
		if v := check(e, labelsIn, campaignsOf); v != "" {
			r.Violations = append(r.Violations, v)
		}
	}
	return r, nil
}

func check(e Expect, labelsIn, campaignsOf map[string]map[string]bool) string {
	switch e.Kind {
	case Together:
		if n := len(campaignsOf[e.Labels[0]]); n > 1 {
			return fmt.Sprintf("together %s: split over %d campaigns", e.Labels[0], n)
		}
	case Alone:
		for c := range campaignsOf[e.Labels[0]] {
			if n := len(labelsIn[c]); n > 1 {
				return fmt.Sprintf("alone %s: its campaign holds %d truth labels", e.Labels[0], n)
			}
		}
	case Apart:
		for c, labels := range labelsIn {
			var hit []string
			for _, l := range e.Labels {
				if labels[l] {
					hit = append(hit, l)
				}
			}
			if len(hit) > 1 {
				return fmt.Sprintf("apart: campaign %s joins %s", c, strings.Join(hit, ", "))
			}
		}
	}
	return ""
}
