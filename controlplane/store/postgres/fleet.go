package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/decnet/decnet/controlplane/store"
)

// CreateToken stores a bootstrap token. It returns store.ErrExists when a
// token with the same hash is stored already.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	agent, err := uuid.Parse(t.AgentID)
	if err != nil {
		return fmt.Errorf("create token for agent %q: agent id is not a UUID", t.AgentID)
	}
	labels, err := encodeLabels(t.Labels)
	if err != nil {
		return fmt.Errorf("create token for agent %s: %w", t.AgentID, err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO tokens (hash, agent_id, agent_name, created_at, expires_at, used_at, revoked_at, labels)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT (hash) DO NOTHING`,
		t.Hash, pgUUID(agent), t.AgentName, t.CreatedAt, t.ExpiresAt, timestamptz(t.UsedAt), timestamptz(t.RevokedAt), labels)
	if err != nil {
		return fmt.Errorf("create token for agent %s: %w", t.AgentID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create token for agent %s: %w", t.AgentID, store.ErrExists)
	}
	return nil
}

// ConsumeToken marks the token used in one conditional UPDATE. Concurrent
// callers queue on the row lock, and READ COMMITTED rechecks the WHERE
// clause on the row the winner committed, so exactly one updates it.
func (s *Store) ConsumeToken(ctx context.Context, hash []byte, now time.Time) (store.Token, error) {
	row := s.pool.QueryRow(ctx, `UPDATE tokens SET used_at = $1
		WHERE hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1
		RETURNING `+tokenColumns,
		now, hash)
	t, err := scanToken(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, fmt.Errorf("consume token: %w", store.ErrTokenInvalid)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("consume token: %w", err)
	}
	return t, nil
}

// ListTokens returns all bootstrap tokens, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, agent_id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()

	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken sets revoked_at on the agent's tokens unless set already,
// in one UPDATE, and returns the newest of them.
func (s *Store) RevokeToken(ctx context.Context, agentID string, at time.Time) (store.Token, error) {
	parsed, err := uuid.Parse(agentID)
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token of agent %q: %w", agentID, store.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1)
		WHERE agent_id = $2 RETURNING `+tokenColumns, at, pgUUID(parsed))
	if err != nil {
		return store.Token{}, fmt.Errorf("revoke token of agent %s: %w", agentID, err)
	}
	defer rows.Close()

	var (
		newest store.Token
		found  bool
	)
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return store.Token{}, fmt.Errorf("revoke token of agent %s: %w", agentID, err)
		}
		if !found || t.CreatedAt.After(newest.CreatedAt) {
			newest, found = t, true
		}
	}
	if err := rows.Err(); err != nil {
		return store.Token{}, fmt.Errorf("revoke token of agent %s: %w", agentID, err)
	}
	if !found {
		return store.Token{}, fmt.Errorf("revoke token of agent %s: %w", agentID, store.ErrNotFound)
	}
	return newest, nil
}

// tokenColumns are the columns scanToken reads, in order.
const tokenColumns = `hash, agent_id::text, agent_name, created_at, expires_at, used_at, revoked_at, labels::text` //nolint:gosec // G101: column names, not a credential

func scanToken(row pgx.Row) (store.Token, error) {
	var (
		t                store.Token
		created, expires time.Time
		used, revoked    pgtype.Timestamptz
		labels           string
	)
	if err := row.Scan(&t.Hash, &t.AgentID, &t.AgentName, &created, &expires, &used, &revoked, &labels); err != nil {
		return store.Token{}, err
	}
	t.CreatedAt = created.UTC()
	t.ExpiresAt = expires.UTC()
	t.UsedAt = fromTimestamptz(used)
	t.RevokedAt = fromTimestamptz(revoked)
	var err error
	if t.Labels, err = decodeLabels(labels); err != nil {
		return store.Token{}, err
	}
	return t, nil
}

// encodeLabels returns labels as a JSON object; nil encodes as {}.
func encodeLabels(labels map[string]string) (string, error) {
	if len(labels) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(labels)
	if err != nil {
		return "", fmt.Errorf("encode labels: %w", err)
	}
	return string(b), nil
}

// decodeLabels parses a JSON object of strings; {} decodes as nil.
func decodeLabels(s string) (map[string]string, error) {
	var labels map[string]string
	if err := json.Unmarshal([]byte(s), &labels); err != nil {
		return nil, fmt.Errorf("decode labels: %w", err)
	}
	if len(labels) == 0 {
		return nil, nil
	}
	return labels, nil
}

