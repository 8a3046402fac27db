package ios

import (
	"sort"
	"strings"
)

// argKind is the kind of words that may follow a command word without
// subcommands.
type argKind uint8

const (
	// argNone: nothing; another word is invalid input.
	argNone argKind = iota
	// argAny: optional words, passed to the handler.
	argAny
	// argRequired: at least one word, or the command is incomplete.
	argRequired
)

// node is one keyword of the command tree.
type node struct {
	name string
	help string
	// priv is the privilege level the keyword needs: 1 for user EXEC,
	// 15 for privileged EXEC. IOS still parses a keyword above the
	// session's level, so it is invalid input rather than a host name.
	priv int
	// hidden keywords are accepted but not listed by help.
	hidden   bool
	children []*node
	args     argKind
	// argHelp is the help line for the argument of an argRequired node.
	argHelp string
	run     func(c *CLI, x *invocation)
}

// word is one blank-separated word of a command line and its column.
type word struct {
	text string
	col  int
}

// invocation is a resolved command line.
type invocation struct {
	line string
	node *node
	// path holds the words that named the command, args the rest.
	path, args []word
}

// failure is the reason a command line did not resolve.
type failure uint8

const (
	failNone failure = iota
	failEmpty
	// failUnknown: the first word names no command at any level, so
	// IOS takes it for a host to connect to.
	failUnknown
	failInvalid
	failAmbiguous
	failIncomplete
)

// splitWords splits a line at blanks, keeping each word's column.
func splitWords(line string) []word {
	var words []word
	start := -1
	for i := 0; i <= len(line); i++ {
		blank := i == len(line) || line[i] == ' ' || line[i] == '\t'
		switch {
		case blank && start >= 0:
			words = append(words, word{text: line[start:i], col: start})
			start = -1
		case !blank && start < 0:
			start = i
		}
	}
	return words
}

// candidates returns the keywords of level that word abbreviates, as
// IOS matches them: case-insensitive prefixes, an exact name winning
// over longer ones. Hidden keywords match only when typed in full.
func candidates(level []*node, w string, priv int) []*node {
	w = strings.ToLower(w)
	var out []*node
	for _, n := range level {
		if n.priv > priv {
			continue
		}
		if n.name == w {
			return []*node{n}
		}
		if !n.hidden && strings.HasPrefix(n.name, w) {
			out = append(out, n)
		}
	}
	return out
}

// resolve walks the tree along the words of line at privilege priv. On
// failure it returns the column of the offending word for the caret.
func resolve(root []*node, line string, priv int) (*invocation, failure, int) {
	words := splitWords(line)
	if len(words) == 0 {
		return nil, failEmpty, 0
	}
	level := root
	var cur *node
	for i, w := range words {
		if cur != nil && len(cur.children) == 0 {
			if cur.args == argNone {
				return nil, failInvalid, w.col
			}
			return &invocation{line: line, node: cur, path: words[:i], args: words[i:]}, failNone, 0
		}
		c := candidates(level, w.text, priv)
		switch {
		case len(c) > 1:
			return nil, failAmbiguous, w.col
		case len(c) == 0 && i == 0 && len(candidates(level, w.text, 15)) == 0:
			return nil, failUnknown, w.col
		case len(c) == 0:
			return nil, failInvalid, w.col
		}
		cur = c[0]
		level = cur.children
	}
	if cur.run == nil || cur.args == argRequired {
		return nil, failIncomplete, len(line)
	}
	return &invocation{line: line, node: cur, path: words}, failNone, 0
}

// helpList formats the keywords of level visible at priv as IOS lists
// them: two spaces, the name padded to two past the longest, the help.
// Continuation lines of a help text are indented to its column.
func helpList(level []*node, priv int) string {
	var shown []*node
	width := 0
	for _, n := range level {
		if n.priv > priv || n.hidden {
			continue
		}
		shown = append(shown, n)
		width = max(width, len(n.name))
	}
	sort.SliceStable(shown, func(i, j int) bool { return shown[i].name < shown[j].name })
	var b strings.Builder
	for _, n := range shown {
		help := strings.ReplaceAll(n.help, "\n", "\n"+strings.Repeat(" ", width+4))
		b.WriteString("  " + n.name + strings.Repeat(" ", width+2-len(n.name)) + help + "\n")
	}
	return b.String()
}

// completions lists the visible keywords of level that start with
// prefix, for "sh?" help and tab completion.
func completions(level []*node, prefix string, priv int) []string {
	prefix = strings.ToLower(prefix)
	var out []string
	for _, n := range level {
		if n.priv <= priv && !n.hidden && strings.HasPrefix(n.name, prefix) {
			out = append(out, n.name)
		}
	}
	sort.Strings(out)
	return out
}

// levelAfter returns the keywords that may follow the complete words of
// line, or ok false when one of them does not resolve to exactly one
// keyword. leaf is the keyword reached when it takes no subcommands.
func levelAfter(root []*node, words []word, priv int) (level []*node, leaf *node, ok bool) {
	level = root
	for _, w := range words {
		if leaf != nil {
			// Words after a leaf are its arguments.
			continue
		}
		c := candidates(level, w.text, priv)
		if len(c) != 1 {
			return nil, nil, false
		}
		if len(c[0].children) == 0 {
			leaf = c[0]
		}
		level = c[0].children
	}
	return level, leaf, true
}
