package agent

import "testing"

func TestSpoolSegmentBytes(t *testing.T) {
	tests := []struct {
		maxBytes int64
		want     int64
	}{
		{DefaultSpoolMaxBytes, 16 << 20},
		{64 << 20, 16 << 20},
		{32 << 20, 8 << 20},
		{128 << 10, 32 << 10},
	}
	for _, tt := range tests {
		if got := spoolSegmentBytes(tt.maxBytes); got != tt.want {
			t.Errorf("spoolSegmentBytes(%d) = %d, want %d", tt.maxBytes, got, tt.want)
		}
	}
}
