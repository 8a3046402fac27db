package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/decnet/decnet/controlplane/store"
)

// PutDocument stores or replaces a document.
func (s *Store) PutDocument(ctx context.Context, d store.Document) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO documents (kind, id, grp, at, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (kind, id) DO UPDATE SET grp = excluded.grp, at = excluded.at, data = excluded.data`,
		d.Kind, d.ID, d.Group, d.At, d.Data); err != nil {
		return fmt.Errorf("put %s %s: %w", d.Kind, d.ID, err)
	}
	return nil
}

// GetDocument returns one document.
func (s *Store) GetDocument(ctx context.Context, kind, id string) (store.Document, error) {
	d, err := scanDocument(s.pool.QueryRow(ctx, `SELECT kind, id, grp, at, data FROM documents WHERE kind = $1 AND id = $2`, kind, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Document{}, fmt.Errorf("get %s %s: %w", kind, id, store.ErrNotFound)
	}
	if err != nil {
		return store.Document{}, fmt.Errorf("get %s %s: %w", kind, id, err)
	}
	return d, nil
}

// ListDocuments returns documents newest first.
func (s *Store) ListDocuments(ctx context.Context, kind, grp string, limit int) ([]store.Document, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, id, grp, at, data FROM documents
		WHERE kind = $1 AND ($2 = '' OR grp = $2) ORDER BY at DESC, id DESC LIMIT $3`, kind, grp, documentLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	return collectDocuments(rows, kind)
}

// DeleteDocument deletes one document.
func (s *Store) DeleteDocument(ctx context.Context, kind, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM documents WHERE kind = $1 AND id = $2`, kind, id)
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete %s %s: %w", kind, id, store.ErrNotFound)
	}
	return nil
}

// DeleteDocuments deletes a group's documents.
func (s *Store) DeleteDocuments(ctx context.Context, kind, grp string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM documents WHERE kind = $1 AND grp = $2`, kind, grp); err != nil {
		return fmt.Errorf("delete %s of %s: %w", kind, grp, err)
	}
	return nil
}

// TakeDocuments deletes and returns documents in one statement; rows
// another transaction is taking are skipped.
func (s *Store) TakeDocuments(ctx context.Context, kind, grp, id string, limit int) ([]store.Document, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM documents WHERE (kind, id) IN (
			SELECT kind, id FROM documents WHERE kind = $1 AND grp = $2 AND ($3 = '' OR id = $3)
			ORDER BY at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING kind, id, grp, at, data`, kind, grp, id, documentLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("take %s of %s: %w", kind, grp, err)
	}
	return collectDocuments(rows, kind)
}

// PruneDocuments deletes old documents of a kind.
func (s *Store) PruneDocuments(ctx context.Context, kind string, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM documents WHERE kind = $1 AND at < $2`, kind, before)
	if err != nil {
		return 0, fmt.Errorf("prune %s: %w", kind, err)
	}
	return tag.RowsAffected(), nil
}

func documentLimit(limit int) int {
	if limit <= 0 || limit > 10_000 {
		return 10_000
	}
	return limit
}

func scanDocument(row pgx.Row) (store.Document, error) {
	var d store.Document
	if err := row.Scan(&d.Kind, &d.ID, &d.Group, &d.At, &d.Data); err != nil {
		return store.Document{}, err
	}
	d.At = d.At.UTC()
	return d, nil
}

func collectDocuments(rows pgx.Rows, kind string) ([]store.Document, error) {
	defer rows.Close()
	var out []store.Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", kind, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", kind, err)
	}
	return out, nil
}
