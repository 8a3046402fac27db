package store

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidPageToken is returned by list calls for a page token that no
// earlier response produced.
var ErrInvalidPageToken = errors.New("invalid page token")

// cursorVersion prefixes every page token so that a later encoding can be
// distinguished from this one.
const cursorVersion = "c1"

// Cursor is the position after the last item of a page in a list ordered by
// (Time, ID) descending. Backends use it for keyset pagination, so a page
// costs the same however deep it is.
type Cursor struct {
	Time time.Time
	ID   string
}

// EncodeCursor returns the opaque page token for c.
func EncodeCursor(c Cursor) string {
	raw := cursorVersion + "|" + strconv.FormatInt(c.Time.UnixNano(), 10) + "|" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses a page token from EncodeCursor. It returns
// ErrInvalidPageToken for anything else.
func DecodeCursor(token string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Cursor{}, fmt.Errorf("decode page token: %w", ErrInvalidPageToken)
	}

	parts := strings.SplitN(string(raw), "|", 3)
	if len(parts) != 3 || parts[0] != cursorVersion || parts[2] == "" {
		return Cursor{}, fmt.Errorf("parse page token: %w", ErrInvalidPageToken)
	}
	ns, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return Cursor{}, fmt.Errorf("parse page token time: %w", ErrInvalidPageToken)
	}

	return Cursor{Time: time.Unix(0, ns).UTC(), ID: parts[2]}, nil
}
