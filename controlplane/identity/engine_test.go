package identity

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// recorder is a Publisher that keeps what it receives.
type recorder struct{ changes []Change }

func (r *recorder) Publish(subject string, msg *Change) error {
	if subject != msg.Subject {
		return fmt.Errorf("subject %q, message says %q", subject, msg.Subject)
	}
	r.changes = append(r.changes, *msg)
	return nil
}

// take returns the changes since the last call as "subject id other obs"
// lines, with ids replaced by their names.
func (r *recorder) take(names map[string]string) []string {
	var out []string
	for _, c := range r.changes {
		line := strings.TrimSpace(strings.Join([]string{c.Subject, names[c.IdentityID], names[c.OtherID], c.ObservationKey}, " "))
		out = append(out, strings.Join(strings.Fields(line), " "))
	}
	r.changes = nil
	return out
}

// sessionSpec describes a hand-made session.
type sessionSpec struct {
	id, addr, client string
	tries            []string // rejected passwords for root, in order
	login            string   // password accepted for root
	c2               string
}

func (s sessionSpec) inputs(t0 time.Time) []Input {
	var out []Input
	n := 0
	ev := func(kind string) *eventv1.Event {
		n++
		return &eventv1.Event{
			Id: fmt.Sprintf("%s-%03d", s.id, n), Time: timestamppb.New(t0.Add(time.Duration(n) * time.Second)),
			Decky: "web01", Service: "ssh", Kind: kind, SessionId: s.id,
			Source: &eventv1.Endpoint{Address: s.addr, Port: 40000},
		}
	}
	open := ev("connection.opened")
	open.Payload = &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}}
	out = append(out, Input{Event: open, Proposed: ProposedFields{SSHClientVersion: s.client}})
	auth := func(pw string, outcome eventv1.AuthOutcome) {
		sum := sha256.Sum256([]byte(pw))
		e := ev("auth.attempt")
		e.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Principal: "root", SecretKind: "plaintext", Mechanism: "ssh_password",
			Secret: []byte(pw), SecretSha256: sum[:], Outcome: outcome,
		}}
		out = append(out, Input{Event: e})
	}
	for _, pw := range s.tries {
		auth(pw, eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED)
	}
	if s.login != "" {
		auth(s.login, eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED)
	}
	if s.c2 != "" {
		e := ev("download.requested")
		e.Payload = &eventv1.Event_DownloadRequested{DownloadRequested: &eventv1.DownloadRequested{Url: "http://" + s.c2 + "/x", Tool: "wget", Outcome: "not_fetched"}}
		out = append(out, Input{Event: e})
	}
	return out
}

