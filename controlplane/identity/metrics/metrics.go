// Package metrics scores a clustering against truth labels: the adjusted
// Rand index, homogeneity, completeness, V-measure and singleton recall.
// The definitions follow Hubert and Arabie (1985) for the adjusted Rand
// index and Rosenberg and Hirschberg (2007) for the entropy-based scores,
// the same definitions scikit-learn implements, so values can be checked
// against its documented examples.
package metrics

import (
	"errors"
	"math"
)

// ErrLength is returned when the truth and predicted label slices differ
// in length.
var ErrLength = errors.New("truth and predicted labels differ in length")

// Scores are the quality measures of one clustering.
type Scores struct {
	ARI             float64
	Homogeneity     float64
	Completeness    float64
	VMeasure        float64
	SingletonRecall float64
	// Items is the number of labelled items scored.
	Items int
}

// Score computes every measure. truth[i] and pred[i] are the labels of
// item i; label values are opaque.
func Score(truth, pred []string) (Scores, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return Scores{}, err
	}
	h, comp, v := c.entropyScores()
	return Scores{
		ARI:             c.ari(),
		Homogeneity:     h,
		Completeness:    comp,
		VMeasure:        v,
		SingletonRecall: singletonRecall(truth, pred),
		Items:           len(truth),
	}, nil
}

// ARI is the adjusted Rand index: 1 for identical partitions, about 0 for
// a random one, negative when worse than chance.
func ARI(truth, pred []string) (float64, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return 0, err
	}
	return c.ari(), nil
}

// Homogeneity is 1 when every predicted cluster holds items of one truth
// class only.
func Homogeneity(truth, pred []string) (float64, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return 0, err
	}
	h, _, _ := c.entropyScores()
	return h, nil
}

// Completeness is 1 when all items of each truth class fall in one
// predicted cluster.
func Completeness(truth, pred []string) (float64, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return 0, err
	}
	_, comp, _ := c.entropyScores()
	return comp, nil
}

// VMeasure is the harmonic mean of homogeneity and completeness.
func VMeasure(truth, pred []string) (float64, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return 0, err
	}
	_, _, v := c.entropyScores()
	return v, nil
}

// SingletonRecall is the share of truth singletons (classes of one item)
// that the prediction also leaves alone. With no truth singletons it is 1,
// since none was missed.
func SingletonRecall(truth, pred []string) (float64, error) {
	if len(truth) != len(pred) {
		return 0, ErrLength
	}
	return singletonRecall(truth, pred), nil
}

func singletonRecall(truth, pred []string) float64 {
	truthSize := map[string]int{}
	predSize := map[string]int{}
	for i := range truth {
		truthSize[truth[i]]++
		predSize[pred[i]]++
	}
	singletons, kept := 0, 0
	for i := range truth {
		if truthSize[truth[i]] != 1 {
			continue
		}
		singletons++
		if predSize[pred[i]] == 1 {
			kept++
		}
	}
	if singletons == 0 {
		return 1
	}
	return float64(kept) / float64(singletons)
}

// contingency counts items per (truth class, predicted cluster).
type contingency struct {
	n     int
	cells map[[2]int]int
	rows  []int // items per truth class
	cols  []int // items per predicted cluster
}

func newContingency(truth, pred []string) (*contingency, error) {
	if len(truth) != len(pred) {
		return nil, ErrLength
	}
	rowOf := map[string]int{}
	colOf := map[string]int{}
	c := &contingency{n: len(truth), cells: map[[2]int]int{}}
	for i := range truth {
		r, ok := rowOf[truth[i]]
		if !ok {
			r = len(c.rows)
			rowOf[truth[i]] = r
			c.rows = append(c.rows, 0)
		}
		k, ok := colOf[pred[i]]
		if !ok {
			k = len(c.cols)
			colOf[pred[i]] = k
			c.cols = append(c.cols, 0)
		}
		c.rows[r]++
		c.cols[k]++
		c.cells[[2]int{r, k}]++
	}
	return c, nil
}

func pairs(n int) float64 { return float64(n) * float64(n-1) / 2 }

func (c *contingency) ari() float64 {
	// Two partitions that are both one cluster, or both all singletons,
	// agree perfectly; the general formula divides zero by zero there.
	if c.n <= 1 || (len(c.rows) == len(c.cols) && (len(c.rows) == 1 || len(c.rows) == c.n)) {
		return 1
	}
	var index, sumRows, sumCols float64
	for _, v := range c.cells {
		index += pairs(v)
	}
	for _, v := range c.rows {
		sumRows += pairs(v)
	}
	for _, v := range c.cols {
		sumCols += pairs(v)
	}
	expected := sumRows * sumCols / pairs(c.n)
	maxIndex := (sumRows + sumCols) / 2
	if maxIndex == expected {
		return 0
	}
	return (index - expected) / (maxIndex - expected)
}

// entropyScores returns homogeneity, completeness and V-measure.
func (c *contingency) entropyScores() (h, comp, v float64) {
	if c.n == 0 {
		return 1, 1, 1
	}
	hTruth := entropy(c.rows, c.n)
	hPred := entropy(c.cols, c.n)
	mi := c.mutualInformation()

	h, comp = 1, 1
	if hTruth > 0 {
		h = mi / hTruth
	}
	if hPred > 0 {
		comp = mi / hPred
	}
	if h+comp > 0 {
		v = 2 * h * comp / (h + comp)
	}
	return clamp(h), clamp(comp), clamp(v)
}

func (c *contingency) mutualInformation() float64 {
	n := float64(c.n)
	var mi float64
	for k, v := range c.cells {
		p := float64(v) / n
		mi += p * math.Log(float64(v)*n/(float64(c.rows[k[0]])*float64(c.cols[k[1]])))
	}
	return mi
}

func entropy(sizes []int, n int) float64 {
	var h float64
	for _, s := range sizes {
		if s == 0 {
			continue
		}
		p := float64(s) / float64(n)
		h -= p * math.Log(p)
	}
	return h
}

// clamp removes floating-point overshoot outside [0, 1].
func clamp(x float64) float64 {
	return math.Max(0, math.Min(1, x))
}
