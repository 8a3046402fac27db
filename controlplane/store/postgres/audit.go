package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/decnet/decnet/controlplane/store"
)

// AppendAudit records one audit entry.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	id, err := uuid.Parse(e.ID)
	if err != nil {
		return fmt.Errorf("append audit entry: id %q is not a UUID", e.ID)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO audit_log (id, time, username, role, procedure, request, outcome, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		pgUUID(id), e.Time, e.Username, e.Role, e.Procedure, e.Request, e.Outcome, e.Source); err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// ListAudit returns audit entries newest first.
func (s *Store) ListAudit(ctx context.Context, q store.AuditQuery) (store.Page[store.AuditEntry], error) {
	size := store.ClampPageSize(q.PageSize)
	var w where
	w.addIf("username", q.Username)
	if err := w.addCursor("time", "id", q.PageToken); err != nil {
		return store.Page[store.AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
	}
	query := `SELECT id::text, time, username, role, procedure, request, outcome, source FROM audit_log` + w.String() +
		` ORDER BY time DESC, id DESC LIMIT ` + w.arg(size)
	rows, err := s.pool.Query(ctx, query, w.args...)
	if err != nil {
		return store.Page[store.AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var page store.Page[store.AuditEntry]
	for rows.Next() {
		var e store.AuditEntry
		if err := rows.Scan(&e.ID, &e.Time, &e.Username, &e.Role, &e.Procedure, &e.Request, &e.Outcome, &e.Source); err != nil {
			return store.Page[store.AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
		}
		e.Time = e.Time.UTC()
		page.Items = append(page.Items, e)
	}
	if err := rows.Err(); err != nil {
		return store.Page[store.AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
	}
	if n := len(page.Items); n > 0 {
		last := page.Items[n-1]
		page.NextPageToken = nextToken(n, size, last.Time, last.ID)
	}
	return page, nil
}
