package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/auth"
	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// Annotations are documents of the store: notes grouped by attacker, and
// one triage document per attacker.
const (
	kindNote   = "attacker.note"
	kindTriage = "attacker.triage"

	maxNoteChars        = 4000
	maxNotesPerAttacker = 500
	maxTags             = 16
	maxTagChars         = 40
)

type annotationService struct{ *API }

var _ apiv1connect.AnnotationServiceHandler = (*annotationService)(nil)

// storedNote and storedTriage are the documents' JSON.
type storedNote struct {
	Author  string    `json:"author"`
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

type storedTriage struct {
	Tags      []string  `json:"tags"`
	Status    int32     `json:"status"`
	UpdatedBy string    `json:"updated_by"`
	Updated   time.Time `json:"updated"`
}

// GetAnnotations returns an attacker's notes, oldest first, tags and
// triage status.
func (s *annotationService) GetAnnotations(ctx context.Context, req *connect.Request[apiv1.GetAnnotationsRequest]) (*connect.Response[apiv1.GetAnnotationsResponse], error) {
	procedure := req.Spec().Procedure
	id, err := s.annotatedAttacker(ctx, req.Msg.GetAttackerId())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	notes, err := s.notes(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	triage, err := s.triage(ctx, id)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.GetAnnotationsResponse{Notes: notes, Triage: triage}), nil
}

// AddNote adds a note by the caller.
func (s *annotationService) AddNote(ctx context.Context, req *connect.Request[apiv1.AddNoteRequest]) (*connect.Response[apiv1.AddNoteResponse], error) {
	procedure := req.Spec().Procedure
	id, err := s.annotatedAttacker(ctx, req.Msg.GetAttackerId())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	text := strings.TrimSpace(req.Msg.GetText())
	switch {
	case text == "":
		return nil, invalidArgument("text is empty")
	case !utf8.ValidString(text):
		return nil, invalidArgument("text is not valid UTF-8")
	case utf8.RuneCountInString(text) > maxNoteChars:
		return nil, invalidArgument(fmt.Sprintf("text is longer than %d characters", maxNoteChars))
	}
	existing, err := s.store.ListDocuments(ctx, kindNote, id, maxNotesPerAttacker)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	if len(existing) >= maxNotesPerAttacker {
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("the attacker has %d notes, the most one attacker keeps", maxNotesPerAttacker))
	}

	sess, _ := auth.SessionFromContext(ctx)
	noteID, err := uuid.NewV7()
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	n := storedNote{Author: sess.Username, Text: text, Created: s.now().UTC()}
	data, err := json.Marshal(n)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	doc := store.Document{Kind: kindNote, ID: noteID.String(), Group: id, At: n.Created, Data: data}
	if err := s.store.PutDocument(ctx, doc); err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.AddNoteResponse{Note: noteMessage(doc.ID, id, n)}), nil
}

// DeleteNote deletes a note of the caller's, or any note for an admin.
func (s *annotationService) DeleteNote(ctx context.Context, req *connect.Request[apiv1.DeleteNoteRequest]) (*connect.Response[apiv1.DeleteNoteResponse], error) {
	procedure := req.Spec().Procedure
	attackerID, err := normalizeUUID(req.Msg.GetAttackerId(), "attacker_id")
	if err != nil || attackerID == "" {
		return nil, invalidArgument("attacker_id must be an attacker's UUID")
	}
	noteID, err := normalizeUUID(req.Msg.GetId(), "id")
	if err != nil || noteID == "" {
		return nil, invalidArgument("id must be a note's UUID")
	}
	doc, err := s.store.GetDocument(ctx, kindNote, noteID)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	// A note of another attacker answers as an unknown one, so the pair
	// must match.
	if doc.Group != attackerID {
		return nil, s.toConnectError(ctx, procedure, store.ErrNotFound)
	}
	var n storedNote
	if err := json.Unmarshal(doc.Data, &n); err != nil {
		return nil, s.toConnectError(ctx, procedure, fmt.Errorf("decode note %s: %w", noteID, err))
	}
	sess, _ := auth.SessionFromContext(ctx)
	if n.Author != sess.Username && !auth.Allows(sess.Role, apiv1.Access_ACCESS_ADMIN) {
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("only the note's author or an admin may delete it"))
	}
	if err := s.store.DeleteDocument(ctx, kindNote, noteID); err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.DeleteNoteResponse{}), nil
}

