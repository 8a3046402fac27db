package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

const apiTokenColumns = `id, hash, name, username, role, scopes, created_at, expires_at, revoked_at` //nolint:gosec // G101: column names

// CreateAPIToken stores a token by its hash.
func (s *Store) CreateAPIToken(ctx context.Context, t store.APIToken) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
		t.ID, t.Hash, t.Name, t.Username, t.Role, strings.Join(t.Scopes, " "), t.CreatedAt.UnixNano(), t.ExpiresAt.UnixNano())
	if err != nil {
		if strings.Contains(err.Error(), "FOREIGN KEY") {
			return fmt.Errorf("create api token: user %q: %w", t.Username, store.ErrNotFound)
		}
		return fmt.Errorf("create api token: %w", err)
	}
	return nil
}

// GetAPITokenByHash returns the live token with this hash.
func (s *Store) GetAPITokenByHash(ctx context.Context, hash []byte, now time.Time) (store.APIToken, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE hash = ? AND revoked_at IS NULL AND expires_at > ?`, hash, now.UnixNano())
	t, err := scanAPIToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIToken{}, fmt.Errorf("get api token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("get api token: %w", err)
	}
	return t, nil
}

// ListAPITokens returns tokens newest first.
func (s *Store) ListAPITokens(ctx context.Context, username string) ([]store.APIToken, error) {
	query := `SELECT ` + apiTokenColumns + ` FROM api_tokens`
	var args []any
	if username != "" {
		query += ` WHERE username = ?`
		args = append(args, username)
	}
	rows, err := s.read.QueryContext(ctx, query+` ORDER BY created_at DESC, id DESC`, args...)
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
	if _, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UnixNano(), id); err != nil {
		return store.APIToken{}, fmt.Errorf("revoke api token: %w", err)
	}
	t, err := scanAPIToken(s.write.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIToken{}, fmt.Errorf("revoke api token %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("revoke api token %q: %w", id, err)
	}
	return t, nil
}

func scanAPIToken(row scanner) (store.APIToken, error) {
	var (
		t                store.APIToken
		scopes           string
		created, expires int64
		revoked          sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.Hash, &t.Name, &t.Username, &t.Role, &scopes, &created, &expires, &revoked); err != nil {
		return store.APIToken{}, err
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt, t.ExpiresAt = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	if revoked.Valid {
		t.RevokedAt = time.Unix(0, revoked.Int64).UTC()
	}
	return t, nil
}
