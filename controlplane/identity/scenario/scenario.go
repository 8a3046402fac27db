// Package scenario describes labelled synthetic attackers in a small text
// language and generates their events, deterministically from a seed, for
// measuring the identity clusterer. The truth labels are returned apart
// from the events and never appear in them. README.md documents the
// language.
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
// is fuzzed like any other, so it bounds what it accepts.
const (
	maxLineBytes  = 4096
	maxActors     = 1000
	maxAddrs      = 100_000
	maxSessions   = 100_000
	maxPerSession = 10_000
	maxNoise      = 1000
	maxDays       = 3650
)

// ErrSyntax wraps every parse error.
var ErrSyntax = errors.New("scenario syntax error")

// Scenario is one parsed scenario.
type Scenario struct {
	Name string
	// Noise is the scanner noise factor: Noise times as many scanner
	// sessions as the actors have, each scanner its own truth identity.
	Noise   int
	Actors  []Actor
	Expects []Expect
}

// Actor is one behaviour profile. Several actors may share a Label: the
// phases or operators of one truth identity.
type Actor struct {
	Label string
	// Addrs is the number of distinct source addresses the actor uses,
	// one per session in turn.
	Addrs int
	// Exit names a shared exit address (a Tor exit, a NAT): every actor
	// with the same Exit uses that one address.
	Exit string
	// ASN names the actor's network; "mixed" puts each address in a
	// different network (VPN exits across providers).
	ASN string
	// Tools are the client toolkits, used in turn over the sessions.
	Tools    []string
	Wordlist string
	Tries    int
	// Login names a credential the decoy accepts from this actor.
	Login  string
	Script string
	Cmds   int
	// Typist names a typing rhythm; without one, commands arrive by exec
	// and nothing is recorded.
	Typist string
	C2     string
	HTTP   int
	// Sessions over Days days from Start (days after the epoch), with a
	// Pause of days inserted halfway.
	Sessions int
	Start    float64
	Days     float64
	Pause    float64
}

// ExpectKind is a must or must-not condition.
type ExpectKind string

// Expectation kinds.
const (
	// Together: all observations of the label share one identity.
	Together ExpectKind = "together"
	// Apart: no identity holds observations of two of the labels.
	Apart ExpectKind = "apart"
	// Alone: the label's identity holds nothing else.
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
			return errors.New("want: noise FACTOR")
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
			return errors.New("want: expect together|apart|alone followed by labels")
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
	a := Actor{Label: label, Addrs: 1, Sessions: 3, Days: 3, Cmds: 10}
	triesSet := false
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return a, fmt.Errorf("want key=value, got %q", kv)
		}
		var err error
		switch k {
		case "addrs":
			a.Addrs, err = parseInt(v, 1, maxAddrs)
		case "exit":
			a.Exit = v
		case "asn":
			a.ASN = v
		case "tool", "tools":
			a.Tools = strings.Split(v, ",")
		case "wordlist":
			a.Wordlist = v
		case "tries":
			a.Tries, err = parseInt(v, 0, maxPerSession)
			triesSet = true
		case "login":
			a.Login = v
		case "script":
			a.Script = v
		case "cmds":
			a.Cmds, err = parseInt(v, 0, maxPerSession)
		case "typist":
			a.Typist = v
		case "c2":
			a.C2 = v
		case "http":
			a.HTTP, err = parseInt(v, 0, maxPerSession)
		case "sessions":
			a.Sessions, err = parseInt(v, 1, maxSessions)
		case "start":
			a.Start, err = parseDays(v)
		case "days":
			a.Days, err = parseDays(v)
		case "pause":
			a.Pause, err = parseDays(v)
		default:
			return a, fmt.Errorf("unknown actor key %q", k)
		}
		if err != nil {
			return a, fmt.Errorf("%s: %w", k, err)
		}
	}
	if a.Wordlist != "" && !triesSet {
		a.Tries = 15
	}
	if len(a.Tools) == 0 {
		a.Tools = []string{"openssh-9.2"}
	}
	for _, t := range a.Tools {
		if t == "" {
			return a, errors.New("empty tool name")
		}
	}
	return a, nil
}

func (s *Scenario) validate() error {
	labels := map[string]bool{}
	for _, a := range s.Actors {
		labels[a.Label] = true
	}
	for _, e := range s.Expects {
		for _, l := range e.Labels {
			if !labels[l] {
				return fmt.Errorf("expect %s names unknown label %q", e.Kind, l)
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

func parseDays(v string) (float64, error) {
	d, err := strconv.ParseFloat(strings.TrimSuffix(v, "d"), 64)
	if err != nil || d != d || d < 0 || d > maxDays {
		return 0, fmt.Errorf("want days in [0, %d], got %q", maxDays, v)
	}
	return d, nil
}
