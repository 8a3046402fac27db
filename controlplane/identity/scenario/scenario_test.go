package scenario

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func TestParse(t *testing.T) {
	src := `
# comment
scenario demo
noise 3
actor crew tools=a,b addrs=4 asn=mixed wordlist=w tries=7 login=k script=s cmds=5 typist=ty c2=c http=2 sessions=9 start=1.5 days=20d pause=30
actor crew exit=tor wordlist=w2   # tries defaults to 15
actor lone
expect together crew
expect apart crew lone
expect alone lone
scenario second
actor x
`
	got, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "demo" || got[1].Name != "second" {
		t.Fatalf("parsed %d scenarios, want demo and second", len(got))
	}
	s := got[0]
	a := s.Actors[0]
	if s.Noise != 3 || a.Label != "crew" || !slices.Equal(a.Tools, []string{"a", "b"}) || a.Addrs != 4 || a.ASN != "mixed" ||
		a.Wordlist != "w" || a.Tries != 7 || a.Login != "k" || a.Script != "s" || a.Cmds != 5 || a.Typist != "ty" ||
		a.C2 != "c" || a.HTTP != 2 || a.Sessions != 9 || a.Start != 1.5 || a.Days != 20 || a.Pause != 30 {
		t.Errorf("first actor parsed as %+v", a)
	}
	if b := s.Actors[1]; b.Exit != "tor" || b.Tries != 15 || b.Addrs != 1 || b.Sessions != 3 || !slices.Equal(b.Tools, []string{"openssh-9.2"}) {
		t.Errorf("defaults not applied: %+v", b)
	}
	wantExpects := []Expect{{Together, []string{"crew"}}, {Apart, []string{"crew", "lone"}}, {Alone, []string{"lone"}}}
	if !slices.EqualFunc(s.Expects, wantExpects, func(a, b Expect) bool { return a.Kind == b.Kind && slices.Equal(a.Labels, b.Labels) }) {
		t.Errorf("expects %+v, want %+v", s.Expects, wantExpects)
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"before scenario": "actor x\n",
		"unknown key":     "scenario s\nactor x colour=red\n",
		"bad number":      "scenario s\nactor x sessions=many\n",
		"out of range":    "scenario s\nactor x sessions=0\n",
		"negative days":   "scenario s\nactor x days=-1\n",
		"unknown label":   "scenario s\nactor x\nexpect together y\n",
		"apart of one":    "scenario s\nactor x\nexpect apart x\n",
		"unknown expect":  "scenario s\nactor x\nexpect maybe x\n",
		"directive":       "scenario s\nfrobnicate\n",
		"empty tool":      "scenario s\nactor x tools=a,\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(strings.NewReader(src)); !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v, want ErrSyntax", err)
			}
		})
	}
}

func TestBuiltinScenarios(t *testing.T) {
	var names []string
	for _, s := range Builtin() {
		names = append(names, s.Name)
		if len(s.Expects) == 0 {
			t.Errorf("scenario %s states no expectation", s.Name)
		}
	}
	want := []string{"shared-wordlist", "vpn-hopper", "lone-wolf", "paused-campaign", "handoff", "ninety-day", "tor-exit", "botnet", "tool-change"}
	if !slices.Equal(names, want) {
		t.Errorf("built-in scenarios %v, want %v", names, want)
	}
}

const leakSrc = `
scenario leak
noise 2
actor LABEL-ONE-XQ tool=kit wordlist=w login=k script=s typist=t c2=c http=1
actor LABEL-TWO-XQ exit=e tool=openssh-9.2 script=s2 sessions=2
`

// TestSeedSetsDisjoint guards the held-out measure: no held-out seed may
// be one the weights were tuned on.
func TestSeedSetsDisjoint(t *testing.T) {
	if len(TuningSeeds) != 300 {
		t.Errorf("%d tuning seeds, want 300", len(TuningSeeds))
	}
	if len(HeldOutSeeds) != 65 {
		t.Errorf("%d held-out seeds, want 65", len(HeldOutSeeds))
	}
	for _, s := range HeldOutSeeds {
		if slices.Contains(TuningSeeds, s) {
			t.Errorf("seed %d is both a tuning and a held-out seed", s)
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	s, err := Parse(strings.NewReader(leakSrc))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := Generate(s[0], 7), Generate(s[0], 7), Generate(s[0], 8)

	if len(a.Inputs) != len(b.Inputs) {
		t.Fatalf("same seed gave %d and %d events", len(a.Inputs), len(b.Inputs))
	}
	for i := range a.Inputs {
		if !proto.Equal(a.Inputs[i].Event, b.Inputs[i].Event) || a.Inputs[i].Proposed != b.Inputs[i].Proposed {
			t.Fatalf("event %d differs between runs of one seed", i)
		}
	}
	if len(c.Inputs) == len(a.Inputs) && proto.Equal(c.Inputs[0].Event, a.Inputs[0].Event) {
		t.Error("another seed gave the same first event")
	}

	// Three actor sessions, so noise 2 adds six scanner sessions.
	labels := map[string]int{}
	for _, l := range a.Truth {
		labels[l]++
	}
	noise := 0
	for l, n := range labels {
		if strings.HasPrefix(l, "noise-") {
			noise += n
		}
	}
	if labels["LABEL-ONE-XQ"] != 3 || labels["LABEL-TWO-XQ"] != 2 || noise != 10 {
		t.Errorf("sessions per label %v, want 3, 2 and 10 noise", labels)
	}
}

// TestLabelsNeverInEvents scans every event the generator emits for the
// truth labels and checks each truth key is a session the events carry.
func TestLabelsNeverInEvents(t *testing.T) {
	s, err := Parse(strings.NewReader(leakSrc))
	if err != nil {
		t.Fatal(err)
	}
	d := Generate(s[0], 3)
	sessions := map[string]bool{}
	kinds := map[string]bool{}
	for _, in := range d.Inputs {
		text, err := protojson.Marshal(in.Event)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []string{"LABEL-ONE-XQ", "LABEL-TWO-XQ", "noise-"} {
			if strings.Contains(string(text), l) || strings.Contains(in.Proposed.SSHClientVersion+in.Proposed.HASSH+in.Proposed.JA4, l) {
				t.Fatalf("event %s carries truth label %q", in.Event.GetId(), l)
			}
		}
		sessions[in.Event.GetSessionId()] = true
		kinds[in.Event.GetKind()] = true
	}
	for k := range d.Truth {
		if !sessions[k] {
			t.Errorf("truth key %s is no session of the events", k)
		}
	}
	for _, k := range []string{"connection.opened", "auth.attempt", "command", "http.request", "download.requested", "file.captured", "session.recorded", "connection.closed"} {
		if !kinds[k] {
			t.Errorf("no %s event generated", k)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(leakSrc)
	f.Add("scenario s\nactor a days=1e400 sessions=99999999999\n")
	f.Fuzz(func(t *testing.T, src string) {
		got, err := Parse(strings.NewReader(src))
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		for _, s := range got {
			for _, a := range s.Actors {
				if a.Sessions < 1 || a.Addrs < 1 || len(a.Tools) == 0 {
					t.Errorf("actor %+v escaped validation", a)
				}
			}
		}
	})
}
