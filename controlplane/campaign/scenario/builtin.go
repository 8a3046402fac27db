package scenario

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed builtin.scn
var builtinText string

// Builtin returns the built-in scenarios, freshly parsed so callers may
// change them.
func Builtin() []*Scenario {
	s, err := Parse(strings.NewReader(builtinText))
	if err != nil {
		// The file is compiled in and covered by tests.
		panic(fmt.Sprintf("parse built-in campaign scenarios: %v", err))
	}
	return s
}
