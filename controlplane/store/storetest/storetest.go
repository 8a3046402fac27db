// Package storetest is the conformance suite every store.Store backend
// must pass. A backend's test calls Run with a function that opens an
// empty store.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/decnet/decnet/controlplane/store"
	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Run runs the suite. open must return a new, empty store for each call;
// Run closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"IngestDeduplicates", testIngestDeduplicates},
		{"IngestStoredEvents", testIngestStoredEvents},
		{"AttackerPerAddress", testAttackerPerAddress},
		{"AttackerNotFound", testAttackerNotFound},
		{"CredentialFields", testCredentialFields},
		{"EventPagination", testEventPagination},
		{"EventFilters", testEventFilters},
		{"AttackerPagination", testAttackerPagination},
		{"AttackerOrders", testAttackerOrders},
		{"AttackerFilters", testAttackerFilters},
		{"AttackerPageTokenOrder", testAttackerPageTokenOrder},
		{"CredentialFilters", testCredentialFilters},
		{"InvalidPageToken", testInvalidPageToken},
		{"TokenConsumeOnce", testTokenConsumeOnce},
		{"TokenConsumeConcurrent", testTokenConsumeConcurrent},
		{"TokenRejected", testTokenRejected},
		{"TokenLabelsAndRevocation", testTokenLabelsAndRevocation},
		{"Agents", testAgents},
		{"AgentRevocation", testAgentRevocation},
		{"AgentConfig", testAgentConfig},
		{"Users", testUsers},
		{"UserManagement", testUserManagement},
		{"AuditLog", testAuditLog},
		{"APITokens", testAPITokens},
		{"CredentialReuse", testCredentialReuse},
		{"Documents", testDocuments},
		{"APISessions", testAPISessions},
		{"PruneEvents", testPruneEvents},
		{"Recordings", testRecordings},
		{"Overview", testOverview},
		{"OverviewEmpty", testOverviewEmpty},
		{"SessionlessRejection", testSessionlessRejection},
		{"EventTimeRange", testEventTimeRange},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close store: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// base is the time of the first test event. It has microsecond precision,
// the finest that every backend stores.
var base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const testAgent = "0195a1b2-0000-7000-8000-000000000001"

// newEvent returns a connection.opened event from src at base+offset.
func newEvent(t *testing.T, src string, offset time.Duration) *eventv1.Event {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatalf("generate event id: %v", err)
	}
	return &eventv1.Event{
		Id:          id.String(),
		Time:        timestamppb.New(base.Add(offset)),
		AgentId:     testAgent,
		Decky:       "web-01",
		Service:     "ssh",
		Kind:        "connection.opened",
		Source:      &eventv1.Endpoint{Address: src, Port: 40000},
		Destination: &eventv1.Endpoint{Address: "192.0.2.10", Port: 22},
		SessionId:   id.String(),
		Payload:     &eventv1.Event_ConnectionOpened{ConnectionOpened: &eventv1.ConnectionOpened{Transport: "tcp"}},
	}
}

// newAuthEvent returns an auth.attempt event carrying password from src.
func newAuthEvent(t *testing.T, src string, offset time.Duration, principal, password string) *eventv1.Event {
	t.Helper()
	ev := newEvent(t, src, offset)
	ev.Kind = "auth.attempt"
	sum := sha256.Sum256([]byte(password))
	ev.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
		Principal:    principal,
		SecretKind:   "plaintext",
		Mechanism:    "ssh_password",
		Secret:       []byte(password),
		SecretSha256: sum[:],
		Outcome:      eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED,
	}}
	return ev
}

func ingest(t *testing.T, s store.Store, events ...*eventv1.Event) store.IngestResult {
	t.Helper()
	res, err := s.IngestEvents(context.Background(), testAgent, events, base.Add(time.Hour))
	if err != nil {
		t.Fatalf("IngestEvents: %v", err)
	}
	return res
}

func testIngestDeduplicates(t *testing.T, s store.Store) {
	batch := []*eventv1.Event{
		newEvent(t, "127.0.0.2", 0),
		newEvent(t, "127.0.0.2", time.Second),
		newEvent(t, "127.0.0.3", 2*time.Second),
	}

	first := ingest(t, s, batch...)
	if got := len(first.Stored); got != 3 {
		t.Errorf("first ingest stored %d events, want 3", got)
	}
	if first.Duplicates != 0 {
		t.Errorf("first ingest duplicates = %d, want 0", first.Duplicates)
	}

	second := ingest(t, s, batch...)
	if got := len(second.Stored); got != 0 {
		t.Errorf("second ingest stored %d events, want 0", got)
	}
	if second.Duplicates != 3 {
		t.Errorf("second ingest duplicates = %d, want 3", second.Duplicates)
	}

	// The same id twice inside one batch is stored once.
	again := newEvent(t, "127.0.0.2", 3*time.Second)
	within := ingest(t, s, again, proto.Clone(again).(*eventv1.Event))
	if got := len(within.Stored); got != 1 {
		t.Errorf("batch with a repeated id stored %d events, want 1", got)
	}
	if within.Duplicates != 1 {
		t.Errorf("batch with a repeated id duplicates = %d, want 1", within.Duplicates)
	}

	page, err := s.ListEvents(context.Background(), store.EventQuery{})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if got := len(page.Items); got != 4 {
		t.Errorf("ListEvents returned %d events, want 4", got)
	}

	a, err := s.GetAttacker(context.Background(), first.Stored[0].GetAttackerId())
	if err != nil {
		t.Fatalf("GetAttacker: %v", err)
	}
	if a.GetEventCount() != 3 {
		t.Errorf("attacker event count = %d after duplicates, want 3", a.GetEventCount())
	}
}

func testIngestStoredEvents(t *testing.T, s store.Store) {
	evs := []*eventv1.Event{newEvent(t, "127.0.0.2", 0), newEvent(t, "127.0.0.3", time.Second)}
	evs[1].AgentId = "claimed-by-the-agent"

	res := ingest(t, s, evs...)
	if len(res.Stored) != 2 {
		t.Fatalf("stored %d events, want 2", len(res.Stored))
	}
	for i, se := range res.Stored {
		if se.GetEvent().GetId() != evs[i].GetId() {
			t.Errorf("stored[%d] id = %s, want %s (batch order)", i, se.GetEvent().GetId(), evs[i].GetId())
		}
		if se.GetEvent().GetAgentId() != testAgent {
			t.Errorf("stored[%d] agent id = %q, want the authenticated %q", i, se.GetEvent().GetAgentId(), testAgent)
		}
		if _, err := uuid.Parse(se.GetAttackerId()); err != nil {
			t.Errorf("stored[%d] attacker id %q is not a UUID: %v", i, se.GetAttackerId(), err)
		}
		if !se.GetReceivedAt().AsTime().Equal(base.Add(time.Hour)) {
			t.Errorf("stored[%d] received at = %v, want %v", i, se.GetReceivedAt().AsTime(), base.Add(time.Hour))
		}
	}

	page, err := s.ListEvents(context.Background(), store.EventQuery{})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("ListEvents returned %d events, want 2", len(page.Items))
	}
	// Newest first, so the listed order is the reverse of the batch.
	for i, listed := range page.Items {
		want := res.Stored[len(res.Stored)-1-i]
		if !proto.Equal(listed, want) {
			t.Errorf("listed event %d = %v, want %v", i, listed, want)
		}
	}
}

func testAttackerPerAddress(t *testing.T, s store.Store) {
	first := ingest(t, s,
		newEvent(t, "127.0.0.2", 0),
		newEvent(t, "127.0.0.3", time.Second),
		newEvent(t, "127.0.0.2", 2*time.Second),
	)
	a2, a3 := first.Stored[0].GetAttackerId(), first.Stored[1].GetAttackerId()
	if a2 == a3 {
		t.Fatalf("two source addresses share attacker %s", a2)
	}
	if got := first.Stored[2].GetAttackerId(); got != a2 {
		t.Errorf("second event of 127.0.0.2 has attacker %s, want %s", got, a2)
	}
	for _, id := range []string{a2, a3} {
		u, err := uuid.Parse(id)
		if err != nil {
			t.Fatalf("attacker id %q is not a UUID: %v", id, err)
		}
		if u.Version() != 7 {
			t.Errorf("attacker id %s is UUID version %d, want 7", id, u.Version())
		}
	}

	// A later batch keeps the attacker's id; an IPv4-mapped IPv6 form of
	// the same address is the same attacker.
	later := newAuthEvent(t, "::ffff:127.0.0.2", -time.Minute, "root", "hunter2")
	later.Decky = "db-01"
	later.Service = "mysql"
	second := ingest(t, s, later)
	if got := second.Stored[0].GetAttackerId(); got != a2 {
		t.Errorf("attacker of 127.0.0.2 in a later batch = %s, want %s", got, a2)
	}

	a, err := s.GetAttacker(context.Background(), a2)
	if err != nil {
		t.Fatalf("GetAttacker: %v", err)
	}
	want := &apiv1.Attacker{
		Id:               a2,
		Addresses:        []string{"127.0.0.2"},
		FirstSeen:        timestamppb.New(base.Add(-time.Minute)),
		LastSeen:         timestamppb.New(base.Add(2 * time.Second)),
		EventCount:       3,
		AuthAttemptCount: 1,
		Services:         []string{"mysql", "ssh"},
		Deckies:          []string{"db-01", "web-01"},
	}
	if !proto.Equal(a, want) {
		t.Errorf("GetAttacker = %v, want %v", a, want)
	}

	page, err := s.ListAttackers(context.Background(), store.AttackerQuery{Address: "127.0.0.3"})
	if err != nil {
		t.Fatalf("ListAttackers: %v", err)
	}
	if len(page.Items) != 1 || page.Items[0].GetId() != a3 {
		t.Errorf("ListAttackers(address 127.0.0.3) = %v, want only %s", page.Items, a3)
	}
}

func testAttackerNotFound(t *testing.T, s store.Store) {
	_, err := s.GetAttacker(context.Background(), "0195a1b2-0000-7000-8000-00000000dead")
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAttacker(unknown) error = %v, want ErrNotFound", err)
	}
}

