package behaviour

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// Event kinds the measures read, as decoys name them.
const (
	kindAuthAttempt       = "auth.attempt"
	kindCommand           = "command"
	kindHTTPRequest       = "http.request"
	kindSessionRecorded   = "session.recorded"
	kindFileCaptured      = "file.captured"
	kindDownloadRequested = "download.requested"
)

// metrics are the measures of a set of events that the rules test.
type metrics struct {
	first, last time.Time
	// connStarts and targetFirsts are sorted.
	connStarts   []time.Time
	targetFirsts []time.Time
	deckies      int

	logins, accepted    int
	secrets, principals int
	// allPasswords records that every secret was plaintext, so the
	// evidence can say "passwords" rather than "secrets".
	allPasswords bool

	commands, commandConns int
	downloads, files       int
	recordings, requests   int
}

func measure(events []*eventv1.Event) metrics {
	m := metrics{allPasswords: true}
	conns := make(map[string]time.Time)
	targets := make(map[string]time.Time)
	deckies := make(map[string]struct{})
	secrets := make(map[string]struct{})
	principals := make(map[string]struct{})
	commandConns := make(map[string]struct{})

	for i, ev := range events {
		if ev.GetTime() == nil {
			continue
		}
		at := ev.GetTime().AsTime()
		if m.first.IsZero() || at.Before(m.first) {
			m.first = at
		}
		m.last = maxTime(m.last, at)

		conn := connectionKey(ev, i)
		if t, ok := conns[conn]; !ok || at.Before(t) {
			conns[conn] = at
		}
		target := ev.GetDecky() + "\x00" + ev.GetService() + "\x00" + strconv.FormatUint(uint64(ev.GetDestination().GetPort()), 10)
		if t, ok := targets[target]; !ok || at.Before(t) {
			targets[target] = at
		}
		if ev.GetDecky() != "" {
			deckies[ev.GetDecky()] = struct{}{}
		}

		switch ev.GetKind() {
		case kindAuthAttempt:
			a := ev.GetAuthAttempt()
			m.logins++
			if a.GetOutcome() == eventv1.AuthOutcome_AUTH_OUTCOME_ACCEPTED {
				m.accepted++
			}
			secret := string(a.GetSecretSha256())
			if secret == "" {
				secret = string(a.GetSecret())
			}
			secrets[secret] = struct{}{}
			principals[a.GetPrincipal()] = struct{}{}
			if a.GetSecretKind() != "plaintext" {
				m.allPasswords = false
			}
		case kindCommand:
			m.commands++
			commandConns[conn] = struct{}{}
		case kindDownloadRequested:
			m.downloads++
		case kindFileCaptured:
			m.files++
		case kindSessionRecorded:
			m.recordings++
		case kindHTTPRequest:
			m.requests++
		}
	}

	m.connStarts = sortedValues(conns)
	m.targetFirsts = sortedValues(targets)
	m.deckies = len(deckies)
	m.secrets, m.principals = len(secrets), len(principals)
	m.commandConns = len(commandConns)
	return m
}

// connectionKey returns the key of the event's connection: its session
// id, or the event itself when it has none.
func connectionKey(ev *eventv1.Event, index int) string {
	if ev.GetSessionId() != "" {
		return "s:" + ev.GetSessionId()
	}
	if ev.GetId() != "" {
		return "e:" + ev.GetId()
	}
	return "i:" + strconv.Itoa(index)
}

