package api

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	"github.com/decnet/decnet/gen/decnet/api/v1/apiv1connect"
)

// loginNewUser creates a user with role, as if they had changed the first
// password, and returns a session token.
func (f *fixture) loginNewUser(t *testing.T, name string, role apiv1.Role) string {
	t.Helper()
	ctx := context.Background()
	password, err := f.auth.CreateUser(ctx, name, role)
	if err != nil {
		t.Fatal(err)
	}
	clearMustChange(t, f.store, name)
	resp, err := apiv1connect.NewAuthServiceClient(f.h1, f.srv.URL).Login(ctx,
		connect.NewRequest(&apiv1.LoginRequest{Username: name, Password: password.Reveal()}))
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return resp.Msg.GetToken()
}

func TestAnnotations(t *testing.T) {
	f := newFixture(t, options{})
	ctx := context.Background()
	admin := f.login(t)
	analyst := f.loginNewUser(t, "analyst-a", apiv1.Role_ROLE_ANALYST)
	other := f.loginNewUser(t, "analyst-b", apiv1.Role_ROLE_ANALYST)
	viewer := f.loginNewUser(t, "viewer-v", apiv1.Role_ROLE_VIEWER)
	f.ingest(t, newEvent("127.0.0.2", "auth.attempt"))

	attackers, err := apiv1connect.NewAttackerServiceClient(f.h1, f.srv.URL).ListAttackers(ctx, withToken(&apiv1.ListAttackersRequest{}, admin))
	if err != nil || len(attackers.Msg.GetAttackers()) != 1 {
		t.Fatalf("ListAttackers: %v %v", attackers, err)
	}
	attackerID := attackers.Msg.GetAttackers()[0].GetId()
	client := apiv1connect.NewAnnotationServiceClient(f.h1, f.srv.URL)

	// Nothing recorded yet: no notes, status new.
	empty, err := client.GetAnnotations(ctx, withToken(&apiv1.GetAnnotationsRequest{AttackerId: attackerID}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Msg.GetNotes()) != 0 || empty.Msg.GetTriage().GetStatus() != apiv1.TriageStatus_TRIAGE_STATUS_NEW || len(empty.Msg.GetTriage().GetTags()) != 0 {
		t.Errorf("fresh annotations = %v", empty.Msg)
	}

	first, err := client.AddNote(ctx, withToken(&apiv1.AddNoteRequest{AttackerId: attackerID, Text: "  Tried root/toor, then left.  "}, analyst))
	if err != nil {
		t.Fatal(err)
	}
	if n := first.Msg.GetNote(); n.GetAuthor() != "analyst-a" || n.GetText() != "Tried root/toor, then left." || n.GetAttackerId() != attackerID || n.GetId() == "" {
		t.Errorf("added note = %v", n)
	}
	if _, err := client.AddNote(ctx, withToken(&apiv1.AddNoteRequest{AttackerId: attackerID, Text: "Same key as last week."}, other)); err != nil {
		t.Fatal(err)
	}

	triage, err := client.SetTriage(ctx, withToken(&apiv1.SetTriageRequest{
		AttackerId: attackerID, Tags: []string{"Mirai", "brute-force", "mirai", " "}, Status: apiv1.TriageStatus_TRIAGE_STATUS_ACKNOWLEDGED,
	}, analyst))
	if err != nil {
		t.Fatal(err)
	}
	if got := triage.Msg.GetTriage(); strings.Join(got.GetTags(), ",") != "mirai,brute-force" || got.GetUpdatedBy() != "analyst-a" ||
		got.GetStatus() != apiv1.TriageStatus_TRIAGE_STATUS_ACKNOWLEDGED || got.GetUpdated() == nil {
		t.Errorf("triage = %v", got)
	}

	// A viewer reads the notes in the order they were written.
	read, err := client.GetAnnotations(ctx, withToken(&apiv1.GetAnnotationsRequest{AttackerId: attackerID}, viewer))
	if err != nil {
		t.Fatal(err)
	}
	notes := read.Msg.GetNotes()
	if len(notes) != 2 || notes[0].GetAuthor() != "analyst-a" || notes[1].GetText() != "Same key as last week." {
		t.Errorf("notes = %v", notes)
	}
	if read.Msg.GetTriage().GetStatus() != apiv1.TriageStatus_TRIAGE_STATUS_ACKNOWLEDGED {
		t.Errorf("triage read back = %v", read.Msg.GetTriage())
	}

	// Viewers cannot write; an analyst cannot delete another's note; an
	// admin can.
	if _, err := client.AddNote(ctx, withToken(&apiv1.AddNoteRequest{AttackerId: attackerID, Text: "x"}, viewer)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("viewer AddNote: %v", err)
	}
	del := &apiv1.DeleteNoteRequest{AttackerId: attackerID, Id: notes[1].GetId()}
	if _, err := client.DeleteNote(ctx, withToken(del, analyst)); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("analyst deleting another's note: %v", err)
	}
	if _, err := client.DeleteNote(ctx, withToken(del, admin)); err != nil {
		t.Errorf("admin deleting a note: %v", err)
	}
	if _, err := client.DeleteNote(ctx, withToken(del, admin)); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("deleting a deleted note: %v", err)
	}
	if _, err := client.DeleteNote(ctx, withToken(&apiv1.DeleteNoteRequest{AttackerId: attackerID, Id: notes[0].GetId()}, analyst)); err != nil {
		t.Errorf("author deleting own note: %v", err)
	}
	read, err = client.GetAnnotations(ctx, withToken(&apiv1.GetAnnotationsRequest{AttackerId: attackerID}, viewer))
	if err != nil || len(read.Msg.GetNotes()) != 0 {
		t.Errorf("after deletes: %v %v", read, err)
	}

	unknown := "0190a1b2-0000-7000-8000-000000000001"
	for name, tc := range map[string]struct {
		call func() error
		want connect.Code
	}{
		"empty note": {func() error {
			_, err := client.AddNote(ctx, withToken(&apiv1.AddNoteRequest{AttackerId: attackerID, Text: " \n"}, analyst))
			return err
		}, connect.CodeInvalidArgument},
		"long note": {func() error {
			_, err := client.AddNote(ctx, withToken(&apiv1.AddNoteRequest{AttackerId: attackerID, Text: strings.Repeat("a", maxNoteChars+1)}, analyst))
			return err
		}, connect.CodeInvalidArgument},
		"unknown attacker": {func() error {
			_, err := client.AddNote(ctx, withToken(&apiv1.AddNoteRequest{AttackerId: unknown, Text: "x"}, analyst))
			return err
		}, connect.CodeNotFound},
		"bad attacker id": {func() error {
			_, err := client.GetAnnotations(ctx, withToken(&apiv1.GetAnnotationsRequest{AttackerId: "127.0.0.2"}, analyst))
			return err
		}, connect.CodeInvalidArgument},
		"bad tag": {func() error {
			_, err := client.SetTriage(ctx, withToken(&apiv1.SetTriageRequest{AttackerId: attackerID, Tags: []string{"a b"}}, analyst))
			return err
		}, connect.CodeInvalidArgument},
		"too many tags": {func() error {
			tags := make([]string, maxTags+1)
			for i := range tags {
				tags[i] = "t" + strings.Repeat("x", i)
			}
			_, err := client.SetTriage(ctx, withToken(&apiv1.SetTriageRequest{AttackerId: attackerID, Tags: tags}, analyst))
			return err
		}, connect.CodeInvalidArgument},
		"unknown status": {func() error {
			_, err := client.SetTriage(ctx, withToken(&apiv1.SetTriageRequest{AttackerId: attackerID, Status: 99}, analyst))
			return err
		}, connect.CodeInvalidArgument},
	} {
		if got := connect.CodeOf(tc.call()); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}

	// Every change is in the audit log.
	entries, err := f.store.ListAudit(ctx, store.AuditQuery{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var procedures []string
	for _, e := range entries.Items {
		procedures = append(procedures, e.Procedure)
	}
	for _, want := range []string{apiv1connect.AnnotationServiceAddNoteProcedure, apiv1connect.AnnotationServiceSetTriageProcedure, apiv1connect.AnnotationServiceDeleteNoteProcedure} {
		if !strings.Contains(strings.Join(procedures, " "), want) {
			t.Errorf("audit log lacks %s: %v", want, procedures)
		}
	}
}
