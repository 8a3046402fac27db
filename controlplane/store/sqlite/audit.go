package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/decnet/decnet/controlplane/store"
)

// AppendAudit records one audit entry.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if _, err := s.write.ExecContext(ctx, `INSERT INTO audit_log (id, time, username, role, procedure, request, outcome, source)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Time.UnixNano(), e.Username, e.Role, e.Procedure, e.Request, e.Outcome, e.Source); err != nil {
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
	//nolint:gosec // G202: w contains only constant column names, and values are bound as ? arguments
	query := `SELECT id, time, username, role, procedure, request, outcome, source FROM audit_log` + w.String() +
		` ORDER BY time DESC, id DESC LIMIT ?`
	rows, err := s.read.QueryContext(ctx, query, append(w.args, size)...)
	if err != nil {
		return store.Page[store.AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var page store.Page[store.AuditEntry]
	for rows.Next() {
		var (
			e  store.AuditEntry
			at sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &at, &e.Username, &e.Role, &e.Procedure, &e.Request, &e.Outcome, &e.Source); err != nil {
			return store.Page[store.AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
		}
		e.Time = fromNanos(at)
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
