package store

import (
	"errors"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	want := Cursor{Time: time.Date(2026, 12, 4, 12, 0, 0, 123456789, time.UTC), ID: "0190a5d4-0000-7000-8000-000000000001"}
	got, err := DecodeCursor(EncodeCursor(want))
	if err != nil {
		t.Fatalf("DecodeCursor: %v", err)
	}
	if !got.Time.Equal(want.Time) || got.ID != want.ID {
		t.Fatalf("round trip = %+v, want %+v", got, want)
	}
}

func TestDecodeCursorRejectsGarbage(t *testing.T) {
	for _, token := range []string{"", "!!!", "bm90IGEgY3Vyc29y"} {
		if _, err := DecodeCursor(token); !errors.Is(err, ErrInvalidPageToken) {
			t.Errorf("DecodeCursor(%q) error = %v, want ErrInvalidPageToken", token, err)
		}
	}
}

func TestClampPageSize(t *testing.T) {
	tests := []struct{ in, want int }{{-1, DefaultPageSize}, {0, DefaultPageSize}, {7, 7}, {MaxPageSize + 1, MaxPageSize}}
	for _, tt := range tests {
		if got := ClampPageSize(tt.in); got != tt.want {
			t.Errorf("ClampPageSize(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
