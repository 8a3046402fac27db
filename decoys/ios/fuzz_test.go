package ios

import (
	"strings"
	"testing"
)

// FuzzCommandLine runs arbitrary lines through the parser and a session
// in every mode; neither may panic, and every failure must point the
// caret inside the line.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		"sh ver", "show ip interface brief", "s", "conf t", "do sh run", "int gi0/1", "ip address 1.2.3.4 255.255.255.0",
		"username a secret 0 b", "enable secret 5 $1$x$y", "copy tftp://h/f flash:", "ping 10.0.0.1", "?", "sh?", "\t",
		"show running-config | include x", "sh run | sec ^int", "sh ver | count [", "sh ip int br | e (", "terminal length 0", "   ", "\x1a", "no shut",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > maxLine || strings.ContainsAny(line, "\r\n") {
			return
		}
		c := New(Config{Seed: testSeed})
		for _, root := range [][]*node{c.trees.exec, c.trees.config, c.trees.iface, c.trees.line} {
			for _, priv := range []int{1, 15} {
				inv, fail, col := resolve(root, line, priv)
				if fail == failNone && (inv == nil || inv.node.run == nil) {
					t.Fatalf("resolved %q to no handler", line)
				}
				if (fail == failInvalid || fail == failUnknown) && (col < 0 || col >= len(line)) {
					t.Fatalf("caret column %d outside %q", col, line)
				}
			}
		}
		if _, mod, pipe, ok := splitPipe(line); ok {
			if pipe < 0 || pipe >= len(line) || line[pipe] != '|' {
				t.Fatalf("pipe column %d in %q", pipe, line)
			}
			if f, fail, _ := outputFilter(mod); fail == failNone {
				_ = f(versionBanner)
			}
		}
		session(t, Config{Enable: func([]byte) bool { return true }}, "en\rx\r"+line+"\rconf t\r"+line+"\rint gi0/0\r"+line+"\r")
	})
}
