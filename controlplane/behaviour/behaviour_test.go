package behaviour

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// target is a service on a decky.
type target struct {
	decky, service string
	port           uint32
}

var ssh1 = target{"dev-01", "ssh", 22}

// event returns an event of kind at t0+at in session.
func event(at time.Duration, session string, to target, kind string) *eventv1.Event {
	return &eventv1.Event{
		Id:          fmt.Sprintf("%s-%s-%d", session, kind, at),
		Time:        timestamppb.New(t0.Add(at)),
		Decky:       to.decky,
		Service:     to.service,
		Kind:        kind,
		SessionId:   session,
		Source:      &eventv1.Endpoint{Address: "192.0.2.7", Port: 40000},
		Destination: &eventv1.Endpoint{Address: "10.0.0.1", Port: to.port},
	}
}

// connections returns one connection.opened per start, each in its own
// session, to the targets in turn.
func connections(starts []time.Duration, targets ...target) []*eventv1.Event {
	out := make([]*eventv1.Event, len(starts))
	for i, at := range starts {
		out[i] = event(at, fmt.Sprintf("c%d", i), targets[i%len(targets)], "connection.opened")
	}
	return out
}

// logins returns n password attempts one second apart in one session. The
// secrets cycle through passwords values, the user names through
// principals values.
func logins(n, passwords, principals int) []*eventv1.Event {
	out := make([]*eventv1.Event, n)
	for i := range out {
		ev := event(time.Duration(i)*time.Second, "login", ssh1, "auth.attempt")
		ev.Payload = &eventv1.Event_AuthAttempt{AuthAttempt: &eventv1.AuthAttempt{
			Principal:  fmt.Sprintf("user%d", i%principals),
			SecretKind: "plaintext",
			Mechanism:  "ssh_password",
			Secret:     fmt.Appendf(nil, "pass%d", i%passwords),
		}}
		out[i] = ev
	}
	return out
}

// commands returns n commands a second apart, spread over sessions.
func commands(n, sessions int) []*eventv1.Event {
	out := make([]*eventv1.Event, n)
	for i := range out {
		ev := event(time.Duration(i)*time.Second, fmt.Sprintf("shell%d", i%sessions), ssh1, "command")
		ev.Payload = &eventv1.Event_Command{Command: &eventv1.Command{Line: "id", Channel: "shell"}}
		out[i] = ev
	}
	return out
}

// every returns n offsets, the i-th at i*interval plus jitter(i).
func every(n int, interval time.Duration, jitter func(i int) time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * interval
		if jitter != nil {
			out[i] += jitter(i)
		}
	}
	return out
}

// alternate adds d to every odd offset, so the intervals alternate
// between interval+d and interval-d: a standard deviation of d.
func alternate(d time.Duration) func(int) time.Duration {
	return func(i int) time.Duration { return time.Duration(i%2) * d }
}

func deckies(n int, service string, port uint32) []target {
	out := make([]target, n)
	for i := range out {
		out[i] = target{fmt.Sprintf("dev-%02d", i+1), service, port}
	}
	return out
}

// nineServices are ssh and http on three deckies and ssh on three more.
var nineServices = append(deckies(6, "ssh", 22),
	target{"dev-01", "http", 80}, target{"dev-02", "http", 80}, target{"dev-03", "http", 80})

// slowStarts are 38 connection starts over nine days: a burst of three in
// twenty minutes, 34 about every three and a half hours with uneven gaps,
// and the last at nine days.
func slowStarts() []time.Duration {
	out := []time.Duration{0, 10 * time.Minute, 20 * time.Minute}
	for i := 1; len(out) < 38; i++ {
		out = append(out, time.Duration(i)*208*time.Minute+time.Duration(i*i%7)*25*time.Minute)
	}
	out[len(out)-1] = 9 * 24 * time.Hour
	return out
}

