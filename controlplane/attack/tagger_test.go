package attack

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

const rejected = eventv1.AuthOutcome_AUTH_OUTCOME_REJECTED

// firedAt feeds events one clock step apart and returns the 1-based
// positions of the events on which rule fired.
func firedAt(t *testing.T, tg *Tagger, clk *fakeClock, step time.Duration, attacker string, evs []*eventv1.Event, rule string) []int {
	t.Helper()
	var at []int
	for i, ev := range evs {
		if ruleIDs(tg.Observe(attacker, ev))[rule] {
			at = append(at, i+1)
		}
		clk.advance(step)
	}
	return at
}

func TestBruteForceThreshold(t *testing.T) {
	clk := newClock()
	tg := NewTagger(Default(), clk.now)

	var evs []*eventv1.Event
	for i := range 25 {
		evs = append(evs, auth("root", fmt.Sprintf("pw%d", i), rejected))
	}
	// Ten attempts in under five minutes fire once; the next window fires
	// again only once five minutes have passed since the first firing.
	got := firedAt(t, tg, clk, 20*time.Second, "a1", evs, "brute-force")
	if want := []int{10, 25}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("brute-force fired at %v, want %v", got, want)
	}
}

func TestBruteForceSlowDoesNotFire(t *testing.T) {
	clk := newClock()
	tg := NewTagger(Default(), clk.now)
	var evs []*eventv1.Event
	for i := range 30 {
		evs = append(evs, auth("root", fmt.Sprintf("pw%d", i), rejected))
	}
	// One attempt a minute never has ten inside five minutes.
	if got := firedAt(t, tg, clk, time.Minute, "a1", evs, "brute-force"); len(got) != 0 {
		t.Errorf("brute-force fired at %v, want never", got)
	}
}

func TestPasswordGuessingAndSpraying(t *testing.T) {
	clk := newClock()
	tg := NewTagger(Default(), clk.now)

	var guess []*eventv1.Event
	for i := range 5 {
		guess = append(guess, auth("admin", fmt.Sprintf("guess%d", i), rejected))
	}
	if got := firedAt(t, tg, clk, time.Second, "guesser", guess, "password-guessing"); fmt.Sprint(got) != "[5]" {
		t.Errorf("password-guessing fired at %v, want [5]", got)
	}

	// The same password five times for one user is a retry, not guessing.
	var retry []*eventv1.Event
	for range 8 {
		retry = append(retry, auth("admin", "same", rejected))
	}
	if got := firedAt(t, tg, clk, time.Second, "retrier", retry, "password-guessing"); len(got) != 0 {
		t.Errorf("password-guessing on one repeated password fired at %v", got)
	}

	var spray []*eventv1.Event
	for _, u := range []string{"root", "admin", "ubuntu", "pi", "oracle"} {
		spray = append(spray, auth(u, "Winter2026!", rejected))
	}
	if got := firedAt(t, tg, clk, time.Minute, "sprayer", spray, "password-spraying"); fmt.Sprint(got) != "[5]" {
		t.Errorf("password-spraying fired at %v, want [5]", got)
	}
	// The guesser used one principal, so it never sprayed.
	if got := firedAt(t, tg, clk, time.Second, "guesser", guess, "password-spraying"); len(got) != 0 {
		t.Errorf("password-spraying fired for a guesser at %v", got)
	}
}

func TestCredentialStuffingTargets(t *testing.T) {
	clk := newClock()
	tg := NewTagger(Default(), clk.now)
	var evs []*eventv1.Event
	for _, tgt := range []struct{ decky, svc string }{{"web-01", "ssh"}, {"web-01", "ssh"}, {"db-01", "ssh"}, {"db-01", "ftp"}} {
		ev := auth("deploy", "hunter2", rejected)
		ev.Decky, ev.Service = tgt.decky, tgt.svc
		evs = append(evs, ev)
	}
	if got := firedAt(t, tg, clk, time.Minute, "a1", evs, "credential-stuffing-targets"); fmt.Sprint(got) != "[4]" {
		t.Errorf("credential-stuffing-targets fired at %v, want [4]", got)
	}
}

func TestMatchReuse(t *testing.T) {
	sum := sha256.Sum256([]byte("hunter2"))
	cr := &apiv1.CredentialReuse{SecretSha256: sum[:], SecretKind: "plaintext", Principal: "deploy",
		Targets: []*apiv1.CredentialTarget{{Decky: "web-01", Service: "ssh", Attempts: 3}, {Decky: "db-01", Service: "ftp", Attempts: 1}}}
	got := Default().MatchReuse(cr)
	if len(got) != 1 || got[0].RuleID != "credential-stuffing-reuse" || got[0].TechniqueID != "T1110.004" {
		t.Errorf("MatchReuse = %+v, want one credential-stuffing-reuse T1110.004", got)
	}
	cr.Targets = cr.Targets[:1]
	if got := Default().MatchReuse(cr); len(got) != 0 {
		t.Errorf("MatchReuse with one target = %+v, want none", got)
	}
	if got := Default().Match(auth("deploy", "hunter2", rejected)); ruleIDs(got)["credential-stuffing-reuse"] {
		t.Error("a reuse rule matched a plain event")
	}
}

