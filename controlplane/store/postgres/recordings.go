package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

const recordingColumns = `session_id, event_id::text, attacker_id::text, agent_id::text, decky, service, source_address,
	time, duration_ms, truncated, width, height, input_bytes, output_bytes, length(cast_data)`

// ListRecordings returns session recordings newest first, by session end
// and then event id, without their content.
func (s *Store) ListRecordings(ctx context.Context, q store.RecordingQuery) (store.Page[*apiv1.SessionRecording], error) {
	size := store.ClampPageSize(q.PageSize)
	var w where
	if q.AttackerID != "" {
		id, err := uuid.Parse(q.AttackerID)
		if err != nil {
			return store.Page[*apiv1.SessionRecording]{}, nil
		}
		w.add("attacker_id = " + w.arg(pgUUID(id)))
	}
	if err := w.addCursor("time", "event_id", q.PageToken); err != nil {
		return store.Page[*apiv1.SessionRecording]{}, fmt.Errorf("list recordings: %w", err)
	}
	query := `SELECT ` + recordingColumns + ` FROM recordings` + w.String() +
		` ORDER BY time DESC, event_id DESC LIMIT ` + w.arg(size)
	rows, err := s.pool.Query(ctx, query, w.args...)
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
	row := s.pool.QueryRow(ctx, `SELECT `+recordingColumns+`, cast_data FROM recordings
		WHERE session_id = $1 ORDER BY time DESC LIMIT 1`, sessionID)
	var cast []byte
	r, err := scanRecording(row, &cast)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("get recording of session %q: %w", sessionID, store.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get recording of session %q: %w", sessionID, err)
	}
	if cast == nil {
		cast = []byte{}
	}
	return r, cast, nil
}

func scanRecording(row pgx.Row, extra ...any) (*apiv1.SessionRecording, error) {
	var (
		r                                           apiv1.SessionRecording
		attackerID                                  pgtype.Text
		at                                          time.Time
		duration, inputBytes, outputBytes, castSize int64
		width, height                               int32
	)
	dest := append([]any{&r.SessionId, &r.EventId, &attackerID, &r.AgentId, &r.Decky, &r.Service, &r.SourceAddress, &at,
		&duration, &r.Truncated, &width, &height, &inputBytes, &outputBytes, &castSize}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	r.AttackerId = attackerID.String
	r.Time = timestamppb.New(at)
	r.DurationMs, r.InputBytes, r.OutputBytes, r.CastBytes = uint64(duration), uint64(inputBytes), uint64(outputBytes), uint64(castSize) //nolint:gosec // G115: written from uint64 values below 2^63
	r.Width, r.Height = uint32(width), uint32(height)                                                                                    //nolint:gosec // G115: written from uint32 values
	return &r, nil
}