func newTestEngine(t *testing.T) (*Engine, *recorder, map[string]string) {
	t.Helper()
	rec := &recorder{}
	names := map[string]string{}
	n := 0
	e, err := NewEngine(EngineConfig{
		Weights:   Frozen,
		Publisher: rec,
		NewID: func() string {
			n++
			id := fmt.Sprintf("id-%d", n)
			names[id] = fmt.Sprintf("I%d", n)
			return id
		},
		Now: func() time.Time { return time.Unix(0, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, rec, names
}

func observe(t *testing.T, e *Engine, specs ...sessionSpec) {
	t.Helper()
	var in []Input
	for i, s := range specs {
		in = append(in, s.inputs(time.Unix(int64(i)*1000, 0))...)
	}
	if err := e.Observe(in); err != nil {
		t.Fatal(err)
	}
}

func wantChanges(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}
}

// TestEngineFormLinkMergeUnmerge walks one identity's life: two
// identities form, a third session joins them through a C2 endpoint and
// a password only the second knew, and the merge is revoked once that
// password turns out to be in everyone's wordlist.
func TestEngineFormLinkMergeUnmerge(t *testing.T) {
	e, rec, names := newTestEngine(t)

	observe(t, e,
		sessionSpec{id: "s1", addr: "2001:db8::1", client: "SSH-2.0-kitA_1.0", c2: "c2.example:8080"},
		sessionSpec{id: "s2", addr: "2001:db8::2", client: "SSH-2.0-kitB_2.0", login: "Tr0ub4dor&3x9q"},
	)
	wantChanges(t, rec.take(names), []string{
		"identity.formed I1", "identity.observation.linked I1 s1",
		"identity.formed I2", "identity.observation.linked I2 s2",
	})

	// s3 fetches from s1's C2 and logs in at once with s2's password.
	observe(t, e, sessionSpec{id: "s3", addr: "2001:db8::3", client: "SSH-2.0-kitC_3.0", login: "Tr0ub4dor&3x9q", c2: "c2.example:8080"})
	wantChanges(t, rec.take(names), []string{
		"identity.merged I1 I2", "identity.observation.linked I1 s3",
	})
	if got := e.Resolve("id-2"); got != "id-1" {
		t.Errorf("Resolve(I2) = %q, want the winner id-1", got)
	}
	if got, _ := e.Identity("id-2"); got.MergedInto != "id-1" {
		t.Errorf("I2.MergedInto = %q, want id-1", got.MergedInto)
	}

	// Thirty scanners try the same password. Knowing it identifies no
	// one, so s2 no longer belongs with s1 and s3.
	var scanners []sessionSpec
	for i := range 30 {
		scanners = append(scanners, sessionSpec{
			id: fmt.Sprintf("n%02d", i), addr: fmt.Sprintf("2001:db8:1::%x", i+1), client: "SSH-2.0-Go",
			tries: []string{"123456", "Tr0ub4dor&3x9q", fmt.Sprintf("pw%d", i)},
		})
	}
	observe(t, e, scanners...)
	got := rec.take(names)
	if len(got) == 0 || got[0] != "identity.unmerged I2 I1" {
		t.Errorf("first change %q, want identity.unmerged I2 I1", got)
	}
	if r := e.Resolve("id-2"); r != "id-2" {
		t.Errorf("Resolve(I2) after unmerge = %q, want id-2", r)
	}
	if a, b := e.IdentityOf("s1"), e.IdentityOf("s3"); a != "id-1" || b != "id-1" {
		t.Errorf("s1, s3 belong to %q, %q, want id-1 for both", a, b)
	}
	if got := e.IdentityOf("s2"); got != "id-2" {
		t.Errorf("s2 belongs to %q, want id-2", got)
	}
	for _, c := range got[1:] {
		if strings.HasPrefix(c, "identity.merged") || strings.HasPrefix(c, "identity.unmerged") {
			t.Errorf("unexpected change %q after the unmerge", c)
		}
	}
}

// TestEngineSplitWithoutFormerIdentity covers a split whose far part held
// only the winner's own observations: it becomes a new identity.
func TestEngineSplitWithoutFormerIdentity(t *testing.T) {
	e, rec, names := newTestEngine(t)

	observe(t, e,
		sessionSpec{id: "a1", addr: "2001:db8::1", client: "SSH-2.0-kitA_1.0", login: "zQ8!vLk2@pW9"},
		sessionSpec{id: "a2", addr: "2001:db8::2", client: "SSH-2.0-kitB_1.0", login: "zQ8!vLk2@pW9"},
	)
	wantChanges(t, rec.take(names), []string{
		"identity.formed I1", "identity.observation.linked I1 a1", "identity.observation.linked I1 a2",
	})

	var scanners []sessionSpec
	for i := range 30 {
		scanners = append(scanners, sessionSpec{
			id: fmt.Sprintf("n%02d", i), addr: fmt.Sprintf("2001:db8:1::%x", i+1), client: "SSH-2.0-Go",
			tries: []string{"zQ8!vLk2@pW9", fmt.Sprintf("pw%d", i)},
		})
	}
	observe(t, e, scanners...)
	got := rec.take(names)
	want := []string{"identity.formed I2", "identity.observation.linked I2 a2"}
	if len(got) < 2 || !slices.Equal(got[:2], want) {
		t.Errorf("first changes %q, want %q", got, want)
	}
	if a, b := e.IdentityOf("a1"), e.IdentityOf("a2"); a != "id-1" || b != "id-2" {
		t.Errorf("a1, a2 belong to %q, %q, want id-1, id-2", a, b)
	}
}

func TestNewEngineNeedsPublisher(t *testing.T) {
	if _, err := NewEngine(EngineConfig{Weights: Frozen}); err == nil {
		t.Error("NewEngine without a publisher succeeded")
	}
}

// The corpus is bounded: the oldest inputs are forgotten, and the
// identities already formed from them stay resolvable.
func TestEngineCorpusBound(t *testing.T) {
	rec := &recorder{}
	e, err := NewEngine(EngineConfig{Weights: Frozen, Publisher: rec, MaxInputs: 5})
	if err != nil {
		t.Fatal(err)
	}
	observe(t, e, sessionSpec{id: "s1", addr: "2001:db8::1", client: "SSH-2.0-kitA_1.0", tries: []string{"a", "b"}})
	first := e.IdentityOf("s1")
	if first == "" {
		t.Fatal("s1 has no identity")
	}
	observe(t, e, sessionSpec{id: "s2", addr: "2001:db8::2", client: "SSH-2.0-kitB_2.0", tries: []string{"c", "d", "e"}})
	if n, _ := e.Corpus(); n != 5 {
		t.Errorf("corpus holds %d inputs, want the bound of 5", n)
	}
	if got := e.IdentityOf("s1"); got != first {
		t.Errorf("s1 belongs to %q after its events were forgotten, want %q", got, first)
	}
	if e.IdentityOf("s2") == "" {
		t.Error("s2 has no identity")
	}

	// A byte bound below one event keeps nothing, but the new session is
	// clustered before it is forgotten.
	small, err := NewEngine(EngineConfig{Weights: Frozen, Publisher: &recorder{}, MaxInputBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	observe(t, small, sessionSpec{id: "s3", addr: "2001:db8::3", client: "SSH-2.0-kitC_3.0"})
	if n, b := small.Corpus(); n != 0 || b != 0 {
		t.Errorf("corpus holds %d inputs of %d bytes, want none", n, b)
	}
	if small.IdentityOf("s3") == "" {
		t.Error("s3 was forgotten before it was clustered")
	}
}

// A control plane that restarts rebuilds its identities from the stored
// events in one pass. Ids derive from each identity's founding session,
// so the rebuilt identities keep the ids links and exports refer to.
func TestEngineIDsSurviveRebuild(t *testing.T) {
	specs := []sessionSpec{
		{id: "s1", addr: "2001:db8::1", client: "SSH-2.0-kitA_1.0", c2: "c2.example:8080"},
		{id: "s2", addr: "2001:db8::2", client: "SSH-2.0-kitB_2.0", login: "Tr0ub4dor&3x9q"},
		{id: "s3", addr: "2001:db8::3", client: "SSH-2.0-kitC_3.0", login: "Tr0ub4dor&3x9q", c2: "c2.example:8080"},
		{id: "s4", addr: "2001:db8::4", client: "SSH-2.0-kitD_4.0", c2: "other.example:80"},
	}
	live, err := NewEngine(EngineConfig{Weights: Frozen, Publisher: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	// The running control plane saw the sessions in three batches, each
	// session at the same time as in the rebuild below.
	at := func(i int) []Input { return specs[i].inputs(time.Unix(int64(i)*1000, 0)) }
	for _, batch := range [][]Input{append(at(0), at(1)...), at(2), at(3)} {
		if err := live.Observe(batch); err != nil {
			t.Fatal(err)
		}
	}

	rebuilt, err := NewEngine(EngineConfig{Weights: Frozen, Publisher: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	var all []Input
	for i, s := range specs {
		all = append(all, s.inputs(time.Unix(int64(i)*1000, 0))...)
	}
	if err := rebuilt.Observe(all); err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		want := live.Resolve(live.IdentityOf(s.id))
		if got := rebuilt.IdentityOf(s.id); got != want || got == "" {
			t.Errorf("session %s: identity %q after rebuild, %q before", s.id, got, want)
		}
		before, _ := live.Identity(want)
		after, _ := rebuilt.Identity(want)
		if !after.Created.Equal(before.Created) || after.Created.IsZero() {
			t.Errorf("identity %s created %v after rebuild, %v before", want, after.Created, before.Created)
		}
	}
	if a, b := live.IdentityOf("s1"), live.IdentityOf("s4"); a == b {
		t.Errorf("unrelated sessions share identity %q", a)
	}
}
