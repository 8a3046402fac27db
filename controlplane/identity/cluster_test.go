package identity

import (
	"math"
	"testing"
)

func TestWeightedOrder(t *testing.T) {
	s := newScorer(nil, Frozen)
	// Token 9 is common (rarity 0.5); the others count fully.
	for tok := range uint64(9) {
		s.rarity[tok] = 1
	}
	s.rarity[9] = 0.5

	for _, tc := range []struct {
		name string
		a, b []uint64
		want float64
	}{
		{"same order", []uint64{1, 2, 3, 4, 5}, []uint64{1, 2, 3, 4, 5}, 1},
		// One step skipped and one added: 1 3 4 5 remain in order, three
		// of four steps, where consecutive pairs would keep one of four.
		{"skip and add", []uint64{1, 2, 3, 4, 5}, []uint64{1, 3, 8, 4, 5}, 0.75},
		{"reversed", []uint64{1, 2, 3, 4}, []uint64{4, 3, 2, 1}, 0},
		{"one line in common", []uint64{1, 2, 3}, []uint64{7, 3, 8}, 0},
		{"shorter side bounds", []uint64{2, 4}, []uint64{1, 2, 3, 4, 5}, 1},
		{"common token counts by rarity", []uint64{1, 9, 2}, []uint64{1, 9, 2}, 0.75},
		{"single line", []uint64{1}, []uint64{1}, 0},
		{"empty", nil, []uint64{1, 2}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.weightedOrder(tc.a, tc.b); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("weightedOrder = %v, want %v", got, tc.want)
			}
		})
	}
}
