package bridge

import (
	"testing"
	"time"
)

func TestBackoffDoublesWithJitter(t *testing.T) {
	tests := []struct {
		name   string
		random float64
		want   []time.Duration
	}{
		{"no jitter", 0.999999999, []time.Duration{100, 200, 400, 800, 800, 800}},
		{"full jitter", 0, []time.Duration{50, 100, 200, 400, 400, 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackoff(100*time.Millisecond, 800*time.Millisecond, func() float64 { return tt.random })
			for i, want := range tt.want {
				got := b.delay().Round(time.Millisecond)
				if got != want*time.Millisecond {
					t.Fatalf("delay %d = %v, want %v", i, got, want*time.Millisecond)
				}
			}
			b.reset()
			if got := b.delay().Round(time.Millisecond); got != tt.want[0]*time.Millisecond {
				t.Errorf("delay after reset = %v, want %v", got, tt.want[0]*time.Millisecond)
			}
		})
	}
}
