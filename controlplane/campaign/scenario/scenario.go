// Package scenario describes labelled synthetic identities and the
// campaigns they belong to in a small text language, and generates their
// events deterministically from a seed, for measuring the campaign
// clusterer. The truth labels are returned apart from the events and
// never appear in them. README.md documents the language.
package scenario

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Parse limits: scenario files are written by developers, but the parser
// bounds what it accepts like any other.
const (
	maxLineBytes = 4096
	maxActors    = 1000
	maxSessions  = 10_000
	maxTries     = 10_000
	maxWidth     = 12 // the decky pool in generate.go
	maxNoise     = 1000
	maxHours     = 24 * 3650
)

// ErrSyntax wraps every parse error.
var ErrSyntax = errors.New("campaign scenario syntax error")

// Scenario is one parsed scenario.
type Scenario struct {
	Name string
	// Noise is the number of unrelated scanners, each its own identity
	// and campaign, on random targets at random times.
	Noise   int
	Actors  []Actor
	Expects []Expect
}

// PhaseKind is the kind of work an actor's sessions do.
type PhaseKind string

// Actor phases.
const (
	// Scan opens connections and sends nothing else.
	Scan PhaseKind = "scan"
	// Brute tries passwords from a wordlist and, with Finds, ends each
	// session with a password the decoy accepts.
	Brute PhaseKind = "brute"
	// Shell logs in at once with Login and runs commands, fetching the
	// payload of C2 when set.
	Shell PhaseKind = "shell"
)

// Actor is one identity: the generator gives its sessions one identity
// label, and Campaign is the truth campaign of that identity.
type Actor struct {
	Label    string
	Campaign string
	Phase    PhaseKind
	// Targets names a set of deckies: a fixed order of the decky pool
	// drawn from the name, of which the actor hits the first Width. Two
	// actors naming the same set with the same width hit the same deckies.
	Targets string
	Width   int
	Service string
	// Tool names a bespoke SSH client: every session sends its
	// fingerprint, which the identity clusterer joins on. Without one,
	// sessions send no fingerprint.
	Tool string
	// Wordlist and Tries are the passwords a brute session tries.
	Wordlist string
	Tries    int
	// Finds names a credential the decoy accepts after the tries.
	Finds string
	// Login names a credential a shell session logs in with at once.
	Login string
	C2    string
	// Sessions over Hours hours from Start (hours after the epoch), with
	// a Pause of hours inserted halfway. Session i hits target i modulo
	// Width.
	Sessions int
	Start    float64
	Hours    float64
	Pause    float64
}

// ExpectKind is a must or must-not condition.
type ExpectKind string

// Expectation kinds, over campaign labels.
const (
	// Together: all identities of the campaign share one campaign.
	Together ExpectKind = "together"
	// Apart: no campaign holds identities of two of the labels.
	Apart ExpectKind = "apart"
	// Alone: the campaign's identities share it with no other label.
	Alone ExpectKind = "alone"
)

// Expect is one condition a clustering must meet exactly.
type Expect struct {
	Kind   ExpectKind
	Labels []string
}

// Parse reads scenarios from r.
func Parse(r io.Reader) ([]*Scenario, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxLineBytes), maxLineBytes)
	var out []*Scenario
	var cur *Scenario
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "scenario" {
			if len(fields) != 2 {
				return nil, fmt.Errorf("%w: line %d: want: scenario NAME", ErrSyntax, n)
			}
			cur = &Scenario{Name: fields[1]}
			out = append(out, cur)
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%w: line %d: %q before any scenario line", ErrSyntax, n, fields[0])
		}
		if err := cur.parseLine(fields); err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrSyntax, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	for _, s := range out {
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("%w: scenario %s: %w", ErrSyntax, s.Name, err)
		}
	}
	return out, nil
}

