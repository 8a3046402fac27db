package identity

import (
	"fmt"
	"strings"
)

// Explain lists the evidence between observations a and b of a
// clustering's corpus, one "name=points" term per piece, for analysts
// and for tuning.
func (c *Clustering) Explain(a, b int, w Weights) string {
	s := newScorer(c.Observations, w)
	var terms []string
	for _, t := range s.evidence(a, b) {
		terms = append(terms, fmt.Sprintf("%s=%.2f", t.name, t.points))
	}
	return strings.Join(terms, " ")
}