func testCredentialFields(t *testing.T, s store.Store) {
	password := newAuthEvent(t, "127.0.0.2", 0, "root", "hunter2")
	key := newAuthEvent(t, "127.0.0.2", time.Second, "git", "")
	keyBlob := []byte("\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20abcdefghijklmnopqrstuvwxyz012345")
	keySum := sha256.Sum256(keyBlob)
	key.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
		Principal:      "git",
		SecretKind:     "ssh_publickey",
		Mechanism:      "ssh_publickey",
		Secret:         keyBlob,
		SecretSha256:   keySum[:],
		Outcome:        eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED,
		KeyType:        "ssh-ed25519",
		KeyFingerprint: "SHA256:dGVzdA",
	}}
	res := ingest(t, s, password, key, newEvent(t, "127.0.0.2", 2*time.Second))
	attacker := res.Stored[0].GetAttackerId()

	page, err := s.ListCredentials(context.Background(), store.CredentialQuery{})
	if err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	pwSum := sha256.Sum256([]byte("hunter2"))
	want := []*apiv1.Credential{
		{
			EventId: key.GetId(), AttackerId: attacker, Time: key.GetTime(), AgentId: testAgent,
			Decky: "web-01", Service: "ssh", Principal: "git", SecretKind: "ssh_publickey",
			Mechanism: "ssh_publickey", Secret: keyBlob, SecretSha256: keySum[:],
			Outcome: eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED, SourceAddress: "127.0.0.2",
			KeyType: "ssh-ed25519", KeyFingerprint: "SHA256:dGVzdA",
		},
		{
			EventId: password.GetId(), AttackerId: attacker, Time: password.GetTime(), AgentId: testAgent,
			Decky: "web-01", Service: "ssh", Principal: "root", SecretKind: "plaintext",
			Mechanism: "ssh_password", Secret: []byte("hunter2"), SecretSha256: pwSum[:],
			Outcome: eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED, SourceAddress: "127.0.0.2",
		},
	}
	if len(page.Items) != len(want) {
		t.Fatalf("ListCredentials returned %d credentials, want %d: %v", len(page.Items), len(want), page.Items)
	}
	for i := range want {
		if !proto.Equal(page.Items[i], want[i]) {
			t.Errorf("credential %d = %v, want %v", i, page.Items[i], want[i])
		}
	}

	a, err := s.GetAttacker(context.Background(), attacker)
	if err != nil {
		t.Fatalf("GetAttacker: %v", err)
	}
	if a.GetAuthAttemptCount() != 2 {
		t.Errorf("auth attempt count = %d, want 2", a.GetAuthAttemptCount())
	}
	if a.GetEventCount() != 3 {
		t.Errorf("event count = %d, want 3", a.GetEventCount())
	}
}

func testEventPagination(t *testing.T, s store.Store) {
	// 25 events where pairs share a timestamp, so the id must break ties.
	var evs []*eventv1.Event
	for i := range 25 {
		evs = append(evs, newEvent(t, "127.0.0.2", time.Duration(i/2)*time.Second))
	}
	ingest(t, s, evs...)

	tests := []struct {
		pageSize  int
		wantPages []int
	}{
		{pageSize: 10, wantPages: []int{10, 10, 5}},
		{pageSize: 5, wantPages: []int{5, 5, 5, 5, 5, 0}},
		{pageSize: 0, wantPages: []int{25}},
		{pageSize: 100_000, wantPages: []int{25}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("size%d", tc.pageSize), func(t *testing.T) {
			var (
				got   []*apiv1.StoredEvent
				sizes []int
				token string
			)
			for range len(tc.wantPages) + 1 {
				page, err := s.ListEvents(context.Background(), store.EventQuery{PageSize: tc.pageSize, PageToken: token})
				if err != nil {
					t.Fatalf("ListEvents: %v", err)
				}
				sizes = append(sizes, len(page.Items))
				got = append(got, page.Items...)
				token = page.NextPageToken
				if token == "" {
					break
				}
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tc.wantPages) {
				t.Errorf("page sizes = %v, want %v", sizes, tc.wantPages)
			}
			if len(got) != len(evs) {
				t.Fatalf("paged through %d events, want %d", len(got), len(evs))
			}
			seen := make(map[string]bool)
			for i, se := range got {
				id := se.GetEvent().GetId()
				if seen[id] {
					t.Errorf("event %s listed twice", id)
				}
				seen[id] = true
				if i == 0 {
					continue
				}
				prev := got[i-1].GetEvent()
				pt, ct := prev.GetTime().AsTime(), se.GetEvent().GetTime().AsTime()
				if ct.After(pt) || (ct.Equal(pt) && id > prev.GetId()) {
					t.Errorf("event %d (%v %s) sorts before event %d (%v %s)", i, ct, id, i-1, pt, prev.GetId())
				}
			}
		})
	}
}

