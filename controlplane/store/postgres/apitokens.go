package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/decnet/decnet/controlplane/store"
)

const apiTokenColumns = `id::text, hash, name, username, role, scopes, created_at, expires_at, revoked_at` //nolint:gosec // G101: column names

// foreignKeyViolation is PostgreSQL's SQLSTATE for a missing referenced row.
const foreignKeyViolation = "23503"

// CreateAPIToken stores a token by its hash.
func (s *Store) CreateAPIToken(ctx context.Context, t store.APIToken) error {
	id, err := uuid.Parse(t.ID)
	if err != nil {
		return fmt.Errorf("create api token: id %q is not a UUID", t.ID)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO api_tokens (id, hash, name, username, role, scopes, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, pgUUID(id), t.Hash, t.Name, t.Username, t.Role, strings.Join(t.Scopes, " "), t.CreatedAt, t.ExpiresAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == foreignKeyViolation {
		return fmt.Errorf("create api token: user %q: %w", t.Username, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create api token: %w", err)
	}
	return nil
}

// GetAPITokenByHash returns the live token with this hash.
func (s *Store) GetAPITokenByHash(ctx context.Context, hash []byte, now time.Time) (store.APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE hash = $1 AND revoked_at IS NULL AND expires_at > $2`, hash, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.APIToken{}, fmt.Errorf("get api token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("get api token: %w", err)
	}
	return t, nil
}

// ListAPITokens returns tokens newest first.
func (s *Store) ListAPITokens(ctx context.Context, username string) ([]store.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE $1 = '' OR username = $1 ORDER BY created_at DESC, id DESC`, username)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []store.APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken revokes the token and returns it.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) (store.APIToken, error) {
	parsed, err := uuid.Parse(id)
	if err != nil {
		return store.APIToken{}, fmt.Errorf("revoke api token %q: %w", id, store.ErrNotFound)
	}
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2)
		WHERE id = $1 RETURNING `+apiTokenColumns, pgUUID(parsed), at))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.APIToken{}, fmt.Errorf("revoke api token %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("revoke api token %q: %w", id, err)
	}
	return t, nil
}

func scanAPIToken(row pgx.Row) (store.APIToken, error) {
	var (
		t       store.APIToken
		scopes  string
		revoked *time.Time
	)
	if err := row.Scan(&t.ID, &t.Hash, &t.Name, &t.Username, &t.Role, &scopes, &t.CreatedAt, &t.ExpiresAt, &revoked); err != nil {
		return store.APIToken{}, err
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if revoked != nil {
		t.RevokedAt = revoked.UTC()
	}
	return t, nil
}