func TestActiveScanning(t *testing.T) {
	clk := newClock()
	tg := NewTagger(Default(), clk.now)

	probe := func(attacker, session, decky, service string, withAuth bool) []Tag {
		tg.Observe(attacker, opened(session, decky, service))
		if withAuth {
			ev := auth("root", "root", rejected)
			ev.SessionId, ev.Decky, ev.Service = session, decky, service
			tg.Observe(attacker, ev)
		}
		return tg.Observe(attacker, closed(session, decky, service))
	}

	// Three bare connections to three targets: scanning.
	var fired []int
	for i, svc := range []string{"ssh", "http", "ftp"} {
		if ruleIDs(probe("scanner", fmt.Sprintf("s%d", i), "web-01", svc, false))["active-scanning"] {
			fired = append(fired, i+1)
		}
	}
	if fmt.Sprint(fired) != "[3]" {
		t.Errorf("active-scanning fired at %v, want [3]", fired)
	}

	// The same reach with a login attempt in each session is not a scan.
	for i, svc := range []string{"ssh", "http", "ftp", "smtp"} {
		if ruleIDs(probe("talker", fmt.Sprintf("t%d", i), "web-01", svc, true))["active-scanning"] {
			t.Errorf("active-scanning fired for authenticated session %d", i)
		}
	}

	// A close for a session never seen opened proves nothing.
	for i, svc := range []string{"ssh", "http", "ftp", "smtp"} {
		if ruleIDs(tg.Observe("late", closed(fmt.Sprintf("l%d", i), "web-01", svc)))["active-scanning"] {
			t.Errorf("active-scanning fired on an unknown session %d", i)
		}
	}
}

func TestTaggerBoundedMemory(t *testing.T) {
	clk := newClock()
	tg := NewTagger(Default(), clk.now)
	for i := range maxAttackers + 100 {
		tg.Observe(fmt.Sprintf("a%d", i), auth("root", "x", rejected))
	}
	if got := len(tg.attackers); got != maxAttackers {
		t.Errorf("attackers tracked = %d, want %d", got, maxAttackers)
	}
	if _, ok := tg.attackers["a0"]; ok {
		t.Error("the least recently seen attacker was kept")
	}

	// A spray over many principals is capped per attacker.
	for i := range 5000 {
		tg.Observe("wide", auth(fmt.Sprintf("u%d", i), fmt.Sprintf("p%d", i), rejected))
	}
	st := tg.attackers["wide"].Value.(*attackerState)
	if len(st.groups) > maxGroupsPerAttacker {
		t.Errorf("groups = %d, want at most %d", len(st.groups), maxGroupsPerAttacker)
	}
	for k, w := range st.groups {
		if n := len(w.times) + len(w.distinct); n > k.rule.threshold.count {
			t.Errorf("rule %s group kept %d entries, cap %d", k.rule.tag.RuleID, n, k.rule.threshold.count)
		}
	}

	for i := range 1000 {
		tg.Observe("sessions", opened(fmt.Sprintf("s%d", i), "web-01", "ssh"))
	}
	st = tg.attackers["sessions"].Value.(*attackerState)
	if len(st.sessions) > maxSessionsPerAttacker || len(st.order) > maxSessionsPerAttacker {
		t.Errorf("sessions = %d, order = %d, want at most %d", len(st.sessions), len(st.order), maxSessionsPerAttacker)
	}
}

func TestSetRulesResetsWindows(t *testing.T) {
	clk := newClock()
	tg := NewTagger(Default(), clk.now)
	for i := range 9 {
		tg.Observe("a1", auth("root", fmt.Sprint(i), rejected))
	}
	tg.SetRules(Default())
	if ruleIDs(tg.Observe("a1", auth("root", "9", rejected)))["brute-force"] {
		t.Error("brute-force counted attempts from before the reload")
	}
}

// Concurrent observers and a reload in the middle must not race; run with
// -race to make this test meaningful.
func TestTaggerConcurrentObserve(t *testing.T) {
	tg := NewTagger(Default(), nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				tg.Observe(fmt.Sprintf("a%d", g), auth("root", fmt.Sprint(i), rejected))
			}
		}()
	}
	tg.SetRules(Default())
	wg.Wait()
	// The reload may come before or after the observers finish.
	if got := len(tg.attackers); got > 4 {
		t.Errorf("attackers tracked = %d, want at most 4", got)
	}
}

func TestReplayUsesEventTimes(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var evs []*eventv1.Event
	// Twelve attempts, ten seconds apart, given newest first: replay sorts
	// them and the brute-force window sees two minutes, not zero.
	for i := 11; i >= 0; i-- {
		ev := auth("root", fmt.Sprint(i), rejected)
		ev.Time = timestamppb.New(start.Add(time.Duration(i) * 10 * time.Second))
		evs = append(evs, ev)
	}
	login := auth("root", "toor", eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED)
	login.Time = timestamppb.New(start.Add(time.Hour))
	evs = append(evs, login, cmd("uname -a"))
	evs[len(evs)-1].Time = timestamppb.New(start.Add(61 * time.Minute))

	var got []string
	for _, tag := range Replay(Default(), evs) {
		got = append(got, tag.RuleID)
	}
	want := []string{"password-guessing", "brute-force", "valid-accounts", "unix-shell", "system-information-discovery"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Replay tags = %v, want %v", got, want)
	}

	// Spread over an hour each, the same attempts are not a brute force.
	for i, ev := range evs[:12] {
		ev.Time = timestamppb.New(start.Add(time.Duration(i) * time.Hour))
	}
	for _, tag := range Replay(Default(), evs[:12]) {
		if tag.RuleID == "brute-force" {
			t.Error("brute-force from attempts an hour apart")
		}
	}
}