func concat(parts ...[]*eventv1.Event) []*eventv1.Event {
	return slices.Concat(parts...)
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		events   []*eventv1.Event
		capped   bool
		want     Class
		signals  []Class
		evidence []string
	}{
		{
			name:     "no events",
			want:     Unknown,
			evidence: []string{"0 connections to 0 services on 0 deckies in 0 seconds, 0 login attempts", belowThresholds},
		},
		{
			name:     "single login attempt",
			events:   logins(1, 1, 1),
			want:     Unknown,
			evidence: []string{"1 connection to 1 service on 1 decky in 0 seconds, 1 login attempt", belowThresholds},
		},
		{
			name:    "scan of nine services",
			events:  connections(every(212, 240*time.Second/211, nil), nineServices...),
			want:    Scanning,
			signals: []Class{Scanning},
			evidence: []string{
				"212 connections to 9 services on 6 deckies in 4 minutes, 0 login attempts",
				"9 services first reached within 9 seconds",
			},
		},
		{
			name:     "scan at threshold",
			events:   connections(every(5, time.Minute, nil), deckies(5, "ssh", 22)...),
			want:     Scanning,
			evidence: []string{"5 services first reached within 4 minutes"},
		},
		{
			name:     "scan below target threshold",
			events:   connections(every(4, time.Minute, nil), deckies(4, "ssh", 22)...),
			want:     Unknown,
			evidence: []string{belowThresholds},
		},
		{
			name:     "scan just inside window",
			events:   connections(every(5, 15*time.Minute-time.Second/4, nil), deckies(5, "ssh", 22)...),
			want:     Scanning,
			evidence: []string{"5 services first reached within 60 minutes"},
		},
		{
			name:     "scan just outside window",
			events:   connections(every(5, 15*time.Minute, nil), deckies(5, "ssh", 22)...),
			want:     Unknown,
			evidence: []string{belowThresholds},
		},
		{
			name:     "brute force at threshold",
			events:   logins(10, 10, 1),
			want:     BruteForce,
			signals:  []Class{BruteForce},
			evidence: []string{"1 connection to 1 service on 1 decky in 9 seconds, 10 login attempts", "10 login attempts with 10 distinct passwords for 1 user name"},
		},
		{
			name:     "brute force below threshold",
			events:   logins(9, 9, 1),
			want:     Unknown,
			evidence: []string{"1 connection to 1 service on 1 decky in 8 seconds, 9 login attempts", belowThresholds},
		},
		{
			name:     "brute force with many passwords",
			events:   logins(1480, 312, 4),
			want:     BruteForce,
			evidence: []string{"1,480 login attempts with 312 distinct passwords for 4 user names"},
		},
		{
			name:     "interactive at threshold",
			events:   commands(3, 1),
			want:     Interactive,
			evidence: []string{"3 commands in 1 session"},
		},
		{
			name:     "interactive below threshold",
			events:   commands(2, 1),
			want:     Unknown,
			evidence: []string{"2 commands", belowThresholds},
		},
		{
			name:     "interactive over two sessions",
			events:   commands(14, 2),
			want:     Interactive,
			evidence: []string{"14 commands in 2 sessions"},
		},
		{
			name:     "beaconing every five minutes",
			events:   connections(every(73, 300*time.Second, alternate(4*time.Second)), ssh1),
			want:     Beaconing,
			signals:  []Class{Beaconing},
			evidence: []string{"connections every 300 s ± 4 s over 6 hours"},
		},
		{
			name:     "beaconing at minimum intervals",
			events:   connections(every(6, 300*time.Second, nil), ssh1),
			want:     Beaconing,
			evidence: []string{"connections every 300 s ± 0 s over 25 minutes"},
		},
		{
			name:   "beaconing below minimum intervals",
			events: connections(every(5, 300*time.Second, nil), ssh1),
			want:   Unknown,
		},
		{
			name:     "beaconing at minimum mean",
			events:   connections(every(6, 30*time.Second, nil), ssh1),
			want:     Beaconing,
			evidence: []string{"connections every 30 s ± 0 s over 3 minutes"},
		},
		{
			name:   "beaconing below minimum mean",
			events: connections(every(6, 29*time.Second, nil), ssh1),
			want:   Unknown,
		},
		{
			name:     "beaconing just below maximum variation",
			events:   connections(every(7, 100*time.Second, alternate(9*time.Second)), ssh1),
			want:     Beaconing,
			evidence: []string{"connections every 100 s ± 9 s over 10 minutes"},
		},
		{
			name:   "beaconing just above maximum variation",
			events: connections(every(7, 100*time.Second, alternate(11*time.Second)), ssh1),
			want:   Unknown,
		},
		{
			name:    "slow scan over nine days",
			events:  connections(slowStarts(), append(deckies(6, "ssh", 22), deckies(6, "telnet", 23)...)...),
			want:    SlowScan,
			signals: []Class{SlowScan},
			evidence: []string{
				"38 connections to 12 services on 6 deckies in 9 days, 0 login attempts",
				"38 connections to 12 services spread over 9 days, never more than 3 in an hour",
			},
		},
		{
			name:   "slow scan with four in an hour",
			events: connections(append([]time.Duration{5 * time.Minute}, slowStarts()...), deckies(5, "ssh", 22)...),
			want:   Unknown,
		},
		{
			name:     "slow scan at minimum span",
			events:   connections(every(5, 6*time.Hour-4*time.Minute, func(i int) time.Duration { return time.Duration(i*i) * time.Minute }), deckies(5, "ssh", 22)...),
			want:     SlowScan,
			evidence: []string{"5 connections to 5 services spread over 1 day, never more than 1 in an hour"},
		},
		{
			name:   "slow scan below minimum span",
			events: connections(every(5, 6*time.Hour-2*time.Minute, func(i int) time.Duration { return time.Duration(i*i) * time.Minute / 4 }), deckies(5, "ssh", 22)...),
			want:   Unknown,
		},
		{
			name:   "slow scan below target threshold",
			events: connections(slowStarts(), deckies(4, "ssh", 22)...),
			want:   Unknown,
		},
		{
			name:    "scan and brute force",
			events:  concat(connections(every(6, 40*time.Second, func(i int) time.Duration { return time.Duration(i*i) * time.Second }), deckies(6, "ssh", 22)...), logins(20, 20, 2)),
			want:    Mixed,
			signals: []Class{Scanning, BruteForce},
			evidence: []string{
				"6 services first reached within 4 minutes",
				"20 login attempts with 20 distinct passwords for 2 user names",
			},
		},
		{
			name:     "capped",
			events:   logins(3, 3, 1),
			capped:   true,
			want:     Unknown,
			evidence: []string{"classified from the newest 3 events only; older events were not read"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.events, tt.capped)
			if got.Class != tt.want {
				t.Errorf("class = %v, want %v; evidence %q", got.Class, tt.want, got.Evidence)
			}
			if tt.signals != nil && !slices.Equal(got.Signals, tt.signals) {
				t.Errorf("signals = %v, want %v", got.Signals, tt.signals)
			}
			for _, line := range tt.evidence {
				if !slices.Contains(got.Evidence, line) {
					t.Errorf("evidence %q lacks %q", got.Evidence, line)
				}
			}
			if got.EventsConsidered != len(tt.events) {
				t.Errorf("events considered = %d, want %d", got.EventsConsidered, len(tt.events))
			}
			if got.Capped != tt.capped {
				t.Errorf("capped = %v, want %v", got.Capped, tt.capped)
			}
		})
	}
}

