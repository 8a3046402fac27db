package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// ListCredentials returns captured credentials newest first, by event time
// and then event id.
func (s *Store) ListCredentials(ctx context.Context, q store.CredentialQuery) (store.Page[*apiv1.Credential], error) {
	size := store.ClampPageSize(q.PageSize)

	var w where
	w.addUUIDIf("attacker_id", q.AttackerID)
	w.addIf("principal", q.Principal)
	if err := w.addCursor("time", "event_id", q.PageToken); err != nil {
		return store.Page[*apiv1.Credential]{}, fmt.Errorf("list credentials: %w", err)
	}
	if w.none {
		return store.Page[*apiv1.Credential]{}, nil
	}

	query := `SELECT event_id::text, attacker_id::text, time, agent_id::text, decky, service, principal, secret_kind,
		mechanism, secret, secret_sha256, outcome, source_address, key_type, key_fingerprint
		FROM credentials` + w.String() + ` ORDER BY time DESC, event_id DESC LIMIT ` + w.arg(size)
	rows, err := s.pool.Query(ctx, query, w.args...)
	if err != nil {
		return store.Page[*apiv1.Credential]{}, fmt.Errorf("list credentials: %w", err)
	}
	defer rows.Close()

	var page store.Page[*apiv1.Credential]
	for rows.Next() {
		var (
			c          apiv1.Credential
			attackerID pgtype.Text
			at         time.Time
			outcome    int32
		)
		if err := rows.Scan(&c.EventId, &attackerID, &at, &c.AgentId, &c.Decky, &c.Service, &c.Principal,
			&c.SecretKind, &c.Mechanism, &c.Secret, &c.SecretSha256, &outcome, &c.SourceAddress,
			&c.KeyType, &c.KeyFingerprint); err != nil {
			return store.Page[*apiv1.Credential]{}, fmt.Errorf("list credentials: %w", err)
		}
		c.AttackerId = attackerID.String
		c.Time = timestamppb.New(at)
		c.Outcome = eventv1.AuthOutcome(outcome)
		page.Items = append(page.Items, &c)
	}
	if err := rows.Err(); err != nil {
		return store.Page[*apiv1.Credential]{}, fmt.Errorf("list credentials: %w", err)
	}

	if n := len(page.Items); n > 0 {
		last := page.Items[n-1]
		page.NextPageToken = nextToken(n, size, last.GetTime().AsTime(), last.GetEventId())
	}
	return page, nil
}
