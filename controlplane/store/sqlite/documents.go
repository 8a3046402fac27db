package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

// PutDocument stores or replaces a document.
func (s *Store) PutDocument(ctx context.Context, d store.Document) error {
	if _, err := s.write.ExecContext(ctx, `INSERT INTO documents (kind, id, grp, at, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, id) DO UPDATE SET grp = excluded.grp, at = excluded.at, data = excluded.data`,
		d.Kind, d.ID, d.Group, d.At.UnixNano(), d.Data); err != nil {
		return fmt.Errorf("put %s %s: %w", d.Kind, d.ID, err)
	}
	return nil
}

// GetDocument returns one document.
func (s *Store) GetDocument(ctx context.Context, kind, id string) (store.Document, error) {
	d, err := scanDocument(s.read.QueryRowContext(ctx, `SELECT kind, id, grp, at, data FROM documents WHERE kind = ? AND id = ?`, kind, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Document{}, fmt.Errorf("get %s %s: %w", kind, id, store.ErrNotFound)
	}
	if err != nil {
		return store.Document{}, fmt.Errorf("get %s %s: %w", kind, id, err)
	}
	return d, nil
}

// ListDocuments returns documents newest first.
func (s *Store) ListDocuments(ctx context.Context, kind, grp string, limit int) ([]store.Document, error) {
	query := `SELECT kind, id, grp, at, data FROM documents WHERE kind = ?`
	args := []any{kind}
	if grp != "" {
		query += ` AND grp = ?`
		args = append(args, grp)
	}
	rows, err := s.read.QueryContext(ctx, query+` ORDER BY at DESC, id DESC LIMIT ?`, append(args, documentLimit(limit))...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	return collectDocuments(rows, kind)
}

// DeleteDocument deletes one document.
func (s *Store) DeleteDocument(ctx context.Context, kind, id string) error {
	r, err := s.write.ExecContext(ctx, `DELETE FROM documents WHERE kind = ? AND id = ?`, kind, id)
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, id, err)
	}
	return affectedOne(r, fmt.Sprintf("delete %s %s", kind, id))
}

// DeleteDocuments deletes a group's documents.
func (s *Store) DeleteDocuments(ctx context.Context, kind, grp string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM documents WHERE kind = ? AND grp = ?`, kind, grp); err != nil {
		return fmt.Errorf("delete %s of %s: %w", kind, grp, err)
	}
	return nil
}

// TakeDocuments deletes and returns documents in one transaction.
func (s *Store) TakeDocuments(ctx context.Context, kind, grp, id string, limit int) ([]store.Document, error) {
	var out []store.Document
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		query := `SELECT kind, id, grp, at, data FROM documents WHERE kind = ? AND grp = ?`
		args := []any{kind, grp}
		if id != "" {
			query += ` AND id = ?`
			args = append(args, id)
		}
		rows, err := tx.QueryContext(ctx, query+` ORDER BY at, id LIMIT ?`, append(args, documentLimit(limit))...)
		if err != nil {
			return err
		}
		if out, err = collectDocuments(rows, kind); err != nil {
			return err
		}
		for _, d := range out {
			if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE kind = ? AND id = ?`, kind, d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take %s of %s: %w", kind, grp, err)
	}
	return out, nil
}

// PruneDocuments deletes old documents of a kind.
func (s *Store) PruneDocuments(ctx context.Context, kind string, before time.Time) (int64, error) {
	r, err := s.write.ExecContext(ctx, `DELETE FROM documents WHERE kind = ? AND at < ?`, kind, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("prune %s: %w", kind, err)
	}
	return r.RowsAffected()
}

// documentLimit bounds one listing.
func documentLimit(limit int) int {
	if limit <= 0 || limit > 10_000 {
		return 10_000
	}
	return limit
}

func scanDocument(row scanner) (store.Document, error) {
	var (
		d  store.Document
		at int64
	)
	if err := row.Scan(&d.Kind, &d.ID, &d.Group, &at, &d.Data); err != nil {
		return store.Document{}, err
	}
	d.At = time.Unix(0, at).UTC()
	return d, nil
}

func collectDocuments(rows *sql.Rows, kind string) ([]store.Document, error) {
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
