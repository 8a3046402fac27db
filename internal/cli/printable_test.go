package cli

import "testing"

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"uname -a":                  "uname -a",
		"ls\x1b[2J\x1b]0;pwned\x07": `ls\x1b[2J\x1b]0;pwned\x07`,
		"a\tb\r\n":                  `a\x09b\x0d\x0a`,
		"evil\u202egnp.exe":         `evil\u{202e}gnp.exe`,
		"zero\u200bwidth":           `zero\u{200b}width`,
		"bad\xffbyte":               `bad\xffbyte`,
		"c1\u009bx":                 `c1\x9bx`,
		"ünïcödé ok":                "ünïcödé ok",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzPrintable(f *testing.F) {
	f.Add("ls\x1b[2J")
	f.Fuzz(func(t *testing.T, s string) {
		out := Printable(s)
		for _, r := range out {
			if hidden(r) {
				t.Fatalf("Printable(%q) = %q keeps %U", s, out, r)
			}
		}
	})
}
