package postgres

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/decnet/decnet/controlplane/store"
)

// where is the WHERE clause of a list query: its conditions and arguments.
type where struct {
	conds []string
	args  []any
	// none is set when a filter value cannot match any row, such as an id
	// that is not a UUID, so the query need not run.
	none bool
}

// arg binds v and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) {
	w.conds = append(w.conds, cond)
}

// addIf adds "column = value" when value is not empty, because an empty
// filter field matches everything.
func (w *where) addIf(column, value string) {
	if value != "" {
		w.add(column + " = " + w.arg(value))
	}
}

// addUUIDIf is addIf for a uuid column. A value that is not a UUID matches
// nothing, as it would in a text column, instead of failing the query.
func (w *where) addUUIDIf(column, value string) {
	if value == "" {
		return
	}
	id, err := uuid.Parse(value)
	if err != nil {
		w.none = true
		return
	}
	w.add(column + " = " + w.arg(pgUUID(id)))
}

// addCursor continues a (time, id) descending list after the page token's
// position.
func (w *where) addCursor(timeColumn, idColumn, pageToken string) error {
	if pageToken == "" {
		return nil
	}
	c, err := store.DecodeCursor(pageToken)
	if err != nil {
		return err
	}
	id, err := uuid.Parse(c.ID)
	if err != nil {
		return fmt.Errorf("parse page token id: %w", store.ErrInvalidPageToken)
	}
	w.add(fmt.Sprintf("(%s, %s) < (%s, %s)", timeColumn, idColumn, w.arg(c.Time), w.arg(pgUUID(id))))
	return nil
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// nextToken returns the page token after a page that ended at (t, id), or
// "" when the page was not full and so was the last.
func nextToken(n, pageSize int, t time.Time, id string) string {
	if n < pageSize {
		return ""
	}
	return store.EncodeCursor(store.Cursor{Time: t, ID: id})
}

func pgUUID(id uuid.UUID) pgtype.UUID {
	return pgtype.UUID{Bytes: id, Valid: true}
}

// timestamptz maps a time to its column value; the zero time is NULL.
func timestamptz(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

// fromTimestamptz maps a column value back to a UTC time; NULL is the zero
// time.
func fromTimestamptz(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// toMicros drops what timestamptz cannot store, so a value returned by a
// write equals the one a later read returns.
func toMicros(t time.Time) time.Time {
	return time.UnixMicro(t.UnixMicro()).UTC()
}
