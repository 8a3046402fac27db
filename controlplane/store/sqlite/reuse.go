package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// keysPerQuery bounds the keys one target query matches, far below
// SQLite's limit on bound parameters.
const keysPerQuery = 200

// CredentialTargets groups the credentials of each key by decky and
// service.
func (s *Store) CredentialTargets(ctx context.Context, keys []store.CredentialKey) (map[store.CredentialKey][]*apiv1.CredentialTarget, error) {
	out := make(map[store.CredentialKey][]*apiv1.CredentialTarget)
	for start := 0; start < len(keys); start += keysPerQuery {
		chunk := keys[start:min(start+keysPerQuery, len(keys))]
		conds := make([]string, len(chunk))
		args := make([]any, 0, 3*len(chunk))
		for i, k := range chunk {
			conds[i] = "(secret_sha256 = ? AND secret_kind = ? AND principal = ?)"
			args = append(args, []byte(k.SHA256), k.SecretKind, k.Principal)
		}
		//nolint:gosec // G202: conds are constant text, values are bound as ? arguments
		query := `SELECT secret_sha256, secret_kind, principal, decky, service, MIN(time), MAX(time), COUNT(*),
				replace(group_concat(DISTINCT attacker_id), ',', char(31)), replace(group_concat(DISTINCT mechanism), ',', char(31))
			FROM credentials WHERE ` + strings.Join(conds, " OR ") + `
			GROUP BY secret_sha256, secret_kind, principal, decky, service
			ORDER BY MIN(time), decky, service`
		rows, err := s.read.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("find credential targets: %w", err)
		}
		for rows.Next() {
			var (
				k                    store.CredentialKey
				sum                  []byte
				t                    apiv1.CredentialTarget
				first, last          int64
				attackers, mechanism sql.NullString
			)
			if err := rows.Scan(&sum, &k.SecretKind, &k.Principal, &t.Decky, &t.Service, &first, &last, &t.Attempts, &attackers, &mechanism); err != nil {
				rows.Close()
				return nil, fmt.Errorf("find credential targets: %w", err)
			}
			k.SHA256 = string(sum)
			t.FirstSeen = timestamppb.New(time.Unix(0, first).UTC())
			t.LastSeen = timestamppb.New(time.Unix(0, last).UTC())
			t.AttackerIds = splitList(attackers)
			t.Mechanisms = splitList(mechanism)
			out[k] = append(out[k], &t)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("find credential targets: %w", err)
		}
	}
	return out, nil
}

// ListCredentialReuse returns the credentials tried on two or more
// targets, most recently used first.
//
// NOTE: it groups every credential; a summary table kept at ingest would
// replace the scan once stores hold millions of credentials.
func (s *Store) ListCredentialReuse(ctx context.Context, limit int) ([]*apiv1.CredentialReuse, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT secret_sha256, secret_kind, principal FROM credentials
		GROUP BY secret_sha256, secret_kind, principal
		HAVING COUNT(DISTINCT decky || char(0) || service) >= 2
		ORDER BY MAX(time) DESC LIMIT ?`, store.ClampPageSize(limit))
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
