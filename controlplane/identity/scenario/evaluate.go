package scenario

import (
	"fmt"
	"sort"
	"strings"

	"github.com/decnet/decnet/controlplane/identity/metrics"
)

// Result is the quality of one clustering of a dataset.
type Result struct {
	Scores metrics.Scores
	// Violations lists each expectation the clustering broke.
	Violations []string
}

// Evaluate scores a predicted assignment (observation key to cluster id)
// against the dataset's truth and checks the scenario's expectations.
// Observations missing from pred count as singletons.
func Evaluate(s *Scenario, d *Dataset, pred map[string]string) (Result, error) {
	keys := make([]string, 0, len(d.Truth))
	for k := range d.Truth {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	truth := make([]string, len(keys))
	got := make([]string, len(keys))
	labelsIn := map[string]map[string]bool{} // cluster → truth labels
	clustersOf := map[string]map[string]bool{}
	for i, k := range keys {
		truth[i] = d.Truth[k]
		c, ok := pred[k]
		if !ok {
			c = "unassigned:" + k
		}
		got[i] = c
		if labelsIn[c] == nil {
			labelsIn[c] = map[string]bool{}
		}
		labelsIn[c][truth[i]] = true
		if clustersOf[truth[i]] == nil {
			clustersOf[truth[i]] = map[string]bool{}
		}
		clustersOf[truth[i]][c] = true
	}

	scores, err := metrics.Score(truth, got)
	if err != nil {
		return Result{}, fmt.Errorf("score clustering: %w", err)
	}
	r := Result{Scores: scores}
	for _, e := range s.Expects {
		if v := check(e, labelsIn, clustersOf); v != "" {
			r.Violations = append(r.Violations, v)
		}
	}
	return r, nil
}

func check(e Expect, labelsIn, clustersOf map[string]map[string]bool) string {
	switch e.Kind {
	case Together:
		if n := len(clustersOf[e.Labels[0]]); n > 1 {
			return fmt.Sprintf("together %s: split over %d identities", e.Labels[0], n)
		}
	case Alone:
		for c := range clustersOf[e.Labels[0]] {
			if n := len(labelsIn[c]); n > 1 {
				return fmt.Sprintf("alone %s: its identity holds %d truth labels", e.Labels[0], n)
			}
		}
	case Apart:
		listed := map[string]bool{}
		for _, l := range e.Labels {
			listed[l] = true
		}
		for c, labels := range labelsIn {
			var hit []string
			for l := range labels {
				if listed[l] {
					hit = append(hit, l)
				}
			}
			if len(hit) > 1 {
				sort.Strings(hit)
				return fmt.Sprintf("apart: identity %s joins %s", c, strings.Join(hit, ", "))
			}
		}
	}
	return ""
}