// The class does not depend on the order the events arrive in.
func TestClassifyOrder(t *testing.T) {
	events := connections(every(73, 300*time.Second, alternate(4*time.Second)), ssh1)
	reversed := slices.Clone(events)
	slices.Reverse(reversed)
	a, b := Classify(events, false), Classify(reversed, false)
	if !slices.Equal(a.Evidence, b.Evidence) || a.Class != b.Class {
		t.Errorf("reversed events: %v %q, want %v %q", b.Class, b.Evidence, a.Class, a.Evidence)
	}
}

func TestClassifyActivity(t *testing.T) {
	events := concat(commands(1, 1), []*eventv1.Event{
		event(time.Minute, "shell0", ssh1, "download.requested"),
		event(time.Minute, "shell0", ssh1, "file.captured"),
		event(2*time.Minute, "shell0", ssh1, "session.recorded"),
		event(2*time.Minute, "web", target{"dev-02", "http", 80}, "http.request"),
		{Id: "untimed", Kind: "command"},
	})
	got := Classify(events, false)
	for _, line := range []string{"1 command", "1 download request", "1 file captured", "1 session recorded", "1 HTTP request"} {
		if !slices.Contains(got.Evidence, line) {
			t.Errorf("evidence %q lacks %q", got.Evidence, line)
		}
	}
	if got.EventsConsidered != len(events) {
		t.Errorf("events considered = %d, want %d", got.EventsConsidered, len(events))
	}
}