func sortedValues(m map[string]time.Time) []time.Time {
	out := make([]time.Time, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// densest returns the largest number of sorted times that fall within a
// window shorter than w, and the time from the first to the last of
// them.
func densest(times []time.Time, w time.Duration) (int, time.Duration) {
	best, span := 0, time.Duration(0)
	for i, j := 0, 0; j < len(times); j++ {
		for times[j].Sub(times[i]) >= w {
			i++
		}
		if n := j - i + 1; n > best {
			best, span = n, times[j].Sub(times[i])
		}
	}
	return best, span
}

// signal is the rule of one class. test returns the evidence line and
// whether the rule holds.
type signal struct {
	class Class
	test  func(m *metrics) (string, bool)
}

// signals are in the order of Class, which is the order Result.Signals
// and the evidence list them.
var signals = []signal{
	{Scanning, testScanning},
	{BruteForce, testBruteForce},
	{Interactive, testInteractive},
	{Beaconing, testBeaconing},
	{SlowScan, testSlowScan},
}

func testScanning(m *metrics) (string, bool) {
	n, span := densest(m.targetFirsts, ScanWindow)
	if n < ScanMinTargets {
		return "", false
	}
	return fmt.Sprintf("%s first reached within %s", count(n, "service"), formatDuration(span)), true
}

func testBruteForce(m *metrics) (string, bool) {
	if m.logins < BruteForceMinAttempts {
		return "", false
	}
	secret := "secret"
	if m.allPasswords {
		secret = "password"
	}
	line := fmt.Sprintf("%s with %s for %s",
		count(m.logins, "login attempt"), count(m.secrets, "distinct "+secret), count(m.principals, "user name"))
	if m.accepted > 0 {
		line += fmt.Sprintf(", %s accepted", formatInt(m.accepted))
	}
	return line, true
}

func testInteractive(m *metrics) (string, bool) {
	if m.commands < InteractiveMinCommands {
		return "", false
	}
	return fmt.Sprintf("%s in %s", count(m.commands, "command"), count(m.commandConns, "session")), true
}

func testBeaconing(m *metrics) (string, bool) {
	n := len(m.connStarts) - 1
	if n < BeaconMinIntervals {
		return "", false
	}
	var sum float64
	for i := 1; i < len(m.connStarts); i++ {
		sum += m.connStarts[i].Sub(m.connStarts[i-1]).Seconds()
	}
	mean := sum / float64(n)
	var squares float64
	for i := 1; i < len(m.connStarts); i++ {
		d := m.connStarts[i].Sub(m.connStarts[i-1]).Seconds() - mean
		squares += d * d
	}
	stddev := math.Sqrt(squares / float64(n))
	if mean < BeaconMinMean.Seconds() || stddev/mean > BeaconMaxCV {
		return "", false
	}
	span := m.connStarts[len(m.connStarts)-1].Sub(m.connStarts[0])
	return fmt.Sprintf("connections every %s s ± %s s over %s",
		formatInt(int(math.Round(mean))), formatInt(int(math.Round(stddev))), formatDuration(span)), true
}

func testSlowScan(m *metrics) (string, bool) {
	targets := len(m.targetFirsts)
	span := m.last.Sub(m.first)
	perHour, _ := densest(m.connStarts, time.Hour)
	if targets < SlowScanMinTargets || span < SlowScanMinSpan || perHour > SlowScanMaxPerHour {
		return "", false
	}
	return fmt.Sprintf("%s to %s spread over %s, never more than %s in an hour",
		count(len(m.connStarts), "connection"), count(targets, "service"), formatDuration(span), formatInt(perHour)), true
}

// summary returns the first evidence line, which every result has.
func (m *metrics) summary() string {
	return fmt.Sprintf("%s to %s on %s in %s, %s",
		count(len(m.connStarts), "connection"), count(len(m.targetFirsts), "service"), count(m.deckies, "decky"),
		formatDuration(m.last.Sub(m.first)), count(m.logins, "login attempt"))
}

// activity returns lines for what happened after a login, which no rule
// requires but an analyst wants to see.
func (m *metrics) activity() []string {
	var out []string
	if m.commands > 0 && m.commands < InteractiveMinCommands {
		out = append(out, count(m.commands, "command"))
	}
	if m.downloads > 0 {
		out = append(out, count(m.downloads, "download request"))
	}
	if m.files > 0 {
		out = append(out, count(m.files, "file")+" captured")
	}
	if m.recordings > 0 {
		out = append(out, count(m.recordings, "session")+" recorded")
	}
	if m.requests > 0 {
		out = append(out, count(m.requests, "HTTP request"))
	}
	return out
}

var belowThresholds = fmt.Sprintf("no class threshold reached: scanning needs %d services within %s, "+
	"brute force %d login attempts, interactive %d commands, beaconing %d regular connections, "+
	"slow scan %d services over %s",
	ScanMinTargets, formatDuration(ScanWindow), BruteForceMinAttempts, InteractiveMinCommands,
	BeaconMinIntervals+1, SlowScanMinTargets, formatDuration(SlowScanMinSpan))

// count returns n and the noun, plural unless n is 1: "1,480 login
// attempts", "1 decky".
func count(n int, noun string) string {
	if n != 1 {
		if stem, ok := strings.CutSuffix(noun, "y"); ok && !strings.ContainsAny(stem[len(stem)-1:], "aeiou") {
			noun = stem + "ies"
		} else {
			noun += "s"
		}
	}
	return formatInt(n) + " " + noun
}

// formatInt writes n with comma thousands separators.
func formatInt(n int) string {
	if n < 0 {
		return "-" + formatInt(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// formatDuration rounds d to the largest unit that keeps two or more of
// it: "45 seconds", "4 minutes", "6 hours", "9 days". An hour is "1
// hour".
func formatDuration(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "1 hour"
	case d == 24*time.Hour:
		return "1 day"
	case d < 2*time.Minute:
		return count(int(d.Round(time.Second)/time.Second), "second")
	case d < 2*time.Hour:
		return count(int(d.Round(time.Minute)/time.Minute), "minute")
	case d < 48*time.Hour:
		return count(int(d.Round(time.Hour)/time.Hour), "hour")
	default:
		return count(int(d.Round(24*time.Hour)/(24*time.Hour)), "day")
	}
}
