package postgres

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// CredentialTargets groups the credentials of each key by decky and
// service, in one query.
func (s *Store) CredentialTargets(ctx context.Context, keys []store.CredentialKey) (map[store.CredentialKey][]*apiv1.CredentialTarget, error) {
	out := make(map[store.CredentialKey][]*apiv1.CredentialTarget)
	if len(keys) == 0 {
		return out, nil
	}
	sums := make([][]byte, len(keys))
	kinds := make([]string, len(keys))
	principals := make([]string, len(keys))
	for i, k := range keys {
		sums[i], kinds[i], principals[i] = []byte(k.SHA256), k.SecretKind, k.Principal
	}
	rows, err := s.pool.Query(ctx, `SELECT c.secret_sha256, c.secret_kind, c.principal, c.decky, c.service,
			MIN(c.time), MAX(c.time), COUNT(*),
			COALESCE(array_agg(DISTINCT c.attacker_id::text) FILTER (WHERE c.attacker_id IS NOT NULL), '{}'),
			array_agg(DISTINCT c.mechanism)
		FROM credentials c
		JOIN unnest($1::bytea[], $2::text[], $3::text[]) AS k(secret_sha256, secret_kind, principal)
			ON c.secret_sha256 = k.secret_sha256 AND c.secret_kind = k.secret_kind AND c.principal = k.principal
		GROUP BY c.secret_sha256, c.secret_kind, c.principal, c.decky, c.service
		ORDER BY MIN(c.time), c.decky, c.service`, sums, kinds, principals)
	if err != nil {
		return nil, fmt.Errorf("find credential targets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k           store.CredentialKey
			sum         []byte
			t           apiv1.CredentialTarget
			first, last time.Time
			attempts    int64
		)
		if err := rows.Scan(&sum, &k.SecretKind, &k.Principal, &t.Decky, &t.Service, &first, &last, &attempts, &t.AttackerIds, &t.Mechanisms); err != nil {
			return nil, fmt.Errorf("find credential targets: %w", err)
		}
		k.SHA256 = string(sum)
		t.FirstSeen, t.LastSeen = timestamppb.New(first), timestamppb.New(last)
		t.Attempts = uint64(attempts) //nolint:gosec // G115: a count is never negative
		out[k] = append(out[k], &t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find credential targets: %w", err)
	}
	return out, nil
}

// ListCredentialReuse returns the credentials tried on two or more
// targets, most recently used first.
//
// NOTE: it groups every credential; a summary table kept at ingest would
// replace the scan once stores hold millions of credentials.
func (s *Store) ListCredentialReuse(ctx context.Context, limit int) ([]*apiv1.CredentialReuse, error) {
	rows, err := s.pool.Query(ctx, `SELECT secret_sha256, secret_kind, principal FROM credentials
		GROUP BY secret_sha256, secret_kind, principal
		HAVING COUNT(DISTINCT (decky, service)) >= 2
		ORDER BY MAX(time) DESC LIMIT $1`, store.ClampPageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("list credential reuse: %w", err)
	}
	var keys []store.CredentialKey
	for rows.Next() {
		var (
			k   store.CredentialKey
			sum []byte
		)
		if err := rows.Scan(&sum, &k.SecretKind, &k.Principal); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list credential reuse: %w", err)
		}
		k.SHA256 = string(sum)
		keys = append(keys, k)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("list credential reuse: %w", err)
	}
	targets, err := s.CredentialTargets(ctx, keys)
	if err != nil {
		return nil, err
	}
	return store.ReuseGroups(keys, targets), nil
}
