package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

const attackerColumns = `a.id::text, a.first_seen, a.last_seen, a.event_count, a.auth_attempt_count,
	ARRAY(SELECT address FROM attacker_addresses WHERE attacker_id = a.id),
	ARRAY(SELECT DISTINCT service FROM attacker_targets WHERE attacker_id = a.id),
	ARRAY(SELECT DISTINCT decky FROM attacker_targets WHERE attacker_id = a.id)`

// attackerSortColumns maps each sort to its column. The attackers table
// has an index on each, with id.
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
	if err := s.syncAggregates(ctx); err != nil {
		return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: %w", err)
	}

	w := attackerFilters(q)
	dir, cmp := "DESC", "<"
	if q.Ascending {
		dir, cmp = "ASC", ">"
	}
	if cursor != nil {
		id, err := uuid.Parse(cursor.ID)
		if err != nil {
			return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: parse page token id: %w", store.ErrInvalidPageToken)
		}
		w.add("(" + column + ", a.id) " + cmp + " (" + w.arg(cursorKey(q.Sort, cursor.Key)) + ", " + w.arg(pgUUID(id)) + ")")
	}

	query := `SELECT ` + attackerColumns + ` FROM attackers a` + w.String() +
		` ORDER BY ` + column + ` ` + dir + `, a.id ` + dir + ` LIMIT ` + w.arg(size)
	rows, err := s.pool.Query(ctx, query, w.args...)
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

// cursorKey maps a page token's sort key to the column's type: a time for
// the time columns, the count for the others.
func cursorKey(sort store.AttackerSort, key int64) any {
	switch sort {
	case store.SortLastSeen, store.SortFirstSeen:
		return time.Unix(0, key).UTC()
	default:
		return key
	}
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
		w.add("a.id IN (SELECT attacker_id FROM attacker_addresses WHERE address = " + w.arg(normalizeAddress(q.Address)) + ")")
	}
	if q.AddressPrefix != "" {
		// The text_pattern_ops index on address serves a LIKE prefix
		// as an index range whatever the database collation.
		w.add("a.id IN (SELECT attacker_id FROM attacker_addresses WHERE address LIKE " + w.arg(likePrefix(q.AddressPrefix)) + ")")
	}
	switch {
	case q.Service != "" && q.Decky != "":
		w.add("a.id IN (SELECT attacker_id FROM attacker_targets WHERE decky = " + w.arg(q.Decky) + " AND service = " + w.arg(q.Service) + ")")
	case q.Service != "":
		w.add("a.id IN (SELECT attacker_id FROM attacker_targets WHERE service = " + w.arg(q.Service) + ")")
	case q.Decky != "":
		w.add("a.id IN (SELECT attacker_id FROM attacker_targets WHERE decky = " + w.arg(q.Decky) + ")")
	}
	if q.Principal != "" {
		w.add("a.id IN (SELECT attacker_id FROM credentials WHERE principal = " + w.arg(q.Principal) + ")")
	}
	if q.MinEventCount > 0 {
		w.add("a.event_count >= " + w.arg(clampInt64(q.MinEventCount)))
	}
	if !q.SeenSince.IsZero() {
		w.add("a.last_seen >= " + w.arg(q.SeenSince))
	}
	if !q.SeenUntil.IsZero() {
		w.add("a.first_seen < " + w.arg(q.SeenUntil))
	}
	return w
}

// likePrefix returns the LIKE pattern for text that starts with prefix,
// with the pattern's special characters escaped by the default escape
// character, the backslash.
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(prefix) + "%"
}

// clampInt64 converts a count to a column value. Counts beyond the column
// range saturate, which no stored count reaches.
func clampInt64(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

// GetAttacker returns store.ErrNotFound for an unknown id, including text
// that is not a UUID.
func (s *Store) GetAttacker(ctx context.Context, id string) (*apiv1.Attacker, error) {
	parsed, err := uuid.Parse(id)
	if err != nil {
		return nil, fmt.Errorf("get attacker %q: %w", id, store.ErrNotFound)
	}
	if err := s.syncAggregates(ctx); err != nil {
		return nil, fmt.Errorf("get attacker %s: %w", id, err)
	}
	row := s.pool.QueryRow(ctx, `SELECT `+attackerColumns+` FROM attackers a WHERE a.id = $1`, pgUUID(parsed))
	a, err := scanAttacker(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("get attacker %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get attacker %s: %w", id, err)
	}
	return a, nil
}

func scanAttacker(row pgx.Row) (*apiv1.Attacker, error) {
	var (
		a                          apiv1.Attacker
		first, last                time.Time
		addresses, services, decks []string
	)
	if err := row.Scan(&a.Id, &first, &last, &a.EventCount, &a.AuthAttemptCount, &addresses, &services, &decks); err != nil {
		return nil, err
	}
	a.FirstSeen = timestamppb.New(first)
	a.LastSeen = timestamppb.New(last)
	a.Addresses = sortedList(addresses)
	a.Services = sortedList(services)
	a.Deckies = sortedList(decks)
	return &a, nil
}

// sortedList sorts a list column in byte order in Go, as the SQLite backend
// does, so the order does not depend on the database's collation.
func sortedList(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return s
}
