package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/decnet/decnet/controlplane/store"
)

// Single sign-on writes an audit entry when it creates a user or changes
// a role from a claim, and none when nothing changes or when it refuses
// to take over a local user.
func TestSyncSSOUserAudited(t *testing.T) {
	a, c, st := newAuthenticator(t)
	ctx := context.Background()

	steps := []struct {
		name, user, role string
		wantErr          error
		wantProcedure    string
		wantRequest      string
	}{
		{"first login creates", "alice", RoleViewer, nil, AuditSSOCreateUser, `{"username":"alice","role":"viewer"}`},
		{"same role changes nothing", "alice", RoleViewer, nil, "", ""},
		{"promotion", "alice", RoleAdmin, nil, AuditSSOSetUserRole, `{"username":"alice","role":"admin","previous_role":"viewer"}`},
		{"local user refused", "analyst", RoleViewer, ErrNotSSOUser, "", ""},
	}
	seen := 0
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			c.now = c.now.Add(time.Minute)
			if err := a.SyncSSOUser(ctx, step.user, step.role, "127.0.0.9:44321"); !errors.Is(err, step.wantErr) {
				t.Fatalf("SyncSSOUser error = %v, want %v", err, step.wantErr)
			}
			page, err := st.ListAudit(ctx, store.AuditQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if step.wantProcedure == "" {
				if len(page.Items) != seen {
					t.Errorf("audit log has %d entries, want still %d", len(page.Items), seen)
				}
				return
			}
			seen++
			if len(page.Items) != seen {
				t.Fatalf("audit log has %d entries, want %d", len(page.Items), seen)
			}
			e := page.Items[0]
			want := store.AuditEntry{
				ID: e.ID, Time: c.now.UTC(), Username: step.user, Role: step.role, Procedure: step.wantProcedure,
				Request: step.wantRequest, Outcome: "ok", Source: "127.0.0.9:44321",
			}
			if e.ID == "" || !e.Time.Equal(want.Time) {
				t.Errorf("entry id %q at %v, want an id at %v", e.ID, e.Time, want.Time)
			}
			e.Time = want.Time
			if e != want {
				t.Errorf("audit entry = %+v, want %+v", e, want)
			}
		})
	}
}
