package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

// SetDesiredConfig stores the document under the next version in one
// upsert, so concurrent calls get distinct versions.
func (s *Store) SetDesiredConfig(ctx context.Context, agentID string, document []byte, at time.Time) (uint64, error) {
	if document == nil {
		document = []byte{}
	}
	var version uint64
	err := s.write.QueryRowContext(ctx, `INSERT INTO agent_configs (agent_id, desired_version, document, desired_at)
		SELECT id, 1, ?2, ?3 FROM agents WHERE id = ?1
		ON CONFLICT (agent_id) DO UPDATE SET
			desired_version = agent_configs.desired_version + 1,
			document = excluded.document,
			desired_at = excluded.desired_at
		RETURNING desired_version`, agentID, document, at.UnixNano()).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("set desired config of agent %s: %w", agentID, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("set desired config of agent %s: %w", agentID, err)
	}
	return version, nil
}

// RecordAppliedConfig upserts the reported version and error.
func (s *Store) RecordAppliedConfig(ctx context.Context, agentID string, applied uint64, applyError string, at time.Time) error {
	r, err := s.write.ExecContext(ctx, `INSERT INTO agent_configs (agent_id, applied_version, apply_error, reported_at)
		SELECT id, ?2, ?3, ?4 FROM agents WHERE id = ?1
		ON CONFLICT (agent_id) DO UPDATE SET
			applied_version = excluded.applied_version,
			apply_error = excluded.apply_error,
			reported_at = excluded.reported_at`, agentID, applied, applyError, at.UnixNano())
	if err != nil {
		return fmt.Errorf("record applied config of agent %s: %w", agentID, err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return fmt.Errorf("record applied config of agent %s: %w", agentID, err)
	} else if n == 0 {
		return fmt.Errorf("record applied config of agent %s: %w", agentID, store.ErrNotFound)
	}
	return nil
}

// GetAgentConfig reads the agent's row joined with its configuration, so
// an enrolled agent without one is distinguished from an unknown id.
func (s *Store) GetAgentConfig(ctx context.Context, agentID string) (store.AgentConfig, error) {
	var (
		c                   = store.AgentConfig{AgentID: agentID}
		desired, applied    sql.NullInt64
		document            []byte
		applyError          sql.NullString
		desiredAt, reported sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx, `SELECT c.desired_version, c.document, c.desired_at,
			c.applied_version, c.apply_error, c.reported_at
		FROM agents a LEFT JOIN agent_configs c ON c.agent_id = a.id
		WHERE a.id = ?`, agentID).Scan(&desired, &document, &desiredAt, &applied, &applyError, &reported)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AgentConfig{}, fmt.Errorf("get config of agent %s: %w", agentID, store.ErrNotFound)
	}
	if err != nil {
		return store.AgentConfig{}, fmt.Errorf("get config of agent %s: %w", agentID, err)
	}
	c.DesiredVersion = uint64(desired.Int64)
	c.Document = document
	c.DesiredAt = fromNanos(desiredAt)
	c.AppliedVersion = uint64(applied.Int64)
	c.ApplyError = applyError.String
	c.ReportedAt = fromNanos(reported)
	return c, nil
}
