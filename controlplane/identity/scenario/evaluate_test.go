package scenario

import (
	"math"
	"testing"
)

func TestEvaluate(t *testing.T) {
	s := &Scenario{Expects: []Expect{
		{Together, []string{"a"}},
		{Apart, []string{"a", "b"}},
		{Alone, []string{"c"}},
	}}
	d := &Dataset{Truth: map[string]string{"s1": "a", "s2": "a", "s3": "b", "s4": "c", "s5": "n"}}
	tests := []struct {
		name       string
		pred       map[string]string
		ari        float64
		violations []string
	}{
		{"perfect", map[string]string{"s1": "x", "s2": "x", "s3": "y", "s4": "z", "s5": "w"}, 1, nil},
		// s2 missing from the prediction counts as its own singleton.
		{"a split", map[string]string{"s1": "x", "s3": "y", "s4": "z", "s5": "w"}, 0, []string{"together a: split over 2 identities"}},
		// Index 1, truth pairs 1, predicted pairs 3, expected 3/10, max 2:
		// ARI = 0.7/1.7.
		{"a with b", map[string]string{"s1": "x", "s2": "x", "s3": "x", "s4": "z", "s5": "w"}, 7.0 / 17,
			[]string{"apart: identity x joins a, b"}},
		// c joined by noise: index 1, truth pairs 1, predicted pairs 2,
		// expected 2/10, max 3/2: ARI = 0.8/1.3.
		{"c joined", map[string]string{"s1": "x", "s2": "x", "s3": "y", "s4": "z", "s5": "z"}, 8.0 / 13,
			[]string{"alone c: its identity holds 2 truth labels"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Evaluate(s, d, tc.pred)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.Scores.ARI-tc.ari) > 1e-9 {
				t.Errorf("ARI %v, want %v", r.Scores.ARI, tc.ari)
			}
			if len(r.Violations) != len(tc.violations) {
				t.Fatalf("violations %q, want %q", r.Violations, tc.violations)
			}
			for i := range tc.violations {
				if r.Violations[i] != tc.violations[i] {
					t.Errorf("violation %q, want %q", r.Violations[i], tc.violations[i])
				}
			}
		})
	}
}