func testEventFilters(t *testing.T, s store.Store) {
	auth := newAuthEvent(t, "127.0.0.3", 5*time.Second, "admin", "admin")
	auth.Decky = "db-01"
	auth.Service = "mysql"
	res := ingest(t, s, newEvent(t, "127.0.0.2", 0), newEvent(t, "127.0.0.2", 10*time.Second), auth)
	attacker2 := res.Stored[0].GetAttackerId()

	tests := []struct {
		name   string
		filter *apiv1.EventFilter
		want   []string
	}{
		{"none", nil, []string{res.Stored[1].GetEvent().GetId(), auth.GetId(), res.Stored[0].GetEvent().GetId()}},
		{"kind", &apiv1.EventFilter{Kind: "auth.attempt"}, []string{auth.GetId()}},
		{"service", &apiv1.EventFilter{Service: "mysql"}, []string{auth.GetId()}},
		{"decky", &apiv1.EventFilter{Decky: "db-01"}, []string{auth.GetId()}},
		{"agent", &apiv1.EventFilter{AgentId: "0195a1b2-0000-7000-8000-0000000000ff"}, nil},
		{"source", &apiv1.EventFilter{SourceAddress: "127.0.0.3"}, []string{auth.GetId()}},
		{"attacker", &apiv1.EventFilter{AttackerId: attacker2}, []string{res.Stored[1].GetEvent().GetId(), res.Stored[0].GetEvent().GetId()}},
		{"since", &apiv1.EventFilter{Since: timestamppb.New(base.Add(5 * time.Second))}, []string{res.Stored[1].GetEvent().GetId(), auth.GetId()}},
		{"combined", &apiv1.EventFilter{Kind: "connection.opened", Since: timestamppb.New(base.Add(time.Second))}, []string{res.Stored[1].GetEvent().GetId()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListEvents(context.Background(), store.EventQuery{Filter: tc.filter})
			if err != nil {
				t.Fatalf("ListEvents: %v", err)
			}
			var got []string
			for _, se := range page.Items {
				got = append(got, se.GetEvent().GetId())
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ListEvents(%v) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func testAttackerPagination(t *testing.T, s store.Store) {
	var evs []*eventv1.Event
	for i := range 7 {
		evs = append(evs, newEvent(t, fmt.Sprintf("127.0.0.%d", i+2), time.Duration(i)*time.Second))
	}
	ingest(t, s, evs...)

	var (
		got   []*apiv1.Attacker
		token string
	)
	for range 5 {
		page, err := s.ListAttackers(context.Background(), store.AttackerQuery{PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatalf("ListAttackers: %v", err)
		}
		got = append(got, page.Items...)
		token = page.NextPageToken
		if token == "" {
			break
		}
	}
	if len(got) != 7 {
		t.Fatalf("paged through %d attackers, want 7", len(got))
	}
	for i, a := range got {
		want := fmt.Sprintf("127.0.0.%d", 8-i)
		if len(a.GetAddresses()) != 1 || a.GetAddresses()[0] != want {
			t.Errorf("attacker %d addresses = %v, want [%s] (most recently seen first)", i, a.GetAddresses(), want)
		}
	}
}

// attackerFixture is five attackers with distinct first and last seen
// times, one tie in event count and a three-way tie in authentication
// attempts, so every order and its tie-break show.
type attackerFixture struct {
	// ids maps each attacker's address to its id.
	ids map[string]string
}

// Addresses of the fixture's attackers.
const (
	fixA = "127.0.0.2"   // ssh on web-01; first 0s, last 10s; 2 events, 1 attempt (root)
	fixB = "127.0.0.3"   // http on web-01; first 1s, last 4s; 4 events
	fixC = "127.0.1.4"   // mysql on db-01; first 5s, last 7s; 3 events, 2 attempts (admin, root)
	fixD = "127.1.0.5"   // ssh on db-01; first and last 20s; 1 event
	fixE = "2001:db8::7" // http on web-01; first 14s, last 15s; 2 events
)

func ingestAttackerFixture(t *testing.T, s store.Store) attackerFixture {
	t.Helper()
	at := func(ev *eventv1.Event, decky, service string) *eventv1.Event {
		ev.Decky, ev.Service = decky, service
		return ev
	}
	res := ingest(t, s,
		at(newEvent(t, fixA, 0), "web-01", "ssh"),
		at(newAuthEvent(t, fixA, 10*time.Second, "root", "a"), "web-01", "ssh"),
		at(newEvent(t, fixB, 1*time.Second), "web-01", "http"),
		at(newEvent(t, fixB, 2*time.Second), "web-01", "http"),
		at(newEvent(t, fixB, 3*time.Second), "web-01", "http"),
		at(newEvent(t, fixB, 4*time.Second), "web-01", "http"),
		at(newEvent(t, fixC, 5*time.Second), "db-01", "mysql"),
		at(newAuthEvent(t, fixC, 6*time.Second, "admin", "b"), "db-01", "mysql"),
		at(newAuthEvent(t, fixC, 7*time.Second, "root", "c"), "db-01", "mysql"),
		at(newEvent(t, fixD, 20*time.Second), "db-01", "ssh"),
		at(newEvent(t, fixE, 14*time.Second), "web-01", "http"),
		at(newEvent(t, fixE, 15*time.Second), "web-01", "http"),
	)
	f := attackerFixture{ids: map[string]string{}}
	for _, se := range res.Stored {
		f.ids[se.GetEvent().GetSource().GetAddress()] = se.GetAttackerId()
	}
	if len(f.ids) != 5 {
		t.Fatalf("fixture has %d attackers, want 5", len(f.ids))
	}
	return f
}

// byID returns tied addresses in the order of their attackers' ids, the
// tie-break of every attacker order.
func (f attackerFixture) byID(ascending bool, addrs ...string) []string {
	out := slices.Clone(addrs)
	slices.SortFunc(out, func(a, b string) int {
		c := strings.Compare(f.ids[a], f.ids[b])
		if !ascending {
			c = -c
		}
		return c
	})
	return out
}

// attackerAddresses lists the first address of each attacker.
func attackerAddresses(t *testing.T, attackers []*apiv1.Attacker) []string {
	t.Helper()
	var out []string
	for _, a := range attackers {
		if len(a.GetAddresses()) != 1 {
			t.Fatalf("attacker %s has addresses %v, want one", a.GetId(), a.GetAddresses())
		}
		out = append(out, a.GetAddresses()[0])
	}
	return out
}

// pageAttackers lists every attacker q selects, size at a time, and
// returns them with the number of pages it took.
func pageAttackers(t *testing.T, s store.Store, q store.AttackerQuery, size int) ([]*apiv1.Attacker, int) {
	t.Helper()
	var (
		all   []*apiv1.Attacker
		pages int
	)
	q.PageSize = size
	for range 10 {
		page, err := s.ListAttackers(context.Background(), q)
		if err != nil {
			t.Fatalf("ListAttackers(%+v): %v", q, err)
		}
		pages++
		all = append(all, page.Items...)
		if page.NextPageToken == "" {
			return all, pages
		}
		q.PageToken = page.NextPageToken
	}
	t.Fatalf("ListAttackers(%+v) did not end after 10 pages", q)
	return nil, 0
}

func testAttackerOrders(t *testing.T, s store.Store) {
	f := ingestAttackerFixture(t, s)
	tests := []struct {
		name      string
		sort      store.AttackerSort
		ascending bool
		want      []string
	}{
		{"last seen desc", store.SortLastSeen, false, []string{fixD, fixE, fixA, fixC, fixB}},
		{"last seen asc", store.SortLastSeen, true, []string{fixB, fixC, fixA, fixE, fixD}},
		{"first seen desc", store.SortFirstSeen, false, []string{fixD, fixE, fixC, fixB, fixA}},
		{"first seen asc", store.SortFirstSeen, true, []string{fixA, fixB, fixC, fixE, fixD}},
		{"event count desc", store.SortEventCount, false, slices.Concat([]string{fixB, fixC}, f.byID(false, fixA, fixE), []string{fixD})},
		{"event count asc", store.SortEventCount, true, slices.Concat([]string{fixD}, f.byID(true, fixA, fixE), []string{fixC, fixB})},
		{"auth attempts desc", store.SortAuthAttemptCount, false, slices.Concat([]string{fixC, fixA}, f.byID(false, fixB, fixD, fixE))},
		{"auth attempts asc", store.SortAuthAttemptCount, true, slices.Concat(f.byID(true, fixB, fixD, fixE), []string{fixA, fixC})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := store.AttackerQuery{Sort: tc.sort, Ascending: tc.ascending}
			page, err := s.ListAttackers(context.Background(), q)
			if err != nil {
				t.Fatalf("ListAttackers: %v", err)
			}
			if got := attackerAddresses(t, page.Items); !slices.Equal(got, tc.want) {
				t.Errorf("one page = %v, want %v", got, tc.want)
			}
			if page.NextPageToken != "" {
				t.Errorf("one page next token = %q, want none", page.NextPageToken)
			}

			// Two at a time, the pages continue the same order, ties
			// included, and the last page ends the list.
			paged, pages := pageAttackers(t, s, q, 2)
			if got := attackerAddresses(t, paged); !slices.Equal(got, tc.want) {
				t.Errorf("paged by 2 = %v, want %v", got, tc.want)
			}
			if pages != 3 {
				t.Errorf("paged by 2 in %d pages, want 3", pages)
			}
		})
	}

	// The counts and times the orders rest on.
	page, err := s.ListAttackers(context.Background(), store.AttackerQuery{Address: fixC})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("ListAttackers(address %s) = %v, %v", fixC, page.Items, err)
	}
	c := page.Items[0]
	if c.GetEventCount() != 3 || c.GetAuthAttemptCount() != 2 ||
		!c.GetFirstSeen().AsTime().Equal(base.Add(5*time.Second)) || !c.GetLastSeen().AsTime().Equal(base.Add(7*time.Second)) {
		t.Errorf("attacker %s = %v, want 3 events, 2 attempts, seen from base+5s to base+7s", fixC, c)
	}
}

func testAttackerFilters(t *testing.T, s store.Store) {
	ingestAttackerFixture(t, s)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	tests := []struct {
		name string
		q    store.AttackerQuery
		want []string
	}{
		{"none", store.AttackerQuery{}, []string{fixD, fixE, fixA, fixC, fixB}},
		{"service", store.AttackerQuery{Service: "ssh"}, []string{fixD, fixA}},
		{"decky", store.AttackerQuery{Decky: "db-01"}, []string{fixD, fixC}},
		// Both must match one target: A reached ssh, C reached db-01, but
		// only D reached ssh on db-01.
		{"service on decky", store.AttackerQuery{Service: "ssh", Decky: "db-01"}, []string{fixD}},
		{"unknown service", store.AttackerQuery{Service: "telnet"}, nil},
		{"principal", store.AttackerQuery{Principal: "root"}, []string{fixA, fixC}},
		{"other principal", store.AttackerQuery{Principal: "admin"}, []string{fixC}},
		{"principal never tried", store.AttackerQuery{Principal: "oracle"}, nil},
		{"min event count", store.AttackerQuery{MinEventCount: 3}, []string{fixC, fixB}},
		{"min event count above all", store.AttackerQuery{MinEventCount: 1 << 63}, nil},
		// Last seen at the bound counts; first seen at the bound does not.
		{"seen since", store.AttackerQuery{SeenSince: at(7 * time.Second)}, []string{fixD, fixE, fixA, fixC}},
		{"seen until", store.AttackerQuery{SeenUntil: at(5 * time.Second)}, []string{fixA, fixB}},
		{"seen window", store.AttackerQuery{SeenSince: at(5 * time.Second), SeenUntil: at(16 * time.Second)}, []string{fixE, fixA, fixC}},
		{"address prefix", store.AttackerQuery{AddressPrefix: "127.0."}, []string{fixA, fixC, fixB}},
		{"longer address prefix", store.AttackerQuery{AddressPrefix: "127.0.0."}, []string{fixA, fixB}},
		{"IPv6 address prefix", store.AttackerQuery{AddressPrefix: "2001:db8:"}, []string{fixE}},
		{"whole address as prefix", store.AttackerQuery{AddressPrefix: fixD}, []string{fixD}},
		// Pattern characters of either backend match only themselves.
		{"prefix with LIKE wildcards", store.AttackerQuery{AddressPrefix: "127.0._"}, nil},
		{"prefix with percent", store.AttackerQuery{AddressPrefix: "%"}, nil},
		{"prefix with GLOB wildcards", store.AttackerQuery{AddressPrefix: "127*"}, nil},
		{"prefix with GLOB class", store.AttackerQuery{AddressPrefix: "[1]27"}, nil},
		{"combined", store.AttackerQuery{Service: "ssh", MinEventCount: 2}, []string{fixA}},
		{"filtered and sorted", store.AttackerQuery{Principal: "root", Sort: store.SortAuthAttemptCount}, []string{fixC, fixA}},
		{"filtered and sorted ascending", store.AttackerQuery{Decky: "web-01", Sort: store.SortFirstSeen, Ascending: true}, []string{fixA, fixB, fixE}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListAttackers(context.Background(), tc.q)
			if err != nil {
				t.Fatalf("ListAttackers: %v", err)
			}
			if got := attackerAddresses(t, page.Items); !slices.Equal(got, tc.want) {
				t.Errorf("ListAttackers(%+v) = %v, want %v", tc.q, got, tc.want)
			}

			// Paging one at a time keeps the filters.
			paged, _ := pageAttackers(t, s, tc.q, 1)
			if got := attackerAddresses(t, paged); !slices.Equal(got, tc.want) {
				t.Errorf("ListAttackers(%+v) paged by 1 = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func testAttackerPageTokenOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := ingestAttackerFixture(t, s)

	first, err := s.ListAttackers(ctx, store.AttackerQuery{Sort: store.SortEventCount, PageSize: 2})
	if err != nil {
		t.Fatalf("ListAttackers: %v", err)
	}
	if first.NextPageToken == "" {
		t.Fatal("first page of 2 has no next page token")
	}

	// A token continues only the order it came from.
	others := []store.AttackerQuery{
		{Sort: store.SortEventCount, Ascending: true},
		{Sort: store.SortLastSeen},
		{Sort: store.SortAuthAttemptCount},
	}
	for _, q := range others {
		q.PageToken = first.NextPageToken
		if _, err := s.ListAttackers(ctx, q); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("ListAttackers(%+v) with an event count token: error %v, want ErrInvalidPageToken", q, err)
		}
	}

	// A new attacker that sorts before the position does not shift the
	// next page: the token holds the sort key, not an offset.
	ingest(t, s, newEvent(t, "127.0.0.9", 30*time.Second), newEvent(t, "127.0.0.9", 31*time.Second),
		newEvent(t, "127.0.0.9", 32*time.Second), newEvent(t, "127.0.0.9", 33*time.Second), newEvent(t, "127.0.0.9", 34*time.Second))
	next, err := s.ListAttackers(ctx, store.AttackerQuery{Sort: store.SortEventCount, PageSize: 2, PageToken: first.NextPageToken})
	if err != nil {
		t.Fatalf("ListAttackers(next page): %v", err)
	}
	if got, want := attackerAddresses(t, next.Items), f.byID(false, fixA, fixE); !slices.Equal(got, want) {
		t.Errorf("next page after an insert = %v, want %v", got, want)
	}

	// A token in the format of the single order earlier versions had
	// still continues last seen, newest first.
	legacy := store.EncodeCursor(store.Cursor{Time: base.Add(10 * time.Second), ID: f.ids[fixA]})
	page, err := s.ListAttackers(ctx, store.AttackerQuery{PageToken: legacy})
	if err != nil {
		t.Fatalf("ListAttackers(earlier token): %v", err)
	}
	if got, want := attackerAddresses(t, page.Items), []string{fixC, fixB}; !slices.Equal(got, want) {
		t.Errorf("after an earlier token = %v, want %v", got, want)
	}
}

func testCredentialFilters(t *testing.T, s store.Store) {
	res := ingest(t, s,
		newAuthEvent(t, "127.0.0.2", 0, "root", "a"),
		newAuthEvent(t, "127.0.0.2", time.Second, "admin", "b"),
		newAuthEvent(t, "127.0.0.3", 2*time.Second, "root", "c"),
		newAuthEvent(t, "127.0.0.3", 3*time.Second, "root", "d"),
	)
	tests := []struct {
		name string
		q    store.CredentialQuery
		want []string
	}{
		{"principal", store.CredentialQuery{Principal: "root"}, []string{"d", "c", "a"}},
		{"attacker", store.CredentialQuery{AttackerID: res.Stored[0].GetAttackerId()}, []string{"b", "a"}},
		{"both", store.CredentialQuery{AttackerID: res.Stored[2].GetAttackerId(), Principal: "admin"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListCredentials(context.Background(), tc.q)
			if err != nil {
				t.Fatalf("ListCredentials: %v", err)
			}
			var got []string
			for _, c := range page.Items {
				got = append(got, string(c.GetSecret()))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("secrets = %v, want %v", got, tc.want)
			}
		})
	}

	// Paging one credential at a time visits all four.
	var (
		n     int
		token string
	)
	for range 6 {
		page, err := s.ListCredentials(context.Background(), store.CredentialQuery{PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		n += len(page.Items)
		token = page.NextPageToken
		if token == "" {
			break
		}
	}
	if n != 4 {
		t.Errorf("paged through %d credentials, want 4", n)
	}
}

func testInvalidPageToken(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, token := range []string{"not base64 !", "Zm9v", store.EncodeCursor(store.Cursor{})[:4]} {
		if _, err := s.ListEvents(ctx, store.EventQuery{PageToken: token}); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("ListEvents(token %q) error = %v, want ErrInvalidPageToken", token, err)
		}
		if _, err := s.ListAttackers(ctx, store.AttackerQuery{PageToken: token}); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("ListAttackers(token %q) error = %v, want ErrInvalidPageToken", token, err)
		}
		if _, err := s.ListCredentials(ctx, store.CredentialQuery{PageToken: token}); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("ListCredentials(token %q) error = %v, want ErrInvalidPageToken", token, err)
		}
	}
}

func newToken(name string, expires time.Time) store.Token {
	sum := sha256.Sum256([]byte("token-secret-" + name))
	return store.Token{
		Hash:      sum[:],
		AgentID:   uuid.NewString(),
		AgentName: name,
		CreatedAt: base,
		ExpiresAt: expires,
	}
}

func testTokenConsumeOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := newToken("edge-1", base.Add(time.Hour))
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if err := s.CreateToken(ctx, tok); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateToken(same hash) error = %v, want ErrExists", err)
	}

	now := base.Add(time.Minute)
	got, err := s.ConsumeToken(ctx, tok.Hash, now)
	if err != nil {
		t.Fatalf("ConsumeToken: %v", err)
	}
	if got.AgentID != tok.AgentID || got.AgentName != tok.AgentName {
		t.Errorf("ConsumeToken returned agent %s %q, want %s %q", got.AgentID, got.AgentName, tok.AgentID, tok.AgentName)
	}
	if !got.UsedAt.Equal(now) {
		t.Errorf("UsedAt = %v, want %v", got.UsedAt, now)
	}
	if !got.ExpiresAt.Equal(tok.ExpiresAt) || !got.CreatedAt.Equal(tok.CreatedAt) {
		t.Errorf("times = %v/%v, want %v/%v", got.CreatedAt, got.ExpiresAt, tok.CreatedAt, tok.ExpiresAt)
	}

	if _, err := s.ConsumeToken(ctx, tok.Hash, now); !errors.Is(err, store.ErrTokenInvalid) {
		t.Errorf("second ConsumeToken error = %v, want ErrTokenInvalid", err)
	}

	list, err := s.ListTokens(ctx)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if len(list) != 1 || !list[0].UsedAt.Equal(now) {
		t.Errorf("ListTokens = %+v, want one token used at %v", list, now)
	}
}

func testTokenConsumeConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := newToken("edge-2", base.Add(time.Hour))
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}

	const consumers = 16
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		wins     int
		otherErr []error
	)
	for range consumers {
		wg.Go(func() {
			_, err := s.ConsumeToken(ctx, tok.Hash, base.Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrTokenInvalid):
				otherErr = append(otherErr, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d concurrent consumers succeeded, want 1", wins, consumers)
	}
	for _, err := range otherErr {
		t.Errorf("ConsumeToken error = %v, want nil or ErrTokenInvalid", err)
	}
}

func testTokenRejected(t *testing.T, s store.Store) {
	ctx := context.Background()
	expiring := newToken("edge-3", base.Add(time.Hour))
	if err := s.CreateToken(ctx, expiring); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	unknown := sha256.Sum256([]byte("never stored"))

	tests := []struct {
		name string
		hash []byte
		now  time.Time
	}{
		{"unknown", unknown[:], base},
		{"at expiry", expiring.Hash, base.Add(time.Hour)},
		{"after expiry", expiring.Hash, base.Add(2 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.ConsumeToken(ctx, tc.hash, tc.now); !errors.Is(err, store.ErrTokenInvalid) {
				t.Errorf("ConsumeToken error = %v, want ErrTokenInvalid", err)
			}
		})
	}

	// The rejected attempts left the token usable before its expiry.
	if _, err := s.ConsumeToken(ctx, expiring.Hash, base.Add(time.Minute)); err != nil {
		t.Errorf("ConsumeToken before expiry: %v", err)
	}
}

func testAgents(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := store.Agent{
		ID:                   testAgent,
		Name:                 "edge-1",
		EnrolledAt:           base,
		CertificateSerial:    "0a1b",
		CertificateExpiresAt: base.Add(24 * time.Hour),
	}
	if err := s.UpsertAgent(ctx, a); err != nil {
		t.Fatalf("UpsertAgent: %v", err)
	}
	if err := s.TouchAgent(ctx, testAgent, "1.2.3", base.Add(time.Minute)); err != nil {
		t.Fatalf("TouchAgent: %v", err)
	}
	// An older touch does not move last-seen back.
	if err := s.TouchAgent(ctx, testAgent, "", base); err != nil {
		t.Fatalf("TouchAgent: %v", err)
	}
	if err := s.TouchAgent(ctx, "0195a1b2-0000-7000-8000-0000000000ff", "1.2.3", base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchAgent(unknown) error = %v, want ErrNotFound", err)
	}

	// A renewal replaces the certificate and keeps the enrollment time.
	renewed := a
	renewed.EnrolledAt = base.Add(12 * time.Hour)
	renewed.CertificateSerial = "0c2d"
	renewed.CertificateExpiresAt = base.Add(36 * time.Hour)
	if err := s.UpsertAgent(ctx, renewed); err != nil {
		t.Fatalf("UpsertAgent(renewal): %v", err)
	}

	got, err := s.ListAgents(ctx)
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	want := store.Agent{
		ID:                   testAgent,
		Name:                 "edge-1",
		EnrolledAt:           base,
		LastSeen:             base.Add(time.Minute),
		Version:              "1.2.3",
		CertificateSerial:    "0c2d",
		CertificateExpiresAt: base.Add(36 * time.Hour),
	}
	if len(got) != 1 {
		t.Fatalf("ListAgents returned %d agents, want 1", len(got))
	}
	if !agentEqual(got[0], want) {
		t.Errorf("ListAgents = %+v, want %+v", got[0], want)
	}
}

func testAgentRevocation(t *testing.T, s store.Store) {
	ctx := context.Background()
	const other = "0195a1b2-0000-7000-8000-000000000002"
	for _, id := range []string{testAgent, other} {
		a := store.Agent{ID: id, Name: "edge", EnrolledAt: base, CertificateSerial: "0a", CertificateExpiresAt: base.Add(time.Hour)}
		if err := s.UpsertAgent(ctx, a); err != nil {
			t.Fatalf("UpsertAgent: %v", err)
		}
	}

	got, err := s.GetAgent(ctx, testAgent)
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	if got.Revoked() || !got.RevokedAt.IsZero() {
		t.Errorf("GetAgent before revocation: revoked at %v, want active", got.RevokedAt)
	}

	revoked, err := s.RevokeAgent(ctx, testAgent, base.Add(time.Minute))
	if err != nil {
		t.Fatalf("RevokeAgent: %v", err)
	}
	if !revoked.RevokedAt.Equal(base.Add(time.Minute)) || revoked.ID != testAgent || revoked.Name != "edge" {
		t.Errorf("RevokeAgent returned %+v, want agent %s revoked at %v", revoked, testAgent, base.Add(time.Minute))
	}
	// A second revocation keeps the first time.
	if again, err := s.RevokeAgent(ctx, testAgent, base.Add(time.Hour)); err != nil || !again.RevokedAt.Equal(base.Add(time.Minute)) {
		t.Errorf("RevokeAgent again = %v, %v, want revoked at %v", again.RevokedAt, err, base.Add(time.Minute))
	}
	// A renewal recorded afterwards does not clear the revocation.
	if err := s.UpsertAgent(ctx, store.Agent{ID: testAgent, Name: "edge", CertificateSerial: "0b", CertificateExpiresAt: base.Add(2 * time.Hour)}); err != nil {
		t.Fatalf("UpsertAgent after revocation: %v", err)
	}

	got, err = s.GetAgent(ctx, testAgent)
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	if !got.Revoked() || !got.RevokedAt.Equal(base.Add(time.Minute)) {
		t.Errorf("GetAgent after revocation: revoked at %v, want %v", got.RevokedAt, base.Add(time.Minute))
	}

	agents, err := s.ListAgents(ctx)
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	states := map[string]bool{}
	for _, a := range agents {
		states[a.ID] = a.Revoked()
	}
	if len(states) != 2 || !states[testAgent] || states[other] {
		t.Errorf("ListAgents revoked states = %v, want %s revoked and %s active", states, testAgent, other)
	}

	const unknown = "0195a1b2-0000-7000-8000-0000000000ff"
	if _, err := s.GetAgent(ctx, unknown); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAgent(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.RevokeAgent(ctx, unknown, base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeAgent(unknown) error = %v, want ErrNotFound", err)
	}
}

func agentEqual(a, b store.Agent) bool {
	return a.ID == b.ID && a.Name == b.Name && a.EnrolledAt.Equal(b.EnrolledAt) &&
		a.LastSeen.Equal(b.LastSeen) && a.Version == b.Version &&
		a.CertificateSerial == b.CertificateSerial && a.CertificateExpiresAt.Equal(b.CertificateExpiresAt) &&
		a.RevokedAt.Equal(b.RevokedAt)
}

func testUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	n, err := s.CountUsers(ctx)
	if err != nil {
		t.Fatalf("CountUsers: %v", err)
	}
	if n != 0 {
		t.Errorf("CountUsers on an empty store = %d, want 0", n)
	}

	u := store.User{Username: "admin", PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", Role: "admin", CreatedAt: base}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.CreateUser(ctx, u); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateUser(taken name) error = %v, want ErrExists", err)
	}

	got, err := s.GetUser(ctx, "admin")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got.Username != u.Username || got.PasswordHash != u.PasswordHash || got.Role != u.Role || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("GetUser = %+v, want %+v", got, u)
	}
	if _, err := s.GetUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser(unknown) error = %v, want ErrNotFound", err)
	}

	n, err = s.CountUsers(ctx)
	if err != nil {
		t.Fatalf("CountUsers: %v", err)
	}
	if n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}
}

func testAPISessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.CreateUser(ctx, store.User{Username: "analyst", PasswordHash: "x", Role: "admin", CreatedAt: base}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	hash := sha256.Sum256([]byte("bearer"))
	sess := store.APISession{TokenHash: hash[:], Username: "analyst", CreatedAt: base, ExpiresAt: base.Add(12 * time.Hour)}
	if err := s.CreateAPISession(ctx, sess); err != nil {
		t.Fatalf("CreateAPISession: %v", err)
	}

	got, err := s.GetAPISession(ctx, hash[:], base.Add(time.Hour))
	if err != nil {
		t.Fatalf("GetAPISession: %v", err)
	}
	if got.Username != "analyst" || !got.ExpiresAt.Equal(sess.ExpiresAt) || !got.CreatedAt.Equal(sess.CreatedAt) {
		t.Errorf("GetAPISession = %+v, want %+v", got, sess)
	}

	gs, gu, err := s.GetSessionUser(ctx, hash[:], base.Add(time.Hour))
	if err != nil {
		t.Fatalf("GetSessionUser: %v", err)
	}
	if gs.Username != "analyst" || !gs.ExpiresAt.Equal(sess.ExpiresAt) || !gs.CreatedAt.Equal(sess.CreatedAt) || string(gs.TokenHash) != string(hash[:]) {
		t.Errorf("GetSessionUser session = %+v, want %+v", gs, sess)
	}
	if gu.Username != "analyst" || gu.Role != "admin" || gu.PasswordHash != "x" || !gu.CreatedAt.Equal(base) {
		t.Errorf("GetSessionUser user = %+v", gu)
	}
	if _, _, err := s.GetSessionUser(ctx, hash[:], sess.ExpiresAt); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSessionUser at expiry error = %v, want ErrNotFound", err)
	}

	if _, err := s.GetAPISession(ctx, hash[:], sess.ExpiresAt); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAPISession at expiry error = %v, want ErrNotFound", err)
	}
	other := sha256.Sum256([]byte("other"))
	if _, err := s.GetAPISession(ctx, other[:], base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAPISession(unknown) error = %v, want ErrNotFound", err)
	}

	if err := s.DeleteAPISession(ctx, hash[:]); err != nil {
		t.Fatalf("DeleteAPISession: %v", err)
	}
	if _, err := s.GetAPISession(ctx, hash[:], base.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAPISession after delete error = %v, want ErrNotFound", err)
	}
	if err := s.DeleteAPISession(ctx, hash[:]); err != nil {
		t.Errorf("DeleteAPISession twice: %v", err)
	}
}

