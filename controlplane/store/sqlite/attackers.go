package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// listSeparator joins list columns in one result row. It is the ASCII unit
// separator, which addresses, decky and service names never contain.
const listSeparator = "\x1f"

const attackerColumns = `a.id, a.first_seen, a.last_seen, a.event_count, a.auth_attempt_count,
	(SELECT group_concat(address, char(31)) FROM attacker_addresses WHERE attacker_id = a.id),
	(SELECT group_concat(service, char(31)) FROM (SELECT DISTINCT service FROM attacker_targets WHERE attacker_id = a.id)),
	(SELECT group_concat(decky, char(31)) FROM (SELECT DISTINCT decky FROM attacker_targets WHERE attacker_id = a.id))`

// attackerSortColumns maps each sort to its column. The attackers table
// has an index on each, with id, for both directions.
var attackerSortColumns = map[store.AttackerSort]string{
	store.SortLastSeen:         "a.last_seen",
	store.SortFirstSeen:        "a.first_seen",
	store.SortEventCount:       "a.event_count",
	store.SortAuthAttemptCount: "a.auth_attempt_count",
}

// ListAttackers returns the attackers q selects, in its order.
//
// NOTE: the page token is a (sort key, id) position. First seen never
// changes, but last seen and the counts grow as attackers act. In those
// orders an attacker seen again while a client pages can move behind the
// position and be missed, or ahead of it and be listed twice. Every other
// attacker is listed exactly once.
func (s *Store) ListAttackers(ctx context.Context, q store.AttackerQuery) (store.Page[*apiv1.Attacker], error) {
	size := store.ClampPageSize(q.PageSize)
	column, ok := attackerSortColumns[q.Sort]
	if !ok {
		return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: unknown sort %d", q.Sort)
	}
	cursor, err := store.AttackerPageCursor(q)
	if err != nil {
		return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: %w", err)
	}

	w := attackerFilters(q)
	dir, cmp := "DESC", "<"
	if q.Ascending {
		dir, cmp = "ASC", ">"
	}
	if cursor != nil {
		w.add("("+column+", a.id) "+cmp+" (?, ?)", cursor.Key, cursor.ID)
	}

	query := `SELECT ` + attackerColumns + ` FROM attackers a` + w.String() + //nolint:gosec // G202: w, column and dir are constant text, and values are bound as ? arguments
		` ORDER BY ` + column + ` ` + dir + `, a.id ` + dir + ` LIMIT ?`
	rows, err := s.read.QueryContext(ctx, query, append(w.args, size)...)
	if err != nil {
		return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: %w", err)
	}
	defer rows.Close()

	var page store.Page[*apiv1.Attacker]
	for rows.Next() {
		a, err := scanAttacker(rows)
		if err != nil {
			return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: %w", err)
		}
		page.Items = append(page.Items, a)
	}
	if err := rows.Err(); err != nil {
		return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: %w", err)
	}

	if n := len(page.Items); n > 0 {
		page.NextPageToken = store.NextAttackerToken(q, n, size, page.Items[n-1])
	}
	return page, nil
}

// attackerFilters returns the conditions for the filters of q. Filters on
// other tables are id subqueries, each served by an index that leads with
// the filtered column.
//
// NOTE: with such a filter the database sorts every matching attacker
// before it returns a page, and the principal filter reads each stored
// attempt with that principal, so a common one such as "root" costs in
// proportion to its attempts.
func attackerFilters(q store.AttackerQuery) where {
	var w where
	if q.Address != "" {
		w.add("a.id IN (SELECT attacker_id FROM attacker_addresses WHERE address = ?)", normalizeAddress(q.Address))
	}
	if q.AddressPrefix != "" {
		w.add("a.id IN (SELECT attacker_id FROM attacker_addresses WHERE address GLOB ?)", globPrefix(q.AddressPrefix))
	}
	switch {
	case q.Service != "" && q.Decky != "":
		w.add("a.id IN (SELECT attacker_id FROM attacker_targets WHERE decky = ? AND service = ?)", q.Decky, q.Service)
	case q.Service != "":
		w.add("a.id IN (SELECT attacker_id FROM attacker_targets WHERE service = ?)", q.Service)
	case q.Decky != "":
		w.add("a.id IN (SELECT attacker_id FROM attacker_targets WHERE decky = ?)", q.Decky)
	}
	if q.Principal != "" {
		w.add("a.id IN (SELECT attacker_id FROM credentials WHERE principal = ?)", q.Principal)
	}
	if q.MinEventCount > 0 {
		w.add("a.event_count >= ?", clampInt64(q.MinEventCount))
	}
	if !q.SeenSince.IsZero() {
		w.add("a.last_seen >= ?", q.SeenSince.UnixNano())
	}
	if !q.SeenUntil.IsZero() {
		w.add("a.first_seen < ?", q.SeenUntil.UnixNano())
	}
	return w
}

// globPrefix returns the GLOB pattern for text that starts with prefix.
// GLOB rather than LIKE because it compares bytes, as the BINARY index on
// address does, so SQLite reads the matches from a range of that index. The
// pattern's special characters are matched literally through brackets.
func globPrefix(prefix string) string {
	var b strings.Builder
	for _, r := range prefix {
		switch r {
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('*')
	return b.String()
}

// clampInt64 converts a count to a column value. Counts beyond the column
// range saturate, which no stored count reaches.
func clampInt64(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

// GetAttacker returns store.ErrNotFound for an unknown id.
func (s *Store) GetAttacker(ctx context.Context, id string) (*apiv1.Attacker, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+attackerColumns+` FROM attackers a WHERE a.id = ?`, id)
	a, err := scanAttacker(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get attacker %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get attacker %s: %w", id, err)
	}
	return a, nil
}

type scanner interface {
	Scan(dest ...any) error
}

func scanAttacker(row scanner) (*apiv1.Attacker, error) {
	var (
		a                          apiv1.Attacker
		first, last                sql.NullInt64
		addresses, services, decks sql.NullString
	)
	if err := row.Scan(&a.Id, &first, &last, &a.EventCount, &a.AuthAttemptCount, &addresses, &services, &decks); err != nil {
		return nil, err
	}
	a.FirstSeen = timestamppb.New(fromNanos(first))
	a.LastSeen = timestamppb.New(fromNanos(last))
	a.Addresses = splitList(addresses)
	a.Services = splitList(services)
	a.Deckies = splitList(decks)
	return &a, nil
}

// splitList parses a group_concat column into a sorted list, so responses
// do not depend on the query plan.
func splitList(s sql.NullString) []string {
	if !s.Valid || s.String == "" {
		return nil
	}
	out := strings.Split(s.String, listSeparator)
	slices.Sort(out)
	return out
}
