package metrics

import (
	"errors"
	"math"
	"strconv"
	"testing"
)

func labels(xs ...int) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Itoa(x)
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// Every expected value is worked out by hand in the comments. The label
// pairs are the usage examples of scikit-learn's adjusted_rand_score,
// homogeneity_score, completeness_score and v_measure_score.
// NOTE: the pairs were recalled, not copied from scikit-learn's pages, so
// the hand computation is the authority here.
func TestScoresAgainstDocumentedExamples(t *testing.T) {
	tests := []struct {
		name         string
		truth, pred  []string
		ari          float64
		homogeneity  float64
		completeness float64
		vmeasure     float64
	}{
		{"identical", labels(0, 0, 1, 1), labels(0, 0, 1, 1), 1, 1, 1, 1},
		{"renamed", labels(0, 0, 1, 1), labels(1, 1, 0, 0), 1, 1, 1, 1},
		// Pairs together in both: 1; truth pairs 1, predicted pairs 2,
		// expected 1*2/6 = 1/3, max (1+2)/2 = 3/2, so ARI = (2/3)/(7/6) = 4/7.
		// H(truth) = 1.5 ln 2, H(pred) = ln 2, MI = ln 2: homogeneity 2/3,
		// completeness 1, V = 0.8.
		{"split truth class merged", labels(0, 0, 1, 2), labels(0, 0, 1, 1), 4.0 / 7, 2.0 / 3, 1, 0.8},
		{"class split in two", labels(0, 0, 1, 1), labels(0, 0, 1, 2), 4.0 / 7, 1, 2.0 / 3, 0.8},
		{"one class, all singletons", labels(0, 0, 0, 0), labels(0, 1, 2, 3), 0, 1, 0, 0},
		{"all in one cluster", labels(0, 0, 1, 1), labels(0, 0, 0, 0), 0, 0, 1, 0},
		// No pair agrees: index 0, expected 2*2/6 = 2/3, max 2, ARI = -1/2.
		{"crossed", labels(0, 0, 1, 1), labels(0, 1, 0, 1), -0.5, 0, 0, 0},
		// H(truth) = ln 4, H(pred) = ln 2, MI = ln 2: homogeneity 1/2,
		// completeness 1, V = 2/3.
		{"singletons paired", labels(0, 1, 2, 3), labels(0, 0, 1, 1), 0, 0.5, 1, 2.0 / 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Score(tc.truth, tc.pred)
			if err != nil {
				t.Fatal(err)
			}
			if !near(s.ARI, tc.ari) {
				t.Errorf("ARI = %v, want %v", s.ARI, tc.ari)
			}
			if !near(s.Homogeneity, tc.homogeneity) {
				t.Errorf("homogeneity = %v, want %v", s.Homogeneity, tc.homogeneity)
			}
			if !near(s.Completeness, tc.completeness) {
				t.Errorf("completeness = %v, want %v", s.Completeness, tc.completeness)
			}
			if !near(s.VMeasure, tc.vmeasure) {
				t.Errorf("V-measure = %v, want %v", s.VMeasure, tc.vmeasure)
			}
		})
	}
}

// A larger hand-computed case: truth {a,a,a,b,b,c}, prediction
// {x,x,y,y,y,z}. Cells: (a,x)=2 (a,y)=1 (b,y)=2 (c,z)=1, so the index is
// 1+0+1+0 = 2; truth pairs 3+1+0 = 4; predicted pairs 1+3+0 = 4;
// expected 4*4/15 = 16/15; max 4; ARI = (2-16/15)/(4-16/15) = 14/44.
func TestARIHandComputed(t *testing.T) {
	got, err := ARI([]string{"a", "a", "a", "b", "b", "c"}, []string{"x", "x", "y", "y", "y", "z"})
	if err != nil {
		t.Fatal(err)
	}
	if want := 14.0 / 44; !near(got, want) {
		t.Errorf("ARI = %v, want %v", got, want)
	}
}

func TestSingletonRecall(t *testing.T) {
	tests := []struct {
		name        string
		truth, pred []string
		want        float64
	}{
		// Truth singletons c, d, e; prediction keeps c and d alone and
		// puts e with the a class.
		{"two of three kept", []string{"a", "a", "c", "d", "e"}, []string{"1", "1", "2", "3", "1"}, 2.0 / 3},
		{"none in truth", []string{"a", "a"}, []string{"1", "2"}, 1},
		{"all merged", []string{"a", "b"}, []string{"1", "1"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SingletonRecall(tc.truth, tc.pred)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.want) {
				t.Errorf("singleton recall = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLengthMismatch(t *testing.T) {
	if _, err := Score(labels(0, 1), labels(0)); !errors.Is(err, ErrLength) {
		t.Errorf("Score error = %v, want ErrLength", err)
	}
	if _, err := SingletonRecall(labels(0), nil); !errors.Is(err, ErrLength) {
		t.Errorf("SingletonRecall error = %v, want ErrLength", err)
	}
}

func TestEmptyAndSingleItem(t *testing.T) {
	for _, n := range []int{0, 1} {
		truth := make([]string, n)
		s, err := Score(truth, truth)
		if err != nil {
			t.Fatal(err)
		}
		if s.ARI != 1 || s.VMeasure != 1 || s.Items != n {
			t.Errorf("n=%d: scores %+v, want ARI 1, V 1", n, s)
		}
	}
}
