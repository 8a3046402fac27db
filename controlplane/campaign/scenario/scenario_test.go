package scenario

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func TestParse(t *testing.T) {
	src := `
# comment
scenario demo
noise 4
actor op campaign=crew phase=shell targets=net width=5 service=telnet login=k c2=c sessions=7 start=2d hours=3h pause=1.5
actor brute campaign=crew phase=brute wordlist=w tries=9 finds=k
actor lone
expect together crew
expect apart crew lone
expect alone lone
`
	got, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Noise != 4 || len(got[0].Actors) != 3 || len(got[0].Expects) != 3 {
		t.Fatalf("parsed %+v", got)
	}
	op := got[0].Actors[0]
	if op.Campaign != "crew" || op.Phase != Shell || op.Targets != "net" || op.Width != 5 || op.Service != "telnet" ||
		op.Login != "k" || op.C2 != "c" || op.Sessions != 7 || op.Start != 48 || op.Hours != 3 || op.Pause != 1.5 {
		t.Errorf("shell actor parsed as %+v", op)
	}
	brute := got[0].Actors[1]
	if brute.Phase != Brute || brute.Wordlist != "w" || brute.Tries != 9 || brute.Finds != "k" || brute.Sessions != 3 {
		t.Errorf("brute actor parsed as %+v", brute)
	}
	lone := got[0].Actors[2]
	if lone.Campaign != "lone" || lone.Phase != Scan || lone.Targets != "lone" || lone.Width != 3 || lone.Service != "ssh" {
		t.Errorf("defaults not applied: %+v", lone)
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"before scenario":  "actor x\n",
		"unknown key":      "scenario s\nactor x colour=red\n",
		"unknown phase":    "scenario s\nactor x phase=exfil\n",
		"shell without":    "scenario s\nactor x phase=shell\n",
		"width too large":  "scenario s\nactor x width=13\n",
		"negative hours":   "scenario s\nactor x hours=-1\n",
		"label twice":      "scenario s\nactor x\nactor x\n",
		"unknown campaign": "scenario s\nactor x\nexpect together y\n",
		"apart of one":     "scenario s\nactor x\nexpect apart x\n",
		"directive":        "scenario s\nfrobnicate\n",
	} {
		if _, err := Parse(strings.NewReader(src)); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: err = %v, want ErrSyntax", name, err)
		}
	}
}

func TestDeckyPoolMatchesMaxWidth(t *testing.T) {
	if len(deckies) != maxWidth {
		t.Errorf("decky pool has %d deckies, maxWidth is %d", len(deckies), maxWidth)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	for _, s := range Builtin() {
		s.Noise = 5
		a, b := Generate(s, 7), Generate(s, 7)
		if len(a.Events) != len(b.Events) {
			t.Fatalf("%s: %d and %d events from one seed", s.Name, len(a.Events), len(b.Events))
		}
		for i := range a.Events {
			if !proto.Equal(a.Events[i], b.Events[i]) {
				t.Fatalf("%s: event %d differs between runs", s.Name, i)
			}
		}
	}
}

func TestGenerateHidesLabels(t *testing.T) {
	for _, s := range Builtin() {
		d := Generate(s, 11)
		labels := map[string]bool{}
		for _, a := range s.Actors {
			labels[a.Label], labels[a.Campaign] = true, true
		}
		for _, se := range d.Events {
			text := protojson.Format(se)
			for l := range labels {
				if strings.Contains(text, l) {
					t.Fatalf("%s: label %q appears in event %s", s.Name, l, text)
				}
			}
		}
	}
}

func TestEvaluateChecksExpectations(t *testing.T) {
	s := &Scenario{Expects: []Expect{{Together, []string{"crew"}}, {Apart, []string{"crew", "other"}}}}
	d := &Dataset{Campaign: map[string]string{"i1": "crew", "i2": "crew", "i3": "other"}}

	r, err := Evaluate(s, d, map[string]string{"i1": "c1", "i2": "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Violations) != 0 || r.Scores.ARI != 1 {
		t.Errorf("exact clustering: violations %v, ARI %.2f; want none and 1", r.Violations, r.Scores.ARI)
	}

	r, _ = Evaluate(s, d, map[string]string{"i1": "c1", "i3": "c1"})
	if len(r.Violations) != 2 {
		t.Errorf("violations %v, want a split crew and a join of crew and other", r.Violations)
	}
}