func (s *Scenario) parseLine(f []string) error {
	switch f[0] {
	case "noise":
		if len(f) != 2 {
			return errors.New("want: noise COUNT")
		}
		n, err := parseInt(f[1], 0, maxNoise)
		if err != nil {
			return fmt.Errorf("noise: %w", err)
		}
		s.Noise = n
	case "actor":
		if len(f) < 2 {
			return errors.New("want: actor LABEL followed by key=value pairs")
		}
		if len(s.Actors) >= maxActors {
			return fmt.Errorf("more than %d actors", maxActors)
		}
		a, err := parseActor(f[1], f[2:])
		if err != nil {
			return err
		}
		s.Actors = append(s.Actors, a)
	case "expect":
		if len(f) < 3 {
			return errors.New("want: expect together|apart|alone followed by campaign labels")
		}
		e := Expect{Kind: ExpectKind(f[1]), Labels: f[2:]}
		switch e.Kind {
		case Together, Alone:
			if len(e.Labels) != 1 {
				return fmt.Errorf("expect %s takes one label", e.Kind)
			}
		case Apart:
			if len(e.Labels) < 2 {
				return errors.New("expect apart takes two labels or more")
			}
		default:
			return fmt.Errorf("unknown expectation %q", f[1])
		}
		s.Expects = append(s.Expects, e)
	default:
		return fmt.Errorf("unknown directive %q", f[0])
	}
	return nil
}

func parseActor(label string, kvs []string) (Actor, error) {
	a := Actor{Label: label, Campaign: label, Phase: Scan, Targets: label, Width: 3, Service: "ssh", Tries: 15, Hours: 2}
	sessionsSet := false
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return a, fmt.Errorf("want key=value, got %q", kv)
		}
		var err error
		switch k {
		case "campaign":
			a.Campaign = v
		case "phase":
			a.Phase = PhaseKind(v)
			if a.Phase != Scan && a.Phase != Brute && a.Phase != Shell {
				err = fmt.Errorf("want scan, brute or shell, got %q", v)
			}
		case "targets":
			a.Targets = v
		case "width":
			a.Width, err = parseInt(v, 1, maxWidth)
		case "service":
			a.Service = v
		case "tool":
			a.Tool = v
		case "wordlist":
			a.Wordlist = v
		case "tries":
			a.Tries, err = parseInt(v, 0, maxTries)
		case "finds":
			a.Finds = v
		case "login":
			a.Login = v
		case "c2":
			a.C2 = v
		case "sessions":
			a.Sessions, err = parseInt(v, 1, maxSessions)
			sessionsSet = true
		case "start":
			a.Start, err = parseHours(v)
		case "hours":
			a.Hours, err = parseHours(v)
		case "pause":
			a.Pause, err = parseHours(v)
		default:
			return a, fmt.Errorf("unknown actor key %q", k)
		}
		if err != nil {
			return a, fmt.Errorf("%s: %w", k, err)
		}
	}
	if !sessionsSet {
		a.Sessions = a.Width
	}
	if a.Phase == Shell && a.Login == "" {
		return a, errors.New("a shell actor needs login=NAME")
	}
	return a, nil
}

func (s *Scenario) validate() error {
	campaigns := map[string]bool{}
	labels := map[string]bool{}
	for _, a := range s.Actors {
		if labels[a.Label] {
			return fmt.Errorf("actor label %q used twice; one actor is one identity", a.Label)
		}
		labels[a.Label] = true
		campaigns[a.Campaign] = true
	}
	for _, e := range s.Expects {
		for _, l := range e.Labels {
			if !campaigns[l] {
				return fmt.Errorf("expect %s names unknown campaign %q", e.Kind, l)
			}
		}
	}
	return nil
}

func parseInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("not an integer: %q", v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d outside [%d, %d]", n, lo, hi)
	}
	return n, nil
}

// parseHours reads a number of hours, or of days with a "d" suffix.
func parseHours(v string) (float64, error) {
	unit := 1.0
	switch {
	case strings.HasSuffix(v, "d"):
		unit, v = 24, strings.TrimSuffix(v, "d")
	case strings.HasSuffix(v, "h"):
		v = strings.TrimSuffix(v, "h")
	}
	h, err := strconv.ParseFloat(v, 64)
	h *= unit
	if err != nil || h != h || h < 0 || h > maxHours {
		return 0, fmt.Errorf("want hours, or days with a d suffix, in [0, %d] hours, got %q", maxHours, v)
	}
	return h, nil
}
