package sqlite

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

// where is the WHERE clause of a list query: its conditions and arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// addIf adds "column = value" when value is not empty, because an empty
// filter field matches everything.
func (w *where) addIf(column, value string) {
	if value != "" {
		w.add(column+" = ?", value)
	}
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
	w.add(fmt.Sprintf("(%s, %s) < (?, ?)", timeColumn, idColumn), c.Time.UnixNano(), c.ID)
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

// nanos maps a time to its column value; the zero time is NULL.
func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// fromNanos maps a column value back to a UTC time; NULL is the zero time.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
