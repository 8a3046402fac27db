package notices

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

const agentID = "0195a1b2-0000-7000-8000-000000000001"

func attempt(src, decky, service, principal, password string) *eventv1.Event {
	sum := sha256.Sum256([]byte(password))
	return &eventv1.Event{
		Id: uuid.Must(uuid.NewV7()).String(), Time: timestamppb.Now(), Decky: decky, Service: service, Kind: "auth.attempt",
		Source: &eventv1.Endpoint{Address: src, Port: 40000},
		Payload: &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Principal: principal, SecretKind: "plaintext", Mechanism: "ssh_password", Secret: []byte(password), SecretSha256: sum[:],
		}},
	}
}

func TestReuseNoticeOncePerNewTarget(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub := topics.New[*apiv1.Notice]()
	var (
		mu  sync.Mutex
		got []*apiv1.Notice
	)
	if _, err := pub.Subscribe(">", func(_ string, m *apiv1.Notice) { mu.Lock(); got = append(got, m); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{Store: st, Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	batch := func(evs ...*eventv1.Event) {
		t.Helper()
		res, err := st.IngestEvents(ctx, agentID, evs, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		n.process(ctx, res.Stored)
	}
	count := func(subject string) (c int, last *apiv1.Notice) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range got {
			if m.GetSubject() == subject {
				c++
				last = m
			}
		}
		return c, last
	}

	batch(attempt("127.0.0.2", "web-01", "ssh", "root", "Spring2026!"), attempt("127.0.0.2", "web-01", "ssh", "root", "Spring2026!"))
	if c, _ := count(SubjectCredentialReuse); c != 0 {
		t.Fatalf("reuse after one target: %d notices", c)
	}
	if c, m := count(SubjectCredentialCaptured); c != 2 || len(m.GetEvent().GetEvent().GetAuthAttempt().GetSecret()) != 0 ||
		len(m.GetEvent().GetEvent().GetAuthAttempt().GetSecretSha256()) != 32 || m.GetAttackerId() == "" {
		t.Fatalf("captured notices = %d, last %v", c, m)
	}

	// The same password on a second decky, from another source, is reuse.
	batch(attempt("127.0.0.3", "db-01", "ssh", "root", "Spring2026!"))
	c, m := count(SubjectCredentialReuse)
	if c != 1 {
		t.Fatalf("reuse notices = %d, want 1", c)
	}
	reuse := m.GetCredentialReuse()
	if reuse.GetPrincipal() != "root" || len(reuse.GetTargets()) != 2 || reuse.GetTargets()[0].GetAttempts() != 2 || reuse.GetTargets()[1].GetDecky() != "db-01" {
		t.Errorf("reuse = %v", reuse)
	}

	// Another attempt on a known target is not news; a third target is.
	batch(attempt("127.0.0.3", "db-01", "ssh", "root", "Spring2026!"))
	if c, _ := count(SubjectCredentialReuse); c != 1 {
		t.Errorf("reuse notices after a repeat = %d, want 1", c)
	}
	batch(attempt("127.0.0.4", "web-01", "http", "root", "Spring2026!"))
	if c, m := count(SubjectCredentialReuse); c != 2 || len(m.GetCredentialReuse().GetTargets()) != 3 {
		t.Errorf("reuse notices after a third target = %d (%v), want 2", c, m)
	}
}
