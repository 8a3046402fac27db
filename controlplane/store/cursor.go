package store

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
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

// attackerCursorVersion prefixes attacker page tokens, which carry the
// order they continue as well as the position in it.
const attackerCursorVersion = "a1"

// AttackerCursor is the position after the last attacker of a page: the
// sort key of that attacker, as AttackerSort.KeyOf gives it, and its id.
// The token records the order too, so a token cannot continue a list in
// another order, where its key would mean something else.
type AttackerCursor struct {
	Sort      AttackerSort
	Ascending bool
	Key       int64
	ID        string
}

// EncodeAttackerCursor returns the opaque page token for c.
func EncodeAttackerCursor(c AttackerCursor) string {
	dir := "d"
	if c.Ascending {
		dir = "a"
	}
	raw := attackerCursorVersion + "|" + strconv.Itoa(int(c.Sort)) + "|" + dir + "|" + strconv.FormatInt(c.Key, 10) + "|" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeAttackerCursor parses a page token from EncodeAttackerCursor. A
// token from EncodeCursor, which earlier versions returned for the only
// order they had, is read as a position in last seen, newest first. It
// returns ErrInvalidPageToken for anything else.
func DecodeAttackerCursor(token string) (AttackerCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return AttackerCursor{}, fmt.Errorf("decode page token: %w", ErrInvalidPageToken)
	}
	if strings.HasPrefix(string(raw), cursorVersion+"|") {
		c, err := DecodeCursor(token)
		if err != nil {
			return AttackerCursor{}, err
		}
		return AttackerCursor{Sort: SortLastSeen, Key: c.Time.UnixNano(), ID: c.ID}, nil
	}

	parts := strings.SplitN(string(raw), "|", 5)
	if len(parts) != 5 || parts[0] != attackerCursorVersion || parts[4] == "" {
		return AttackerCursor{}, fmt.Errorf("parse page token: %w", ErrInvalidPageToken)
	}
	sort, err := strconv.Atoi(parts[1])
	if err != nil || !AttackerSort(sort).valid() {
		return AttackerCursor{}, fmt.Errorf("parse page token order: %w", ErrInvalidPageToken)
	}
	var ascending bool
	switch parts[2] {
	case "a":
		ascending = true
	case "d":
	default:
		return AttackerCursor{}, fmt.Errorf("parse page token direction: %w", ErrInvalidPageToken)
	}
	key, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return AttackerCursor{}, fmt.Errorf("parse page token key: %w", ErrInvalidPageToken)
	}

	return AttackerCursor{Sort: AttackerSort(sort), Ascending: ascending, Key: key, ID: parts[4]}, nil
}

// AttackerPageCursor decodes the page token of q and checks that it
// continues the order q asks for. It returns nil for the first page.
func AttackerPageCursor(q AttackerQuery) (*AttackerCursor, error) {
	if q.PageToken == "" {
		return nil, nil
	}
	c, err := DecodeAttackerCursor(q.PageToken)
	if err != nil {
		return nil, err
	}
	if c.Sort != q.Sort || c.Ascending != q.Ascending {
		return nil, fmt.Errorf("page token continues another order: %w", ErrInvalidPageToken)
	}
	return &c, nil
}

// NextAttackerToken returns the page token after a page of n attackers
// that ended with last, or "" when the page was not full and so was the
// last.
func NextAttackerToken(q AttackerQuery, n, pageSize int, last *apiv1.Attacker) string {
	if n < pageSize || last == nil {
		return ""
	}
	return EncodeAttackerCursor(AttackerCursor{Sort: q.Sort, Ascending: q.Ascending, Key: q.Sort.KeyOf(last), ID: last.GetId()})
}
