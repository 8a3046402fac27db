package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

const recordingColumns = `session_id, event_id, attacker_id, agent_id, decky, service, source_address, time,
	duration_ms, truncated, width, height, input_bytes, output_bytes, length(cast_data)`

// ListRecordings returns session recordings newest first, by session end
// and then event id, without their content.
func (s *Store) ListRecordings(ctx context.Context, q store.RecordingQuery) (store.Page[*apiv1.SessionRecording], error) {
	size := store.ClampPageSize(q.PageSize)
	var w where
	w.addIf("attacker_id", q.AttackerID)
	if err := w.addCursor("time", "event_id", q.PageToken); err != nil {
		return store.Page[*apiv1.SessionRecording]{}, fmt.Errorf("list recordings: %w", err)
	}
	//nolint:gosec // G202: w contains only constant column names, and values are bound as ? arguments
	query := `SELECT ` + recordingColumns + ` FROM recordings` + w.String() + ` ORDER BY time DESC, event_id DESC LIMIT ?`
	rows, err := s.read.QueryContext(ctx, query, append(w.args, size)...)
	if err != nil {
		return store.Page[*apiv1.SessionRecording]{}, fmt.Errorf("list recordings: %w", err)
	}
	defer rows.Close()

	var page store.Page[*apiv1.SessionRecording]
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return store.Page[*apiv1.SessionRecording]{}, fmt.Errorf("list recordings: %w", err)
		}
		page.Items = append(page.Items, r)
	}
	if err := rows.Err(); err != nil {
		return store.Page[*apiv1.SessionRecording]{}, fmt.Errorf("list recordings: %w", err)
	}
	if n := len(page.Items); n > 0 {
		last := page.Items[n-1]
		page.NextPageToken = nextToken(n, size, last.GetTime().AsTime(), last.GetEventId())
	}
	return page, nil
}

// GetRecording returns the recording of a session and its content.
func (s *Store) GetRecording(ctx context.Context, sessionID string) (*apiv1.SessionRecording, []byte, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+recordingColumns+`, cast_data FROM recordings
		WHERE session_id = ? ORDER BY time DESC LIMIT 1`, sessionID)
	var cast []byte
	r, err := scanRecording(row, &cast)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("get recording of session %q: %w", sessionID, store.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get recording of session %q: %w", sessionID, err)
	}
	return r, cast, nil
}

func scanRecording(row scanner, extra ...any) (*apiv1.SessionRecording, error) {
	var (
		r          apiv1.SessionRecording
		attackerID sql.NullString
		at         sql.NullInt64
	)
	dest := append([]any{&r.SessionId, &r.EventId, &attackerID, &r.AgentId, &r.Decky, &r.Service, &r.SourceAddress, &at,
		&r.DurationMs, &r.Truncated, &r.Width, &r.Height, &r.InputBytes, &r.OutputBytes, &r.CastBytes}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	r.AttackerId = attackerID.String
	r.Time = timestamppb.New(fromNanos(at))
	return &r, nil
}

// nullString stores an empty string as NULL.
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}
