package controlplane

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/attack"
	"github.com/decnet/decnet/controlplane/store/sqlite"
	"github.com/decnet/decnet/controlplane/topics"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// A discovery command is recorded as T1082 on its attacker once, with a
// notice the first time and a growing count after.
func TestTechniqueTaggerRecordsAndNotifies(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "decnet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub := topics.New[*apiv1.Notice]()
	var notices []*apiv1.Notice
	if _, err := pub.Subscribe(SubjectTechnique, func(_ string, n *apiv1.Notice) { notices = append(notices, n) }); err != nil {
		t.Fatal(err)
	}
	tagger, err := newTechniqueTagger(st, pub, "", nil, zerolog.Nop(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	attacker := uuid.Must(uuid.NewV7()).String()
	command := func() *apiv1.StoredEvent {
		return &apiv1.StoredEvent{AttackerId: attacker, Event: &eventv1.Event{
			Id: uuid.Must(uuid.NewV7()).String(), Time: timestamppb.Now(), Decky: "web-01", Service: "ssh", Kind: "command",
			Source:  &eventv1.Endpoint{Address: "127.0.0.2", Port: 40000},
			Payload: &eventv1.Event_Command{Command: &eventv1.Command{Line: "uname -a", Channel: "shell"}},
		}}
	}
	for range 2 {
		if err := tagger.process(ctx, []*apiv1.StoredEvent{command()}); err != nil {
			t.Fatal(err)
		}
	}
	techniques, err := attack.AttackerTechniques(ctx, st, attacker)
	if err != nil {
		t.Fatal(err)
	}
	var found *apiv1.AttackTechnique
	for _, tq := range techniques {
		if tq.GetTechniqueId() == "T1082" {
			found = tq
		}
	}
	if found == nil || found.GetCount() != 2 || found.GetName() == "" || found.GetTactic() == "" {
		t.Fatalf("techniques = %v, want T1082 counted twice", techniques)
	}
	n := 0
	for _, m := range notices {
		if m.GetAttackerId() == attacker && m.GetSubject() == SubjectTechnique {
			n++
		}
	}
	if n != len(techniques) {
		t.Errorf("%d notices for %d techniques, want one each", n, len(techniques))
	}
}
