package cli

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestCSVCellGuardsFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1":                    "'=1+1",
		"+1":                      "'+1",
		"-2+3":                    "'-2+3",
		"@SUM(A1)":                "'@SUM(A1)",
		"\t=x":                    "'\t=x",
		"\r=x":                    "'\r=x",
		"\x00=x":                  "'\x00=x",
		"root":                    "root",
		"a=b":                     "a=b",
		"":                        "",
		"'quoted":                 "'quoted",
		" =x":                     " =x",
		"198.51.100.7":            "198.51.100.7",
		"2026-03-01T12:00:00Z":    "2026-03-01T12:00:00Z",
		"=HYPERLINK(\"u\",\"x\")": "'=HYPERLINK(\"u\",\"x\")",
	} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSVWriterQuotesRFC4180(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf, "name", "value")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(`a "quoted", text`, "line one\nline two"); err != nil {
		t.Fatal(err)
	}
	if err := w.Write("=cmd|' /C calc'!A0", "plain"); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	want := "name,value\r\n" +
		`"a ""quoted"", text","line one` + "\r\nline two\"\r\n" +
		`'=cmd|' /C calc'!A0,plain` + "\r\n"
	if buf.String() != want {
		t.Fatalf("output =\n%q\nwant\n%q", buf.String(), want)
	}
}

// FuzzCSVCell checks that any value, once written, reads back as one
// cell equal to CSVCell of it, and that no cell starts a formula.
func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"=1+1", "a,b", "\"", "x\r\ny", "\t-", "@", "", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		w, err := NewCSVWriter(&buf, "value", "end")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(s, "end"); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
		if err != nil {
			t.Fatalf("written %q does not parse: %v", buf.String(), err)
		}
		if len(records) != 2 || len(records[1]) != 2 || records[1][1] != "end" {
			t.Fatalf("records = %q", records)
		}
		cell := records[1][0]
		if cell != "" && strings.ContainsRune(formulaPrefixes, rune(cell[0])) {
			t.Fatalf("cell %q starts a formula", cell)
		}
		// With CRLF line ends, encoding/csv writes a line feed in a value
		// as CRLF, which reads back as a line feed, and drops a carriage
		// return.
		if want := strings.ReplaceAll(CSVCell(s), "\r", ""); cell != want {
			t.Fatalf("cell %q, want %q", cell, want)
		}
	})
}