// SetTriage replaces the attacker's tags and status.
func (s *annotationService) SetTriage(ctx context.Context, req *connect.Request[apiv1.SetTriageRequest]) (*connect.Response[apiv1.SetTriageResponse], error) {
	procedure := req.Spec().Procedure
	id, err := s.annotatedAttacker(ctx, req.Msg.GetAttackerId())
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	tags, err := normalizeTags(req.Msg.GetTags())
	if err != nil {
		return nil, err
	}
	status := req.Msg.GetStatus()
	if status == apiv1.TriageStatus_TRIAGE_STATUS_UNSPECIFIED {
		status = apiv1.TriageStatus_TRIAGE_STATUS_NEW
	}
	if _, known := apiv1.TriageStatus_name[int32(status)]; !known {
		return nil, invalidArgument(fmt.Sprintf("unknown triage status %d", status))
	}
	sess, _ := auth.SessionFromContext(ctx)
	t := storedTriage{Tags: tags, Status: int32(status), UpdatedBy: sess.Username, Updated: s.now().UTC()}
	data, err := json.Marshal(t)
	if err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	if err := s.store.PutDocument(ctx, store.Document{Kind: kindTriage, ID: id, At: t.Updated, Data: data}); err != nil {
		return nil, s.toConnectError(ctx, procedure, err)
	}
	return connect.NewResponse(&apiv1.SetTriageResponse{Triage: triageMessage(t)}), nil
}

// annotatedAttacker checks that raw names a stored attacker and returns
// its canonical id.
func (s *annotationService) annotatedAttacker(ctx context.Context, raw string) (string, error) {
	id, err := normalizeUUID(raw, "attacker_id")
	if err != nil || id == "" {
		return "", invalidArgument("attacker_id must be an attacker's UUID")
	}
	if _, err := s.store.GetAttacker(ctx, id); err != nil {
		return "", err
	}
	return id, nil
}

func (s *annotationService) notes(ctx context.Context, attackerID string) ([]*apiv1.Note, error) {
	docs, err := s.store.ListDocuments(ctx, kindNote, attackerID, maxNotesPerAttacker)
	if err != nil {
		return nil, err
	}
	out := make([]*apiv1.Note, 0, len(docs))
	// The store lists newest first; notes read as a conversation.
	for i := len(docs) - 1; i >= 0; i-- {
		var n storedNote
		if err := json.Unmarshal(docs[i].Data, &n); err != nil {
			return nil, fmt.Errorf("decode note %s: %w", docs[i].ID, err)
		}
		out = append(out, noteMessage(docs[i].ID, attackerID, n))
	}
	return out, nil
}

func (s *annotationService) triage(ctx context.Context, attackerID string) (*apiv1.Triage, error) {
	doc, err := s.store.GetDocument(ctx, kindTriage, attackerID)
	if errors.Is(err, store.ErrNotFound) {
		return &apiv1.Triage{Tags: []string{}, Status: apiv1.TriageStatus_TRIAGE_STATUS_NEW}, nil
	}
	if err != nil {
		return nil, err
	}
	var t storedTriage
	if err := json.Unmarshal(doc.Data, &t); err != nil {
		return nil, fmt.Errorf("decode triage of %s: %w", attackerID, err)
	}
	return triageMessage(t), nil
}

func noteMessage(id, attackerID string, n storedNote) *apiv1.Note {
	return &apiv1.Note{Id: id, AttackerId: attackerID, Author: n.Author, Text: n.Text, Created: timestamppb.New(n.Created)}
}

func triageMessage(t storedTriage) *apiv1.Triage {
	out := &apiv1.Triage{Tags: t.Tags, Status: apiv1.TriageStatus(t.Status), UpdatedBy: t.UpdatedBy}
	if !t.Updated.IsZero() {
		out.Updated = timestamppb.New(t.Updated)
	}
	return out
}

// normalizeTags lower-cases, checks and de-duplicates tags, keeping their
// order.
func normalizeTags(raw []string) ([]string, error) {
	out := make([]string, 0, len(raw))
	seen := map[string]bool{}
	for _, tag := range raw {
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag == "" || seen[tag] {
			continue
		}
		if len(tag) > maxTagChars {
			return nil, invalidArgument(fmt.Sprintf("tag %q is longer than %d characters", tag, maxTagChars))
		}
		for _, r := range tag {
			if !tagRune(r) {
				return nil, invalidArgument(fmt.Sprintf("tag %q has %q; tags use letters, digits and . - _ :", tag, r))
			}
		}
		seen[tag] = true
		out = append(out, tag)
	}
	if len(out) > maxTags {
		return nil, invalidArgument(fmt.Sprintf("%d tags; an attacker has at most %d", len(out), maxTags))
	}
	return out, nil
}

func tagRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:", r)
}