func testAgentConfig(t *testing.T, s store.Store) {
	ctx := context.Background()
	const unknown = "0195a1b2-0000-7000-8000-0000000000ff"
	if err := s.UpsertAgent(ctx, store.Agent{ID: testAgent, Name: "edge", EnrolledAt: base}); err != nil {
		t.Fatalf("UpsertAgent: %v", err)
	}

	empty, err := s.GetAgentConfig(ctx, testAgent)
	if err != nil {
		t.Fatalf("GetAgentConfig before any config: %v", err)
	}
	if empty.AgentID != testAgent || empty.DesiredVersion != 0 || empty.AppliedVersion != 0 || len(empty.Document) != 0 {
		t.Errorf("GetAgentConfig before any config = %+v, want zero versions", empty)
	}

	// The agent reports its applied version before any desired one is set.
	if err := s.RecordAppliedConfig(ctx, testAgent, 0, "", base); err != nil {
		t.Fatalf("RecordAppliedConfig before any config: %v", err)
	}

	for i, doc := range []string{"deckies: []\n", "deckies: [{}]\n"} {
		version, err := s.SetDesiredConfig(ctx, testAgent, []byte(doc), base.Add(time.Duration(i+1)*time.Minute))
		if err != nil {
			t.Fatalf("SetDesiredConfig %d: %v", i+1, err)
		}
		if version != uint64(i+1) {
			t.Errorf("SetDesiredConfig %d returned version %d, want %d", i+1, version, i+1)
		}
	}
	if err := s.RecordAppliedConfig(ctx, testAgent, 1, "invalid decky", base.Add(3*time.Minute)); err != nil {
		t.Fatalf("RecordAppliedConfig: %v", err)
	}

	got, err := s.GetAgentConfig(ctx, testAgent)
	if err != nil {
		t.Fatalf("GetAgentConfig: %v", err)
	}
	if got.DesiredVersion != 2 {
		t.Errorf("desired version %d, want 2", got.DesiredVersion)
	}
	if string(got.Document) != "deckies: [{}]\n" {
		t.Errorf("document %q, want the second one", got.Document)
	}
	if !got.DesiredAt.Equal(base.Add(2 * time.Minute)) {
		t.Errorf("desired at %v, want %v", got.DesiredAt, base.Add(2*time.Minute))
	}
	if got.AppliedVersion != 1 || got.ApplyError != "invalid decky" {
		t.Errorf("applied version %d error %q, want 1 and %q", got.AppliedVersion, got.ApplyError, "invalid decky")
	}
	if !got.ReportedAt.Equal(base.Add(3 * time.Minute)) {
		t.Errorf("reported at %v, want %v", got.ReportedAt, base.Add(3*time.Minute))
	}

	// Recording the applied version leaves the desired one alone.
	if err := s.RecordAppliedConfig(ctx, testAgent, 2, "", base.Add(4*time.Minute)); err != nil {
		t.Fatalf("RecordAppliedConfig: %v", err)
	}
	got, err = s.GetAgentConfig(ctx, testAgent)
	if err != nil {
		t.Fatalf("GetAgentConfig: %v", err)
	}
	if got.DesiredVersion != 2 || got.AppliedVersion != 2 || got.ApplyError != "" {
		t.Errorf("after applying: desired %d applied %d error %q, want 2, 2 and none", got.DesiredVersion, got.AppliedVersion, got.ApplyError)
	}

	if _, err := s.SetDesiredConfig(ctx, unknown, []byte("x"), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetDesiredConfig of unknown agent: %v, want ErrNotFound", err)
	}
	if err := s.RecordAppliedConfig(ctx, unknown, 1, "", base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RecordAppliedConfig of unknown agent: %v, want ErrNotFound", err)
	}
	if _, err := s.GetAgentConfig(ctx, unknown); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAgentConfig of unknown agent: %v, want ErrNotFound", err)
	}
}

func testTokenLabelsAndRevocation(t *testing.T, s store.Store) {
	ctx := context.Background()
	labels := map[string]string{"site": "paris", "role": "dmz"}
	tok := newToken("edge-labels", base.Add(time.Hour))
	tok.Labels = labels
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	list, err := s.ListTokens(ctx)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if len(list) != 1 || !maps.Equal(list[0].Labels, labels) || !list[0].RevokedAt.IsZero() {
		t.Fatalf("ListTokens = %+v, want one unrevoked token with labels %v", list, labels)
	}

	// Revoking twice keeps the first time; a revoked token does not
	// enroll.
	revoked, err := s.RevokeToken(ctx, tok.AgentID, base.Add(time.Minute))
	if err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if !revoked.RevokedAt.Equal(base.Add(time.Minute)) || !maps.Equal(revoked.Labels, labels) {
		t.Errorf("RevokeToken = %+v, want revoked at %v with labels", revoked, base.Add(time.Minute))
	}
	again, err := s.RevokeToken(ctx, tok.AgentID, base.Add(2*time.Minute))
	if err != nil {
		t.Fatalf("second RevokeToken: %v", err)
	}
	if !again.RevokedAt.Equal(base.Add(time.Minute)) {
		t.Errorf("second RevokeToken RevokedAt = %v, want the first time %v", again.RevokedAt, base.Add(time.Minute))
	}
	if _, err := s.ConsumeToken(ctx, tok.Hash, base.Add(3*time.Minute)); !errors.Is(err, store.ErrTokenInvalid) {
		t.Errorf("ConsumeToken(revoked) error = %v, want ErrTokenInvalid", err)
	}
	if _, err := s.RevokeToken(ctx, uuid.NewString(), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeToken(unknown agent) error = %v, want ErrNotFound", err)
	}

	// Agent labels: set at enrollment, kept by a renewal without labels.
	id := uuid.NewString()
	if err := s.UpsertAgent(ctx, store.Agent{ID: id, Name: "edge", EnrolledAt: base, Labels: labels}); err != nil {
		t.Fatalf("UpsertAgent: %v", err)
	}
	if err := s.UpsertAgent(ctx, store.Agent{ID: id, Name: "edge", CertificateSerial: "0c"}); err != nil {
		t.Fatalf("UpsertAgent(renewal): %v", err)
	}
	got, err := s.GetAgent(ctx, id)
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	if !maps.Equal(got.Labels, labels) || got.CertificateSerial != "0c" {
		t.Errorf("agent labels = %v, serial %q; want %v and 0c", got.Labels, got.CertificateSerial, labels)
	}
}

// withIDTime gives ev a UUIDv7 id whose timestamp is its event time, as
// an agent's ids have, so the PostgreSQL backend files it in that day's
// partition.
func withIDTime(t *testing.T, ev *eventv1.Event) *eventv1.Event {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatalf("generate event id: %v", err)
	}
	ms := uint64(ev.GetTime().AsTime().UnixMilli())
	for i := range 6 {
		id[i] = byte(ms >> (8 * (5 - i)))
	}
	ev.Id = id.String()
	ev.SessionId = id.String()
	return ev
}

func testPruneEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	cutoff := base
	old := []*eventv1.Event{
		// Two days before the cutoff: a whole day partition.
		withIDTime(t, newEvent(t, "127.0.0.2", -48*time.Hour)),
		withIDTime(t, newAuthEvent(t, "127.0.0.2", -47*time.Hour, "root", "hunter2")),
		// The cutoff's own day, before it.
		withIDTime(t, newAuthEvent(t, "127.0.0.3", -time.Hour, "admin", "admin")),
		// An id time far from the event time.
		newEvent(t, "127.0.0.3", -2*time.Hour),
	}
	kept := []*eventv1.Event{
		withIDTime(t, newAuthEvent(t, "127.0.0.2", time.Hour, "root", "toor")),
		// Exactly at the cutoff, which is not before it.
		withIDTime(t, newEvent(t, "127.0.0.3", 0)),
	}
	res := ingest(t, s, append(append([]*eventv1.Event{}, old...), kept...)...)
	if len(res.Stored) != len(old)+len(kept) {
		t.Fatalf("stored %d events, want %d", len(res.Stored), len(old)+len(kept))
	}

	attackersBefore := listAttackers(t, s)
	credsBefore := listCredentialIDs(t, s)
	if len(credsBefore) != 3 {
		t.Fatalf("credentials before prune = %d, want 3", len(credsBefore))
	}

	dry, err := s.PruneEvents(ctx, cutoff, true)
	if err != nil {
		t.Fatalf("PruneEvents(dry run): %v", err)
	}
	if !dry.DryRun || !dry.Before.Equal(cutoff) {
		t.Errorf("dry run report = %+v, want DryRun and Before %v", dry, cutoff)
	}
	if got := dry.Rows["events"]; got != int64(len(old)) {
		t.Errorf("dry run events = %d, want %d", got, len(old))
	}
	if got := len(listEventIDs(t, s)); got != len(old)+len(kept) {
		t.Errorf("events after dry run = %d, want %d", got, len(old)+len(kept))
	}

	done, err := s.PruneEvents(ctx, cutoff, false)
	if err != nil {
		t.Fatalf("PruneEvents: %v", err)
	}
	if done.DryRun {
		t.Errorf("report of a real run says DryRun")
	}
	if !maps.Equal(done.Rows, dry.Rows) {
		t.Errorf("real run rows = %v, dry run rows = %v, want equal", done.Rows, dry.Rows)
	}
	if fmt.Sprint(done.Partitions) != fmt.Sprint(dry.Partitions) {
		t.Errorf("real run partitions = %v, dry run partitions = %v, want equal", done.Partitions, dry.Partitions)
	}

	wantIDs := make(map[string]bool)
	for _, ev := range kept {
		wantIDs[ev.GetId()] = true
	}
	gotIDs := listEventIDs(t, s)
	if len(gotIDs) != len(kept) {
		t.Errorf("events after prune = %v, want %d", gotIDs, len(kept))
	}
	for _, id := range gotIDs {
		if !wantIDs[id] {
			t.Errorf("event %s survived the prune", id)
		}
	}

	attackersAfter := listAttackers(t, s)
	if len(attackersAfter) != len(attackersBefore) {
		t.Fatalf("attackers after prune = %d, want %d", len(attackersAfter), len(attackersBefore))
	}
	for i := range attackersBefore {
		if !proto.Equal(attackersBefore[i], attackersAfter[i]) {
			t.Errorf("attacker changed by prune:\nbefore %v\nafter  %v", attackersBefore[i], attackersAfter[i])
		}
	}
	if got := listCredentialIDs(t, s); fmt.Sprint(got) != fmt.Sprint(credsBefore) {
		t.Errorf("credentials after prune = %v, want %v", got, credsBefore)
	}

	again, err := s.PruneEvents(ctx, cutoff, false)
	if err != nil {
		t.Fatalf("PruneEvents again: %v", err)
	}
	if got := again.Rows["events"]; got != 0 || len(again.Partitions) != 0 {
		t.Errorf("second prune = %+v, want nothing deleted", again)
	}

	// A day whose partition was dropped takes events again, and an auth
	// event sent again after its event was pruned is stored without
	// failing on its credential.
	late := withIDTime(t, newEvent(t, "127.0.0.4", -48*time.Hour))
	if got := len(ingest(t, s, late, old[1]).Stored); got != 2 {
		t.Errorf("ingest after prune stored %d events, want 2", got)
	}
	if got := len(listCredentialIDs(t, s)); got != 3 {
		t.Errorf("credentials after ingest again = %d, want 3", got)
	}
}

func listEventIDs(t *testing.T, s store.Store) []string {
	t.Helper()
	page, err := s.ListEvents(context.Background(), store.EventQuery{PageSize: store.MaxPageSize})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	var ids []string
	for _, e := range page.Items {
		ids = append(ids, e.GetEvent().GetId())
	}
	return ids
}

func listCredentialIDs(t *testing.T, s store.Store) []string {
	t.Helper()
	page, err := s.ListCredentials(context.Background(), store.CredentialQuery{PageSize: store.MaxPageSize})
	if err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	var ids []string
	for _, c := range page.Items {
		ids = append(ids, c.GetEventId())
	}
	return ids
}

func listAttackers(t *testing.T, s store.Store) []*apiv1.Attacker {
	t.Helper()
	page, err := s.ListAttackers(context.Background(), store.AttackerQuery{PageSize: store.MaxPageSize})
	if err != nil {
		t.Fatalf("ListAttackers: %v", err)
	}
	return page.Items
}

// newRecordedEvent returns a session.recorded event of a session from src
// carrying cast.
func newRecordedEvent(t *testing.T, src string, offset time.Duration, cast string) *eventv1.Event {
	t.Helper()
	ev := newEvent(t, src, offset)
	ev.Kind = "session.recorded"
	ev.Payload = &eventv1.Event_SessionRecorded{SessionRecorded: &eventv1.SessionRecorded{
		Cast: []byte(cast), DurationMs: 4200, Truncated: true, Width: 120, Height: 40, InputBytes: 17, OutputBytes: 900,
	}}
	return ev
}

