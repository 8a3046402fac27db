package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// ListAttackers returns attackers, most recently seen first.
//
// NOTE: the page token is a (last_seen, id) position, and last_seen moves
// forward as attackers act, so an attacker seen again while a client pages
// can appear on an earlier page and be missed on later ones.
func (s *Store) ListAttackers(ctx context.Context, q store.AttackerQuery) (store.Page[*apiv1.Attacker], error) {
	size := store.ClampPageSize(q.PageSize)

	var w where
	if q.Address != "" {
		w.add("a.id IN (SELECT attacker_id FROM attacker_addresses WHERE address = ?)", normalizeAddress(q.Address))
	}
	if err := w.addCursor("a.last_seen", "a.id", q.PageToken); err != nil {
		return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: %w", err)
	}

	query := `SELECT ` + attackerColumns + ` FROM attackers a` + w.String() + //nolint:gosec // G202: w contains only constant column names, and values are bound as ? arguments
		` ORDER BY a.last_seen DESC, a.id DESC LIMIT ?`
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
		last := page.Items[n-1]
		page.NextPageToken = nextToken(n, size, last.GetLastSeen().AsTime(), last.GetId())
	}
	return page, nil
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