// UpsertAgent records an enrollment or a new certificate. A known agent
// keeps its first enrollment time; zero LastSeen and empty Version leave
// the stored values unchanged.
func (s *Store) UpsertAgent(ctx context.Context, a store.Agent) error {
	id, err := uuid.Parse(a.ID)
	if err != nil {
		return fmt.Errorf("upsert agent %q: id is not a UUID", a.ID)
	}
	// GREATEST ignores NULL arguments, so a NULL last_seen on either side
	// keeps the other.
	// NULL labels keep the stored ones on conflict.
	var labels *string
	if a.Labels != nil {
		encoded, err := encodeLabels(a.Labels)
		if err != nil {
			return fmt.Errorf("upsert agent %s: %w", a.ID, err)
		}
		labels = &encoded
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO agents
		(id, name, enrolled_at, last_seen, version, certificate_serial, certificate_expires_at, labels)
		VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8::jsonb, '{}'))
		ON CONFLICT (id) DO UPDATE SET
			name = excluded.name,
			enrolled_at = COALESCE(agents.enrolled_at, excluded.enrolled_at),
			last_seen = GREATEST(agents.last_seen, excluded.last_seen),
			version = CASE WHEN excluded.version = '' THEN agents.version ELSE excluded.version END,
			certificate_serial = excluded.certificate_serial,
			certificate_expires_at = excluded.certificate_expires_at,
			labels = COALESCE($8::jsonb, agents.labels)`,
		pgUUID(id), a.Name, timestamptz(a.EnrolledAt), timestamptz(a.LastSeen), a.Version, a.CertificateSerial,
		timestamptz(a.CertificateExpiresAt), labels)
	if err != nil {
		return fmt.Errorf("upsert agent %s: %w", a.ID, err)
	}
	return nil
}

// TouchAgent moves the agent's last-seen time forward and records its
// version when not empty. It returns store.ErrNotFound for an agent that
// was never enrolled.
func (s *Store) TouchAgent(ctx context.Context, id, version string, seen time.Time) error {
	parsed, err := uuid.Parse(id)
	if err != nil {
		return fmt.Errorf("touch agent %q: %w", id, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE agents SET
			last_seen = GREATEST(last_seen, $1),
			version = CASE WHEN $2::text = '' THEN version ELSE $2::text END
		WHERE id = $3`, seen, version, pgUUID(parsed))
	if err != nil {
		return fmt.Errorf("touch agent %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("touch agent %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// agentColumns are the columns scanAgent reads, in order.
const agentColumns = `id::text, name, enrolled_at, last_seen, version,
	certificate_serial, certificate_expires_at, revoked_at, labels::text`

// ListAgents returns every enrolled agent, by name and then id.
func (s *Store) ListAgents(ctx context.Context) ([]store.Agent, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+agentColumns+` FROM agents ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	defer rows.Close()

	var out []store.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("list agents: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return out, nil
}

// GetAgent returns one agent, or store.ErrNotFound, also for an id that is
// not a UUID.
func (s *Store) GetAgent(ctx context.Context, id string) (store.Agent, error) {
	parsed, err := uuid.Parse(id)
	if err != nil {
		return store.Agent{}, fmt.Errorf("get agent %q: %w", id, store.ErrNotFound)
	}
	a, err := scanAgent(s.pool.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents WHERE id = $1`, pgUUID(parsed)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Agent{}, fmt.Errorf("get agent %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Agent{}, fmt.Errorf("get agent %s: %w", id, err)
	}
	return a, nil
}

// RevokeAgent sets revoked_at unless it is set already, in one UPDATE, so
// concurrent revocations agree on the first time.
func (s *Store) RevokeAgent(ctx context.Context, id string, at time.Time) (store.Agent, error) {
	parsed, err := uuid.Parse(id)
	if err != nil {
		return store.Agent{}, fmt.Errorf("revoke agent %q: %w", id, store.ErrNotFound)
	}
	row := s.pool.QueryRow(ctx, `UPDATE agents SET revoked_at = COALESCE(revoked_at, $1)
		WHERE id = $2 RETURNING `+agentColumns, at, pgUUID(parsed))
	a, err := scanAgent(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Agent{}, fmt.Errorf("revoke agent %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Agent{}, fmt.Errorf("revoke agent %s: %w", id, err)
	}
	return a, nil
}

func scanAgent(row pgx.Row) (store.Agent, error) {
	var (
		a                                   store.Agent
		enrolled, seen, certExpiry, revoked pgtype.Timestamptz
		labels                              string
	)
	if err := row.Scan(&a.ID, &a.Name, &enrolled, &seen, &a.Version, &a.CertificateSerial, &certExpiry, &revoked, &labels); err != nil {
		return store.Agent{}, err
	}
	var err error
	if a.Labels, err = decodeLabels(labels); err != nil {
		return store.Agent{}, err
	}
	a.EnrolledAt = fromTimestamptz(enrolled)
	a.LastSeen = fromTimestamptz(seen)
	a.CertificateExpiresAt = fromTimestamptz(certExpiry)
	a.RevokedAt = fromTimestamptz(revoked)
	return a, nil
}