func testRecordings(t *testing.T, s store.Store) {
	ctx := context.Background()
	const castA = `{"version": 2, "width": 120, "height": 40}` + "\n" + `[0.5, "o", "root@web-01:~# "]` + "\n"
	const castB = `{"version": 2, "width": 80, "height": 24}` + "\n"
	a := newRecordedEvent(t, "127.0.0.2", 0, castA)
	b := newRecordedEvent(t, "127.0.0.3", time.Minute, castB)
	other := newEvent(t, "127.0.0.2", time.Second)
	res := ingest(t, s, a, other, b)
	if len(res.Stored) != 3 {
		t.Fatalf("stored %d events, want 3", len(res.Stored))
	}
	// Event pages and live streams carry the metadata, not the recording.
	for _, st := range res.Stored {
		if rec := st.GetEvent().GetSessionRecorded(); rec != nil && (len(rec.GetCast()) != 0 || rec.GetWidth() == 0) {
			t.Errorf("stored event carries cast of %d bytes, width %d", len(rec.GetCast()), rec.GetWidth())
		}
	}
	events, err := s.ListEvents(ctx, store.EventQuery{Filter: &apiv1.EventFilter{Kind: "session.recorded"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) != 2 || len(events.Items[0].GetEvent().GetSessionRecorded().GetCast()) != 0 {
		t.Errorf("listed %d recorded events, want 2 without cast", len(events.Items))
	}

	rec, cast, err := s.GetRecording(ctx, a.GetSessionId())
	if err != nil {
		t.Fatalf("GetRecording: %v", err)
	}
	if string(cast) != castA {
		t.Errorf("cast = %q, want %q", cast, castA)
	}
	attackerA := res.Stored[0].GetAttackerId()
	if rec.GetSessionId() != a.GetSessionId() || rec.GetEventId() != a.GetId() || rec.GetAttackerId() != attackerA ||
		rec.GetAgentId() != testAgent || rec.GetDecky() != "web-01" || rec.GetService() != "ssh" ||
		rec.GetSourceAddress() != "127.0.0.2" || !rec.GetTime().AsTime().Equal(base) || rec.GetDurationMs() != 4200 ||
		!rec.GetTruncated() || rec.GetWidth() != 120 || rec.GetHeight() != 40 || rec.GetInputBytes() != 17 ||
		rec.GetOutputBytes() != 900 || rec.GetCastBytes() != uint64(len(castA)) {
		t.Errorf("recording = %+v", rec)
	}

	if _, _, err := s.GetRecording(ctx, other.GetSessionId()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRecording of a session without one: %v, want ErrNotFound", err)
	}

	// Sent again, the event changes nothing.
	if again := ingest(t, s, proto.Clone(a).(*eventv1.Event)); again.Duplicates != 1 {
		t.Errorf("second ingest duplicates = %d, want 1", again.Duplicates)
	}

	all, err := s.ListRecordings(ctx, store.RecordingQuery{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != 1 || all.Items[0].GetSessionId() != b.GetSessionId() || all.NextPageToken == "" {
		t.Fatalf("first page = %+v", all)
	}
	next, err := s.ListRecordings(ctx, store.RecordingQuery{PageSize: 1, PageToken: all.NextPageToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Items) != 1 || next.Items[0].GetSessionId() != a.GetSessionId() {
		t.Fatalf("second page = %+v", next)
	}
	byAttacker, err := s.ListRecordings(ctx, store.RecordingQuery{AttackerID: attackerA})
	if err != nil {
		t.Fatal(err)
	}
	if len(byAttacker.Items) != 1 || byAttacker.Items[0].GetSessionId() != a.GetSessionId() {
		t.Errorf("by attacker = %+v", byAttacker.Items)
	}
}

func testUserManagement(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, u := range []store.User{
		{Username: "zoe", PasswordHash: "h1", Role: "viewer", CreatedAt: base, MustChangePassword: true},
		{Username: "amir", PasswordHash: "h2", Role: "analyst", CreatedAt: base.Add(time.Second), SSO: true},
	} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Username, err)
		}
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Username != "amir" || users[1].Username != "zoe" || !users[1].MustChangePassword || users[0].MustChangePassword ||
		!users[0].SSO || users[1].SSO {
		t.Fatalf("ListUsers = %+v, want amir then zoe (must change)", users)
	}

	if err := s.SetUserRole(ctx, "zoe", "admin"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetUser(ctx, "zoe"); got.Role != "admin" {
		t.Errorf("role after SetUserRole = %q", got.Role)
	}
	if err := s.SetUserRole(ctx, "nobody", "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetUserRole(unknown) = %v, want ErrNotFound", err)
	}

	if err := s.SetUserTOTP(ctx, "zoe", "", "PENDINGKEY"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserTOTP(ctx, "zoe", "ACTIVEKEY", ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step uint64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		if ok, err := s.UseTOTPStep(ctx, "zoe", tc.step); err != nil || ok != tc.want {
			t.Errorf("UseTOTPStep(%d) = %v, %v, want %v", tc.step, ok, err, tc.want)
		}
	}
	if got, _ := s.GetUser(ctx, "zoe"); got.TOTPSecret != "ACTIVEKEY" || got.TOTPPending != "" || got.TOTPLastStep != 101 {
		t.Errorf("totp fields = %q %q %d", got.TOTPSecret, got.TOTPPending, got.TOTPLastStep)
	}
	if err := s.SetUserTOTP(ctx, "nobody", "", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetUserTOTP(unknown) = %v, want ErrNotFound", err)
	}

	// Changing the password ends every session but the one kept.
	future := base.Add(time.Hour)
	for _, h := range [][]byte{[]byte("session-a"), []byte("session-b")} {
		if err := s.CreateAPISession(ctx, store.APISession{TokenHash: h, Username: "zoe", CreatedAt: base, ExpiresAt: future}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetUserPassword(ctx, "zoe", "h3", false, []byte("session-a")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetUser(ctx, "zoe"); got.PasswordHash != "h3" || got.MustChangePassword {
		t.Errorf("after SetUserPassword: %+v", got)
	}
	if _, err := s.GetAPISession(ctx, []byte("session-a"), base); err != nil {
		t.Errorf("kept session gone: %v", err)
	}
	if _, err := s.GetAPISession(ctx, []byte("session-b"), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other session after password change: %v, want ErrNotFound", err)
	}
	if err := s.SetUserPassword(ctx, "zoe", "h4", true, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAPISession(ctx, []byte("session-a"), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session after a reset keeping none: %v, want ErrNotFound", err)
	}
	if err := s.SetUserPassword(ctx, "nobody", "h", false, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetUserPassword(unknown) = %v, want ErrNotFound", err)
	}

	if err := s.CreateAPISession(ctx, store.APISession{TokenHash: []byte("session-c"), Username: "amir", CreatedAt: base, ExpiresAt: future}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "amir"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(ctx, "amir"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser after delete = %v", err)
	}
	if _, err := s.GetAPISession(ctx, []byte("session-c"), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of a deleted user: %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, "amir"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteUser again = %v, want ErrNotFound", err)
	}
}

func testAuditLog(t *testing.T, s store.Store) {
	ctx := context.Background()
	var want []store.AuditEntry
	for i, user := range []string{"admin", "amir", "admin"} {
		id, err := uuid.NewV7()
		if err != nil {
			t.Fatal(err)
		}
		e := store.AuditEntry{
			ID: id.String(), Time: base.Add(time.Duration(i) * time.Second), Username: user, Role: "admin",
			Procedure: "/decnet.api.v1.UserService/CreateUser", Request: `{"username":"zoe"}`, Outcome: "ok", Source: "127.0.0.2",
		}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
		want = append(want, e)
	}
	page, err := s.ListAudit(ctx, store.AuditQuery{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].ID != want[2].ID || page.Items[1].ID != want[1].ID || page.NextPageToken == "" {
		t.Fatalf("first page = %+v", page)
	}
	got := page.Items[0]
	if got.Username != "admin" || got.Role != "admin" || got.Procedure != want[2].Procedure || got.Request != want[2].Request ||
		got.Outcome != "ok" || got.Source != "127.0.0.2" || !got.Time.Equal(want[2].Time) {
		t.Errorf("entry = %+v, want %+v", got, want[2])
	}
	next, err := s.ListAudit(ctx, store.AuditQuery{PageSize: 2, PageToken: page.NextPageToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Items) != 1 || next.Items[0].ID != want[0].ID {
		t.Fatalf("second page = %+v", next)
	}
	byUser, err := s.ListAudit(ctx, store.AuditQuery{Username: "amir"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byUser.Items) != 1 || byUser.Items[0].ID != want[1].ID {
		t.Errorf("by user = %+v", byUser.Items)
	}
}

func testAPITokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.CreateUser(ctx, store.User{Username: "ops", PasswordHash: "x", Role: "analyst", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	live := store.APIToken{ID: newID(), Hash: []byte("hash-live"), Name: "siem", Username: "ops", Role: "viewer",
		Scopes: []string{"events:read", "webhooks:write"}, CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour)}
	expired := store.APIToken{ID: newID(), Hash: []byte("hash-old"), Name: "old", Username: "ops", Role: "viewer",
		CreatedAt: base.Add(time.Second), ExpiresAt: base.Add(time.Minute)}
	for _, tok := range []store.APIToken{live, expired} {
		if err := s.CreateAPIToken(ctx, tok); err != nil {
			t.Fatalf("CreateAPIToken: %v", err)
		}
	}
	if err := s.CreateAPIToken(ctx, store.APIToken{ID: newID(), Hash: []byte("h"), Username: "nobody", Role: "viewer", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of an unknown user: %v, want ErrNotFound", err)
	}

	now := base.Add(time.Hour)
	got, err := s.GetAPITokenByHash(ctx, []byte("hash-live"), now)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != live.ID || got.Name != "siem" || got.Username != "ops" || got.Role != "viewer" ||
		!got.CreatedAt.Equal(base) || !got.ExpiresAt.Equal(live.ExpiresAt) || !got.RevokedAt.IsZero() {
		t.Errorf("GetAPITokenByHash = %+v", got)
	}
	if !slices.Equal(got.Scopes, live.Scopes) {
		t.Errorf("GetAPITokenByHash scopes = %q, want %q", got.Scopes, live.Scopes)
	}
	if _, err := s.GetAPITokenByHash(ctx, []byte("hash-old"), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired token: %v, want ErrNotFound", err)
	}

	list, err := s.ListAPITokens(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != expired.ID {
		t.Errorf("ListAPITokens = %+v", list)
	}
	if len(list) == 2 && (len(list[0].Scopes) != 0 || !slices.Equal(list[1].Scopes, live.Scopes)) {
		t.Errorf("ListAPITokens scopes = %q and %q, want none and %q", list[0].Scopes, list[1].Scopes, live.Scopes)
	}
	if all, _ := s.ListAPITokens(ctx, ""); len(all) != 2 {
		t.Errorf("all tokens = %d", len(all))
	}

	revoked, err := s.RevokeAPIToken(ctx, live.ID, now)
	if err != nil || !revoked.RevokedAt.Equal(now) {
		t.Fatalf("RevokeAPIToken = %+v, %v", revoked, err)
	}
	if !slices.Equal(revoked.Scopes, live.Scopes) {
		t.Errorf("RevokeAPIToken scopes = %q, want %q", revoked.Scopes, live.Scopes)
	}
	if again, _ := s.RevokeAPIToken(ctx, live.ID, now.Add(time.Hour)); !again.RevokedAt.Equal(now) {
		t.Errorf("second revocation moved the time to %v", again.RevokedAt)
	}
	if _, err := s.GetAPITokenByHash(ctx, []byte("hash-live"), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked token: %v, want ErrNotFound", err)
	}
	if _, err := s.RevokeAPIToken(ctx, newID(), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown: %v, want ErrNotFound", err)
	}

	// Deleting the user deletes the tokens.
	if err := s.DeleteUser(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.ListAPITokens(ctx, "ops"); len(left) != 0 {
		t.Errorf("%d tokens left after the user was deleted", len(left))
	}
}

func testCredentialReuse(t *testing.T, s store.Store) {
	ctx := context.Background()
	on := func(ev *eventv1.Event, decky, service, mechanism string) *eventv1.Event {
		ev.Decky, ev.Service = decky, service
		ev.GetAuthAttempt().Mechanism = mechanism
		return ev
	}
	// One password sprayed by two sources over SSH on two deckies and
	// HTTP Basic on one; another password on one target only.
	res := ingest(t, s,
		on(newAuthEvent(t, "127.0.0.2", 0, "root", "Spring2026!"), "web-01", "ssh", "ssh_password"),
		on(newAuthEvent(t, "127.0.0.2", time.Second, "root", "Spring2026!"), "web-01", "ssh", "ssh_password"),
		on(newAuthEvent(t, "127.0.0.3", 2*time.Second, "root", "Spring2026!"), "db-01", "ssh", "ssh_password"),
		on(newAuthEvent(t, "127.0.0.3", 3*time.Second, "root", "Spring2026!"), "web-01", "http", "http_basic"),
		on(newAuthEvent(t, "127.0.0.2", 4*time.Second, "root", "other"), "web-01", "ssh", "ssh_password"),
		on(newAuthEvent(t, "127.0.0.2", 5*time.Second, "admin", "Spring2026!"), "web-01", "ssh", "ssh_password"),
	)
	sum := sha256.Sum256([]byte("Spring2026!"))
	key := store.CredentialKey{SHA256: string(sum[:]), SecretKind: "plaintext", Principal: "root"}
	other := sha256.Sum256([]byte("other"))
	otherKey := store.CredentialKey{SHA256: string(other[:]), SecretKind: "plaintext", Principal: "root"}
	unknown := store.CredentialKey{SHA256: string(other[:]), SecretKind: "plaintext", Principal: "nobody"}

	targets, err := s.CredentialTargets(ctx, []store.CredentialKey{key, otherKey, unknown})
	if err != nil {
		t.Fatal(err)
	}
	got := targets[key]
	if len(got) != 3 {
		t.Fatalf("targets = %v, want 3", got)
	}
	first := got[0]
	if first.GetDecky() != "web-01" || first.GetService() != "ssh" || first.GetAttempts() != 2 ||
		!first.GetFirstSeen().AsTime().Equal(base) || !first.GetLastSeen().AsTime().Equal(base.Add(time.Second)) ||
		len(first.GetAttackerIds()) != 1 || first.GetAttackerIds()[0] != res.Stored[0].GetAttackerId() ||
		fmt.Sprint(first.GetMechanisms()) != "[ssh_password]" {
		t.Errorf("first target = %v", first)
	}
	if got[1].GetDecky() != "db-01" || got[2].GetService() != "http" || fmt.Sprint(got[2].GetMechanisms()) != "[http_basic]" {
		t.Errorf("targets in first-seen order = %v", got)
	}
	if len(targets[otherKey]) != 1 {
		t.Errorf("other key targets = %v", targets[otherKey])
	}
	if _, ok := targets[unknown]; ok {
		t.Errorf("unknown key has targets")
	}

	reuse, err := s.ListCredentialReuse(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(reuse) != 1 || string(reuse[0].GetSecretSha256()) != key.SHA256 || reuse[0].GetPrincipal() != "root" || len(reuse[0].GetTargets()) != 3 {
		t.Errorf("ListCredentialReuse = %v, want the one sprayed root password", reuse)
	}
}

func testDocuments(t *testing.T, s store.Store) {
	ctx := context.Background()
	put := func(id, grp string, offset time.Duration, data string) {
		t.Helper()
		if err := s.PutDocument(ctx, store.Document{Kind: "letter", ID: id, Group: grp, At: base.Add(offset), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	put("a", "g1", 0, "one")
	put("b", "g1", time.Second, "two")
	put("c", "g2", 2*time.Second, "three")
	put("a", "g1", 3*time.Second, "one again")

	got, err := s.GetDocument(ctx, "letter", "a")
	if err != nil || string(got.Data) != "one again" || got.Group != "g1" || !got.At.Equal(base.Add(3*time.Second)) {
		t.Fatalf("GetDocument = %+v, %v", got, err)
	}
	if _, err := s.GetDocument(ctx, "other", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDocument of another kind = %v, want ErrNotFound", err)
	}
	ids := func(ds []store.Document) string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return fmt.Sprint(out)
	}
	if all, _ := s.ListDocuments(ctx, "letter", "", 0); ids(all) != "[a c b]" {
		t.Errorf("all newest first = %s", ids(all))
	}
	if g1, _ := s.ListDocuments(ctx, "letter", "g1", 1); ids(g1) != "[a]" {
		t.Errorf("g1 limit 1 = %s", ids(g1))
	}

	taken, err := s.TakeDocuments(ctx, "letter", "g1", "", 1)
	if err != nil || ids(taken) != "[b]" {
		t.Fatalf("take oldest = %s, %v", ids(taken), err)
	}
	if again, _ := s.TakeDocuments(ctx, "letter", "g1", "b", 0); len(again) != 0 {
		t.Errorf("taken twice: %s", ids(again))
	}
	if n, err := s.PruneDocuments(ctx, "letter", base.Add(2500*time.Millisecond)); err != nil || n != 1 {
		t.Errorf("prune = %d, %v, want 1 (c)", n, err)
	}
	if err := s.DeleteDocuments(ctx, "letter", "g1"); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.ListDocuments(ctx, "letter", "", 0); len(left) != 0 {
		t.Errorf("left = %s", ids(left))
	}
	if err := s.DeleteDocument(ctx, "letter", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete missing = %v", err)
	}
}

// overviewQuery is a window of three one-hour buckets from base, with the
// two busiest attackers and credentials.
var overviewQuery = store.OverviewQuery{Start: base, Bucket: time.Hour, Buckets: 3, TopN: 2}

func testOverview(t *testing.T, s store.Store) {
	// Three attackers. Events at base-1m and at the window's end fall
	// outside it; a3, a4 and the recording share one session.
	a := []*eventv1.Event{
		newEvent(t, "127.0.0.2", 10*time.Minute),
		newEvent(t, "127.0.0.2", 70*time.Minute),
		newAuthEvent(t, "127.0.0.2", 80*time.Minute, "root", "toor"),
		newAuthEvent(t, "127.0.0.2", 90*time.Minute, "root", "toor"),
		newRecordedEvent(t, "127.0.0.2", 100*time.Minute, `{"version": 2}`+"\n"),
	}
	for _, ev := range a[2:] {
		ev.SessionId = "sess-a"
	}
	b := []*eventv1.Event{
		newAuthEvent(t, "127.0.0.3", 20*time.Minute, "admin", "admin"),
		newEvent(t, "127.0.0.3", 150*time.Minute),
	}
	b[0].Decky, b[0].Service = "db-01", "mysql"
	c := []*eventv1.Event{
		newEvent(t, "127.0.0.4", -time.Minute),
		newAuthEvent(t, "127.0.0.4", 30*time.Minute, "guest", "guest"),
		newEvent(t, "127.0.0.4", 3*time.Hour),
	}
	res := ingest(t, s, append(append(append([]*eventv1.Event{}, a...), b...), c...)...)
	attackerA, attackerB := res.Stored[0].GetAttackerId(), res.Stored[5].GetAttackerId()

	got, err := s.Overview(context.Background(), overviewQuery)
	if err != nil {
		t.Fatalf("Overview: %v", err)
	}

	digest := func(secret string) []byte {
		sum := sha256.Sum256([]byte(secret))
		return sum[:]
	}
	want := store.NewOverview(overviewQuery)
	want.TotalEvents, want.TotalAttackers, want.TotalCredentials, want.TotalRecordedSessions = 10, 3, 4, 1
	want.Histogram = []uint64{3, 4, 1}
	want.WindowEvents = 8
	want.WindowSessions = 6
	want.Kinds = []*apiv1.OverviewCount{
		{Name: "auth.attempt", Count: 4},
		{Name: "connection.opened", Count: 3},
		{Name: "session.recorded", Count: 1},
	}
	want.Services = []*apiv1.OverviewCount{{Name: "ssh", Count: 7}, {Name: "mysql", Count: 1}}
	want.TopAttackers = []*apiv1.OverviewAttacker{
		{AttackerId: attackerA, Addresses: []string{"127.0.0.2"}, Events: 5, LastSeen: timestamppb.New(base.Add(100 * time.Minute))},
		{AttackerId: attackerB, Addresses: []string{"127.0.0.3"}, Events: 2, LastSeen: timestamppb.New(base.Add(150 * time.Minute))},
	}
	want.TopCredentials = []*apiv1.OverviewCredential{
		{Principal: "root", SecretKind: "plaintext", Secret: []byte("toor"), SecretSha256: digest("toor"), Count: 2, LastSeen: timestamppb.New(base.Add(90 * time.Minute))},
		// admin and guest tie at one attempt; the principal orders them.
		{Principal: "admin", SecretKind: "plaintext", Secret: []byte("admin"), SecretSha256: digest("admin"), Count: 1, LastSeen: timestamppb.New(base.Add(20 * time.Minute))},
	}
	if !proto.Equal(got, want) {
		t.Errorf("Overview =\n%v\nwant\n%v", got, want)
	}
}

// testSessionlessRejection stores the summary a decoy sends for
// connections it closed over a limit: it belongs to the source's attacker
// but to no session, so session counts leave it out.
func testSessionlessRejection(t *testing.T, s store.Store) {
	opened := newEvent(t, "127.0.0.2", 10*time.Minute)
	rejected := newEvent(t, "127.0.0.2", 11*time.Minute)
	rejected.Kind = "connection.rejected"
	rejected.SessionId = ""
	rejected.Source.Port = 0
	rejected.Payload = &eventv1.Event_ConnectionRejected{ConnectionRejected: &eventv1.ConnectionRejected{Reason: "per_source_limit", Count: 37}}
	res := ingest(t, s, opened, rejected)
	if len(res.Stored) != 2 || res.Stored[1].GetAttackerId() != res.Stored[0].GetAttackerId() {
		t.Fatalf("stored %v, want both events with the source's one attacker", res.Stored)
	}

	a, err := s.GetAttacker(context.Background(), res.Stored[0].GetAttackerId())
	if err != nil {
		t.Fatalf("GetAttacker: %v", err)
	}
	if a.GetEventCount() != 2 {
		t.Errorf("attacker event count = %d, want 2", a.GetEventCount())
	}

	page, err := s.ListEvents(context.Background(), store.EventQuery{Filter: &apiv1.EventFilter{Kind: "connection.rejected"}})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(page.Items) != 1 || !proto.Equal(page.Items[0].GetEvent().GetConnectionRejected(), rejected.GetConnectionRejected()) || page.Items[0].GetEvent().GetSessionId() != "" {
		t.Fatalf("connection.rejected events = %v, want the one stored, without a session", page.Items)
	}

	got, err := s.Overview(context.Background(), overviewQuery)
	if err != nil {
		t.Fatalf("Overview: %v", err)
	}
	if got.GetWindowEvents() != 2 || got.GetWindowSessions() != 1 {
		t.Errorf("window events %d, sessions %d; want 2 events in 1 session", got.GetWindowEvents(), got.GetWindowSessions())
	}
}

func testOverviewEmpty(t *testing.T, s store.Store) {
	got, err := s.Overview(context.Background(), overviewQuery)
	if err != nil {
		t.Fatalf("Overview: %v", err)
	}
	if want := store.NewOverview(overviewQuery); !proto.Equal(got, want) {
		t.Errorf("Overview of an empty store =\n%v\nwant\n%v", got, want)
	}
}

// testEventTimeRange checks that since is inclusive and until exclusive.
func testEventTimeRange(t *testing.T, s store.Store) {
	res := ingest(t, s, newEvent(t, "127.0.0.2", 0), newEvent(t, "127.0.0.2", time.Minute), newEvent(t, "127.0.0.2", 2*time.Minute))
	page, err := s.ListEvents(context.Background(), store.EventQuery{Filter: &apiv1.EventFilter{
		Since: timestamppb.New(base.Add(time.Minute)),
		Until: timestamppb.New(base.Add(2 * time.Minute)),
	}})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(page.Items) != 1 || page.Items[0].GetEvent().GetId() != res.Stored[1].GetEvent().GetId() {
		t.Errorf("ListEvents(since base+1m, until base+2m) = %v, want only the event at base+1m", page.Items)
	}
}

// An open store answers Ping, and a cancelled context makes it fail
// rather than report a store it did not reach.
func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping on an open store: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping with a cancelled context succeeded")
	}
}