func TestTraverse(t *testing.T) {
	events := []*eventv1.Event{
		event(3*time.Minute, "a", target{"dev-01", "http", 80}, "http.request"),
		event(time.Minute, "a", target{"dev-02", "ssh", 22}, "connection.opened"),
		event(2*time.Minute, "b", target{"dev-01", "ssh", 22}, "connection.opened"),
		event(2*time.Minute, "c", target{"dev-00", "ftp", 21}, "connection.opened"),
		event(5*time.Minute, "a", target{"dev-02", "ssh", 22}, "connection.closed"),
		event(4*time.Minute, "d", target{"", "ssh", 22}, "connection.opened"),
		{Id: "untimed", Decky: "dev-09"},
	}
	got := Traverse(events)
	want := []Visit{
		{Decky: "dev-02", First: t0.Add(time.Minute), Last: t0.Add(5 * time.Minute), Services: []string{"ssh"}, Events: 2},
		{Decky: "dev-00", First: t0.Add(2 * time.Minute), Last: t0.Add(2 * time.Minute), Services: []string{"ftp"}, Events: 1},
		{Decky: "dev-01", First: t0.Add(2 * time.Minute), Last: t0.Add(3 * time.Minute), Services: []string{"http", "ssh"}, Events: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("Traverse = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Decky != w.Decky || !g.First.Equal(w.First) || !g.Last.Equal(w.Last) || !slices.Equal(g.Services, w.Services) || g.Events != w.Events {
			t.Errorf("visit %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestFormatting(t *testing.T) {
	counts := []struct {
		n    int
		noun string
		want string
	}{
		{0, "decky", "0 deckies"},
		{1, "decky", "1 decky"},
		{2, "day", "2 days"},
		{1480, "login attempt", "1,480 login attempts"},
		{1_000_000, "event", "1,000,000 events"},
		{-1234, "second", "-1,234 seconds"},
	}
	for _, c := range counts {
		if got := count(c.n, c.noun); got != c.want {
			t.Errorf("count(%d, %q) = %q, want %q", c.n, c.noun, got, c.want)
		}
	}

	durations := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 seconds"},
		{time.Second, "1 second"},
		{119 * time.Second, "119 seconds"},
		{2 * time.Minute, "2 minutes"},
		{time.Hour, "1 hour"},
		{119 * time.Minute, "119 minutes"},
		{6 * time.Hour, "6 hours"},
		{24 * time.Hour, "1 day"},
		{47 * time.Hour, "47 hours"},
		{9 * 24 * time.Hour, "9 days"},
	}
	for _, c := range durations {
		if got := formatDuration(c.d); got != c.want {
			t.Errorf("formatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestClassString(t *testing.T) {
	for c, want := range map[Class]string{Unknown: "unknown", BruteForce: "brute force", SlowScan: "slow scan", Mixed: "mixed", Class(99): "unknown"} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", c, got, want)
		}
	}
}
