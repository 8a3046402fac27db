package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Output formats of --output.
const (
	OutputTable = "table"
	OutputJSON  = "json"
	OutputCSV   = "csv"
)

// formulaPrefixes are the first characters that make a spreadsheet read a
// cell as a formula or skip to one. OWASP ASVS 5.0 (requirement 1.2.10)
// lists equals, plus, minus, at, tab and NUL. Carriage return is added
// because spreadsheets skip it as they skip a tab.
const formulaPrefixes = "=+-@\t\r\x00"

// CSVCell returns s safe to open in a spreadsheet: a value that starts
// with a formula character gets a leading single quote, so Excel,
// LibreOffice and Google Sheets show it as text instead of running it.
// Attackers choose user names, commands and URLs, and a cell such as
// =HYPERLINK(...) would otherwise act when an analyst opens the file.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune(formulaPrefixes, rune(s[0])) {
		return "'" + s
	}
	return s
}

// CSVWriter writes RFC 4180 records, every cell passed through CSVCell.
// Quoting of commas, quotes and line breaks is encoding/csv's. Records
// end in CRLF as the RFC has it, so encoding/csv also writes a line feed
// within a value as CRLF and drops a carriage return. Callers that need
// every byte of attacker text pass it through Printable first.
type CSVWriter struct {
	w *csv.Writer
}

// NewCSVWriter writes the header row to w and returns the writer for the
// records.
func NewCSVWriter(w io.Writer, header ...string) (*CSVWriter, error) {
	c := &CSVWriter{w: csv.NewWriter(w)}
	c.w.UseCRLF = true
	if err := c.Write(header...); err != nil {
		return nil, err
	}
	return c, nil
}

// Write adds one record.
func (c *CSVWriter) Write(cells ...string) error {
	rec := make([]string, len(cells))
	for i, s := range cells {
		rec[i] = CSVCell(s)
	}
	if err := c.w.Write(rec); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Flush writes what is buffered and returns the first error of any
// write.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
