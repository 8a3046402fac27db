package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// ListAttackers returns attackers, most recently seen first.
//
// NOTE: the page token is a (last_seen, id) position, and last_seen moves
// forward as attackers act, so an attacker seen again while a client pages
// can appear on an earlier page and be missed on later ones.
func (s *Store) ListAttackers(ctx context.Context, q store.AttackerQuery) (store.Page[*apiv1.Attacker], error) {
	if err := s.syncAggregates(ctx); err != nil {
		return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: %w", err)
	}
	size := store.ClampPageSize(q.PageSize)

	var w where
	if q.Address != "" {
		w.add("a.id IN (SELECT attacker_id FROM attacker_addresses WHERE address = " + w.arg(normalizeAddress(q.Address)) + ")")
	}
	if err := w.addCursor("a.last_seen", "a.id", q.PageToken); err != nil {
		return store.Page[*apiv1.Attacker]{}, fmt.Errorf("list attackers: %w", err)
	}

	query := `SELECT ` + attackerColumns + ` FROM attackers a` + w.String() +
		` ORDER BY a.last_seen DESC, a.id DESC LIMIT ` + w.arg(size)
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
		last := page.Items[n-1]
		page.NextPageToken = nextToken(n, size, last.GetLastSeen().AsTime(), last.GetId())
	}
	return page, nil
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
