package ios

import (
	"regexp"
	"strconv"
	"strings"
)

// splitPipe cuts the output modifier off a command line: the command
// before the first "|", and the words after it with their columns in
// line. ok is false when the line has no "|".
func splitPipe(line string) (command string, modifier []word, pipeCol int, ok bool) {
	i := strings.IndexByte(line, '|')
	if i < 0 {
		return line, nil, 0, false
	}
	modifier = splitWords(line[i+1:])
	for k := range modifier {
		modifier[k].col += i + 1
	}
	return line[:i], modifier, i, true
}

// modifiers are the output modifiers of show, as IOS names them.
var modifiers = []string{"begin", "count", "exclude", "include", "section"}

// outputFilter builds the filter a modifier names. On failure it returns
// the reason and the column of the offending word.
func outputFilter(mod []word) (func(string) string, failure, int) {
	if len(mod) == 0 {
		return nil, failIncomplete, 0
	}
	kind := ""
	for _, m := range modifiers {
		if strings.HasPrefix(m, strings.ToLower(mod[0].text)) {
			if kind != "" {
				return nil, failAmbiguous, mod[0].col
			}
			kind = m
		}
	}
	if kind == "" {
		return nil, failInvalid, mod[0].col
	}
	if len(mod) < 2 {
		return nil, failIncomplete, 0
	}
	// Go's regular expressions take UTF-8 only, and a terminal may
	// send any byte.
	pattern := strings.ToValidUTF8(strings.Join(wordsText(mod[1:]), " "), "\uFFFD")
	re, err := regexp.Compile(pattern)
	if err != nil {
		// NOTE: IOS regular expressions differ from Go's in corner
		// cases; a pattern Go rejects is matched as plain text.
		re = regexp.MustCompile(regexp.QuoteMeta(pattern))
	}
	return func(out string) string { return applyFilter(kind, re, out) }, failNone, 0
}

// applyFilter filters the lines of out as the modifier kind does.
func applyFilter(kind string, re *regexp.Regexp, out string) string {
	lines := strings.SplitAfter(out, "\n")
	var b strings.Builder
	switch kind {
	case "begin":
		for i, l := range lines {
			if re.MatchString(strings.TrimSuffix(l, "\n")) {
				return strings.Join(lines[i:], "")
			}
		}
	case "count":
		n := 0
		for _, l := range lines {
			if l != "" && re.MatchString(strings.TrimSuffix(l, "\n")) {
				n++
			}
		}
		return "Number of lines which match regexp = " + strconv.Itoa(n) + "\n"
	case "section":
		// A section is a matching line and the indented lines after it.
		in := false
		for _, l := range lines {
			indented := strings.HasPrefix(l, " ")
			switch {
			case !indented && re.MatchString(strings.TrimSuffix(l, "\n")):
				in = true
			case !indented:
				in = false
			}
			if in || indented && re.MatchString(strings.TrimSuffix(l, "\n")) {
				b.WriteString(l)
			}
		}
	default:
		keep := kind == "include"
		for _, l := range lines {
			if l != "" && re.MatchString(strings.TrimSuffix(l, "\n")) == keep {
				b.WriteString(l)
			}
		}
	}
	return b.String()
}
