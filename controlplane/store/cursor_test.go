package store

import (
	"encoding/base64"
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

func TestAttackerCursorRoundTrip(t *testing.T) {
	for _, want := range []AttackerCursor{
		{Sort: SortLastSeen, Key: time.Date(2026, 12, 4, 12, 0, 0, 123456000, time.UTC).UnixNano(), ID: "0190a5d4-0000-7000-8000-000000000001"},
		{Sort: SortEventCount, Ascending: true, Key: 42, ID: "x"},
		{Sort: SortAuthAttemptCount, Key: 0, ID: "0190a5d4-0000-7000-8000-000000000002"},
		{Sort: SortFirstSeen, Ascending: true, Key: -1, ID: "a|b"},
	} {
		got, err := DecodeAttackerCursor(EncodeAttackerCursor(want))
		if err != nil {
			t.Fatalf("DecodeAttackerCursor(%+v): %v", want, err)
		}
		if got != want {
			t.Errorf("round trip = %+v, want %+v", got, want)
		}
	}
}

func TestDecodeAttackerCursorReadsEarlierTokens(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	got, err := DecodeAttackerCursor(EncodeCursor(Cursor{Time: at, ID: "id-1"}))
	if err != nil {
		t.Fatalf("DecodeAttackerCursor: %v", err)
	}
	want := AttackerCursor{Sort: SortLastSeen, Key: at.UnixNano(), ID: "id-1"}
	if got != want {
		t.Errorf("earlier token = %+v, want %+v", got, want)
	}
}

func TestDecodeAttackerCursorRejectsGarbage(t *testing.T) {
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, token := range []string{
		"", "!!!",
		raw("a1|0|d|5"),            // no id
		raw("a1|0|d|5|"),           // empty id
		raw("a1|9|d|5|id"),         // unknown sort
		raw("a1|-1|d|5|id"),        // unknown sort
		raw("a1|0|x|5|id"),         // unknown direction
		raw("a1|0|d|five|id"),      // key not a number
		raw("a2|0|d|5|id"),         // unknown version
		raw("c1|notanumber|id"),    // earlier format, bad time
		EncodeCursor(Cursor{})[:4], // truncated
	} {
		if _, err := DecodeAttackerCursor(token); !errors.Is(err, ErrInvalidPageToken) {
			t.Errorf("DecodeAttackerCursor(%q) error = %v, want ErrInvalidPageToken", token, err)
		}
	}
}

func TestAttackerPageCursorChecksOrder(t *testing.T) {
	token := EncodeAttackerCursor(AttackerCursor{Sort: SortEventCount, Key: 3, ID: "id"})
	tests := []struct {
		name    string
		q       AttackerQuery
		wantErr bool
	}{
		{"same order", AttackerQuery{Sort: SortEventCount, PageToken: token}, false},
		{"other direction", AttackerQuery{Sort: SortEventCount, Ascending: true, PageToken: token}, true},
		{"other column", AttackerQuery{Sort: SortFirstSeen, PageToken: token}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := AttackerPageCursor(tc.q)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidPageToken) {
					t.Errorf("error = %v, want ErrInvalidPageToken", err)
				}
				return
			}
			if err != nil || c == nil || c.Key != 3 || c.ID != "id" {
				t.Errorf("AttackerPageCursor = %+v, %v, want key 3 and id \"id\"", c, err)
			}
		})
	}
	if c, err := AttackerPageCursor(AttackerQuery{}); c != nil || err != nil {
		t.Errorf("AttackerPageCursor(first page) = %+v, %v, want nil, nil", c, err)
	}
}

// FuzzDecodeAttackerCursor feeds the decoder arbitrary client tokens: it
// must never panic, must return ErrInvalidPageToken for what it rejects,
// and what it accepts must encode back to a token that decodes the same.
func FuzzDecodeAttackerCursor(f *testing.F) {
	f.Add(EncodeAttackerCursor(AttackerCursor{Sort: SortEventCount, Ascending: true, Key: 7, ID: "id"}))
	f.Add(EncodeCursor(Cursor{Time: time.Unix(1, 2), ID: "id"}))
	f.Add("YTF8MHxkfDV8aWQ")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := DecodeAttackerCursor(token)
		if err != nil {
			if !errors.Is(err, ErrInvalidPageToken) {
				t.Fatalf("DecodeAttackerCursor(%q) error = %v, want ErrInvalidPageToken", token, err)
			}
			return
		}
		again, err := DecodeAttackerCursor(EncodeAttackerCursor(c))
		if err != nil || again != c {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", c, again, err)
		}
	})
}
